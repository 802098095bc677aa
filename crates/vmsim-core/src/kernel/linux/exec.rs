//! `execve`'s memory half, as fs/exec.c's `exec_mmap` and `setup_new_exec` with
//! arch/x86/mm/mmap.c's `arch_pick_mmap_layout`: the old address space goes, and a fresh
//! x86-64 layout (text, data, bss, heap, mmap base, stack; ASLR from `layout.rs`) replaces it.

use super::{LinuxKernel, VmError};
use crate::addr::PageSize;
use crate::kernel::layout::{Image, Layout};
use crate::kernel::vma::AddressSpace;
use crate::kernel::{KernelError, Pid};
use crate::mmu::Mmu;
use crate::phys::PhysMem;
use crate::pte::Pte;

impl LinuxKernel {
    /// `execve`: replaces `pid`'s address space (creating the process if needed) with a fresh
    /// Linux x86-64 layout for `image`, randomised from `seed` when `aslr` is on.
    #[allow(clippy::too_many_arguments)]
    pub fn exec(
        &mut self,
        mem: &mut PhysMem,
        cpus: &mut [Mmu],
        pid: Pid,
        image: Image,
        aslr: bool,
        seed: u64,
    ) -> Result<Layout, VmError> {
        if self.procs.contains(pid) {
            // The old address space goes, as on exec; the process (pid, PCID) stays.
            for (va, pte, size) in self.every_leaf(mem, pid)? {
                if let Some(p) = self.procs.get_mut(pid) {
                    if size == PageSize::SIZE_4K {
                        let _ = p
                            .table
                            .set_pte(mem, va, Pte::EMPTY)
                            .map_err(KernelError::from)?;
                    } else {
                        let _ = p.table.unmap(mem, va).map_err(KernelError::from)?;
                        p.deposited = p.deposited.saturating_sub(1);
                    }
                }
                self.release(pid, va, pte, size);
            }
            self.free_unmapped(mem);
            self.flush_tlb(cpus, pid, None);
        }
        self.procs.ensure(mem, pid)?;
        let layout = Layout::new(image, aslr, seed);
        let p = self.procs.get_mut(pid).ok_or(VmError::NoProcess(pid))?;
        p.space = AddressSpace::default();
        for v in layout.vmas(image) {
            p.space.insert(v)?;
        }
        p.layout = Some(layout);
        Ok(layout)
    }

    /// The layout exec chose for `pid`.
    pub fn layout(&self, pid: Pid) -> Option<Layout> {
        self.procs.get(pid).and_then(|p| p.layout)
    }
}
