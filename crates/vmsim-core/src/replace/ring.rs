//! Frames in a circle with a hand, indexed by page: the frame table that the clock-like
//! policies (WSClock, enhanced second chance, the working-set policy) sweep. A frame freed by
//! `remove` is a hole, refilled before anything is evicted, so whenever memory is full every
//! slot holds a resident page and a sweep needs no hole checks.

use super::slot_index::SlotIndex;
use super::{Evicted, Page};

/// A policy's per-page state, which knows whether the page was written since it was loaded:
/// what an eviction reports.
pub(crate) trait Dirty: Copy {
    /// Whether the page must be written back.
    fn dirty(&self) -> bool;
}

/// The state of a policy that keeps nothing but the dirty bit.
impl Dirty for bool {
    fn dirty(&self) -> bool {
        *self
    }
}

/// One frame: its page and the policy's per-page state.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Frame<T> {
    /// The page in the frame.
    pub page: Page,
    /// Whether the frame holds a page (false for a hole left by `remove`).
    pub live: bool,
    /// Policy state.
    pub meta: T,
}

/// Up to `cap` frames in slot order, with a hand.
#[derive(Debug, Clone)]
pub(crate) struct Ring<T> {
    cap: usize,
    frames: Vec<Frame<T>>,
    map: SlotIndex,
    holes: Vec<u32>,
    hand: usize,
}

impl<T: Dirty> Ring<T> {
    /// No frames in use, room for `cap`.
    pub fn with_capacity(cap: usize) -> Self {
        let map = SlotIndex::with_capacity(cap);
        Ring {
            cap,
            frames: Vec::with_capacity(super::reserve(cap)),
            map,
            holes: Vec::new(),
            hand: 0,
        }
    }

    /// Frames available.
    #[inline]
    pub fn capacity(&self) -> usize {
        self.cap
    }

    /// Resident pages.
    #[inline]
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Slots (live or holes); equals the capacity once memory has been full.
    #[inline]
    pub fn slots(&self) -> usize {
        self.frames.len()
    }

    /// The slot holding `page`.
    #[inline]
    pub fn find(&self, page: Page) -> Option<usize> {
        let frames = &self.frames;
        self.map
            .find(page, |i| frames[i as usize].page)
            .map(|i| i as usize)
    }

    /// The frame in slot `i`.
    #[inline]
    pub fn frame(&self, i: usize) -> &Frame<T> {
        &self.frames[i]
    }

    /// The frame in slot `i`, mutably.
    #[inline]
    pub fn frame_mut(&mut self, i: usize) -> &mut Frame<T> {
        &mut self.frames[i]
    }

    /// The slot under the hand.
    #[inline]
    pub fn hand(&self) -> usize {
        self.hand
    }

    /// The slot after `i` round the circle.
    #[inline]
    pub fn next(&self, i: usize) -> usize {
        if i + 1 >= self.frames.len() {
            0
        } else {
            i + 1
        }
    }

    /// Moves the hand one slot on.
    #[inline]
    pub fn advance(&mut self) {
        self.hand = self.next(self.hand);
    }

    /// Puts `page` (not resident) in a free frame and returns its slot; `None` if memory is
    /// full.
    pub fn insert(&mut self, page: Page, meta: T) -> Option<usize> {
        let frame = Frame {
            page,
            live: true,
            meta,
        };
        let i = if let Some(h) = self.holes.pop() {
            self.frames[h as usize] = frame;
            h as usize
        } else if self.frames.len() < self.cap {
            self.frames.push(frame);
            self.frames.len() - 1
        } else {
            return None;
        };
        let frames = &self.frames;
        self.map.insert(page, i as u32, |s| frames[s as usize].page);
        Some(i)
    }

    /// Evicts the page in slot `i` for `page` (not resident), reports the old page and puts
    /// the hand just past the slot, as a clock does after a replacement.
    pub fn replace(&mut self, i: usize, page: Page, meta: T) -> Evicted {
        let old = self.frames[i];
        debug_assert!(old.live, "only resident pages are replaced");
        let frames = &self.frames;
        self.map.remove(old.page, |s| frames[s as usize].page);
        self.frames[i] = Frame {
            page,
            live: true,
            meta,
        };
        let frames = &self.frames;
        self.map.insert(page, i as u32, |s| frames[s as usize].page);
        self.hand = self.next(i);
        Evicted {
            page: old.page,
            dirty: old.meta.dirty(),
        }
    }

    /// Takes `page` out, leaving a hole; reports it.
    pub fn remove(&mut self, page: Page) -> Option<Evicted> {
        let frames = &self.frames;
        let i = self.map.remove(page, |s| frames[s as usize].page)?;
        self.holes.push(i);
        let f = &mut self.frames[i as usize];
        f.live = false;
        Some(Evicted {
            page,
            dirty: f.meta.dirty(),
        })
    }

    /// Resident pages from the hand round the circle.
    pub fn pages_from_hand(&self, out: &mut Vec<Page>) {
        let n = self.frames.len();
        for k in 0..n {
            let f = &self.frames[(self.hand + k) % n];
            if f.live {
                out.push(f.page);
            }
        }
    }
}
