//! One list of resident pages, newest at the front, behind three classic policies that differ
//! only in two choices: whether a hit moves the page to the front (recency order) or leaves it
//! (insertion order), and which end the victim comes from. O(1) per reference, no allocation
//! once warm (an index-linked arena, [`super::dlist`]).

use super::dlist::Lists;
use super::{check_frames, Evicted, Outcome, Page, Policy, Reclaim, ReplaceError, Spare, Victim};

/// A single ordered list. `MOVE_ON_HIT`: a hit moves the page to the front. `EVICT_NEWEST`:
/// the victim is the front (most recent) page instead of the back (oldest).
#[derive(Debug, Clone)]
pub struct Ordered<const MOVE_ON_HIT: bool, const EVICT_NEWEST: bool> {
    cap: usize,
    lists: Lists<1>,
}

impl<const MOVE_ON_HIT: bool, const EVICT_NEWEST: bool> Ordered<MOVE_ON_HIT, EVICT_NEWEST> {
    /// An empty cache of `frames` frames.
    pub fn new(frames: usize) -> Result<Self, ReplaceError> {
        check_frames(frames)?;
        Ok(Ordered {
            cap: frames,
            lists: Lists::with_capacity(frames),
        })
    }
}

impl<const MOVE_ON_HIT: bool, const EVICT_NEWEST: bool> Policy
    for Ordered<MOVE_ON_HIT, EVICT_NEWEST>
{
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
            self.lists.node_mut(i).dirty |= write;
            if MOVE_ON_HIT {
                self.lists.move_front(i, 0);
            }
            return Outcome::Hit;
        }
        let evicted = if self.lists.len(0) >= self.cap {
            let victim = if EVICT_NEWEST {
                self.lists.front(0)
            } else {
                self.lists.back(0)
            };
            victim.map(|v| self.lists.remove(v).evicted())
        } else {
            None
        };
        self.lists.push_front(0, page, write, true);
        Outcome::Miss { evicted }
    }
    fn remove(&mut self, page: Page) -> Option<Evicted> {
        let i = self.lists.find(page)?;
        Some(self.lists.remove(i).evicted())
    }
    fn resident(&self, out: &mut Vec<Page>) {
        self.lists.pages_oldest_first(0, out);
    }
}

/// The kernel form: the list is the kernel's queue of frames, and A bits are never read (FIFO
/// ignores references; exact LRU and MRU hear of every access instead).
impl<const MOVE_ON_HIT: bool, const EVICT_NEWEST: bool> Reclaim
    for Ordered<MOVE_ON_HIT, EVICT_NEWEST>
{
    fn every_access(&self) -> bool {
        MOVE_ON_HIT
    }
    fn bounded(&self) -> bool {
        false
    }
    fn admit(&mut self, page: Page, _spare: &mut Spare) {
        match self.lists.find(page) {
            Some(i) => self.lists.move_front(i, 0),
            None => {
                self.lists.push_front(0, page, false, true);
            }
        }
    }
    #[inline]
    fn touch(&mut self, page: Page) {
        if let (true, Some(i)) = (MOVE_ON_HIT, self.lists.find(page)) {
            self.lists.move_front(i, 0);
        }
    }
    fn victim<Y: FnMut(Page) -> bool>(&mut self, _spare: &mut Spare, _young: Y) -> Victim {
        let v = if EVICT_NEWEST {
            self.lists.front(0)
        } else {
            self.lists.back(0)
        };
        Victim {
            page: v.map(|i| self.lists.remove(i).page),
            scanned: 1,
        }
    }
}
