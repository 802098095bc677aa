//! WSClock: the working-set policy run by a clock hand (Carr and Hennessy, "WSCLOCK — A Simple
//! and Effective Algorithm for Virtual Memory Management", SOSP 1981). Each frame has a
//! reference bit and the virtual time (references so far) of its last use. On a fault the hand
//! sweeps: a referenced page has its bit cleared and its time set to now; an unreferenced page
//! not used in the last τ references is outside the working set and is evicted if clean. A
//! dirty one has its write-back scheduled and is passed over. Simplified: a scheduled write-back
//! completes by the hand's next visit, when the page (still old and unreferenced) is evicted as
//! a clean one would be; it is reported `dirty`, since that write-back is the cost of evicting
//! it (a reference in between cancels the schedule). If a whole round finds nothing to evict,
//! the first page it scheduled goes (its write completes first); with no old page at all, the
//! first clean page the round saw, else the page under the hand.
//!
//! τ defaults to the number of frames: the last τ references touch at most τ pages, so the
//! working set can always fit in memory.

use super::ring::{Dirty, Ring};
use super::{check_frames, Evicted, Outcome, Page, Policy, ReplaceError};

#[derive(Debug, Clone, Copy)]
struct Meta {
    /// Virtual time of last use, as of the last time the hand saw the page.
    last: u64,
    referenced: bool,
    dirty: bool,
    /// Its write-back was scheduled when the hand last found it old.
    scheduled: bool,
}

impl Dirty for Meta {
    fn dirty(&self) -> bool {
        self.dirty
    }
}

/// The policy; [`Policy::resident`] lists frames from the hand round the circle.
#[derive(Debug, Clone)]
pub struct WsClock {
    tau: u64,
    now: u64,
    ring: Ring<Meta>,
}

impl WsClock {
    /// An empty cache of `frames` frames with τ = `frames` references.
    pub fn new(frames: usize) -> Result<Self, ReplaceError> {
        WsClock::with_tau(frames, frames as u64)
    }

    /// An empty cache of `frames` frames whose working set is the pages used in the last `tau`
    /// references.
    pub fn with_tau(frames: usize, tau: u64) -> Result<Self, ReplaceError> {
        check_frames(frames)?;
        Ok(WsClock {
            tau,
            now: 0,
            ring: Ring::with_capacity(frames),
        })
    }

    /// The working-set window τ, in references.
    pub fn tau(&self) -> u64 {
        self.tau
    }

    /// One round of the hand from where it is; returns the victim's slot.
    fn sweep(&mut self) -> usize {
        let now = self.now;
        let start = self.ring.hand();
        let mut old_dirty = None;
        let mut clean = None;
        for _ in 0..self.ring.slots() {
            let i = self.ring.hand();
            let m = &mut self.ring.frame_mut(i).meta;
            if m.referenced {
                m.referenced = false;
                m.last = now;
                m.scheduled = false;
            } else if now - m.last >= self.tau {
                if !m.dirty || m.scheduled {
                    return i;
                }
                m.scheduled = true;
                old_dirty.get_or_insert(i);
            }
            if !m.dirty {
                clean.get_or_insert(i);
            }
            self.ring.advance();
        }
        old_dirty.or(clean).unwrap_or(start)
    }
}

/// A kernel reclaims with it through the provided methods (spare pages for free frames).
impl super::Reclaim for WsClock {}

impl Policy for WsClock {
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
        self.now += 1;
        if let Some(i) = self.ring.find(page) {
            let m = &mut self.ring.frame_mut(i).meta;
            m.referenced = true;
            m.dirty |= write;
            return Outcome::Hit;
        }
        let meta = Meta {
            last: self.now,
            referenced: false,
            dirty: write,
            scheduled: false,
        };
        if self.ring.insert(page, meta).is_some() {
            return Outcome::Miss { evicted: None };
        }
        let v = self.sweep();
        Outcome::Miss {
            evicted: Some(self.ring.replace(v, page, meta)),
        }
    }
    fn remove(&mut self, page: Page) -> Option<Evicted> {
        self.ring.remove(page)
    }
    fn resident(&self, out: &mut Vec<Page>) {
        self.ring.pages_from_hand(out);
    }
}
