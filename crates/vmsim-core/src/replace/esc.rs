//! Enhanced second chance: CLOCK with the dirty bit as well as the reference bit, so a page's
//! class (referenced, dirty) orders it: (0,0) best to evict, then (0,1), (1,0), (1,1); the
//! hand replaces the first page of the lowest class it finds (Silberschatz, Galvin and Gagne,
//! Operating System Concepts, "Enhanced Second-Chance Algorithm"). The sweeps are the
//! Macintosh's as Stallings gives them (Operating Systems: Internals and Design Principles,
//! virtual memory chapter): a pass for (0,0) changing nothing, then a pass for (0,1) clearing
//! the reference bit of every page it passes, and the two again, which must then find a page.
//! Simplified: dirty pages are never cleaned in the background; a faulted page starts
//! referenced, as the reference that faulted sets its bit.
//!
//! The first pass changes nothing, so a bitset of the (0,0) frames answers it a word at a time;
//! the second pass only passes referenced pages (there is no (0,0) page when it runs), each
//! step paid for by the reference that set the bit.

use super::ring::{Dirty, Ring};
use super::{check_frames, Evicted, Outcome, Page, Policy, ReplaceError};

#[derive(Debug, Clone, Copy)]
struct Meta {
    referenced: bool,
    dirty: bool,
}

impl Dirty for Meta {
    fn dirty(&self) -> bool {
        self.dirty
    }
}

/// One bit per frame slot, grown as slots are used (bits past the end are clear).
#[derive(Debug, Clone)]
struct Bits(Vec<u64>);

impl Bits {
    fn new(slots: usize) -> Self {
        Bits(vec![0; super::reserve(slots).div_ceil(64)])
    }

    #[inline]
    fn set(&mut self, i: usize, on: bool) {
        let (w, b) = (i / 64, 1u64 << (i % 64));
        if w >= self.0.len() {
            self.0.resize(w + 1, 0);
        }
        if on {
            self.0[w] |= b;
        } else {
            self.0[w] &= !b;
        }
    }

    /// The first set bit in `lo..hi`.
    fn first_in(&self, lo: usize, hi: usize) -> Option<usize> {
        let hi = hi.min(self.0.len() * 64);
        if lo >= hi {
            return None;
        }
        let mut w = lo / 64;
        let mut word = self.0[w] & (!0u64 << (lo % 64));
        loop {
            if word != 0 {
                let i = w * 64 + word.trailing_zeros() as usize;
                return (i < hi).then_some(i);
            }
            w += 1;
            if w * 64 >= hi {
                return None;
            }
            word = self.0[w];
        }
    }
}

/// The policy; [`Policy::resident`] lists frames from the hand round the circle.
#[derive(Debug, Clone)]
pub struct Esc {
    ring: Ring<Meta>,
    /// Slots whose page is (not referenced, clean).
    clean_idle: Bits,
}

impl Esc {
    /// An empty cache of `frames` frames.
    pub fn new(frames: usize) -> Result<Self, ReplaceError> {
        check_frames(frames)?;
        Ok(Esc {
            ring: Ring::with_capacity(frames),
            clean_idle: Bits::new(frames),
        })
    }

    /// The first pass: the first (0,0) page from the hand.
    fn first_clean_idle(&self) -> Option<usize> {
        let (hand, n) = (self.ring.hand(), self.ring.slots());
        self.clean_idle
            .first_in(hand, n)
            .or_else(|| self.clean_idle.first_in(0, hand))
    }

    /// The second pass: the first (0,1) page from the hand, clearing the reference bits of the
    /// pages passed.
    fn pass_clearing(&mut self) -> Option<usize> {
        let mut i = self.ring.hand();
        for _ in 0..self.ring.slots() {
            let m = &mut self.ring.frame_mut(i).meta;
            if !m.referenced && m.dirty {
                return Some(i);
            }
            m.referenced = false;
            let idle = !m.dirty;
            self.clean_idle.set(i, idle);
            i = self.ring.next(i);
        }
        None
    }

    /// The victim's slot; needs memory full.
    fn sweep(&mut self) -> usize {
        for _ in 0..2 {
            if let Some(i) = self.first_clean_idle() {
                return i;
            }
            if let Some(i) = self.pass_clearing() {
                return i;
            }
        }
        unreachable!(
            "after one (0,1) pass every reference bit is clear, so a page is (0,0) or (0,1)"
        )
    }
}

/// A kernel reclaims with it through the provided methods (spare pages for free frames).
impl super::Reclaim for Esc {}

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
            self.clean_idle.set(i, false);
            return Outcome::Hit;
        }
        let meta = Meta {
            referenced: true,
            dirty: write,
        };
        // A loaded page is referenced: its bit in `clean_idle` is clear.
        if let Some(i) = self.ring.insert(page, meta) {
            self.clean_idle.set(i, false);
            return Outcome::Miss { evicted: None };
        }
        let v = self.sweep();
        self.clean_idle.set(v, false);
        Outcome::Miss {
            evicted: Some(self.ring.replace(v, page, meta)),
        }
    }
    fn remove(&mut self, page: Page) -> Option<Evicted> {
        let i = self.ring.find(page)?;
        self.clean_idle.set(i, false);
        self.ring.remove(page)
    }
    fn resident(&self, out: &mut Vec<Page>) {
        self.ring.pages_from_hand(out);
    }
}

#[cfg(test)]
mod tests {
    use super::Bits;

    #[test]
    fn finds_the_first_set_bit_across_words() {
        let mut b = Bits::new(200);
        for i in [3, 64, 130, 199] {
            b.set(i, true);
        }
        b.set(64, false);
        assert_eq!(b.first_in(0, 200), Some(3));
        assert_eq!(b.first_in(4, 200), Some(130));
        assert_eq!(b.first_in(131, 199), None);
        assert_eq!(b.first_in(131, 200), Some(199));
        assert_eq!(b.first_in(5, 130), None);
        assert_eq!(b.first_in(7, 7), None);
    }
}
