//! LRU-K: evict the resident page whose K-th most recent reference is oldest, that is, whose
//! backward K-distance is largest; a page referenced fewer than K times has infinite distance
//! and goes first, ties among those going to the least recently used (O'Neil, O'Neil and
//! Weikum, "The LRU-K Page Replacement Algorithm For Database Disk Buffering", SIGMOD 1993).
//! Simplified: no correlated reference period (every reference counts), and the retained
//! information of evicted pages is kept for a fixed number of them (FIFO) instead of for a
//! retained information period.
//!
//! Times are reference counts. Resident pages sit in an `IndexedHeap` keyed by
//! (K-th last time, last time), 0 standing for "never", so the victim is the heap's top:
//! O(log n) per reference, no allocation once warm.

use super::dlist::Lists;
use super::heap::IndexedHeap;
use super::{check_frames, Evicted, Outcome, Page, Policy, ReplaceError};

/// Resident pages (the list's order is not used; the heap orders them).
const RES: usize = 0;
/// Evicted pages whose history is retained, newest at the front.
const HIST: usize = 1;

/// The policy with `K` (at least 1); [`Policy::resident`] lists pages in eviction order, first
/// victim first.
#[derive(Debug, Clone)]
pub struct LruK<const K: usize> {
    cap: usize,
    retain: usize,
    now: u64,
    lists: Lists<2>,
    /// Per node of `lists`: its last K reference times, most recent first; 0 = none.
    times: Vec<[u64; K]>,
    heap: IndexedHeap<(u64, u64)>,
}

/// LRU-2, the paper's recommended K.
pub type Lru2 = LruK<2>;

impl<const K: usize> LruK<K> {
    /// An empty cache of `frames` frames retaining the history of `2 * frames` evicted pages.
    pub fn new(frames: usize) -> Result<Self, ReplaceError> {
        LruK::with_history(frames, 2 * frames)
    }

    /// An empty cache of `frames` frames retaining the history of the last `retain` pages
    /// evicted (0: forget a page's history when it leaves memory).
    pub fn with_history(frames: usize, retain: usize) -> Result<Self, ReplaceError> {
        const { assert!(K >= 1, "LRU-K needs K >= 1") };
        check_frames(frames)?;
        let nodes = frames + retain + 1;
        Ok(LruK {
            cap: frames,
            retain,
            now: 0,
            lists: Lists::with_capacity(nodes),
            times: Vec::with_capacity(super::reserve(nodes)),
            heap: IndexedHeap::with_capacity(nodes),
        })
    }

    /// Heap key of node `i`: (K-th last reference, last reference).
    #[inline]
    fn key(&self, i: u32) -> (u64, u64) {
        let t = &self.times[i as usize];
        (t[K - 1], t[0])
    }

    /// Records a reference at `now` in node `i`'s history.
    #[inline]
    fn record(&mut self, i: u32, now: u64) {
        let t = &mut self.times[i as usize];
        t.copy_within(0..K - 1, 1);
        t[0] = now;
    }

    /// Resets the history slot of a new node `i`.
    fn fresh(&mut self, i: u32) {
        let i = i as usize;
        if i == self.times.len() {
            self.times.push([0; K]);
        } else {
            self.times[i] = [0; K];
        }
    }
}

/// A kernel reclaims with it through the provided methods (spare pages for free frames).
impl<const K: usize> super::Reclaim for LruK<K> {}

impl<const K: usize> Policy for LruK<K> {
    fn capacity(&self) -> usize {
        self.cap
    }
    fn len(&self) -> usize {
        self.lists.len(RES)
    }
    fn contains(&self, page: Page) -> bool {
        self.lists
            .find(page)
            .is_some_and(|i| self.lists.node(i).list as usize == RES)
    }
    #[inline]
    fn access(&mut self, page: Page, write: bool) -> Outcome {
        self.now += 1;
        let now = self.now;
        let found = self.lists.find(page);
        if let Some(i) = found {
            if self.lists.node(i).list as usize == RES {
                self.lists.node_mut(i).dirty |= write;
                self.record(i, now);
                self.heap.set(i, self.key(i));
                return Outcome::Hit;
            }
        }
        let evicted = if self.lists.len(RES) >= self.cap {
            let v = self
                .heap
                .pop()
                .expect("memory is full, so the heap holds every resident page");
            self.lists.move_front(v, HIST);
            let n = self.lists.node_mut(v);
            let e = n.evicted();
            n.dirty = false;
            Some(e)
        } else {
            None
        };
        let i = match found {
            // Its history was retained; the eviction above only added to HIST's front.
            Some(i) => {
                self.lists.move_front(i, RES);
                self.lists.node_mut(i).dirty = write;
                i
            }
            None => {
                let i = self.lists.push_front(RES, page, write, true);
                self.fresh(i);
                i
            }
        };
        self.record(i, now);
        self.heap.push(i, self.key(i));
        debug_assert_eq!(self.heap.len(), self.lists.len(RES));
        while self.lists.len(HIST) > self.retain {
            let Some(g) = self.lists.back(HIST) else {
                break;
            };
            self.lists.remove(g);
        }
        Outcome::Miss { evicted }
    }
    fn remove(&mut self, page: Page) -> Option<Evicted> {
        let i = self.lists.find(page)?;
        if self.lists.node(i).list as usize != RES {
            return None;
        }
        self.heap.remove(i);
        Some(self.lists.remove(i).evicted())
    }
    fn resident(&self, out: &mut Vec<Page>) {
        let start = out.len();
        out.extend(self.heap.slots().iter().map(|&i| self.lists.node(i).page));
        out[start..].sort_by_key(|&p| self.lists.find(p).map(|i| self.key(i)));
    }
}
