//! The event stream of an access: every TLB probe, page-walk-cache probe, entry read, fault and
//! fix-up. `--explain`, JSON traces of single accesses and tests all consume it; statistics are
//! counted directly in the MMU so the common case pays nothing.
//!
//! An observer is a generic parameter; the "off" observer is `()`, whose `ENABLED = false` lets
//! the compiler drop event construction entirely.

use crate::access::AccessKind;
use crate::addr::{PageSize, Pfn, PhysAddr, VirtAddr};
use crate::pte::Level;
use crate::translate::radix::{WalkFault, WalkStep};
use serde::Serialize;

/// Which TLB of a CPU's hierarchy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TlbLevel {
    /// First-level instruction TLB.
    L1i,
    /// First-level data TLB.
    L1d,
    /// Unified second-level TLB (STLB).
    L2,
}

impl TlbLevel {
    /// The JSON key (`l1i`, `l1d`, `l2`).
    pub const fn key(self) -> &'static str {
        match self {
            TlbLevel::L1i => "l1i",
            TlbLevel::L1d => "l1d",
            TlbLevel::L2 => "l2",
        }
    }

    /// Dense index.
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The first-level TLB an access of `kind` probes.
    #[inline]
    pub fn l1_for(kind: crate::access::AccessKind) -> TlbLevel {
        if kind == crate::access::AccessKind::Fetch {
            TlbLevel::L1i
        } else {
            TlbLevel::L1d
        }
    }

    /// All levels.
    pub const ALL: [TlbLevel; 3] = [TlbLevel::L1i, TlbLevel::L1d, TlbLevel::L2];
}

/// Why the MMU could not complete a translation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fault {
    /// The address is not canonical: #GP on real hardware, reported like a fault here.
    #[error("non-canonical address")]
    NonCanonical,
    /// The walk found no page (or reserved bits).
    #[error("{0}")]
    Walk(WalkFault),
    /// The page exists but the access is not allowed.
    #[error("protection fault at {}: {cause}", .level.entry_name())]
    Protection {
        /// Level of the leaf.
        level: Level,
        /// What was violated.
        cause: crate::protection::ProtectionFault,
    },
}

/// How the kernel resolved a fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Resolution {
    /// A zero-filled frame was mapped (first touch of anonymous memory): a minor fault.
    DemandZero {
        /// Page mapped.
        va: VirtAddr,
        /// Frame given.
        pfn: Pfn,
        /// Its size.
        size: PageSize,
    },
    /// A read of untouched anonymous memory mapped the shared zero page read-only: a minor
    /// fault that allocates nothing (the first write faults again).
    ZeroPage {
        /// Page mapped.
        va: VirtAddr,
        /// The zero page's frame.
        pfn: Pfn,
        /// Its size (2 MiB: the huge zero page).
        size: PageSize,
    },
    /// A file page found in the page cache: minor fault.
    PageCache {
        /// Page mapped.
        va: VirtAddr,
        /// Its frame.
        pfn: Pfn,
    },
    /// A file page read from disk (with readahead): major fault.
    FileRead {
        /// Page mapped.
        va: VirtAddr,
        /// Its frame.
        pfn: Pfn,
    },
    /// A swapped-out page found in the swap cache: minor fault.
    SwapCache {
        /// Page mapped.
        va: VirtAddr,
        /// Its frame.
        pfn: Pfn,
    },
    /// A swapped-out page read back from swap (with readahead): major fault.
    SwapIn {
        /// Page mapped.
        va: VirtAddr,
        /// Its frame.
        pfn: Pfn,
    },
    /// A write to a copy-on-write page shared with others: the page was copied.
    CowCopy {
        /// Page.
        va: VirtAddr,
        /// The shared frame.
        from: Pfn,
        /// The private copy.
        to: Pfn,
    },
    /// A write to a copy-on-write page no one else maps any more: made writable in place.
    CowReuse {
        /// Page.
        va: VirtAddr,
        /// Its frame.
        pfn: Pfn,
    },
    /// The access cannot be allowed: the process would get SIGSEGV.
    Segv,
    /// Memory ran out and the OOM killer chose the faulting process.
    OomKilled,
}

/// One thing that happened while translating an access.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// An access begins.
    Access {
        /// CPU.
        cpu: u16,
        /// Process.
        pid: u32,
        /// Virtual address.
        va: VirtAddr,
        /// Kind.
        kind: AccessKind,
    },
    /// A TLB set was probed for one page size.
    TlbProbe {
        /// Which TLB.
        tlb: TlbLevel,
        /// Array within that TLB.
        array: u8,
        /// Page size the probe assumed.
        size: PageSize,
        /// Set index.
        set: u32,
        /// Whether it hit.
        hit: bool,
    },
    /// The outcome of looking up one TLB.
    TlbLookup {
        /// Which TLB.
        tlb: TlbLevel,
        /// Hit (with the way) or miss.
        hit: bool,
    },
    /// A page-walk cache was probed.
    PwcProbe {
        /// Level of entry the cache holds (PD = PDE cache).
        level: Level,
        /// Whether it hit.
        hit: bool,
    },
    /// The walk starts at this table (the root, or where a PWC hit left it).
    WalkStart {
        /// Level of the first table read.
        level: Level,
        /// Its frame.
        table: Pfn,
    },
    /// An entry was read during the walk.
    WalkRead(WalkStep),
    /// An entry was read during a two-dimensional (nested) walk: a guest entry or an EPT entry.
    #[serde(rename = "walk_read")]
    NestedWalkRead(crate::translate::nested::NestedRead),
    /// A write hit a TLB entry whose D bit was clear: the processor re-walks to set D.
    DirtyAssist,
    /// The translation faulted.
    Fault(Fault),
    /// The kernel handled the fault.
    Resolved(Resolution),
    /// The kernel started reclaiming: free memory fell below the low watermark.
    Reclaim {
        /// Direct reclaim by an allocation (false: background reclaim, kswapd).
        direct: bool,
        /// Free frames when it started.
        free: u64,
        /// Free frames it reclaims up to.
        target: u64,
    },
    /// Reclaim took a frame away from every page table that mapped it and freed it.
    Evict {
        /// The frame.
        pfn: Pfn,
    },
    /// A page was written to swap on its way out.
    SwapOut {
        /// Its frame.
        pfn: Pfn,
        /// The swap slot it went to.
        slot: u32,
    },
    /// A process's translations were invalidated on CPUs that were not running it.
    Shootdown {
        /// The process.
        pid: u32,
        /// CPUs sent an invalidation (IPIs on real hardware).
        cpus: u64,
    },
    /// The OOM killer ended a process.
    OomKill {
        /// The process killed.
        pid: u32,
    },
    /// A translation was installed in a TLB; `evicted` tells whether a valid entry made room.
    TlbFill {
        /// Which TLB.
        tlb: TlbLevel,
        /// Page size of the entry.
        size: PageSize,
        /// Whether a valid entry was evicted.
        evicted: bool,
    },
    /// The access completed.
    Done {
        /// Physical address.
        pa: PhysAddr,
        /// Page size of the translation.
        size: PageSize,
        /// Modelled cycles spent translating.
        cycles: u64,
    },
}

/// Consumes events. Implementations that only count should set `ENABLED = false` and count
/// elsewhere; `()` is the observer that does nothing and costs nothing.
pub trait Observer {
    /// Whether events are wanted at all; when false the MMU skips building them.
    const ENABLED: bool = true;
    /// Receives one event.
    fn event(&mut self, e: &Event);
}

impl Observer for () {
    const ENABLED: bool = false;
    #[inline(always)]
    fn event(&mut self, _e: &Event) {}
}

/// An observer that keeps every event (for `--explain` and tests).
#[derive(Debug, Default, Clone)]
pub struct Recorder {
    /// Events in order.
    pub events: Vec<Event>,
}

impl Observer for Recorder {
    fn event(&mut self, e: &Event) {
        self.events.push(*e);
    }
}
