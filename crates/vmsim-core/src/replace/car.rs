//! CAR, Clock with Adaptive Replacement: ARC's four lists and target `p`, with the two resident
//! LRU lists replaced by clocks so a hit only sets a reference bit (Bansal and Modha, "CAR: Clock
//! with Adaptive Replacement", FAST 2004, the algorithm's pseudocode). Simplified: `p` is an
//! integer and the adaptation step uses integer division, as in [`super::arc`]; the directory
//! replacement also runs when `remove` has freed a frame, so the ghosts stay bounded.
//!
//! Each clock is a FIFO list whose back is the clock's head (where the hand is) and whose front
//! is its tail (just behind the hand), so "move the head page to the tail" is a `move_front`.

use super::dlist::Lists;
use super::{check_frames, Evicted, Outcome, Page, Policy, ReplaceError};

const T1: usize = 0;
const T2: usize = 1;
const B1: usize = 2;
const B2: usize = 3;

/// The policy; [`Policy::resident`] lists T1 then T2, each from its clock's head.
#[derive(Debug, Clone)]
pub struct Car {
    cap: usize,
    p: usize,
    lists: Lists<4>,
}

impl Car {
    /// An empty cache of `frames` frames.
    pub fn new(frames: usize) -> Result<Self, ReplaceError> {
        check_frames(frames)?;
        Ok(Car {
            cap: frames,
            p: 0,
            lists: Lists::with_capacity(2 * frames + 1),
        })
    }

    /// The current target size of T1.
    pub fn target_t1(&self) -> usize {
        self.p
    }

    fn resident_len(&self) -> usize {
        self.lists.len(T1) + self.lists.len(T2)
    }

    /// The paper's `replace()`: sweeps the clocks until a page with a clear reference bit is
    /// demoted to its ghost list; referenced pages of T1 move to T2's tail, those of T2 go round.
    /// Only called with memory full, so one of the clocks is non-empty; the sweep ends because
    /// every step that does not evict clears a bit.
    fn replace(&mut self) -> Evicted {
        loop {
            let t1 = self.lists.len(T1);
            let from = if t1 >= self.p.max(1) || self.lists.len(T2) == 0 {
                T1
            } else {
                T2
            };
            let head = self
                .lists
                .back(from)
                .expect("memory is full, so the chosen clock is non-empty");
            let n = self.lists.node_mut(head);
            if n.referenced {
                n.referenced = false;
                self.lists.move_front(head, T2);
            } else {
                let e = n.evicted();
                n.dirty = false;
                self.lists
                    .move_front(head, if from == T1 { B1 } else { B2 });
                return e;
            }
        }
    }

    fn drop_back(&mut self, list: usize) {
        if let Some(v) = self.lists.back(list) {
            self.lists.remove(v);
        }
    }
}

/// A kernel reclaims with it through the provided methods (spare pages for free frames).
impl super::Reclaim for Car {}

impl Policy for Car {
    fn capacity(&self) -> usize {
        self.cap
    }
    fn len(&self) -> usize {
        self.resident_len()
    }
    fn contains(&self, page: Page) -> bool {
        self.lists
            .find(page)
            .is_some_and(|i| (self.lists.node(i).list as usize) <= T2)
    }
    #[inline]
    fn access(&mut self, page: Page, write: bool) -> Outcome {
        let found = self.lists.find(page);
        if let Some(i) = found {
            let n = self.lists.node_mut(i);
            if (n.list as usize) <= T2 {
                n.referenced = true;
                n.dirty |= write;
                return Outcome::Hit;
            }
        }
        let evicted = (self.resident_len() >= self.cap).then(|| self.replace());
        match found {
            None => {
                // Directory replacement. The paper does this only with memory full, where the
                // sizes are equalities; `>=` and doing it always keeps |T1|+|B1| <= c and the
                // directory <= 2c after `remove` freed frames too.
                let c = self.cap;
                if self.lists.len(T1) + self.lists.len(B1) >= c {
                    self.drop_back(B1);
                } else if self.resident_len() + self.lists.len(B1) + self.lists.len(B2) >= 2 * c {
                    self.drop_back(B2);
                }
                self.lists.push_front(T1, page, write, false);
            }
            Some(i) => {
                // A ghost hit; `replace` only demotes resident pages, so `i` is still this
                // page's ghost. Adapt after the replacement, as the paper orders it.
                let (b1, b2) = (self.lists.len(B1), self.lists.len(B2));
                if self.lists.node(i).list as usize == B1 {
                    self.p = (self.p + (b2 / b1).max(1)).min(self.cap);
                } else {
                    self.p = self.p.saturating_sub((b1 / b2).max(1));
                }
                self.lists.move_front(i, T2);
                let n = self.lists.node_mut(i);
                n.referenced = false;
                n.dirty = write;
            }
        }
        Outcome::Miss { evicted }
    }
    fn remove(&mut self, page: Page) -> Option<Evicted> {
        let i = self.lists.find(page)?;
        if (self.lists.node(i).list as usize) > T2 {
            return None;
        }
        Some(self.lists.remove(i).evicted())
    }
    fn resident(&self, out: &mut Vec<Page>) {
        self.lists.pages_oldest_first(T1, out);
        self.lists.pages_oldest_first(T2, out);
    }
}
