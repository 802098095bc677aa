//! 2Q: new pages enter a FIFO A1in (a quarter of memory); pages evicted from it are remembered
//! in a ghost FIFO A1out (half of memory); a miss on a remembered page, a page that proved
//! itself, loads it into the LRU list Am (Johnson and Shasha, "2Q: A Low Overhead High
//! Performance Buffer Management Replacement Algorithm", VLDB 1994, full version).

use super::dlist::Lists;
use super::{check_frames, Evicted, Outcome, Page, Policy, ReplaceError};

const A1IN: usize = 0;
const AM: usize = 1;
const A1OUT: usize = 2;

/// The policy; [`Policy::resident`] lists A1in oldest first, then Am least recent first.
#[derive(Debug, Clone)]
pub struct TwoQ {
    cap: usize,
    kin: usize,
    kout: usize,
    lists: Lists<3>,
}

impl TwoQ {
    /// An empty cache of `frames` frames (Kin = 25%, Kout = 50%, each at least 1).
    pub fn new(frames: usize) -> Result<Self, ReplaceError> {
        check_frames(frames)?;
        let kout = (frames / 2).max(1);
        Ok(TwoQ {
            cap: frames,
            kin: (frames / 4).max(1),
            kout,
            lists: Lists::with_capacity(frames + kout + 1),
        })
    }

    fn reclaim(&mut self) -> Option<Evicted> {
        if self.lists.len(A1IN) + self.lists.len(AM) < self.cap {
            return None;
        }
        if self.lists.len(A1IN) > self.kin || self.lists.len(AM) == 0 {
            let v = self.lists.back(A1IN)?;
            self.lists.move_front(v, A1OUT);
            let n = self.lists.node_mut(v);
            let e = n.evicted();
            n.dirty = false;
            if self.lists.len(A1OUT) > self.kout {
                if let Some(g) = self.lists.back(A1OUT) {
                    self.lists.remove(g);
                }
            }
            Some(e)
        } else {
            let v = self.lists.back(AM)?;
            let n = self.lists.remove(v);
            Some(n.evicted())
        }
    }
}

/// A kernel reclaims with it through the provided methods (spare pages for free frames).
impl super::Reclaim for TwoQ {}

impl Policy for TwoQ {
    fn capacity(&self) -> usize {
        self.cap
    }
    fn len(&self) -> usize {
        self.lists.len(A1IN) + self.lists.len(AM)
    }
    fn contains(&self, page: Page) -> bool {
        self.lists
            .find(page)
            .is_some_and(|i| self.lists.node(i).list as usize != A1OUT)
    }
    #[inline]
    fn access(&mut self, page: Page, write: bool) -> Outcome {
        match self.lists.find(page) {
            Some(i) if self.lists.node(i).list as usize == AM => {
                self.lists.node_mut(i).dirty |= write;
                self.lists.move_front(i, AM);
                Outcome::Hit
            }
            Some(i) if self.lists.node(i).list as usize == A1IN => {
                self.lists.node_mut(i).dirty |= write;
                Outcome::Hit
            }
            Some(i) => {
                let evicted = self.reclaim();
                // The ghost may have been dropped from A1out by the reclaim.
                match self.lists.find(page) {
                    Some(j) if j == i => {
                        self.lists.move_front(i, AM);
                        self.lists.node_mut(i).dirty = write;
                    }
                    _ => {
                        self.lists.push_front(AM, page, write, true);
                    }
                }
                Outcome::Miss { evicted }
            }
            None => {
                let evicted = self.reclaim();
                self.lists.push_front(A1IN, page, write, true);
                Outcome::Miss { evicted }
            }
        }
    }
    fn remove(&mut self, page: Page) -> Option<Evicted> {
        let i = self.lists.find(page)?;
        let n = self.lists.remove(i);
        (n.list as usize != A1OUT).then_some(n.evicted())
    }
    fn resident(&self, out: &mut Vec<Page>) {
        self.lists.pages_oldest_first(A1IN, out);
        self.lists.pages_oldest_first(AM, out);
    }
}
