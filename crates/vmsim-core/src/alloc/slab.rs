//! A slab allocator (Bonwick, "The Slab Allocator: An Object-Caching Kernel Memory Allocator",
//! USENIX Summer 1994): one cache per object size; each cache carves slabs (runs of pages taken
//! from a page-granular allocator, here the buddy heap [`HeapBuddy`] with one-page units) into
//! equal objects and keeps its slabs on three lists, partial, full and empty.
//!
//! Allocation takes an object from the most recently partial slab, else revives an empty
//! slab, else grows the cache by a new slab; a request larger than the largest object size
//! goes to the page allocator whole (as Linux's `kmalloc` does above its largest cache). Each
//! slab hands out its most recently freed object first, so a freed object is reused while it
//! is still warm (Bonwick §3.2). Empty slabs stay cached until the page allocator runs out;
//! then every cache gives its empty slabs back (Bonwick's reaping, §3.4) and the request is
//! retried. As in Bonwick's small-object slabs, the slab descriptor sits at the end of the
//! slab ([`SLAB_DESCRIPTOR`] bytes) and the free-object links live inside the free objects;
//! the slack between the last object and the descriptor is not coloured here.
//!
//! Search steps: one per slab list looked at (partial, then empty), plus the page
//! allocator's steps when a slab or a large block is taken from it.

use super::{
    AllocOutcome, Allocator, ConfigError, FreeError, Freed, HeapBuddy, Ledger, LiveBlock, Span,
};
use serde::Serialize;
use std::collections::BTreeMap;

/// Bytes of the descriptor at the end of each slab.
pub const SLAB_DESCRIPTOR: u64 = 32;
/// Objects a slab should hold at least: slabs grow by powers of two pages until they do.
pub const MIN_OBJECTS: u64 = 8;

/// One slab: its objects and which are free.
#[derive(Debug, Clone)]
struct SlabState {
    /// Objects in the slab.
    objects: u64,
    /// Free object indices; the last is handed out next.
    free: Vec<u64>,
    /// Objects that have been handed out before (a reuse when handed out again).
    used_before: Vec<bool>,
}

/// The caches of one object size.
#[derive(Debug, Clone)]
struct Cache {
    object: u64,
    slab_bytes: u64,
    per_slab: u64,
    slabs: BTreeMap<u64, SlabState>,
    /// Slab starts on each list.
    partial: Vec<u64>,
    full: Vec<u64>,
    empty: Vec<u64>,
    allocations: u64,
    reused: u64,
}

/// One cache's figures.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CacheStats {
    /// Object size.
    pub object_size: u64,
    /// Bytes per slab (a power-of-two number of pages).
    pub slab_bytes: u64,
    /// Objects per slab.
    pub objects_per_slab: u64,
    /// Slabs held.
    pub slabs: usize,
    /// Slabs with some objects free.
    pub partial: usize,
    /// Slabs with none free.
    pub full: usize,
    /// Slabs with all free.
    pub empty: usize,
    /// Objects live.
    pub live_objects: u64,
    /// Allocations served.
    pub allocations: u64,
    /// Allocations that got an object handed out before.
    pub reused: u64,
    /// Live object bytes over slab bytes held (0 with no slabs).
    pub utilisation: f64,
}

/// Removes `x` from a slab list.
fn unlist(list: &mut Vec<u64>, x: u64) {
    if let Some(i) = list.iter().position(|&s| s == x) {
        list.remove(i);
    }
}

/// The slab allocator.
#[derive(Debug, Clone)]
pub struct Slab {
    range: Span,
    pages: HeapBuddy,
    caches: Vec<Cache>,
    /// Slab start -> its cache.
    owner: BTreeMap<u64, usize>,
    live: Ledger,
    /// Empty slabs given back to the page allocator under pressure.
    reaped: u64,
}

impl Slab {
    /// A slab allocator over `size` bytes at `base` (multiples of `page`, a power of two), with
    /// one cache per object size (ascending, non-zero).
    pub fn new(base: u64, size: u64, page: u64, objects: &[u64]) -> Result<Self, ConfigError> {
        let pages = HeapBuddy::new(base, size, page, 0)?;
        if objects.is_empty() || objects[0] == 0 || objects.windows(2).any(|w| w[0] >= w[1]) {
            return Err(ConfigError::Invalid(format!(
                "object sizes must be non-zero and strictly ascending, not {objects:?}"
            )));
        }
        let mut caches = Vec::with_capacity(objects.len());
        for &object in objects {
            // The smallest power-of-two run of pages holding MIN_OBJECTS, or the largest that
            // fits in the range if none does.
            let per = |bytes: u64| bytes.saturating_sub(SLAB_DESCRIPTOR) / object;
            let fitting =
                std::iter::successors(Some(page), |&b| b.checked_mul(2)).take_while(|&b| b <= size);
            let slab_bytes = fitting
                .clone()
                .find(|&b| per(b) >= MIN_OBJECTS)
                .or_else(|| fitting.last())
                .filter(|&b| per(b) >= 1)
                .ok_or_else(|| {
                    ConfigError::Invalid(format!(
                        "no slab within {size} bytes holds one object of {object} bytes"
                    ))
                })?;
            caches.push(Cache {
                object,
                slab_bytes,
                per_slab: per(slab_bytes),
                slabs: BTreeMap::new(),
                partial: Vec::new(),
                full: Vec::new(),
                empty: Vec::new(),
                allocations: 0,
                reused: 0,
            });
        }
        Ok(Slab {
            range: Span { start: base, size },
            pages,
            caches,
            owner: BTreeMap::new(),
            live: Ledger::new(),
            reaped: 0,
        })
    }

    /// Each cache's figures.
    pub fn caches(&self) -> Vec<CacheStats> {
        self.caches
            .iter()
            .map(|c| {
                let held = c.slabs.len() as u64 * c.slab_bytes;
                let live: u64 = c
                    .slabs
                    .values()
                    .map(|s| s.objects - s.free.len() as u64)
                    .sum();
                CacheStats {
                    object_size: c.object,
                    slab_bytes: c.slab_bytes,
                    objects_per_slab: c.per_slab,
                    slabs: c.slabs.len(),
                    partial: c.partial.len(),
                    full: c.full.len(),
                    empty: c.empty.len(),
                    live_objects: live,
                    allocations: c.allocations,
                    reused: c.reused,
                    utilisation: if held == 0 {
                        0.0
                    } else {
                        (live * c.object) as f64 / held as f64
                    },
                }
            })
            .collect()
    }

    /// Empty slabs reaped so far.
    pub fn reaped(&self) -> u64 {
        self.reaped
    }

    /// Gives every cache's empty slabs back to the page allocator; the number given back.
    fn reap(&mut self) -> usize {
        let mut n = 0;
        for c in &mut self.caches {
            for start in c.empty.drain(..) {
                c.slabs.remove(&start);
                self.owner.remove(&start);
                // The page allocator handed this slab out, so it takes it back.
                let _ = self.pages.free(start);
                n += 1;
            }
        }
        self.reaped += n as u64;
        n
    }

    /// Pages from the page allocator, reaping empty slabs once if it is out of them.
    fn pages(&mut self, bytes: u64, searched: &mut usize) -> Option<LiveBlock> {
        let o = self.pages.alloc(bytes);
        *searched += o.searched();
        if let Some(b) = o.block() {
            return Some(b);
        }
        if self.reap() == 0 {
            return None;
        }
        let o = self.pages.alloc(bytes);
        *searched += o.searched();
        o.block()
    }

    /// The slab holding `addr`, with its cache.
    fn slab_of(&self, addr: u64) -> Option<(usize, u64)> {
        let (&start, &c) = self.owner.range(..=addr).next_back()?;
        (addr < start + self.caches[c].slab_bytes).then_some((c, start))
    }
}

impl Allocator for Slab {
    fn name(&self) -> &'static str {
        "slab"
    }

    fn range(&self) -> Span {
        self.range
    }

    fn alloc(&mut self, size: u64) -> AllocOutcome {
        let mut searched = 0;
        let Some(ci) = self.caches.iter().position(|c| c.object >= size) else {
            let Some(pages) = self.pages(size, &mut searched) else {
                return AllocOutcome::no_fit(searched);
            };
            let block = LiveBlock {
                requested: size,
                ..pages
            };
            return self.live.place(block, searched);
        };
        searched += 1;
        let start = match self.caches[ci].partial.last() {
            Some(&s) => s,
            None => {
                searched += 1;
                match self.caches[ci].empty.pop() {
                    Some(s) => {
                        self.caches[ci].partial.push(s);
                        s
                    }
                    None => {
                        let bytes = self.caches[ci].slab_bytes;
                        let Some(p) = self.pages(bytes, &mut searched) else {
                            return AllocOutcome::no_fit(searched);
                        };
                        let c = &mut self.caches[ci];
                        let objects = c.per_slab;
                        c.slabs.insert(
                            p.start,
                            SlabState {
                                objects,
                                free: (0..objects).rev().collect(),
                                used_before: vec![false; objects as usize],
                            },
                        );
                        c.partial.push(p.start);
                        self.owner.insert(p.start, ci);
                        p.start
                    }
                }
            }
        };
        let c = &mut self.caches[ci];
        let Some(slab) = c.slabs.get_mut(&start) else {
            return AllocOutcome::no_fit(searched);
        };
        let Some(idx) = slab.free.pop() else {
            return AllocOutcome::no_fit(searched);
        };
        if std::mem::replace(&mut slab.used_before[idx as usize], true) {
            c.reused += 1;
        }
        if slab.free.is_empty() {
            unlist(&mut c.partial, start);
            c.full.push(start);
        }
        c.allocations += 1;
        let block = LiveBlock {
            start: start + idx * c.object,
            size: c.object,
            header: 0,
            requested: size,
        };
        self.live.place(block, searched)
    }

    fn free(&mut self, ptr: u64) -> Result<Freed, FreeError> {
        let block = self.live.take(ptr)?;
        let Some((ci, start)) = self.slab_of(block.start) else {
            // A large block: straight back to the page allocator.
            let merges = self.pages.free(block.start).map_or(0, |f| f.merges);
            return Ok(Freed { block, merges });
        };
        let c = &mut self.caches[ci];
        if let Some(slab) = c.slabs.get_mut(&start) {
            let was_full = slab.free.is_empty();
            slab.free.push((block.start - start) / c.object);
            if was_full {
                unlist(&mut c.full, start);
                c.partial.push(start);
            }
            if slab.free.len() as u64 == slab.objects {
                unlist(&mut c.partial, start);
                c.empty.push(start);
            }
        }
        Ok(Freed { block, merges: 0 })
    }

    fn ledger(&self) -> &Ledger {
        &self.live
    }

    /// Free objects of each cache (partial slabs, then empty ones, each in hand-out order),
    /// then the page allocator's free blocks.
    fn free_blocks(&self) -> Vec<Span> {
        let mut v = Vec::new();
        for c in &self.caches {
            for &start in c.partial.iter().rev().chain(c.empty.iter().rev()) {
                if let Some(s) = c.slabs.get(&start) {
                    v.extend(s.free.iter().rev().map(|&i| Span {
                        start: start + i * c.object,
                        size: c.object,
                    }));
                }
            }
        }
        v.extend(self.pages.free_blocks());
        v
    }

    /// Each slab's tail: the slack after its last object and its descriptor.
    fn metadata(&self) -> Vec<Span> {
        let mut v: Vec<Span> = self
            .owner
            .iter()
            .map(|(&start, &ci)| {
                let c = &self.caches[ci];
                let used = c.per_slab * c.object;
                Span {
                    start: start + used,
                    size: c.slab_bytes - used,
                }
            })
            .collect();
        v.sort_by_key(|s| s.start);
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alloc::metrics::tests::check_invariants;
    use proptest::prelude::*;

    #[test]
    fn caches_slabs_and_reuse() {
        // Four 256-byte pages; caches of 32 and 100 bytes.
        let mut s = Slab::new(0x1000, 1024, 256, &[32, 100]).unwrap();
        let st = s.caches();
        // 32-byte objects: (256 - 32) / 32 = 7 < 8, so two pages: (512 - 32) / 32 = 15.
        assert_eq!((st[0].slab_bytes, st[0].objects_per_slab), (512, 15));
        // 100-byte objects: 2 per page, 4 per two pages, (1024 - 32) / 100 = 9 per four.
        assert_eq!((st[1].slab_bytes, st[1].objects_per_slab), (1024, 9));
        // The first 20-byte request grows the 32-byte cache: partial and empty lists looked
        // at, then the page buddy (orders 1 and 2 of 256-byte units).
        let a = s.alloc(20);
        let b = a.block().unwrap();
        assert_eq!(
            (b.start, b.size, b.waste(), a.searched()),
            (0x1000, 32, 12, 4)
        );
        let second = s.alloc(32);
        assert_eq!(
            (second.block().unwrap().start, second.searched()),
            (0x1020, 1)
        );
        // Freed, the most recent object comes back first, and counts as reused.
        s.free(0x1000).unwrap();
        assert_eq!(s.alloc(1).block().unwrap().start, 0x1000);
        assert_eq!((s.caches()[0].reused, s.caches()[0].allocations), (1, 3));
        // The descriptor and slack of the slab: 15 * 32 = 480 bytes used of 512.
        assert_eq!(
            s.metadata(),
            [Span {
                start: 0x1000 + 480,
                size: 32
            }]
        );
        // A 300-byte request is above every cache: whole pages (512 bytes) from the buddy.
        let big = s.alloc(300).block().unwrap();
        assert_eq!((big.start, big.size), (0x1200, 512));
        // Now the 100-byte cache cannot get its 1024-byte slab.
        assert!(s.alloc(100).block().is_none());
        assert_eq!(s.free(0x1200).unwrap().block.size, 512);
        // Emptying the 32-byte slab leaves it cached, until the 100-byte cache needs the
        // pages: then it is reaped and the request retried.
        s.free(0x1000).unwrap();
        s.free(0x1020).unwrap();
        assert_eq!(s.caches()[0].empty, 1);
        let o = s.alloc(100).block().unwrap();
        assert_eq!(o.start, 0x1000);
        assert_eq!((s.reaped(), s.caches()[0].slabs), (1, 0));
        let u = s.caches()[1].utilisation;
        assert!((u - 100.0 / 1024.0).abs() < 1e-12, "{u}");
        assert_eq!(
            s.free(0x1000 + 1),
            Err(FreeError::Interior {
                ptr: 0x1001,
                block: 0x1000
            })
        );
    }

    #[test]
    fn rejects_bad_geometry() {
        assert!(Slab::new(0, 1024, 256, &[]).is_err());
        assert!(Slab::new(0, 1024, 256, &[64, 32]).is_err());
        assert!(Slab::new(0, 1000, 256, &[32]).is_err());
        assert!(Slab::new(0, 256, 256, &[300]).is_err());
    }

    proptest! {
        /// Objects never overlap, every byte is an object, free space or slab metadata, the
        /// lists agree with the slabs' fill, and a freed object is the next one its cache
        /// hands out.
        #[test]
        fn invariants(ops in prop::collection::vec((0u8..3, 0u64..200, any::<prop::sample::Index>()), 1..200)) {
            let mut s = Slab::new(0x4000, 4096, 256, &[16, 48, 64]).unwrap();
            for (op, size, pick) in ops {
                match op {
                    0 => { let _ = s.alloc(size); }
                    1 if !s.live().is_empty() => {
                        let live = s.live();
                        prop_assert!(s.free(live[pick.index(live.len())].ptr()).is_ok());
                    }
                    _ => {
                        // Free then allocate the same size: the same object comes back.
                        if let Some(b) = s.alloc(size).block() {
                            if size <= 64 {
                                prop_assert!(s.free(b.ptr()).is_ok());
                                prop_assert_eq!(s.alloc(size).block().map(|n| n.start), Some(b.start));
                            }
                        }
                    }
                }
                check_invariants(&s)?;
                for c in s.caches() {
                    prop_assert_eq!(c.partial + c.full + c.empty, c.slabs);
                }
                for c in &s.caches {
                    for (start, slab) in &c.slabs {
                        let n = slab.free.len() as u64;
                        let list = if n == 0 { &c.full } else if n == slab.objects { &c.empty } else { &c.partial };
                        prop_assert!(list.contains(start));
                    }
                }
            }
        }
    }
}
