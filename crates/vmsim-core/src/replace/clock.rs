//! CLOCK (second chance; Corbató, 1968): frames in a circle with one reference bit each; a hit
//! sets the bit; to evict, the hand clears set bits as it passes and takes the first frame
//! whose bit is clear.

use super::{Evicted, Outcome, Policy};
use rustc_hash::FxHashMap;

/// One-handed CLOCK.
#[derive(Debug, Clone)]
pub struct Clock {
    cap: usize,
    page: Vec<u64>,
    referenced: Vec<bool>,
    dirty: Vec<bool>,
    hand: usize,
    index: FxHashMap<u64, u32>,
}

impl Clock {
    /// A clock of `frames` frames (at least 1).
    pub fn new(frames: usize) -> Self {
        let cap = frames.max(1);
        let mut index = FxHashMap::default();
        index.reserve(cap);
        Clock {
            cap,
            page: Vec::with_capacity(cap),
            referenced: Vec::with_capacity(cap),
            dirty: Vec::with_capacity(cap),
            hand: 0,
            index,
        }
    }
}

impl Policy for Clock {
    fn name(&self) -> &'static str {
        "clock"
    }
    fn capacity(&self) -> usize {
        self.cap
    }
    fn len(&self) -> usize {
        self.index.len()
    }
    #[inline]
    fn access(&mut self, page: u64, write: bool) -> Outcome {
        if let Some(&s) = self.index.get(&page) {
            self.referenced[s as usize] = true;
            self.dirty[s as usize] |= write;
            return Outcome::Hit;
        }
        if self.page.len() < self.cap {
            self.page.push(page);
            self.referenced.push(false);
            self.dirty.push(write);
            self.index.insert(page, (self.page.len() - 1) as u32);
            return Outcome::Miss { evicted: None };
        }
        while self.referenced[self.hand] {
            self.referenced[self.hand] = false;
            self.hand = (self.hand + 1) % self.cap;
        }
        let h = self.hand;
        let victim = Evicted {
            page: self.page[h],
            dirty: self.dirty[h],
        };
        self.index.remove(&victim.page);
        self.page[h] = page;
        self.dirty[h] = write;
        self.index.insert(page, h as u32);
        self.hand = (h + 1) % self.cap;
        Outcome::Miss {
            evicted: Some(victim),
        }
    }
}
