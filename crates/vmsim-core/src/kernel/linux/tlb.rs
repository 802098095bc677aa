//! TLB shootdowns, as arch/x86/mm/tlb.c's `flush_tlb_mm_range` and `flush_tlb_func`: a changed
//! mapping is invalidated with INVPCID on every CPU that has run the process, and each CPU that
//! is not running it at the time counts as a shootdown (an IPI on real hardware).

use super::mm_types::Process;
use super::LinuxKernel;
use crate::kernel::Pid;
use crate::mmu::Mmu;
use crate::radix::Flush;
use crate::tlb::Invpcid;

impl Process {
    /// Invalidates this process's translations on every CPU that has run it: one page or all.
    /// Returns the shootdowns (CPUs other than those running it).
    pub(super) fn flush_tlb(&self, cpus: &mut [Mmu], page: Option<Flush>) -> u64 {
        let pcid = self.pcid;
        let mut shootdowns = 0;
        for i in self.cpus.iter() {
            let Some(c) = cpus.get_mut(i) else { continue };
            let running_here = c.cr3().is_some_and(|(_, pc)| pc == pcid);
            if !running_here {
                shootdowns += 1;
            }
            c.invpcid(match page {
                Some(f) => Invpcid::Page { pcid, va: f.va },
                None => Invpcid::Context(pcid),
            });
        }
        shootdowns
    }
}

impl LinuxKernel {
    /// Invalidates `pid`'s translations on every CPU that has run it: one page or all.
    pub(super) fn flush_tlb(&mut self, cpus: &mut [Mmu], pid: Pid, page: Option<Flush>) {
        if let Some(p) = self.procs.get(pid) {
            let n = p.flush_tlb(cpus, page);
            self.trace.shootdowns(&mut self.stats, pid, n);
        }
    }
}
