//! `madvise(MADV_DONTNEED)`, as mm/madvise.c's `madvise_dontneed_single_vma`: the pages of a
//! range go (`zap_page_range_single`) while its VMAs stay, so anonymous memory reads back as
//! zero on the next touch. (`MADV_HUGEPAGE` is in `huge_memory.rs`, as in Linux.)

use super::{LinuxKernel, VmError};
use crate::kernel::va_range::VaRange;
use crate::kernel::Pid;
use crate::mmu::Mmu;
use crate::phys::PhysMem;

impl LinuxKernel {
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
