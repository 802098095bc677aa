//! SIEVE: pages in insertion (FIFO) order with a visited bit; a hand walks from the oldest
//! towards the newest, clearing visited bits and evicting the first unvisited page, and stays
//! where it stopped (Zhang et al., "SIEVE is Simpler than LRU", NSDI 2024).

use super::dlist::Lists;
use super::{check_frames, Evicted, Outcome, Page, Policy, ReplaceError};

/// The policy; [`Policy::resident`] lists pages oldest first.
#[derive(Debug, Clone)]
pub struct Sieve {
    cap: usize,
    lists: Lists<1>,
    /// Where the hand points (a node), or none (start at the oldest).
    hand: Option<u32>,
}

impl Sieve {
    /// An empty cache of `frames` frames.
    pub fn new(frames: usize) -> Result<Self, ReplaceError> {
        check_frames(frames)?;
        Ok(Sieve {
            cap: frames,
            lists: Lists::with_capacity(frames),
            hand: None,
        })
    }

    fn evict(&mut self) -> Option<Evicted> {
        let mut cur = self.hand.or_else(|| self.lists.back(0))?;
        loop {
            let n = self.lists.node_mut(cur);
            if n.referenced {
                n.referenced = false;
                cur = match self.lists.newer(cur) {
                    Some(x) => x,
                    None => self.lists.back(0)?,
                };
            } else {
                self.hand = self.lists.newer(cur);
                let n = self.lists.remove(cur);
                return Some(n.evicted());
            }
        }
    }
}

/// A kernel reclaims with it through the provided methods (spare pages for free frames).
impl super::Reclaim for Sieve {}

impl Policy for Sieve {
    fn capacity(&self) -> usize {
        self.cap
    }
    fn len(&self) -> usize {
        self.lists.len(0)
    }
    fn contains(&self, page: Page) -> bool {
        self.lists.find(page).is_some()
    }
    #[inline]
    fn access(&mut self, page: Page, write: bool) -> Outcome {
        if let Some(i) = self.lists.find(page) {
            let n = self.lists.node_mut(i);
            n.dirty |= write;
            n.referenced = true;
            return Outcome::Hit;
        }
        let evicted = if self.lists.len(0) >= self.cap {
            self.evict()
        } else {
            None
        };
        // New pages enter unvisited.
        self.lists.push_front(0, page, write, false);
        Outcome::Miss { evicted }
    }
    fn remove(&mut self, page: Page) -> Option<Evicted> {
        let i = self.lists.find(page)?;
        if self.hand == Some(i) {
            self.hand = self.lists.newer(i);
        }
        let n = self.lists.remove(i);
        Some(n.evicted())
    }
    fn resident(&self, out: &mut Vec<Page>) {
        self.lists.pages_oldest_first(0, out);
    }
}
