//! Page replacement: which resident page to evict when memory is full.
//!
//! [`list`] is the slow, obvious reference: resident pages kept in a list in the order the
//! textbook draws them, with the classic policies (FIFO, LRU, MRU, OPT and its opposite,
//! random, CLOCK with multi-bit counters) exactly as OSTEP's `paging-policy.py` applies them.
//! It answers the OSTEP homework and serves as the oracle that fast policies are tested
//! against.
//!
//! The fast policies implement [`Policy`], one file each, and run through [`simulate`] with
//! static dispatch; [`AnyPolicy`] picks one by [`PolicyKind`] at run time with a `match`.
//! Both are generated from one table (`policies!` below). Every policy also implements
//! [`Reclaim`], the side a kernel drives ([`reclaim`]), so the Linux-like kernel evicts with
//! any of them.

mod dlist;
mod heap;
pub mod list;
mod ring;
mod slot_index;
mod spare;

pub mod aging;
pub mod arc;
pub mod car;
pub mod clock;
pub mod clock_pro;
pub mod esc;
pub mod fifo;
pub mod lfu;
pub mod linux_two_list;
pub mod lirs;
pub mod lru;
pub mod lru_k;
pub mod mglru;
pub mod mru;
pub mod nru;
pub mod opt;
pub mod ordered;
pub mod random;
pub mod reclaim;
pub mod s3fifo;
pub mod sieve;
pub mod two_q;
pub mod working_set;
pub mod wsclock;

pub use list::{ListCache, ListPolicy, ListStep};
pub use reclaim::{Reclaim, ReclaimError, ReclaimPolicy, Reclaimer, Victim};
pub use spare::Spare;

use std::fmt;
use std::str::FromStr;
use thiserror::Error;

/// A page key: a virtual page number (or any cache key).
pub type Page = u64;

/// A page that left memory to make room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Evicted {
    /// The page evicted.
    pub page: Page,
    /// Whether it was written while resident (it must be written back).
    pub dirty: bool,
}

/// What one reference did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum Outcome {
    /// The page was resident.
    Hit,
    /// The page was not resident and is now; `evicted` made room for it when memory was full.
    Miss {
        /// The victim, if memory was full.
        evicted: Option<Evicted>,
    },
}

impl Outcome {
    /// Whether this was a hit.
    pub fn is_hit(self) -> bool {
        matches!(self, Outcome::Hit)
    }
}

/// Building a policy failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ReplaceError {
    /// A cache of zero frames cannot hold the page being referenced.
    #[error("the number of frames must be at least 1")]
    ZeroFrames,
    /// The policy name is not one of [`PolicyKind::ALL`].
    #[error("unknown policy `{0}` (known: {list})", list = PolicyKind::names())]
    UnknownPolicy(String),
}

/// A page replacement policy over a fixed number of frames.
///
/// Contract. Callers guarantee:
/// - the capacity (frames, at least 1) is fixed at construction;
/// - [`access`](Policy::access) is called once per reference, in trace order, with the page key
///   and whether the reference writes;
/// - [`remove`](Policy::remove) is called when a page leaves memory for another reason
///   (invalidation, `munmap`); it is not a reference.
///
/// Implementers must:
/// - on a hit, return [`Outcome::Hit`] and update their own recency/frequency state; the
///   reference bit of the page is set and, for a write, the dirty bit (as hardware would);
/// - on a miss with a free frame, insert the page and return `Miss { evicted: None }`;
/// - on a miss with memory full, choose a victim among the resident pages, remove it, insert
///   the page, and return `Miss { evicted: Some(victim) }` with the victim's dirty bit;
/// - never hold more than `capacity()` resident pages (history/ghost entries that do not
///   occupy frames are allowed, and do not count);
/// - be deterministic: the same references (and the same seed, for randomised policies) give
///   the same outcomes;
/// - allocate nothing per access once warmed up.
///
/// Policies only read and clear reference bits; the reference itself sets them.
pub trait Policy {
    /// Frames available.
    fn capacity(&self) -> usize;
    /// Resident pages now.
    fn len(&self) -> usize;
    /// Whether no page is resident.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Whether `page` is resident.
    fn contains(&self, page: Page) -> bool;
    /// One reference.
    fn access(&mut self, page: Page, write: bool) -> Outcome;
    /// Drops `page` from memory (not a reference); returns it with its dirty bit if resident.
    fn remove(&mut self, page: Page) -> Option<Evicted>;
    /// Appends the resident pages to `out` in the policy's own order (documented per policy;
    /// usually the order in which it would consider them for eviction, first victim first).
    fn resident(&self, out: &mut Vec<Page>);
}

/// Totals of a simulation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// References that found their page resident.
    pub hits: u64,
    /// References that did not.
    pub misses: u64,
    /// Misses that evicted a page.
    pub evictions: u64,
    /// Evictions of dirty pages (writebacks).
    pub dirty_evictions: u64,
}

impl Stats {
    /// References seen.
    pub fn accesses(&self) -> u64 {
        self.hits + self.misses
    }

    /// Misses per reference (0 for no references).
    pub fn miss_ratio(&self) -> f64 {
        let n = self.accesses();
        if n == 0 {
            0.0
        } else {
            self.misses as f64 / n as f64
        }
    }

    /// Counts one outcome.
    #[inline]
    pub fn record(&mut self, o: Outcome) {
        match o {
            Outcome::Hit => self.hits += 1,
            Outcome::Miss { evicted } => {
                self.misses += 1;
                if let Some(e) = evicted {
                    self.evictions += 1;
                    self.dirty_evictions += u64::from(e.dirty);
                }
            }
        }
    }
}

/// Runs `refs` (page, is-write) through `p` and counts the outcomes.
pub fn simulate<P: Policy, I: IntoIterator<Item = (Page, bool)>>(p: &mut P, refs: I) -> Stats {
    let mut s = Stats::default();
    for (page, write) in refs {
        s.record(p.access(page, write));
    }
    s
}

/// Runs `refs` through `p`, adding the outcomes to `stats`.
#[inline]
fn feed<P: Policy>(p: &mut P, refs: &[(Page, bool)], stats: &mut Stats) {
    for &(page, write) in refs {
        stats.record(p.access(page, write));
    }
}

/// The table of policies: each row is a [`PolicyKind`] variant with its concrete type, its
/// command-line name, its one-line description and how it is built from the frame count, the
/// page sequence (OPT's look-ahead) and the seed. Everything that lists the policies
/// ([`PolicyKind`], [`AnyPolicy`], the dispatch of [`Policy`] and [`Reclaim`] on it) is
/// generated from this one table, so a new policy is one row here plus its file.
macro_rules! policies {
    ($($variant:ident($ty:ty) => $name:literal, $doc:literal,
       |$f:ident, $t:ident, $s:ident| $build:expr;)*) => {
        /// A policy by name.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum PolicyKind {
            $(#[doc = $doc] $variant,)*
        }

        impl PolicyKind {
            /// Every policy.
            pub const ALL: &'static [PolicyKind] = &[$(PolicyKind::$variant,)*];
            /// Its lower-case command-line name.
            pub fn name(self) -> &'static str {
                match self { $(PolicyKind::$variant => $name,)* }
            }
            /// One-line description.
            pub fn describe(self) -> &'static str {
                match self { $(PolicyKind::$variant => $doc,)* }
            }
        }

        /// Any policy, chosen at run time; each method is a `match` to a statically dispatched
        /// call on the concrete policy.
        #[derive(Debug, Clone)]
        pub enum AnyPolicy {
            $(#[doc = $doc] $variant($ty),)*
        }

        impl AnyPolicy {
            /// Builds `kind` with `frames` frames; `trace` is the page sequence OPT looks ahead
            /// in (the others ignore it) and `seed` seeds randomised policies.
            #[allow(unused_variables)]
            pub fn new(
                kind: PolicyKind,
                frames: usize,
                trace: &[Page],
                seed: u64,
            ) -> Result<Self, ReplaceError> {
                Ok(match kind {
                    $(PolicyKind::$variant => {
                        let ($f, $t, $s) = (frames, trace, seed);
                        AnyPolicy::$variant($build)
                    })*
                })
            }

            /// Which policy this is.
            pub fn kind(&self) -> PolicyKind {
                match self { $(AnyPolicy::$variant(_) => PolicyKind::$variant,)* }
            }

            /// Runs `refs` through the concrete policy, monomorphised for it, and counts the
            /// outcomes (as [`simulate`]).
            pub fn simulate<I: IntoIterator<Item = (Page, bool)>>(&mut self, refs: I) -> Stats {
                match self { $(AnyPolicy::$variant(p) => simulate(p, refs),)* }
            }

            /// Runs a batch of `refs` through the concrete policy (one `match` per batch, the
            /// loop monomorphised), adding the outcomes to `stats`: a stream fed in batches
            /// counts what one [`simulate`](AnyPolicy::simulate) over it would.
            pub fn feed(&mut self, refs: &[(Page, bool)], stats: &mut Stats) {
                match self { $(AnyPolicy::$variant(p) => feed(p, refs, stats),)* }
            }
        }

        impl Policy for AnyPolicy {
            fn capacity(&self) -> usize {
                match self { $(AnyPolicy::$variant(p) => p.capacity(),)* }
            }
            fn len(&self) -> usize {
                match self { $(AnyPolicy::$variant(p) => p.len(),)* }
            }
            fn contains(&self, page: Page) -> bool {
                match self { $(AnyPolicy::$variant(p) => p.contains(page),)* }
            }
            #[inline]
            fn access(&mut self, page: Page, write: bool) -> Outcome {
                match self { $(AnyPolicy::$variant(p) => p.access(page, write),)* }
            }
            fn remove(&mut self, page: Page) -> Option<Evicted> {
                match self { $(AnyPolicy::$variant(p) => p.remove(page),)* }
            }
            fn resident(&self, out: &mut Vec<Page>) {
                match self { $(AnyPolicy::$variant(p) => p.resident(out),)* }
            }
        }

        impl Reclaim for AnyPolicy {
            fn bounded(&self) -> bool {
                match self { $(AnyPolicy::$variant(p) => p.bounded(),)* }
            }
            #[inline]
            fn every_access(&self) -> bool {
                match self { $(AnyPolicy::$variant(p) => p.every_access(),)* }
            }
            fn admit(&mut self, page: Page, spare: &mut Spare) {
                match self { $(AnyPolicy::$variant(p) => p.admit(page, spare),)* }
            }
            fn forget(&mut self, page: Page) -> bool {
                match self { $(AnyPolicy::$variant(p) => p.forget(page),)* }
            }
            #[inline]
            fn touch(&mut self, page: Page) {
                match self { $(AnyPolicy::$variant(p) => p.touch(page),)* }
            }
            fn victim<Y: FnMut(Page) -> bool>(
                &mut self,
                spare: &mut Spare,
                young: Y,
            ) -> Victim {
                match self { $(AnyPolicy::$variant(p) => p.victim(spare, young),)* }
            }
        }
    };
}

policies! {
    Opt(opt::Opt) => "opt", "Belady's optimal: evict the page used furthest in the future (offline).",
        |f, t, _s| opt::Opt::new(f, t)?;
    Fifo(fifo::Fifo) => "fifo", "First in, first out.",
        |f, _t, _s| fifo::Fifo::new(f)?;
    Lru(lru::Lru) => "lru", "Exact least recently used.",
        |f, _t, _s| lru::Lru::new(f)?;
    Mru(mru::Mru) => "mru", "Most recently used.",
        |f, _t, _s| mru::Mru::new(f)?;
    Random(random::Random<rand_xoshiro::Xoshiro256PlusPlus>) => "random", "Uniformly random victim (seeded).",
        |f, _t, s| random::Random::seeded(f, s)?;
    Lfu(lfu::Lfu) => "lfu", "Least frequently used, ties to the least recent.",
        |f, _t, _s| lfu::Lfu::new(f)?;
    Clock(clock::Clock) => "clock", "CLOCK: one hand, one reference bit (second chance).",
        |f, _t, _s| clock::Clock::new(f)?;
    Sieve(sieve::Sieve) => "sieve", "SIEVE: FIFO order with a visited bit and a lazy hand (NSDI 2024).",
        |f, _t, _s| sieve::Sieve::new(f)?;
    Arc(arc::Arc) => "arc", "Adaptive Replacement Cache (Megiddo and Modha, FAST 2003).",
        |f, _t, _s| arc::Arc::new(f)?;
    Gclock(clock::Clock) => "gclock", "Generalised CLOCK with 2-bit counters (Smith, TODS 1978).",
        |f, _t, _s| clock::Clock::generalized(f, 3)?;
    TwoQ(two_q::TwoQ) => "2q", "2Q: FIFO A1in, ghost A1out, LRU Am (Johnson and Shasha, VLDB 1994).",
        |f, _t, _s| two_q::TwoQ::new(f)?;
    S3Fifo(s3fifo::S3Fifo) => "s3fifo", "S3-FIFO: small, main and ghost FIFOs (Yang et al., SOSP 2023).",
        |f, _t, _s| s3fifo::S3Fifo::new(f)?;
    LinuxTwoList(linux_two_list::LinuxTwoList) => "linux", "Linux active/inactive two-list LRU approximation.",
        |f, _t, _s| linux_two_list::LinuxTwoList::new(f)?;
    Car(car::Car) => "car", "CAR: ARC with clocks for T1 and T2 (Bansal and Modha, FAST 2004).",
        |f, _t, _s| car::Car::new(f)?;
    Lru2(lru_k::Lru2) => "lru2", "LRU-K, K = 2: oldest second-last use goes (O'Neil et al., SIGMOD 1993).",
        |f, _t, _s| lru_k::Lru2::new(f)?;
    Lirs(lirs::Lirs) => "lirs", "LIRS: LIR and HIR pages by reuse distance (Jiang and Zhang, 2002).",
        |f, _t, _s| lirs::Lirs::new(f)?;
    ClockPro(clock_pro::ClockPro) => "clockpro", "CLOCK-Pro: hot and cold pages, test periods (Jiang et al., ATC 2005).",
        |f, _t, _s| clock_pro::ClockPro::new(f)?;
    WsClock(wsclock::WsClock) => "wsclock", "WSClock: working set by a clock hand (Carr and Hennessy, SOSP 1981).",
        |f, _t, _s| wsclock::WsClock::new(f)?;
    Esc(esc::Esc) => "esc", "Enhanced second chance: CLOCK by (referenced, dirty) class.",
        |f, _t, _s| esc::Esc::new(f)?;
    Nru(nru::Nru) => "nru", "Not recently used: (referenced, modified) classes (Tanenbaum).",
        |f, _t, _s| nru::Nru::new(f)?;
    Nfu(aging::Nfu) => "nfu", "Not frequently used: counters add the reference bit each tick.",
        |f, _t, _s| aging::Nfu::new(f)?;
    Aging(aging::Aging) => "aging", "Aging: 8-bit counters shift right, reference bit on top, each tick.",
        |f, _t, _s| aging::Aging::new(f)?;
    WorkingSet(working_set::WorkingSet) => "ws", "Working set over fixed frames: out-of-window pages first (Denning 1968).",
        |f, _t, _s| working_set::WorkingSet::new(f)?;
    Mglru(mglru::Mglru) => "mglru", "Multi-generational LRU after Linux's lru_gen (4 generations).",
        |f, _t, _s| mglru::Mglru::new(f)?;
}

impl PolicyKind {
    /// All names, comma separated.
    pub fn names() -> String {
        PolicyKind::ALL
            .iter()
            .map(|k| k.name())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl fmt::Display for PolicyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for PolicyKind {
    type Err = ReplaceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PolicyKind::ALL
            .iter()
            .copied()
            .find(|k| k.name() == s)
            .ok_or_else(|| ReplaceError::UnknownPolicy(s.to_string()))
    }
}

/// Structures sized by a frame count reserve at most this many entries up front and grow
/// (amortised) past it, so a frame count far above the pages a trace touches costs nothing:
/// a streaming simulation cannot bound it by the footprint, which it learns only at the end.
pub(crate) const RESERVE_AT_MOST: usize = 1 << 16;

/// Room to reserve for `n` entries: `n`, up to [`RESERVE_AT_MOST`].
#[inline]
pub(crate) fn reserve(n: usize) -> usize {
    n.min(RESERVE_AT_MOST)
}

/// Frame counts up to this are used as given; above it a simulation first bounds them by the
/// trace's footprint (a count that costs one hash-set pass over the references).
const FOOTPRINT_CHECK_ABOVE: usize = 1 << 12;

/// The frames a simulation of `refs` needs: `frames`, or the number of distinct pages in `refs`
/// when that is smaller. By the [`Policy`] contract a policy evicts only when memory is full,
/// so every capacity at or above the footprint gives the footprint's outcomes (each page's
/// first reference misses, nothing is evicted); sizing the structures by the footprint instead
/// of the request keeps `--frames 18446744073709551615` from overflowing or exhausting memory.
pub fn frames_needed(frames: usize, refs: &[(Page, bool)]) -> usize {
    let bound = frames.min(refs.len().max(1));
    if bound <= FOOTPRINT_CHECK_ABOVE {
        return bound;
    }
    let mut seen = rustc_hash::FxHashSet::default();
    for &(p, _) in refs {
        if seen.insert(p) && seen.len() == bound {
            return bound;
        }
    }
    seen.len().max(1)
}

/// Simulates `kind` with `frames` frames over `refs`, monomorphised for the concrete policy.
/// Any frame count is accepted: the policy is built with [`frames_needed`] frames.
pub fn simulate_kind(
    kind: PolicyKind,
    frames: usize,
    refs: &[(Page, bool)],
    seed: u64,
) -> Result<Stats, ReplaceError> {
    check_frames(frames)?;
    let frames = frames_needed(frames, refs);
    let pages: Vec<Page> = if kind == PolicyKind::Opt {
        refs.iter().map(|r| r.0).collect()
    } else {
        Vec::new()
    };
    let mut any = AnyPolicy::new(kind, frames, &pages, seed)?;
    Ok(any.simulate(refs.iter().copied()))
}

fn check_frames(frames: usize) -> Result<(), ReplaceError> {
    if frames == 0 {
        Err(ReplaceError::ZeroFrames)
    } else {
        Ok(())
    }
}
