//! NRU, Not Recently Used: a page's referenced and modified bits put it in one of four
//! classes, 0 = (not referenced, clean), 1 = (not referenced, modified), 2 = (referenced,
//! clean), 3 = (referenced, modified); a clock interrupt clears every reference bit, and a
//! fault evicts a page of the lowest non-empty class (Tanenbaum and Bos, Modern Operating
//! Systems, §3.4.2). The interrupt comes every `period` references (by default as many as
//! frames). Simplified: the victim is the page that has been longest in its class rather than
//! a random one, which keeps NRU O(1) and deterministic without a generator.
//!
//! Each class is a `dlist::Lists` list, newest at the front, so an interrupt moves only the pages
//! referenced since the last one: O(1) amortised per reference.

use super::dlist::Lists;
use super::{check_frames, Evicted, Outcome, Page, Policy, ReplaceError};

/// Class of a page: 2 × referenced + modified.
#[inline]
fn class(referenced: bool, dirty: bool) -> usize {
    (usize::from(referenced) << 1) | usize::from(dirty)
}

/// The policy; [`Policy::resident`] lists classes 0 to 3, each longest-standing first (so the
/// first page listed is the next victim).
#[derive(Debug, Clone)]
pub struct Nru {
    cap: usize,
    period: u64,
    since_tick: u64,
    lists: Lists<4>,
}

impl Nru {
    /// An empty cache of `frames` frames whose reference bits are cleared every `frames`
    /// references.
    pub fn new(frames: usize) -> Result<Self, ReplaceError> {
        Nru::with_period(frames, frames as u64)
    }

    /// An empty cache of `frames` frames whose reference bits are cleared every `period`
    /// references (at least 1).
    pub fn with_period(frames: usize, period: u64) -> Result<Self, ReplaceError> {
        check_frames(frames)?;
        Ok(Nru {
            cap: frames,
            period: period.max(1),
            since_tick: 0,
            lists: Lists::with_capacity(frames),
        })
    }

    /// The clock interrupt: referenced pages drop to classes 0 and 1, in the order they were.
    fn tick(&mut self) {
        for (from, to) in [(2, 0), (3, 1)] {
            while let Some(b) = self.lists.back(from) {
                self.lists.node_mut(b).referenced = false;
                self.lists.move_front(b, to);
            }
        }
    }
}

/// A kernel reclaims with it through the provided methods (spare pages for free frames).
impl super::Reclaim for Nru {}

impl Policy for Nru {
    fn capacity(&self) -> usize {
        self.cap
    }
    fn len(&self) -> usize {
        (0..4).map(|c| self.lists.len(c)).sum()
    }
    fn contains(&self, page: Page) -> bool {
        self.lists.find(page).is_some()
    }
    #[inline]
    fn access(&mut self, page: Page, write: bool) -> Outcome {
        let outcome = if let Some(i) = self.lists.find(page) {
            let n = self.lists.node_mut(i);
            n.referenced = true;
            n.dirty |= write;
            let c = class(true, n.dirty);
            if n.list as usize != c {
                self.lists.move_front(i, c);
            }
            Outcome::Hit
        } else {
            let evicted = if self.len() >= self.cap {
                (0..4)
                    .find_map(|c| self.lists.back(c))
                    .map(|v| self.lists.remove(v).evicted())
            } else {
                None
            };
            self.lists.push_front(class(true, write), page, write, true);
            Outcome::Miss { evicted }
        };
        self.since_tick += 1;
        if self.since_tick == self.period {
            self.since_tick = 0;
            self.tick();
        }
        outcome
    }
    fn remove(&mut self, page: Page) -> Option<Evicted> {
        let i = self.lists.find(page)?;
        Some(self.lists.remove(i).evicted())
    }
    fn resident(&self, out: &mut Vec<Page>) {
        for c in 0..4 {
            self.lists.pages_oldest_first(c, out);
        }
    }
}
