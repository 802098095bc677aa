//! Linux's two-list LRU approximation: new pages enter the inactive list; a second reference
//! while inactive (the page already marked referenced) activates the page; reclaim keeps the
//! active list no larger than the inactive one by demoting its oldest pages, and scans the
//! inactive list from its tail, activating referenced pages and evicting the first unreferenced
//! one (Linux `mm/swap.c` `mark_page_accessed`, `mm/vmscan.c` `shrink_active_list` /
//! `shrink_inactive_list`; Gorman, "Understanding the Linux Virtual Memory Manager", ch. 10).

use super::dlist::Lists;
use super::{check_frames, Evicted, Outcome, Page, Policy, ReplaceError};

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
