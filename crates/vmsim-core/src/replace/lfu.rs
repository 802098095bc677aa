//! LFU: evict the resident page referenced least often since it was loaded, ties going to the
//! least recently used (Aho, Denning and Ullman, JACM 1971). Pages sit in the frame ring with an
//! [`IndexedHeap`] over their (count, last reference) keys: O(log n) per reference and no
//! allocation once memory is full.

use super::heap::IndexedHeap;
use super::ring::{Dirty, Ring};
use super::{check_frames, Evicted, Outcome, Page, Policy, ReplaceError};

#[derive(Debug, Clone, Copy)]
struct Meta {
    count: u64,
    last: u64,
    dirty: bool,
}

impl Dirty for Meta {
    fn dirty(&self) -> bool {
        self.dirty
    }
}

/// The policy; [`Policy::resident`] lists pages in eviction order (first victim first).
#[derive(Debug, Clone)]
pub struct Lfu {
    ring: Ring<Meta>,
    heap: IndexedHeap<(u64, u64)>,
    clock: u64,
}

impl Lfu {
    /// An empty cache of `frames` frames.
    pub fn new(frames: usize) -> Result<Self, ReplaceError> {
        check_frames(frames)?;
        Ok(Lfu {
            ring: Ring::with_capacity(frames),
            heap: IndexedHeap::with_capacity(frames),
            clock: 0,
        })
    }
}

/// A kernel reclaims with it through the provided methods (spare pages for free frames).
impl super::Reclaim for Lfu {}

impl Policy for Lfu {
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
        self.clock += 1;
        let now = self.clock;
        if let Some(i) = self.ring.find(page) {
            let m = &mut self.ring.frame_mut(i).meta;
            m.count += 1;
            m.last = now;
            m.dirty |= write;
            let key = (m.count, m.last);
            self.heap.set(i as u32, key);
            return Outcome::Hit;
        }
        let meta = Meta {
            count: 1,
            last: now,
            dirty: write,
        };
        let evicted = match self.ring.insert(page, meta) {
            Some(i) => {
                self.heap.push(i as u32, (1, now));
                None
            }
            None => {
                let v = self
                    .heap
                    .pop()
                    .expect("memory is full, so the heap holds every resident page");
                let old = self.ring.replace(v as usize, page, meta);
                self.heap.push(v, (1, now));
                Some(old)
            }
        };
        Outcome::Miss { evicted }
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The obvious LFU: a list of (page, count, last use), victim by a linear search.
    fn oracle(refs: &[u64], frames: usize) -> Vec<Option<u64>> {
        let mut res: Vec<(u64, u64, usize)> = Vec::new();
        let mut out = Vec::new();
        for (t, &p) in refs.iter().enumerate() {
            if let Some(e) = res.iter_mut().find(|e| e.0 == p) {
                e.1 += 1;
                e.2 = t;
                out.push(None);
                continue;
            }
            let mut victim = None;
            if res.len() == frames {
                let (i, _) = res
                    .iter()
                    .enumerate()
                    .min_by_key(|(_, e)| (e.1, e.2))
                    .expect("memory is full");
                victim = Some(res.remove(i).0);
            }
            res.push((p, 1, t));
            out.push(Some(victim.unwrap_or(u64::MAX)));
        }
        out
    }

    proptest! {
        #[test]
        fn matches_a_linear_search(refs in prop::collection::vec(0u64..10, 0..300), frames in 1usize..6) {
            let mut lfu = Lfu::new(frames).unwrap();
            let got: Vec<Option<u64>> = refs
                .iter()
                .map(|&p| match lfu.access(p, false) {
                    Outcome::Hit => None,
                    Outcome::Miss { evicted } => Some(evicted.map_or(u64::MAX, |e| e.page)),
                })
                .collect();
            prop_assert_eq!(got, oracle(&refs, frames));
        }
    }
}
