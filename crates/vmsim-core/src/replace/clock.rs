//! CLOCK: frames in a circle with one reference bit each; on a miss the hand clears set bits
//! and evicts the first page whose bit is clear (Corbató, "A Paging Experiment with the Multics
//! System", 1968). The reference sets the bit of the page it touches, as hardware does.
//! With a counter of more than one bit it is generalised CLOCK (Smith, "Sequentiality and
//! Prefetching in Database Systems", TODS 1978): a reference raises the counter up to its
//! maximum and the hand lowers it, evicting the first page at zero.

use super::slot_index::SlotIndex;
use super::{check_frames, Evicted, Outcome, Page, Policy, ReplaceError};

#[derive(Debug, Clone, Copy)]
struct Frame {
    page: Page,
    count: u8,
    dirty: bool,
}

/// The policy; [`Policy::resident`] lists frames from the hand round the circle.
#[derive(Debug, Clone)]
pub struct Clock {
    cap: usize,
    frames: Vec<Frame>,
    map: SlotIndex,
    /// Slots freed by [`Policy::remove`], filled before anything is evicted.
    holes: Vec<u32>,
    hand: usize,
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
            cap: frames,
            frames: Vec::with_capacity(frames),
            map: SlotIndex::with_capacity(frames),
            holes: Vec::with_capacity(frames),
            hand: 0,
            max: max.max(1),
        })
    }

    fn slot(&self, page: Page) -> Option<u32> {
        let frames = &self.frames;
        self.map.find(page, |i| frames[i as usize].page)
    }

    /// Puts `f` in `slot` (empty, or its page already dropped from the index) and indexes it.
    fn place(&mut self, slot: u32, f: Frame) {
        if slot as usize == self.frames.len() {
            self.frames.push(f);
        } else {
            self.frames[slot as usize] = f;
        }
        let frames = &self.frames;
        self.map.insert(f.page, slot, |i| frames[i as usize].page);
    }
}

impl Policy for Clock {
    fn capacity(&self) -> usize {
        self.cap
    }
    fn len(&self) -> usize {
        self.map.len()
    }
    fn contains(&self, page: Page) -> bool {
        self.slot(page).is_some()
    }
    #[inline]
    fn access(&mut self, page: Page, write: bool) -> Outcome {
        if let Some(i) = self.slot(page) {
            let f = &mut self.frames[i as usize];
            f.count = (f.count + 1).min(self.max);
            f.dirty |= write;
            return Outcome::Hit;
        }
        let new = Frame {
            page,
            count: 1,
            dirty: write,
        };
        if self.frames.len() < self.cap {
            self.place(self.frames.len() as u32, new);
            return Outcome::Miss { evicted: None };
        }
        if let Some(slot) = self.holes.pop() {
            self.place(slot, new);
            return Outcome::Miss { evicted: None };
        }
        // Every slot holds a resident page.
        let n = self.frames.len();
        loop {
            let f = &mut self.frames[self.hand];
            if f.count > 0 {
                f.count -= 1;
                self.hand = (self.hand + 1) % n;
                continue;
            }
            let old = *f;
            let slot = self.hand;
            self.hand = (self.hand + 1) % n;
            let frames = &self.frames;
            self.map.remove(old.page, |i| frames[i as usize].page);
            self.place(slot as u32, new);
            return Outcome::Miss {
                evicted: Some(Evicted {
                    page: old.page,
                    dirty: old.dirty,
                }),
            };
        }
    }
    fn remove(&mut self, page: Page) -> Option<Evicted> {
        let frames = &self.frames;
        let i = self.map.remove(page, |i| frames[i as usize].page)?;
        self.holes.push(i);
        let f = &mut self.frames[i as usize];
        f.count = 0;
        Some(Evicted {
            page,
            dirty: f.dirty,
        })
    }
    fn resident(&self, out: &mut Vec<Page>) {
        let n = self.frames.len();
        for k in 0..n {
            let i = (self.hand + k) % n;
            let f = &self.frames[i];
            if self.slot(f.page) == Some(i as u32) {
                out.push(f.page);
            }
        }
    }
}
