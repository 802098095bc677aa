//! `madvise(MADV_DONTNEED)`, as mm/madvise.c's `madvise_dontneed_single_vma`: the pages of a
//! range go (`zap_page_range_single`) while its VMAs stay, so anonymous memory reads back as
//! zero on the next touch. (`MADV_HUGEPAGE` is in `huge_memory.rs`, as in Linux.) `madvise`
//! dispatches on the advice, as `madvise_vma_behavior` does.

use super::{LinuxKernel, VmError};
use crate::kernel::va_range::VaRange;
use crate::kernel::Pid;
use crate::mmu::Mmu;
use crate::phys::PhysMem;

/// The advice `madvise` takes (the model's subset of the `MADV_*` values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Advice {
    /// `MADV_DONTNEED`: drop the pages.
    DontNeed,
    /// `MADV_HUGEPAGE`: back the range with transparent huge pages where aligned.
    HugePage,
}

impl LinuxKernel {
    /// `madvise(advice)` on `range`.
    pub fn madvise(
        &mut self,
        mem: &mut PhysMem,
        cpus: &mut [Mmu],
        pid: Pid,
        range: VaRange,
        advice: Advice,
    ) -> Result<(), VmError> {
        match advice {
            Advice::DontNeed => self.madvise_dontneed(mem, cpus, pid, range),
            Advice::HugePage => self.madvise_hugepage(pid, range),
        }
    }

    /// `madvise(MADV_DONTNEED)`: drops the pages of `range`; the VMAs stay, and anonymous
    /// pages read back as zero on the next touch.
    pub fn madvise_dontneed(
        &mut self,
        mem: &mut PhysMem,
        cpus: &mut [Mmu],
        pid: Pid,
        range: VaRange,
    ) -> Result<(), VmError> {
        let (start, end) = (range.start(), range.end());
        self.split_range(mem, cpus, pid, start, end)?;
        self.zap_range(mem, cpus, pid, start, end)?;
        Ok(())
    }
}
