//! LFU: evict the resident page referenced least often since it was loaded, ties going to the
//! least recently used (Aho, Denning and Ullman, JACM 1971). O(1) per reference with frequency
//! buckets: the non-empty counts form a list in ascending order, each holding its pages oldest
//! reference first, so a hit moves a page to the newest end of the next count's bucket and the
//! victim is the oldest page of the lowest count. Both orders together are exactly (count, last
//! reference), the order a heap over those keys gives, without its O(log n). Entries and
//! buckets live in slabs with free lists, so nothing is allocated once memory is full.

use super::slot_index::SlotIndex;
use super::{check_frames, Evicted, Outcome, Page, Policy, ReplaceError};

/// "No entry / no bucket".
const NIL: u32 = u32::MAX;

/// One resident page, threaded on its bucket's list (free entries chain through `next`).
#[derive(Debug, Clone, Copy)]
struct Entry {
    page: Page,
    prev: u32,
    next: u32,
    bucket: u32,
    dirty: bool,
}

/// The pages referenced exactly `count` times, oldest last reference at `head`; threaded on
/// the ascending list of buckets (free buckets chain through `next`).
#[derive(Debug, Clone, Copy)]
struct Bucket {
    count: u64,
    head: u32,
    tail: u32,
    prev: u32,
    next: u32,
}

/// The policy; [`Policy::resident`] lists pages in eviction order (first victim first).
#[derive(Debug, Clone)]
pub struct Lfu {
    cap: usize,
    len: usize,
    entries: Vec<Entry>,
    free_entry: u32,
    buckets: Vec<Bucket>,
    free_bucket: u32,
    /// The bucket of the lowest count (where victims come from), `NIL` when empty.
    lowest: u32,
    map: SlotIndex,
}

impl Lfu {
    /// An empty cache of `frames` frames.
    pub fn new(frames: usize) -> Result<Self, ReplaceError> {
        check_frames(frames)?;
        Ok(Lfu {
            cap: frames,
            len: 0,
            entries: Vec::with_capacity(super::reserve(frames)),
            free_entry: NIL,
            buckets: Vec::new(),
            free_bucket: NIL,
            lowest: NIL,
            map: SlotIndex::with_capacity(frames),
        })
    }

    #[inline]
    fn find(&self, page: Page) -> Option<u32> {
        let entries = &self.entries;
        self.map.find(page, |i| entries[i as usize].page)
    }

    /// A new empty bucket for `count`, linked right after `after` (`NIL`: as the lowest).
    #[inline]
    fn new_bucket(&mut self, count: u64, after: u32) -> u32 {
        let next = if after == NIL {
            self.lowest
        } else {
            self.buckets[after as usize].next
        };
        let b = Bucket {
            count,
            head: NIL,
            tail: NIL,
            prev: after,
            next,
        };
        let idx = if self.free_bucket != NIL {
            let idx = self.free_bucket;
            self.free_bucket = self.buckets[idx as usize].next;
            self.buckets[idx as usize] = b;
            idx
        } else {
            self.buckets.push(b);
            (self.buckets.len() - 1) as u32
        };
        if after == NIL {
            self.lowest = idx;
        } else {
            self.buckets[after as usize].next = idx;
        }
        if next != NIL {
            self.buckets[next as usize].prev = idx;
        }
        idx
    }

    /// Unlinks the empty bucket `b` from the count list and frees it.
    #[inline]
    fn drop_bucket(&mut self, b: u32) {
        let Bucket { prev, next, .. } = self.buckets[b as usize];
        if prev == NIL {
            self.lowest = next;
        } else {
            self.buckets[prev as usize].next = next;
        }
        if next != NIL {
            self.buckets[next as usize].prev = prev;
        }
        self.buckets[b as usize].next = self.free_bucket;
        self.free_bucket = b;
    }

    /// Appends entry `e` as the newest of bucket `b`.
    #[inline]
    fn push_newest(&mut self, e: u32, b: u32) {
        let tail = self.buckets[b as usize].tail;
        {
            let en = &mut self.entries[e as usize];
            en.prev = tail;
            en.next = NIL;
            en.bucket = b;
        }
        if tail == NIL {
            self.buckets[b as usize].head = e;
        } else {
            self.entries[tail as usize].next = e;
        }
        self.buckets[b as usize].tail = e;
    }

    /// Takes entry `e` off its bucket's list, dropping the bucket if that empties it.
    #[inline]
    fn unlink(&mut self, e: u32) {
        let Entry {
            prev, next, bucket, ..
        } = self.entries[e as usize];
        if prev == NIL {
            self.buckets[bucket as usize].head = next;
        } else {
            self.entries[prev as usize].next = next;
        }
        if next == NIL {
            self.buckets[bucket as usize].tail = prev;
        } else {
            self.entries[next as usize].prev = prev;
        }
        if prev == NIL && next == NIL {
            self.drop_bucket(bucket);
        }
    }

    /// Puts `page` in entry `e` at count 1, as the newest of that bucket.
    #[inline]
    fn admit_at(&mut self, e: u32, page: Page, dirty: bool) {
        self.entries[e as usize] = Entry {
            page,
            prev: NIL,
            next: NIL,
            bucket: NIL,
            dirty,
        };
        let low = self.lowest;
        let b = if low != NIL && self.buckets[low as usize].count == 1 {
            low
        } else {
            self.new_bucket(1, NIL)
        };
        self.push_newest(e, b);
        let entries = &self.entries;
        self.map.insert(page, e, |i| entries[i as usize].page);
    }

    /// Counts one more reference to entry `e`.
    #[inline]
    fn hit(&mut self, e: u32) {
        let Entry {
            prev, next, bucket, ..
        } = self.entries[e as usize];
        let Bucket {
            count, next: up, ..
        } = self.buckets[bucket as usize];
        let target = count + 1;
        let up_fits = up != NIL && self.buckets[up as usize].count == target;
        if prev == NIL && next == NIL && !up_fits {
            // Alone in its bucket and no bucket for the next count: the bucket itself moves up.
            self.buckets[bucket as usize].count = target;
            return;
        }
        let dest = if up_fits {
            up
        } else {
            self.new_bucket(target, bucket)
        };
        self.unlink(e);
        self.push_newest(e, dest);
    }
}

/// A kernel reclaims with it through the provided methods (spare pages for free frames).
impl super::Reclaim for Lfu {}

impl Policy for Lfu {
    fn capacity(&self) -> usize {
        self.cap
    }
    fn len(&self) -> usize {
        self.len
    }
    fn contains(&self, page: Page) -> bool {
        self.find(page).is_some()
    }
    #[inline]
    fn access(&mut self, page: Page, write: bool) -> Outcome {
        if let Some(e) = self.find(page) {
            self.entries[e as usize].dirty |= write;
            self.hit(e);
            return Outcome::Hit;
        }
        if self.len < self.cap {
            let e = if self.free_entry != NIL {
                let e = self.free_entry;
                self.free_entry = self.entries[e as usize].next;
                e
            } else {
                self.entries.push(Entry {
                    page,
                    prev: NIL,
                    next: NIL,
                    bucket: NIL,
                    dirty: write,
                });
                (self.entries.len() - 1) as u32
            };
            self.len += 1;
            self.admit_at(e, page, write);
            return Outcome::Miss { evicted: None };
        }
        let low = self.lowest;
        debug_assert!(low != NIL, "memory is full, so some bucket holds a page");
        let v = self.buckets[low as usize].head;
        let old = self.entries[v as usize];
        self.unlink(v);
        let entries = &self.entries;
        self.map.remove(old.page, |i| entries[i as usize].page);
        self.admit_at(v, page, write);
        Outcome::Miss {
            evicted: Some(Evicted {
                page: old.page,
                dirty: old.dirty,
            }),
        }
    }
    fn remove(&mut self, page: Page) -> Option<Evicted> {
        let entries = &self.entries;
        let e = self.map.remove(page, |i| entries[i as usize].page)?;
        self.unlink(e);
        let dirty = self.entries[e as usize].dirty;
        self.entries[e as usize].next = self.free_entry;
        self.free_entry = e;
        self.len -= 1;
        Some(Evicted { page, dirty })
    }
    fn resident(&self, out: &mut Vec<Page>) {
        let mut b = self.lowest;
        while b != NIL {
            let mut e = self.buckets[b as usize].head;
            while e != NIL {
                out.push(self.entries[e as usize].page);
                e = self.entries[e as usize].next;
            }
            b = self.buckets[b as usize].next;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The obvious LFU: a list of resident pages with their (count, last use) keys and dirty
    /// bits, victim by a linear search for the least key, eviction order by sorting the keys.
    #[derive(Default)]
    struct Oracle {
        res: Vec<(u64, u64, usize, bool)>,
        frames: usize,
    }

    impl Oracle {
        fn access(&mut self, p: u64, write: bool, t: usize) -> Outcome {
            if let Some(e) = self.res.iter_mut().find(|e| e.0 == p) {
                e.1 += 1;
                e.2 = t;
                e.3 |= write;
                return Outcome::Hit;
            }
            let mut evicted = None;
            if self.res.len() == self.frames {
                let (i, _) = self
                    .res
                    .iter()
                    .enumerate()
                    .min_by_key(|(_, e)| (e.1, e.2))
                    .expect("memory is full");
                let e = self.res.remove(i);
                evicted = Some(Evicted {
                    page: e.0,
                    dirty: e.3,
                });
            }
            self.res.push((p, 1, t, write));
            Outcome::Miss { evicted }
        }

        fn remove(&mut self, p: u64) -> Option<Evicted> {
            let i = self.res.iter().position(|e| e.0 == p)?;
            let e = self.res.remove(i);
            Some(Evicted {
                page: e.0,
                dirty: e.3,
            })
        }

        fn resident(&self) -> Vec<u64> {
            let mut r = self.res.clone();
            r.sort_by_key(|e| (e.1, e.2));
            r.into_iter().map(|e| e.0).collect()
        }
    }

    /// One step of a random run: a reference (page, write) or, when `remove`, a removal.
    fn step() -> impl Strategy<Value = (u64, bool, bool)> {
        (0u64..24, any::<bool>(), prop::bool::weighted(0.05))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        /// Every outcome (hit, victim, its dirty bit), every removal and the eviction order
        /// after each step agree with the linear search, on skewed streams with writes.
        #[test]
        fn matches_a_linear_search(
            steps in prop::collection::vec(step(), 0..600),
            frames in prop::sample::select(vec![1usize, 2, 3, 5, 8, 13, 30]),
            skew in 1u64..4,
        ) {
            let mut lfu = Lfu::new(frames).unwrap();
            let mut oracle = Oracle { frames, ..Oracle::default() };
            let mut got = Vec::new();
            for (t, &(raw, write, remove)) in steps.iter().enumerate() {
                // Fold the page space `skew` times so low pages recur often and counts spread.
                let p = raw % (24 / skew);
                if remove {
                    prop_assert_eq!(lfu.remove(p), oracle.remove(p));
                } else {
                    prop_assert_eq!(lfu.access(p, write), oracle.access(p, write, t));
                }
                prop_assert_eq!(lfu.len(), oracle.res.len());
                got.clear();
                lfu.resident(&mut got);
                prop_assert_eq!(&got, &oracle.resident());
            }
        }
    }

    #[test]
    fn a_hit_page_outlives_a_newer_single_reference() {
        let mut lfu = Lfu::new(2).unwrap();
        let first = Outcome::Miss { evicted: None };
        assert_eq!(lfu.access(1, true), first);
        assert_eq!(lfu.access(1, false), Outcome::Hit);
        assert_eq!(lfu.access(2, false), first);
        // 2 has one reference, 1 has two: 2 goes although 1 is older, and 1 stays dirty.
        assert_eq!(
            lfu.access(3, false),
            Outcome::Miss {
                evicted: Some(Evicted {
                    page: 2,
                    dirty: false
                })
            }
        );
        assert_eq!(
            lfu.remove(1),
            Some(Evicted {
                page: 1,
                dirty: true
            })
        );
    }
}
