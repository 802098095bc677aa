//! MRU: evict the most recently used page; best on loops larger than memory (Chou and DeWitt, VLDB 1985).
//! Resident pages sit on one intrusive list (O(1) per reference, no allocation when warm).

use super::dlist::Lists;
use super::{check_frames, Evicted, Outcome, Page, Policy, ReplaceError};

/// The policy; [`Policy::resident`] lists pages least recently used first (the victim is the last).
#[derive(Debug, Clone)]
pub struct Mru {
    cap: usize,
    lists: Lists<1>,
}

impl Mru {
    /// An empty cache of `frames` frames.
    pub fn new(frames: usize) -> Result<Self, ReplaceError> {
        check_frames(frames)?;
        Ok(Mru {
            cap: frames,
            lists: Lists::with_capacity(frames),
        })
    }
}

impl Policy for Mru {
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
            self.lists.move_front(i, 0);
            return Outcome::Hit;
        }
        let evicted = if self.lists.len(0) >= self.cap {
            self.lists.front(0).map(|v| {
                let n = self.lists.remove(v);
                Evicted {
                    page: n.page,
                    dirty: n.dirty,
                }
            })
        } else {
            None
        };
        self.lists.push_front(0, page, write, true);
        Outcome::Miss { evicted }
    }
    fn remove(&mut self, page: Page) -> Option<Evicted> {
        let i = self.lists.find(page)?;
        let n = self.lists.remove(i);
        Some(Evicted {
            page: n.page,
            dirty: n.dirty,
        })
    }
    fn resident(&self, out: &mut Vec<Page>) {
        self.lists.pages_oldest_first(0, out);
    }
}
