//! The working-set policy: a page belongs in memory while it is in the working set W(t, τ),
//! the pages used in the last τ references (Denning, "The Working Set Model for Program
//! Behavior", CACM 1968). Here over a fixed number of frames: a fault with memory full evicts
//! a page outside the working set (last used τ or more references ago), taking the first such
//! frame from a hand that goes round the frame table, like the scan of Tanenbaum's WS
//! algorithm; if every resident page is in the working set (it does not fit), the least
//! recently used page goes. Simplified: pages are released only when a fault needs the frame,
//! not as they leave the window (a policy may only evict on a miss), and use times are exact
//! reference counts, not sampled reference bits.
//!
//! Why a hand and not the stalest page: the WS policy would already have released every page
//! outside the window, so it has no order among them; taking the least recently used one
//! would make this exactly LRU. With τ no larger than the number of frames some resident page
//! is always outside the window at a fault (the last τ references touch at most τ − 1 other
//! pages), so the LRU fallback only matters for larger τ. τ defaults to the number of frames.
//!
//! Use times live in a min segment tree over the frames, so finding the first frame from the
//! hand whose time is old enough, or the oldest, is O(log n), as is a hit.

use super::ring::Ring;
use super::{check_frames, Evicted, Outcome, Page, Policy, ReplaceError};

/// Minimum of last-use times over frame slots; an empty slot is `u64::MAX`. The leaves grow
/// (doubling) as slots are used, so a frame count larger than the pages a trace touches costs
/// nothing; the extra leaves hold `u64::MAX` and are never the minimum of a full memory.
#[derive(Debug, Clone)]
struct MinTree {
    /// Leaves (one per slot, power-of-two count) at `leaves..2 * leaves`; node `k`'s children
    /// are `2k` and `2k + 1`; node 1 is the root.
    t: Vec<u64>,
    leaves: usize,
}

impl MinTree {
    fn new(slots: usize) -> Self {
        let leaves = super::reserve(slots).next_power_of_two();
        MinTree {
            t: vec![u64::MAX; 2 * leaves],
            leaves,
        }
    }

    /// Room for leaf `slot`: the leaves doubled until it fits, inner nodes recomputed.
    fn grow_to(&mut self, slot: usize) {
        let leaves = (slot + 1).next_power_of_two();
        let mut t = vec![u64::MAX; 2 * leaves];
        t[leaves..leaves + self.leaves].copy_from_slice(&self.t[self.leaves..]);
        for k in (1..leaves).rev() {
            t[k] = t[2 * k].min(t[2 * k + 1]);
        }
        *self = MinTree { t, leaves };
    }

    fn set(&mut self, slot: usize, v: u64) {
        if slot >= self.leaves {
            self.grow_to(slot);
        }
        let mut k = slot + self.leaves;
        self.t[k] = v;
        while k > 1 {
            k /= 2;
            self.t[k] = self.t[2 * k].min(self.t[2 * k + 1]);
        }
    }

    /// The first slot at or after `from` whose value is below `bound`.
    fn first_below(&self, from: usize, bound: u64) -> Option<usize> {
        self.descend(1, 0, self.leaves, from, bound)
    }

    fn descend(&self, k: usize, lo: usize, hi: usize, from: usize, bound: u64) -> Option<usize> {
        if hi <= from || self.t[k] >= bound {
            return None;
        }
        if hi - lo == 1 {
            return Some(lo);
        }
        let mid = (lo + hi) / 2;
        self.descend(2 * k, lo, mid, from, bound)
            .or_else(|| self.descend(2 * k + 1, mid, hi, from, bound))
    }

    /// The slot with the smallest value.
    fn argmin(&self) -> usize {
        let mut k = 1;
        while k < self.leaves {
            k = if self.t[2 * k] <= self.t[2 * k + 1] {
                2 * k
            } else {
                2 * k + 1
            };
        }
        k - self.leaves
    }
}

/// The policy; [`Policy::resident`] lists frames from the hand round the table.
#[derive(Debug, Clone)]
pub struct WorkingSet {
    tau: u64,
    now: u64,
    /// Per frame: the dirty bit.
    ring: Ring<bool>,
    last: MinTree,
}

impl WorkingSet {
    /// An empty cache of `frames` frames with window τ = `frames` references.
    pub fn new(frames: usize) -> Result<Self, ReplaceError> {
        WorkingSet::with_tau(frames, frames as u64)
    }

    /// An empty cache of `frames` frames with window `tau` references (at least 1).
    pub fn with_tau(frames: usize, tau: u64) -> Result<Self, ReplaceError> {
        check_frames(frames)?;
        Ok(WorkingSet {
            tau: tau.max(1),
            now: 0,
            ring: Ring::with_capacity(frames),
            last: MinTree::new(frames),
        })
    }

    /// The window τ, in references.
    pub fn tau(&self) -> u64 {
        self.tau
    }

    /// Whether resident `page` is in the working set now.
    pub fn in_working_set(&self, page: Page) -> Option<bool> {
        let i = self.ring.find(page)?;
        Some(self.last.t[i + self.last.leaves] + self.tau > self.now)
    }

    /// The victim's slot; needs memory full.
    fn victim(&self) -> usize {
        // Outside the window: last use <= now - τ, that is below now - τ + 1.
        if let Some(bound) = (self.now + 1).checked_sub(self.tau) {
            let hand = self.ring.hand();
            if let Some(i) = self
                .last
                .first_below(hand, bound)
                .or_else(|| self.last.first_below(0, bound))
            {
                return i;
            }
        }
        self.last.argmin()
    }
}

/// A kernel reclaims with it through the provided methods (spare pages for free frames).
impl super::Reclaim for WorkingSet {}

impl Policy for WorkingSet {
    fn capacity(&self) -> usize {
        self.ring.capacity()
    }
    fn len(&self) -> usize {
        self.ring.len()
    }
    fn contains(&self, page: Page) -> bool {
        self.ring.find(page).is_some()
    }
    #[inline]
    fn access(&mut self, page: Page, write: bool) -> Outcome {
        self.now += 1;
        if let Some(i) = self.ring.find(page) {
            self.ring.frame_mut(i).meta |= write;
            self.last.set(i, self.now);
            return Outcome::Hit;
        }
        let (slot, evicted) = match self.ring.insert(page, write) {
            Some(i) => (i, None),
            None => {
                let v = self.victim();
                (v, Some(self.ring.replace(v, page, write)))
            }
        };
        self.last.set(slot, self.now);
        Outcome::Miss { evicted }
    }
    fn remove(&mut self, page: Page) -> Option<Evicted> {
        let i = self.ring.find(page)?;
        self.last.set(i, u64::MAX);
        self.ring.remove(page)
    }
    fn resident(&self, out: &mut Vec<Page>) {
        self.ring.pages_from_hand(out);
    }
}
