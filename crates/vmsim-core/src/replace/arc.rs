//! ARC, the Adaptive Replacement Cache: resident lists T1 (seen once recently) and T2 (seen at
//! least twice) with ghost histories B1 and B2 of evicted pages, and a target size p for T1 that
//! ghost hits move (Megiddo and Modha, "ARC: A Self-Tuning, Low Overhead Replacement Cache",
//! FAST 2003, figure 4; p is kept as an integer).

use super::dlist::Lists;
use super::{check_frames, Evicted, Outcome, Page, Policy, ReplaceError};

const T1: usize = 0;
const T2: usize = 1;
const B1: usize = 2;
const B2: usize = 3;

/// The policy; [`Policy::resident`] lists T1 then T2, each least recent first.
#[derive(Debug, Clone)]
pub struct Arc {
    cap: usize,
    p: usize,
    lists: Lists<4>,
}

impl Arc {
    /// An empty cache of `frames` frames.
    pub fn new(frames: usize) -> Result<Self, ReplaceError> {
        check_frames(frames)?;
        Ok(Arc {
            cap: frames,
            p: 0,
            lists: Lists::with_capacity(2 * frames),
        })
    }

    /// The current target size of T1.
    pub fn target_t1(&self) -> usize {
        self.p
    }

    fn resident_len(&self) -> usize {
        self.lists.len(T1) + self.lists.len(T2)
    }

    /// REPLACE: moves the LRU page of T1 or T2 to its ghost list; returns it.
    fn replace(&mut self, in_b2: bool) -> Option<Evicted> {
        let t1 = self.lists.len(T1);
        let from_t1 =
            t1 >= 1 && (t1 > self.p || (in_b2 && t1 == self.p) || self.lists.len(T2) == 0);
        let (from, to) = if from_t1 { (T1, B1) } else { (T2, B2) };
        let v = self.lists.back(from)?;
        self.lists.move_front(v, to);
        let n = self.lists.node_mut(v);
        let dirty = n.dirty;
        n.dirty = false;
        Some(Evicted {
            page: n.page,
            dirty,
        })
    }

    fn drop_back(&mut self, list: usize) -> Option<Evicted> {
        let v = self.lists.back(list)?;
        let n = self.lists.remove(v);
        Some(n.evicted())
    }

    fn replace_if_full(&mut self, in_b2: bool) -> Option<Evicted> {
        if self.resident_len() >= self.cap {
            self.replace(in_b2)
        } else {
            None
        }
    }
}

/// A kernel reclaims with it through the provided methods (spare pages for free frames).
impl super::Reclaim for Arc {}

impl Policy for Arc {
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
        let c = self.cap;
        match self.lists.find(page) {
            Some(i) if (self.lists.node(i).list as usize) <= T2 => {
                // Case I.
                self.lists.node_mut(i).dirty |= write;
                self.lists.move_front(i, T2);
                Outcome::Hit
            }
            Some(i) if self.lists.node(i).list as usize == B1 => {
                // Case II: a ghost hit in B1 favours recency.
                let delta = (self.lists.len(B2) / self.lists.len(B1)).max(1);
                self.p = (self.p + delta).min(c);
                let evicted = self.replace_if_full(false);
                self.lists.move_front(i, T2);
                self.lists.node_mut(i).dirty = write;
                Outcome::Miss { evicted }
            }
            Some(i) => {
                // Case III: a ghost hit in B2 favours frequency.
                let delta = (self.lists.len(B1) / self.lists.len(B2)).max(1);
                self.p = self.p.saturating_sub(delta);
                let evicted = self.replace_if_full(true);
                self.lists.move_front(i, T2);
                self.lists.node_mut(i).dirty = write;
                Outcome::Miss { evicted }
            }
            None => {
                // Case IV.
                let l1 = self.lists.len(T1) + self.lists.len(B1);
                let total = l1 + self.lists.len(T2) + self.lists.len(B2);
                let evicted = if l1 >= c {
                    if self.lists.len(T1) < c {
                        self.drop_back(B1);
                        self.replace_if_full(false)
                    } else {
                        self.drop_back(T1)
                    }
                } else if total >= c {
                    if total >= 2 * c {
                        self.drop_back(B2);
                    }
                    self.replace_if_full(false)
                } else {
                    None
                };
                self.lists.push_front(T1, page, write, true);
                Outcome::Miss { evicted }
            }
        }
    }
    fn remove(&mut self, page: Page) -> Option<Evicted> {
        let i = self.lists.find(page)?;
        let n = self.lists.remove(i);
        ((n.list as usize) <= T2).then_some(n.evicted())
    }
    fn resident(&self, out: &mut Vec<Page>) {
        self.lists.pages_oldest_first(T1, out);
        self.lists.pages_oldest_first(T2, out);
    }
}
