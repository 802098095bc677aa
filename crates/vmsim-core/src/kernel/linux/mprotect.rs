//! Changing a range's protection, as mm/mprotect.c's `do_mprotect_pkey`, `mprotect_fixup` and
//! `change_protection`: the VMAs are split and given the new rights, and the present PTEs
//! follow, writable only where a write cannot need a copy.

use super::mmap::perm_flags;
use super::rmap::FrameUse;
use super::{LinuxKernel, VmError};
use crate::addr::VirtAddr;
use crate::kernel::va_range::VaRange;
use crate::kernel::vma::{Prot, PAGE};
use crate::kernel::{KernelError, Pid};
use crate::mmu::Mmu;
use crate::phys::PhysMem;

impl LinuxKernel {
    /// Changes the protection of `range`.
    pub fn mprotect(
        &mut self,
        mem: &mut PhysMem,
        cpus: &mut [Mmu],
        pid: Pid,
        range: VaRange,
        prot: Prot,
    ) -> Result<(), VmError> {
        let (start, end) = (range.start(), range.end());
        self.split_range(mem, cpus, pid, start, end)?;
        let p = self.procs.get_mut(pid).ok_or(VmError::NoProcess(pid))?;
        let pieces = p.space.modify_range(start, end, |v| v.prot = prot);
        let mut va = start;
        while va < end {
            let v = VirtAddr::new_unchecked(va);
            if let Some(pte) = p.table.pte(mem, v).filter(|e| e.present()) {
                let pfn = pte.frame().0;
                let shared = pieces.iter().any(|x| x.contains(va) && x.shared);
                // A private page with one mapper may be written in place.
                let exclusive = self
                    .rmap
                    .get(pfn)
                    .is_some_and(|f| f.mappers.len() == 1 && f.kind == FrameUse::Anon);
                let w = prot.write && (shared || exclusive);
                let new = pte.with_permissions(perm_flags(prot, w));
                let _ = p.table.set_pte(mem, v, new).map_err(KernelError::from)?;
            }
            va += PAGE;
        }
        self.flush_tlb(cpus, pid, None);
        Ok(())
    }
}
