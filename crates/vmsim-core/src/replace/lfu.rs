//! LFU: evict the resident page referenced least often since it was loaded, ties going to the
//! least recently used (Aho, Denning and Ullman, JACM 1971). Counts are kept in an ordered set,
//! O(log n) per reference.

use super::{check_frames, Evicted, Outcome, Page, Policy, ReplaceError};
use rustc_hash::FxHashMap;
use std::collections::BTreeSet;

#[derive(Debug, Clone, Copy)]
struct Entry {
    count: u64,
    last: u64,
    dirty: bool,
}

/// The policy; [`Policy::resident`] lists pages in eviction order (first victim first).
#[derive(Debug, Clone)]
pub struct Lfu {
    cap: usize,
    map: FxHashMap<Page, Entry>,
    order: BTreeSet<(u64, u64, Page)>,
    clock: u64,
}

impl Lfu {
    /// An empty cache of `frames` frames.
    pub fn new(frames: usize) -> Result<Self, ReplaceError> {
        check_frames(frames)?;
        let mut map = FxHashMap::default();
        map.reserve(frames);
        Ok(Lfu {
            cap: frames,
            map,
            order: BTreeSet::new(),
            clock: 0,
        })
    }
}

impl Policy for Lfu {
    fn capacity(&self) -> usize {
        self.cap
    }
    fn len(&self) -> usize {
        self.map.len()
    }
    fn contains(&self, page: Page) -> bool {
        self.map.contains_key(&page)
    }
    fn access(&mut self, page: Page, write: bool) -> Outcome {
        self.clock += 1;
        let now = self.clock;
        if let Some(e) = self.map.get_mut(&page) {
            self.order.remove(&(e.count, e.last, page));
            e.count += 1;
            e.last = now;
            e.dirty |= write;
            self.order.insert((e.count, e.last, page));
            return Outcome::Hit;
        }
        let evicted = if self.map.len() >= self.cap {
            self.order.pop_first().and_then(|(_, _, victim)| {
                self.map.remove(&victim).map(|e| Evicted {
                    page: victim,
                    dirty: e.dirty,
                })
            })
        } else {
            None
        };
        self.map.insert(
            page,
            Entry {
                count: 1,
                last: now,
                dirty: write,
            },
        );
        self.order.insert((1, now, page));
        Outcome::Miss { evicted }
    }
    fn remove(&mut self, page: Page) -> Option<Evicted> {
        let e = self.map.remove(&page)?;
        self.order.remove(&(e.count, e.last, page));
        Some(Evicted {
            page,
            dirty: e.dirty,
        })
    }
    fn resident(&self, out: &mut Vec<Page>) {
        out.extend(self.order.iter().map(|k| k.2));
    }
}
