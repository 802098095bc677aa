//! Linux's two-list LRU approximation: new pages enter the inactive list; a second reference
//! while inactive (the page already marked referenced) activates the page; reclaim keeps the
//! active list no larger than the inactive one by demoting its oldest pages, and scans the
//! inactive list from its tail, activating referenced pages and evicting the first unreferenced
//! one (Linux `mm/swap.c` `mark_page_accessed`, `mm/vmscan.c` `shrink_active_list` /
//! `shrink_inactive_list`; Gorman, "Understanding the Linux Virtual Memory Manager", ch. 10).

use super::dlist::Lists;
use super::{check_frames, Evicted, Outcome, Page, Policy, Reclaim, ReplaceError, Spare, Victim};

const INACTIVE: usize = 0;
const ACTIVE: usize = 1;

/// The policy; [`Policy::resident`] lists the inactive list then the active list, each oldest
/// first.
#[derive(Debug, Clone)]
pub struct LinuxTwoList {
    cap: usize,
    lists: Lists<2>,
}

impl LinuxTwoList {
    /// An empty cache of `frames` frames.
    pub fn new(frames: usize) -> Result<Self, ReplaceError> {
        check_frames(frames)?;
        Ok(LinuxTwoList {
            cap: frames,
            lists: Lists::with_capacity(frames),
        })
    }

    fn reclaim(&mut self) -> Option<Evicted> {
        // Balance: demote active pages (reference bit cleared) while active > inactive.
        while self.lists.len(ACTIVE) > self.lists.len(INACTIVE) {
            let t = self.lists.back(ACTIVE)?;
            self.lists.node_mut(t).referenced = false;
            self.lists.move_front(t, INACTIVE);
        }
        loop {
            let Some(t) = self.lists.back(INACTIVE) else {
                // Everything is active: demote the oldest active page and evict it.
                let t = self.lists.back(ACTIVE)?;
                let n = self.lists.remove(t);
                return Some(n.evicted());
            };
            let n = self.lists.node_mut(t);
            if n.referenced {
                n.referenced = false;
                self.lists.move_front(t, ACTIVE);
            } else {
                let n = self.lists.remove(t);
                return Some(n.evicted());
            }
        }
    }
}

impl Policy for LinuxTwoList {
    fn capacity(&self) -> usize {
        self.cap
    }
    fn len(&self) -> usize {
        self.lists.len(INACTIVE) + self.lists.len(ACTIVE)
    }
    fn contains(&self, page: Page) -> bool {
        self.lists.find(page).is_some()
    }
    #[inline]
    fn access(&mut self, page: Page, write: bool) -> Outcome {
        if let Some(i) = self.lists.find(page) {
            let n = self.lists.node_mut(i);
            n.dirty |= write;
            if n.list as usize == INACTIVE && n.referenced {
                n.referenced = false;
                self.lists.move_front(i, ACTIVE);
            } else {
                n.referenced = true;
            }
            return Outcome::Hit;
        }
        let evicted = if self.len() >= self.cap {
            self.reclaim()
        } else {
            None
        };
        self.lists.push_front(INACTIVE, page, write, false);
        Outcome::Miss { evicted }
    }
    fn remove(&mut self, page: Page) -> Option<Evicted> {
        let i = self.lists.find(page)?;
        let n = self.lists.remove(i);
        Some(n.evicted())
    }
    fn resident(&self, out: &mut Vec<Page>) {
        self.lists.pages_oldest_first(INACTIVE, out);
        self.lists.pages_oldest_first(ACTIVE, out);
    }
}

/// The kernel form, as `mm/vmscan.c` scans with `folio_referenced`: references are the A bits
/// found while scanning, not marks left by earlier accesses. New frames enter the inactive
/// list; the scan keeps the inactive list at least as long as the active one by moving
/// active pages down (referenced ones rotate back), and an inactive page found referenced is
/// activated instead of evicted.
impl Reclaim for LinuxTwoList {
    fn bounded(&self) -> bool {
        false
    }
    fn admit(&mut self, page: Page, _spare: &mut Spare) {
        match self.lists.find(page) {
            Some(i) => self.lists.move_front(i, INACTIVE),
            None => {
                self.lists.push_front(INACTIVE, page, false, false);
            }
        }
    }
    fn victim<Y: FnMut(Page) -> bool>(&mut self, _spare: &mut Spare, mut young: Y) -> Victim {
        let mut scanned = 0;
        for _ in 0..2 * self.len() + 2 {
            let (inactive, active) = (self.lists.len(INACTIVE), self.lists.len(ACTIVE));
            if inactive < active || inactive == 0 {
                if let Some(a) = self.lists.back(ACTIVE) {
                    scanned += 1;
                    let to = if young(self.lists.node(a).page) {
                        ACTIVE
                    } else {
                        INACTIVE
                    };
                    self.lists.move_front(a, to);
                    continue;
                }
            }
            let Some(t) = self.lists.back(INACTIVE) else {
                return Victim {
                    page: None,
                    scanned,
                };
            };
            scanned += 1;
            if young(self.lists.node(t).page) {
                self.lists.move_front(t, ACTIVE);
            } else {
                return Victim {
                    page: Some(self.lists.remove(t).page),
                    scanned,
                };
            }
        }
        let last = self
            .lists
            .back(INACTIVE)
            .or_else(|| self.lists.back(ACTIVE));
        Victim {
            page: last.map(|i| self.lists.remove(i).page),
            scanned,
        }
    }
}
