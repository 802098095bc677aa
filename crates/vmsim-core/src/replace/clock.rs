//! CLOCK: frames in a circle with one reference bit each; on a miss the hand clears set bits
//! and evicts the first page whose bit is clear (Corbató, "A Paging Experiment with the Multics
//! System", 1968). The reference sets the bit of the page it touches, as hardware does.
//! With a counter of more than one bit it is generalised CLOCK (Smith, "Sequentiality and
//! Prefetching in Database Systems", TODS 1978): a reference raises the counter up to its
//! maximum and the hand lowers it, evicting the first page at zero.

use super::ring::{Dirty, Ring};
use super::{check_frames, Evicted, Outcome, Page, Policy, ReplaceError};

#[derive(Debug, Clone, Copy)]
struct Meta {
    count: u8,
    dirty: bool,
}

impl Dirty for Meta {
    fn dirty(&self) -> bool {
        self.dirty
    }
}

/// The policy; [`Policy::resident`] lists frames from the hand round the circle.
#[derive(Debug, Clone)]
pub struct Clock {
    ring: Ring<Meta>,
    max: u8,
}

impl Clock {
    /// An empty cache of `frames` frames with one reference bit per page.
    pub fn new(frames: usize) -> Result<Self, ReplaceError> {
        Clock::generalized(frames, 1)
    }

    /// An empty cache of `frames` frames whose counters saturate at `max` (at least 1).
    pub fn generalized(frames: usize, max: u8) -> Result<Self, ReplaceError> {
        check_frames(frames)?;
        Ok(Clock {
            ring: Ring::with_capacity(frames),
            max: max.max(1),
        })
    }
}

/// A kernel reclaims with it through the provided methods (spare pages for free frames).
impl super::Reclaim for Clock {}

impl Policy for Clock {
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
            m.count = (m.count + 1).min(self.max);
            m.dirty |= write;
            return Outcome::Hit;
        }
        let new = Meta {
            count: 1,
            dirty: write,
        };
        if self.ring.insert(page, new).is_some() {
            return Outcome::Miss { evicted: None };
        }
        // Memory is full, so every slot holds a resident page: the hand lowers counters
        // until it finds one at zero.
        let mut i = self.ring.hand();
        loop {
            let m = &mut self.ring.frame_mut(i).meta;
            if m.count == 0 {
                break;
            }
            m.count -= 1;
            i = self.ring.next(i);
        }
        Outcome::Miss {
            evicted: Some(self.ring.replace(i, page, new)),
        }
    }
    fn remove(&mut self, page: Page) -> Option<Evicted> {
        self.ring.remove(page)
    }
    fn resident(&self, out: &mut Vec<Page>) {
        self.ring.pages_from_hand(out);
    }
}
