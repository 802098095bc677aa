//! The operating system's side of memory management: processes' address spaces and the page
//! fault handler. The [`Kernel`] trait is what the machine calls; the demand-zero kernel is the
//! minimal one, and the full Linux-like model implements the same trait in its place.

pub mod contiguous;
pub mod demand_zero;
pub mod layout;
pub mod linux;
pub mod stats;
pub mod va_range;
pub mod vma;

use crate::access::AccessKind;
use crate::addr::{Pfn, PhysAddr, VirtAddr};
use crate::event::{Fault, Observer, Resolution};
use crate::mmu::Mmu;
use crate::phys::{OutOfFrames, PhysMem};
use crate::radix::MapError;
use crate::tlb::Pcid;
use thiserror::Error;

pub use demand_zero::DemandZeroKernel;
pub use linux::{Advice, LinuxConfig, LinuxKernel, MmapRequest, Syscall, SyscallResult};
pub use va_range::{RangeError, VaRange};

/// A process identifier as traces carry it.
pub type Pid = u32;

/// The kernel could not go on.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum KernelError {
    /// Physical memory is exhausted and this kernel cannot reclaim (the demand-zero kernel).
    #[error("{0} (the demand-zero kernel never reclaims: give the machine more memory)")]
    OutOfMemory(#[from] OutOfFrames),
    /// Physical memory is exhausted although this kernel reclaims and kills (the Linux-like
    /// kernel): nothing was left to evict, swap or kill, or a page table found no frame.
    #[error("the Linux-like kernel found nothing left to reclaim or kill (give the machine more memory or swap)")]
    Exhausted(#[source] OutOfFrames),
    /// The process the kernel was working for does not exist.
    #[error("no process {0}")]
    NoProcess(Pid),
    /// A page-table update failed.
    #[error("page-table update failed: {0}")]
    Map(#[from] MapError),
}

/// Page-table pages per level over several address spaces.
pub fn sum_table_pages<'a>(tables: impl Iterator<Item = &'a crate::radix::RadixTable>) -> [u64; 5] {
    let mut t = [0; 5];
    for table in tables {
        for (a, b) in t.iter_mut().zip(table.table_pages()) {
            *a += b;
        }
    }
    t
}

/// What a kernel reports at the end of a run.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct KernelSummary {
    /// Which kernel model ran (`linux`, `demand-zero`).
    pub name: &'static str,
    /// System-wide counters, for kernels that keep them.
    pub stats: Option<stats::KernelStats>,
    /// Memory use per process, for kernels that track it.
    pub processes: Vec<stats::ProcMemory>,
    /// Swap slots in use.
    pub swap_used_pages: u64,
    /// Swap slots in all.
    pub swap_total_pages: u64,
    /// Reclaim policy, if the kernel reclaims.
    pub policy: Option<&'static str>,
}

/// What the machine needs from an operating system.
pub trait Kernel {
    /// The page-table root and PCID of `pid`, about to run on CPU `cpu`, creating the process
    /// on first sight.
    fn context(
        &mut self,
        mem: &mut PhysMem,
        pid: Pid,
        cpu: usize,
    ) -> Result<(Pfn, Pcid), KernelError>;

    /// Resolves a fault that `pid` took on CPU `cpu` at `va`. Any mapping it changes is
    /// invalidated in `cpus` before it returns; the machine then retries the access.
    #[allow(clippy::too_many_arguments)]
    fn handle_fault(
        &mut self,
        mem: &mut PhysMem,
        cpus: &mut [Mmu],
        cpu: usize,
        pid: Pid,
        va: VirtAddr,
        kind: AccessKind,
        fault: Fault,
    ) -> Result<Resolution, KernelError>;

    /// Page-table pages in use per level (PT first), over all processes.
    fn table_pages(&self) -> [u64; 5];

    /// Number of processes seen.
    fn processes(&self) -> usize;

    /// Whether [`Kernel::accessed`] wants every completed access (exact LRU needs it).
    #[inline]
    fn tracks_accesses(&self) -> bool {
        false
    }

    /// An access completed at `pa`.
    #[inline]
    fn accessed(&mut self, _pa: PhysAddr) {}

    /// Runs between accesses every few thousand accesses: background reclaim (kswapd).
    fn background(&mut self, _mem: &mut PhysMem, _cpus: &mut [Mmu]) {}

    /// Processes the OOM killer has ended, in the order it ended them. The machine drops their
    /// later records instead of letting a dead pid come back to life on its next access.
    fn oom_killed(&self) -> &[Pid] {
        &[]
    }

    /// End-of-run report.
    fn summary(&self, mem: &PhysMem) -> KernelSummary;

    /// Starts or stops keeping the kernel's own events (reclaim, eviction, swap-out,
    /// shootdown, OOM kill) for [`Kernel::take_events`]. The machine turns it on only around
    /// kernel work done for an observer that wants events, so otherwise nothing is built.
    fn trace_events(&mut self, _on: bool) {}

    /// Hands the events kept since the last call to `obs`, oldest first.
    fn take_events<O: Observer>(&mut self, _obs: &mut O) {}
}
