//! Enhanced second chance: CLOCK with the dirty bit as well as the reference bit, so a page's
//! class (referenced, dirty) orders it: (0,0) best to evict, then (0,1), (1,0), (1,1); the
//! hand replaces the first page of the lowest class it finds (Silberschatz, Galvin and Gagne,
//! Operating System Concepts, "Enhanced Second-Chance Algorithm"). The sweeps are the
//! Macintosh's as Stallings gives them (Operating Systems: Internals and Design Principles,
//! virtual memory chapter): a pass for (0,0) changing nothing, then a pass for (0,1) clearing
//! the reference bit of every page it passes, and the two again, which must then find a page.
//! Simplified: dirty pages are never cleaned in the background; a faulted page starts
//! referenced, as the reference that faulted sets its bit.

use super::ring::Ring;
use super::{check_frames, Evicted, Outcome, Page, Policy, ReplaceError};

#[derive(Debug, Clone, Copy)]
struct Meta {
    referenced: bool,
    dirty: bool,
}

/// The policy; [`Policy::resident`] lists frames from the hand round the circle.
#[derive(Debug, Clone)]
pub struct Esc {
    ring: Ring<Meta>,
}

impl Esc {
    /// An empty cache of `frames` frames.
    pub fn new(frames: usize) -> Result<Self, ReplaceError> {
        check_frames(frames)?;
        Ok(Esc {
            ring: Ring::with_capacity(frames),
        })
    }

    /// One pass from the hand for an unreferenced page with this dirty bit; `clear` clears
    /// the reference bits of the pages passed.
    fn pass(&mut self, dirty: bool, clear: bool) -> Option<usize> {
        let mut i = self.ring.hand();
        for _ in 0..self.ring.slots() {
            let m = &mut self.ring.frame_mut(i).meta;
            if !m.referenced && m.dirty == dirty {
                return Some(i);
            }
            if clear {
                m.referenced = false;
            }
            i = self.ring.next(i);
        }
        None
    }

    /// The victim's slot; needs memory full.
    fn sweep(&mut self) -> usize {
        for _ in 0..2 {
            if let Some(i) = self.pass(false, false) {
                return i;
            }
            if let Some(i) = self.pass(true, true) {
                return i;
            }
        }
        unreachable!(
            "after one (0,1) pass every reference bit is clear, so a page is (0,0) or (0,1)"
        )
    }
}

impl Policy for Esc {
    fn capacity(&self) -> usize {
        self.ring.capacity()
    }
    fn len(&self) -> usize {
        self.ring.len()
    }
    fn contains(&self, page: Page) -> bool {
        self.ring.find(page).is_some()
    }
    #[inline]
    fn access(&mut self, page: Page, write: bool) -> Outcome {
        if let Some(i) = self.ring.find(page) {
            let m = &mut self.ring.frame_mut(i).meta;
            m.referenced = true;
            m.dirty |= write;
            return Outcome::Hit;
        }
        let meta = Meta {
            referenced: true,
            dirty: write,
        };
        if self.ring.insert(page, meta).is_some() {
            return Outcome::Miss { evicted: None };
        }
        let v = self.sweep();
        let old = self.ring.replace(v, page, meta);
        Outcome::Miss {
            evicted: Some(Evicted {
                page: old.page,
                dirty: old.meta.dirty,
            }),
        }
    }
    fn remove(&mut self, page: Page) -> Option<Evicted> {
        let f = self.ring.remove(page)?;
        Some(Evicted {
            page,
            dirty: f.meta.dirty,
        })
    }
    fn resident(&self, out: &mut Vec<Page>) {
        self.ring.pages_from_hand(out);
    }
}
