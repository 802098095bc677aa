//! A Linux-like virtual memory manager, laid out as Linux's mm/: processes with VMAs, a
//! page-fault handler that resolves faults the way Linux's `handle_mm_fault` does (demand zero,
//! page cache with readahead, swap cache and swap-in with readahead, copy-on-write after fork,
//! stack growth, SIGSEGV), and reclaim under memory pressure with a pluggable policy, reverse
//! mapping, swap-out and writeback, and the OOM killer as the last resort.
//!
//! Each file follows the Linux file it is named after and owns that part's state, so that a
//! function borrows only what it needs:
//!
//! - `mm_types.rs`: a process's memory (`mm_struct`) and the process table; `cpumask.rs`: the
//!   CPUs it ran on;
//! - `fork.rs`, `exec.rs`: creating, copying and replacing address spaces;
//! - `mmap.rs`, `mprotect.rs`, `madvise.rs`: the system calls on VMAs;
//! - `memory.rs`: the fault handler and unmapping of pages;
//! - `rmap.rs`: resident frames and who maps them; `page_alloc.rs`: allocation and watermarks;
//! - `filemap.rs`: the page cache; `swap_state.rs`, `swapfile.rs`: the swap cache and device;
//! - `vmscan.rs`: reclaim, with any policy of `replace/` (`replace/reclaim.rs`); `oom_kill.rs`:
//!   the OOM killer;
//! - `huge_memory.rs`: transparent huge pages; `zero_page.rs`: the shared zero pages a read of
//!   untouched anonymous memory maps; `tlb.rs`: shootdowns; `vmstat.rs`: counters;
//!   `trace.rs`: the kernel's own events for an observer;
//! - `syscall.rs`: the system calls as one typed `Syscall`, made through `Machine::syscall`.
//!
//! Anonymous pages that are swapped out keep their place in the page table as a non-present
//! entry holding the swap slot, as Linux's swap entries do: bit 0 (P) clear, bit 9 set as the
//! model's swap marker, the slot in bits 12 and up.

mod cpumask;
mod exec;
mod filemap;
mod fork;
mod huge_memory;
mod madvise;
mod memory;
mod mm_types;
mod mmap;
mod mprotect;
mod oom_kill;
mod page_alloc;
mod rmap;
mod swap_state;
pub mod swapfile;
mod syscall;
mod tlb;
mod trace;
mod vmscan;
mod vmstat;
mod zero_page;

pub use super::stats::{KernelStats, ProcMemory, ProcStats};
pub use madvise::Advice;
pub use mmap::MmapRequest;
pub use syscall::{Syscall, SyscallResult};

use super::va_range::RangeError;
use super::vma::{AddressSpace, VmaError};
use super::{Kernel, KernelError, Pid};
use crate::access::AccessKind;
use crate::addr::{PageSize, Pfn, PhysAddr, VirtAddr};
use crate::event::{Fault, Observer, Resolution};
use crate::mmu::Mmu;
use crate::phys::PhysMem;
use crate::radix::{Geometry, RadixTable};
use crate::replace::{ReclaimPolicy, Reclaimer};
use crate::tlb::Pcid;
use filemap::PageCache;
use mm_types::Processes;
use oom_kill::OomKiller;
use page_alloc::Watermarks;
use rmap::Rmap;
use serde::Serialize;
use swapfile::SwapDevice;
use trace::Tracepoints;
use zero_page::ZeroPages;

/// How the kernel is set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LinuxConfig {
    /// Which pages reclaim evicts.
    pub policy: ReclaimPolicy,
    /// Swap device size in pages (0: no swap).
    pub swap_pages: u32,
    /// Swap readahead window in pages (0: off).
    pub swap_readahead: u32,
    /// File readahead window in pages (0: off).
    pub file_readahead: u32,
    /// Bytes around a read fault on a file mapping that are mapped at once if already in the
    /// page cache (Linux's `/sys/kernel/mm/fault_around_bytes`, default 64 KiB; 4096: off).
    pub fault_around_bytes: u64,
    /// A fault outside every VMA is treated as private anonymous `rwx` memory: how a trace
    /// without a memory map replays.
    pub implicit_anon: bool,
}

impl Default for LinuxConfig {
    fn default() -> Self {
        LinuxConfig {
            policy: ReclaimPolicy::TWO_LIST,
            swap_pages: 0,
            swap_readahead: 8,
            file_readahead: 32,
            fault_around_bytes: 64 << 10,
            implicit_anon: true,
        }
    }
}

/// The Linux-like kernel: one field per part of mm/, each owned by its file. A clone is an
/// independent copy of the whole state (with the machine's, a point to step back to).
#[derive(Clone)]
pub struct LinuxKernel {
    cfg: LinuxConfig,
    /// Processes: address spaces, page tables, PCIDs (`mm_types.rs`).
    procs: Processes,
    /// Resident frames and the PTEs that map them (`rmap.rs`).
    rmap: Rmap,
    /// File pages in memory and the files' contents on disk (`filemap.rs`).
    page_cache: PageCache,
    /// Swap slots and the swap cache's index (`swapfile.rs`).
    swap: SwapDevice,
    /// The reclaim policy (`replace/reclaim.rs`).
    reclaim: Reclaimer,
    /// When reclaim starts and where it stops (`page_alloc.rs`).
    wmark: Watermarks,
    /// Processes the OOM killer ended (`oom_kill.rs`).
    oom: OomKiller,
    stats: KernelStats,
    /// The shared zero pages (`zero_page.rs`).
    zero: ZeroPages,
    /// The kernel's own events, kept while an observer wants them (`trace.rs`).
    trace: Tracepoints,
}

/// What an operation on an address space refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VmError {
    /// No such process.
    #[error("no process {0}")]
    NoProcess(Pid),
    /// `fork` to a pid that already names a process (the parent itself, say).
    #[error("process {0} exists already: a fork needs a new pid for the child")]
    PidInUse(Pid),
    /// A VMA operation failed.
    #[error(transparent)]
    Vma(#[from] VmaError),
    /// A range is unaligned or runs past the last address.
    #[error(transparent)]
    Range(#[from] RangeError),
    /// The kernel could not go on.
    #[error(transparent)]
    Kernel(#[from] KernelError),
}

impl LinuxKernel {
    /// Whether this kernel can run a machine described by `cfg`: it maps x86-64 4 KiB pages
    /// only (huge pages come from THP), so 2M/1G page-size policies and teaching geometries
    /// need the demand-zero kernel.
    pub fn supports(cfg: &crate::config::MachineConfig) -> bool {
        cfg.page_size == PageSize::SIZE_4K && cfg.geometry().is_ok_and(|g| g.is_x86())
    }

    /// A kernel for a machine of `total_frames` frames with page tables of `geom`.
    pub fn new(geom: Geometry, cfg: LinuxConfig, total_frames: u64) -> Self {
        LinuxKernel {
            cfg,
            procs: Processes::new(geom),
            rmap: Rmap::default(),
            page_cache: PageCache::new(),
            swap: SwapDevice::new(cfg.swap_pages),
            reclaim: Reclaimer::new(
                cfg.policy,
                usize::try_from(total_frames).unwrap_or(usize::MAX).max(1),
            )
            .expect("at least one frame"),
            wmark: Watermarks::new(total_frames),
            oom: OomKiller::default(),
            stats: KernelStats::default(),
            zero: ZeroPages::default(),
            trace: Tracepoints::default(),
        }
    }

    /// Makes every process created from now on start with the VMAs of `space`, as if it had
    /// been forked from the process they were saved from but without its pages: a trace then
    /// replays in that process's real layout.
    pub fn start_processes_with(&mut self, space: AddressSpace) {
        self.procs.start_with(space);
    }

    /// System-wide counters.
    pub fn stats(&self) -> KernelStats {
        KernelStats {
            reclaim_scanned: self.reclaim.scanned,
            ..self.stats
        }
    }

    /// The configuration.
    pub fn config(&self) -> &LinuxConfig {
        &self.cfg
    }

    /// Swap slots in use.
    pub fn swap_used(&self) -> u32 {
        self.swap.used()
    }

    /// Processes killed by the OOM killer, in order.
    pub fn oom_victims(&self) -> &[Pid] {
        self.oom.victims()
    }

    /// The VMAs of `pid`.
    pub fn vmas(&self, pid: Pid) -> Option<&AddressSpace> {
        self.procs.get(pid).map(|p| &p.space)
    }

    /// The page table of `pid`.
    pub fn table(&self, pid: Pid) -> Option<&RadixTable> {
        self.procs.get(pid).map(|p| &p.table)
    }

    /// Frames the shared zero pages hold (taken on first use, never freed).
    pub fn zero_page_frames(&self) -> u64 {
        self.zero.frames()
    }

    /// Resident frames the kernel manages (data, not page tables).
    pub fn resident_frames(&self) -> usize {
        self.rmap.len()
    }
}

impl Kernel for LinuxKernel {
    fn oom_killed(&self) -> &[Pid] {
        self.oom.victims()
    }

    fn context(
        &mut self,
        mem: &mut PhysMem,
        pid: Pid,
        cpu: usize,
    ) -> Result<(Pfn, Pcid), KernelError> {
        self.procs.ensure(mem, pid)?;
        let p = self.procs.get_mut(pid).ok_or(KernelError::NoProcess(pid))?;
        p.cpus.set(cpu);
        Ok((p.table.root(), p.pcid))
    }

    fn handle_fault(
        &mut self,
        mem: &mut PhysMem,
        cpus: &mut [Mmu],
        _cpu: usize,
        pid: Pid,
        va: VirtAddr,
        kind: AccessKind,
        fault: Fault,
    ) -> Result<Resolution, KernelError> {
        self.fault(mem, cpus, pid, va, kind, fault)
    }

    fn table_pages(&self) -> [u64; 5] {
        let mut t = super::sum_table_pages(self.procs.iter().map(|(_, p)| &p.table));
        // The PTE tables deposited for 2 MiB mappings are page-table pages too.
        t[0] += self.procs.iter().map(|(_, p)| p.deposited).sum::<u64>();
        t
    }

    fn processes(&self) -> usize {
        self.procs.len()
    }

    #[inline]
    fn tracks_accesses(&self) -> bool {
        self.reclaim.tracks_accesses()
    }

    #[inline]
    fn accessed(&mut self, pa: PhysAddr) {
        self.reclaim.accessed(pa.pfn().0);
    }

    fn summary(&self, mem: &PhysMem) -> super::KernelSummary {
        super::KernelSummary {
            name: "linux",
            stats: Some(self.stats()),
            processes: self.memory(mem),
            swap_used_pages: self.swap.used() as u64,
            swap_total_pages: self.swap.capacity() as u64,
            policy: Some(self.cfg.policy.name()),
        }
    }

    fn background(&mut self, mem: &mut PhysMem, cpus: &mut [Mmu]) {
        self.kswapd(mem, cpus);
    }

    fn trace_events(&mut self, on: bool) {
        self.trace.set(on);
    }

    fn take_events<O: Observer>(&mut self, obs: &mut O) {
        self.trace.drain(obs);
    }
}
