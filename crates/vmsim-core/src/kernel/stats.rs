//! What a kernel counts and reports at the end of a run, in the words of Linux's
//! `/proc/vmstat` (pgfault, pgmajfault, pswpin, pswpout …) and `/proc/PID/status` (`RssAnon`,
//! `RssFile`, `RssShmem`, `VmSwap`, `VmPTE`). Kept apart from any one kernel so that
//! [`KernelSummary`](super::KernelSummary) and the `Kernel` trait name no model's types; the
//! Linux-like kernel fills them (`linux/vmstat.rs`).

use super::Pid;
use serde::Serialize;

/// Per-process counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ProcStats {
    /// Minor faults (no I/O).
    pub minor_faults: u64,
    /// Major faults (read from file or swap).
    pub major_faults: u64,
    /// Copy-on-write faults that copied a page.
    pub cow_copies: u64,
    /// Copy-on-write faults that reused the page (last mapper).
    pub cow_reuses: u64,
    /// Accesses refused with SIGSEGV.
    pub segv: u64,
}

/// System-wide counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct KernelStats {
    /// Minor faults.
    pub minor_faults: u64,
    /// Major faults.
    pub major_faults: u64,
    /// Zero-filled pages.
    pub demand_zero: u64,
    /// COW copies.
    pub cow_copies: u64,
    /// COW reuses.
    pub cow_reuses: u64,
    /// SIGSEGVs.
    pub segv: u64,
    /// Stack growths.
    pub stack_growths: u64,
    /// Pages read from swap.
    pub swap_ins: u64,
    /// Pages written to swap.
    pub swap_outs: u64,
    /// Faults that found their page in the swap cache.
    pub swap_cache_hits: u64,
    /// Pages read from files.
    pub file_reads: u64,
    /// Faults that found their page in the page cache.
    pub page_cache_hits: u64,
    /// Readahead pages later used by a fault.
    pub readahead_hits: u64,
    /// Pages read ahead.
    pub readahead_pages: u64,
    /// Dirty file pages written back.
    pub writebacks: u64,
    /// Pages scanned by reclaim.
    pub reclaim_scanned: u64,
    /// Pages reclaimed.
    pub reclaim_stolen: u64,
    /// Reclaim runs started because an allocation found memory below the low watermark.
    pub direct_reclaims: u64,
    /// Background (kswapd-style) reclaim runs.
    pub background_reclaims: u64,
    /// TLB invalidations sent to other CPUs.
    pub shootdowns: u64,
    /// Processes killed by the OOM killer.
    pub oom_kills: u64,
    /// Transparent huge pages allocated.
    pub thp_allocs: u64,
    /// Transparent huge pages split into 4 KiB pages (partial unmap, COW, reclaim, fork).
    pub thp_splits: u64,
    /// Faults outside every VMA that were served as anonymous memory because the kernel runs
    /// with [`LinuxConfig::implicit_anon`](super::LinuxConfig::implicit_anon) (with a saved
    /// layout: accesses the layout misses).
    pub outside_vmas: u64,
}

/// Memory use of one process.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ProcMemory {
    /// Process id.
    pub pid: Pid,
    /// Virtual size of its VMAs, KiB.
    pub vsz_kib: u64,
    /// Resident anonymous pages, KiB.
    pub rss_anon_kib: u64,
    /// Resident file pages, KiB.
    pub rss_file_kib: u64,
    /// Resident shared anonymous memory (shmem), KiB.
    pub rss_shmem_kib: u64,
    /// Pages in swap, KiB.
    pub swap_kib: u64,
    /// Page-table pages, KiB.
    pub page_table_kib: u64,
    /// Its fault counters.
    pub stats: ProcStats,
}
