//! A multi-generational LRU in the style of Linux's MGLRU (`mm/vmscan.c`, `lru_gen`, Linux 6.1
//! on): resident pages are in generations numbered `min_seq..=max_seq`, at most four and, for
//! eviction to proceed, at least three. A fault adds the page to the youngest generation.
//! Aging opens a new youngest generation and walks the resident pages (the kernel walks page
//! tables), moving every page whose accessed bit is set into it and clearing the bit.
//! Eviction takes the oldest page of the oldest generation; one found referenced is moved to
//! the youngest generation instead (the kernel's rmap look-around), and an emptied oldest
//! generation is retired. Before evicting, aging runs when only two generations are left, or
//! when there are three and the youngest holds more than half the pages or the oldest less
//! than a quarter (the kernel's `should_run_aging`).
//!
//! Simplified against the kernel: no anon/file split or swappiness, no tiers or refault
//! feedback (the PID controller), no Bloom filter (aging visits every resident page, O(n)),
//! one page reclaimed per fault rather than batches, and a faulted page starts with its
//! accessed bit clear (joining the youngest generation stands for that first access).
//!
//! Generation `seq` is list `seq % 4` of a `dlist::Lists`, oldest page at the back.

use super::dlist::Lists;
use super::{check_frames, Evicted, Outcome, Page, Policy, ReplaceError};

/// Generations that can exist at once (the kernel's `MAX_NR_GENS`).
const NR_GENS: u64 = 4;
/// The two youngest generations are never evicted from (the kernel's `MIN_NR_GENS`).
const MIN_NR_GENS: u64 = 2;

#[inline]
fn gen(seq: u64) -> usize {
    (seq % NR_GENS) as usize
}

/// The policy; [`Policy::resident`] lists generations oldest first, each oldest page first.
#[derive(Debug, Clone)]
pub struct Mglru {
    cap: usize,
    min_seq: u64,
    max_seq: u64,
    lists: Lists<{ NR_GENS as usize }>,
}

impl Mglru {
    /// An empty cache of `frames` frames (generations 0 to 3, as the kernel starts).
    pub fn new(frames: usize) -> Result<Self, ReplaceError> {
        check_frames(frames)?;
        Ok(Mglru {
            cap: frames,
            min_seq: 0,
            max_seq: MIN_NR_GENS + 1,
            lists: Lists::with_capacity(frames),
        })
    }

    /// The oldest and youngest generation numbers.
    pub fn seqs(&self) -> (u64, u64) {
        (self.min_seq, self.max_seq)
    }

    /// Retires empty oldest generations, keeping at least two.
    fn try_inc_min_seq(&mut self) {
        while self.min_seq + MIN_NR_GENS <= self.max_seq && self.lists.len(gen(self.min_seq)) == 0 {
            self.min_seq += 1;
        }
    }

    fn should_run_aging(&self) -> bool {
        if self.min_seq + MIN_NR_GENS > self.max_seq {
            return true;
        }
        if self.min_seq + MIN_NR_GENS < self.max_seq {
            return false;
        }
        let total = self.len();
        let young = self.lists.len(gen(self.max_seq));
        let old = self.lists.len(gen(self.min_seq));
        young * MIN_NR_GENS as usize > total || old * (MIN_NR_GENS as usize + 2) < total
    }

    /// Opens generation `max_seq + 1` and moves the referenced pages into it, oldest first.
    /// Only runs with at most three generations, so the new one's list is free.
    fn age(&mut self) {
        debug_assert!(self.max_seq - self.min_seq + 1 < NR_GENS);
        self.max_seq += 1;
        let young = gen(self.max_seq);
        for seq in self.min_seq..self.max_seq {
            let mut i = self.lists.back(gen(seq));
            while let Some(at) = i {
                i = self.lists.newer(at);
                let n = self.lists.node_mut(at);
                if n.referenced {
                    n.referenced = false;
                    self.lists.move_front(at, young);
                }
            }
        }
    }

    /// Evicts the oldest unreferenced page of the oldest generation; needs memory full.
    fn evict(&mut self) -> Evicted {
        loop {
            self.try_inc_min_seq();
            if self.should_run_aging() {
                self.age();
                continue;
            }
            let b = self.lists.back(gen(self.min_seq)).expect(
                "the oldest generation is non-empty: try_inc_min_seq stops at one, or at two \
                 generations, which age",
            );
            let n = self.lists.node_mut(b);
            if n.referenced {
                n.referenced = false;
                self.lists.move_front(b, gen(self.max_seq));
            } else {
                return self.lists.remove(b).evicted();
            }
        }
    }
}

/// A kernel reclaims with it through the provided methods (spare pages for free frames).
impl super::Reclaim for Mglru {}

impl Policy for Mglru {
    fn capacity(&self) -> usize {
        self.cap
    }
    fn len(&self) -> usize {
        (0..NR_GENS as usize).map(|g| self.lists.len(g)).sum()
    }
    fn contains(&self, page: Page) -> bool {
        self.lists.find(page).is_some()
    }
    #[inline]
    fn access(&mut self, page: Page, write: bool) -> Outcome {
        if let Some(i) = self.lists.find(page) {
            let n = self.lists.node_mut(i);
            n.referenced = true;
            n.dirty |= write;
            return Outcome::Hit;
        }
        let evicted = (self.len() >= self.cap).then(|| self.evict());
        self.lists.push_front(gen(self.max_seq), page, write, false);
        Outcome::Miss { evicted }
    }
    fn remove(&mut self, page: Page) -> Option<Evicted> {
        let i = self.lists.find(page)?;
        Some(self.lists.remove(i).evicted())
    }
    fn resident(&self, out: &mut Vec<Page>) {
        for seq in self.min_seq..=self.max_seq {
            self.lists.pages_oldest_first(gen(seq), out);
        }
    }
}
