//! NFU and aging, software counters that approximate LRU (Tanenbaum and Bos, Modern Operating
//! Systems, §3.4.7). Every `period` references a clock interrupt folds each page's reference
//! bit into its counter and clears the bit: NFU adds it (a count of intervals with a reference,
//! never forgotten), aging shifts the 8-bit counter right and puts the bit in at the top (the
//! last eight intervals, recent ones weighing most). A fault evicts the page with the smallest
//! counter. Simplified: ties, which the book leaves open, go to a page not referenced since the
//! interrupt, then to the one loaded earliest; a faulted page starts with its reference bit
//! set and a counter of 0. The period defaults to the number of frames.
//!
//! Pages sit in an `IndexedHeap` keyed by (counter, referenced, load order): O(log n) per
//! fault or first reference in an interval; an interrupt re-keys every page in O(n), as the
//! book's scan of all pages does.

use super::heap::IndexedHeap;
use super::ring::{Dirty, Ring};
use super::{check_frames, Evicted, Outcome, Page, Policy, ReplaceError};

#[derive(Debug, Clone, Copy)]
struct Meta {
    counter: u32,
    referenced: bool,
    dirty: bool,
    loaded: u64,
}

impl Dirty for Meta {
    fn dirty(&self) -> bool {
        self.dirty
    }
}

impl Meta {
    #[inline]
    fn key(&self) -> (u32, bool, u64) {
        (self.counter, self.referenced, self.loaded)
    }
}

/// The counter policies: `AGING` shifts 8-bit counters, otherwise (NFU) they only add.
/// [`Policy::resident`] lists pages in eviction order, first victim first.
#[derive(Debug, Clone)]
pub struct Counters<const AGING: bool> {
    period: u64,
    since_tick: u64,
    loads: u64,
    ring: Ring<Meta>,
    heap: IndexedHeap<(u32, bool, u64)>,
}

/// Not frequently used: counters count the intervals in which a page was referenced.
pub type Nfu = Counters<false>;
/// Aging: 8-bit counters shifted right each interval, the reference bit entering at the top.
pub type Aging = Counters<true>;

impl<const AGING: bool> Counters<AGING> {
    /// An empty cache of `frames` frames with an interrupt every `frames` references.
    pub fn new(frames: usize) -> Result<Self, ReplaceError> {
        Counters::with_period(frames, frames as u64)
    }

    /// An empty cache of `frames` frames with an interrupt every `period` references (at
    /// least 1).
    pub fn with_period(frames: usize, period: u64) -> Result<Self, ReplaceError> {
        check_frames(frames)?;
        Ok(Counters {
            period: period.max(1),
            since_tick: 0,
            loads: 0,
            ring: Ring::with_capacity(frames),
            heap: IndexedHeap::with_capacity(frames),
        })
    }

    /// The counter of resident `page`.
    pub fn counter(&self, page: Page) -> Option<u32> {
        self.ring
            .find(page)
            .map(|i| self.ring.frame(i).meta.counter)
    }

    /// The clock interrupt: every page's reference bit goes into its counter.
    fn tick(&mut self) {
        for i in 0..self.ring.slots() {
            let f = self.ring.frame_mut(i);
            if !f.live {
                continue;
            }
            let m = &mut f.meta;
            let r = u32::from(m.referenced);
            m.counter = if AGING {
                (m.counter >> 1) | (r << 7)
            } else {
                m.counter.saturating_add(r)
            };
            m.referenced = false;
        }
        let ring = &self.ring;
        self.heap
            .rekey_all(|slot, key| *key = ring.frame(slot as usize).meta.key());
    }
}

/// A kernel reclaims with it through the provided methods (spare pages for free frames).
impl<const AGING: bool> super::Reclaim for Counters<AGING> {}

impl<const AGING: bool> Policy for Counters<AGING> {
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
        let outcome = if let Some(i) = self.ring.find(page) {
            let m = &mut self.ring.frame_mut(i).meta;
            m.dirty |= write;
            if !m.referenced {
                m.referenced = true;
                let key = m.key();
                self.heap.set(i as u32, key);
            }
            Outcome::Hit
        } else {
            self.loads += 1;
            let meta = Meta {
                counter: 0,
                referenced: true,
                dirty: write,
                loaded: self.loads,
            };
            let evicted = match self.ring.insert(page, meta) {
                Some(i) => {
                    self.heap.push(i as u32, meta.key());
                    None
                }
                None => {
                    let v = self
                        .heap
                        .pop()
                        .expect("memory is full, so the heap holds every resident page");
                    let old = self.ring.replace(v as usize, page, meta);
                    self.heap.push(v, meta.key());
                    Some(old)
                }
            };
            Outcome::Miss { evicted }
        };
        self.since_tick += 1;
        if self.since_tick == self.period {
            self.since_tick = 0;
            self.tick();
        }
        outcome
    }
    fn remove(&mut self, page: Page) -> Option<Evicted> {
        let i = self.ring.find(page)?;
        self.heap.remove(i as u32);
        self.ring.remove(page)
    }
    fn resident(&self, out: &mut Vec<Page>) {
        let start = out.len();
        out.extend(
            self.heap
                .slots()
                .iter()
                .map(|&i| self.ring.frame(i as usize).page),
        );
        out[start..].sort_by_key(|&p| self.ring.find(p).map(|i| self.heap.key(i as u32)));
    }
}
