//! Page replacement: which resident page to evict when memory is full.
//!
//! Every policy implements [`Policy`]. The fast ones (`fifo`, `lru`, `clock`, `opt`) keep their
//! state in index-linked arrays and a hash map and allocate nothing per reference in steady
//! state. [`list`] is the slow, obvious reference: resident pages in a list in the order the
//! textbook draws them, exactly as OSTEP's `paging-policy.py` applies its policies. It answers
//! the OSTEP homework and is the oracle the fast policies are tested against.

pub mod clock;
pub mod fifo;
pub mod list;
pub mod lru;
mod nodes;
pub mod opt;

pub use list::{ListCache, ListPolicy, ListStep};

/// A page evicted to make room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Evicted {
    /// The page.
    pub page: u64,
    /// Whether it was written while resident (it must be written back).
    pub dirty: bool,
}

/// What one reference did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The page was resident.
    Hit,
    /// It was not; it is now, and `evicted` made room if memory was full.
    Miss {
        /// The victim, if any.
        evicted: Option<Evicted>,
    },
}

/// A replacement policy over a fixed number of frames.
///
/// Contract. Callers: construct with a capacity of at least one frame and call
/// [`Policy::access`] once per reference, in trace order (offline policies such as OPT are
/// built from the same trace and must then be fed exactly that trace). Implementers: on a hit,
/// update recency or reference state and return [`Outcome::Hit`]; on a miss, insert the page,
/// evicting exactly one resident page when all frames are full (never otherwise), and report
/// it with its dirty state (a page is dirty once any reference to it was a write since it was
/// brought in). The resident set never exceeds the capacity; a victim is always a page that was
/// resident. Given the same inputs (and seed, for random policies) the outcomes are identical.
pub trait Policy {
    /// The command-line name (`lru`, `fifo`, ...).
    fn name(&self) -> &'static str;
    /// Frames.
    fn capacity(&self) -> usize;
    /// Resident pages.
    fn len(&self) -> usize;
    /// Whether nothing is resident.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// One reference to `page`; `write` marks it dirty.
    fn access(&mut self, page: u64, write: bool) -> Outcome;
}

/// Counts of a simulation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// References that hit.
    pub hits: u64,
    /// References that missed.
    pub misses: u64,
    /// Pages evicted.
    pub evictions: u64,
    /// Evicted pages that were dirty (writebacks).
    pub dirty_evictions: u64,
}

impl Stats {
    /// Misses per reference.
    pub fn miss_ratio(&self) -> f64 {
        let n = self.hits + self.misses;
        if n == 0 {
            0.0
        } else {
            self.misses as f64 / n as f64
        }
    }
}

/// Replays `refs` (page, is-write) through `p`.
pub fn simulate<P: Policy>(p: &mut P, refs: impl IntoIterator<Item = (u64, bool)>) -> Stats {
    let mut s = Stats::default();
    for (page, write) in refs {
        match p.access(page, write) {
            Outcome::Hit => s.hits += 1,
            Outcome::Miss { evicted } => {
                s.misses += 1;
                if let Some(e) = evicted {
                    s.evictions += 1;
                    s.dirty_evictions += e.dirty as u64;
                }
            }
        }
    }
    s
}
