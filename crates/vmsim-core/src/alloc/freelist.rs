//! A free-list allocator (Knuth, TAOCP vol. 1 §2.5; OSTEP ch. 17): free chunks kept in a list
//! in a chosen order, a fit policy that walks it (first, best, worst), splitting of larger
//! chunks, optional coalescing on free, a per-block header and request alignment. Search
//! effort is counted, and the list is exposed after every operation.
//!
//! The list is not re-sorted after an allocation shrinks a chunk in place, so size-ordered
//! lists can drift out of order, and coalescing merges only neighbours in list order: the
//! behaviour the OSTEP homework teaches.

use std::collections::BTreeMap;
use thiserror::Error;

/// How a chunk is chosen among those that fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fit {
    /// The first chunk in list order that fits.
    First,
    /// Like first fit, but each search starts at the list position where the previous one
    /// stopped and wraps around (Knuth's "next fit", TAOCP vol. 1 §2.5).
    Next,
    /// The smallest chunk that fits (the first one on ties).
    Best,
    /// The largest chunk (the first one on ties).
    Worst,
}

/// Where a freed chunk goes in the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListOrder {
    /// Sorted by address.
    Address,
    /// Sorted by size, ascending (stable).
    SizeAscending,
    /// Sorted by size, descending (stable).
    SizeDescending,
    /// At the front.
    Front,
    /// At the back.
    Back,
}

/// Why an operation could not be carried out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum FreeListError {
    /// A zero-size allocation without a header landed where a live block already starts.
    #[error("two live blocks would start at {0}")]
    DuplicateStart(u64),
}

/// The result of an allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Allocation {
    /// Start of the chunk given out (its header included), or `None` when nothing fits.
    pub addr: Option<u64>,
    /// Free-list entries examined.
    pub searched: usize,
}

/// The allocator.
#[derive(Debug, Clone)]
pub struct FreeList {
    fit: Fit,
    order: ListOrder,
    coalesce: bool,
    header: u64,
    align: Option<u64>,
    free: Vec<(u64, u64)>,
    live: BTreeMap<u64, u64>,
    /// Next fit: the list position the next search starts from.
    rover: usize,
}

impl FreeList {
    /// A heap of `size` bytes at `base`, all free.
    pub fn new(
        base: u64,
        size: u64,
        fit: Fit,
        order: ListOrder,
        coalesce: bool,
        header: u64,
        align: Option<u64>,
    ) -> Self {
        FreeList {
            fit,
            order,
            coalesce,
            header,
            align,
            free: vec![(base, size)],
            live: BTreeMap::new(),
            rover: 0,
        }
    }

    /// The free list: (start, size) in list order.
    pub fn free_list(&self) -> &[(u64, u64)] {
        &self.free
    }

    /// Live blocks: start → size (header and padding included).
    pub fn live(&self) -> &BTreeMap<u64, u64> {
        &self.live
    }

    /// The bytes a request of `size` takes: rounded up to the alignment, plus the header.
    pub fn need(&self, size: u64) -> u64 {
        let s = match self.align {
            Some(a) if a > 0 => size.div_ceil(a) * a,
            _ => size,
        };
        s + self.header
    }

    /// Allocates `size` bytes.
    pub fn alloc(&mut self, size: u64) -> Result<Allocation, FreeListError> {
        let need = self.need(size);
        let mut chosen: Option<usize> = None;
        let mut searched = 0;
        let len = self.free.len();
        let start = match self.fit {
            Fit::Next if len > 0 => self.rover % len,
            _ => 0,
        };
        for i in (start..len).chain(0..start) {
            let sz = self.free[i].1;
            searched += 1;
            if sz < need {
                continue;
            }
            match self.fit {
                Fit::First | Fit::Next => {
                    chosen = Some(i);
                    break;
                }
                Fit::Best => {
                    if chosen.is_none_or(|c| sz < self.free[c].1) {
                        chosen = Some(i);
                    }
                }
                Fit::Worst => {
                    if chosen.is_none_or(|c| sz > self.free[c].1) {
                        chosen = Some(i);
                    }
                }
            }
        }
        let Some(i) = chosen else {
            return Ok(Allocation {
                addr: None,
                searched,
            });
        };
        let (start, sz) = self.free[i];
        // A split chunk stays at `i`; a removed one leaves its successor there.
        self.rover = i;
        if sz > need {
            self.free[i] = (start + need, sz - need);
        } else {
            self.free.remove(i);
        }
        if self.live.insert(start, need).is_some() {
            return Err(FreeListError::DuplicateStart(start));
        }
        Ok(Allocation {
            addr: Some(start),
            searched,
        })
    }

    /// Frees the block starting at `addr`; `false` if no live block starts there.
    pub fn free(&mut self, addr: u64) -> bool {
        let Some(size) = self.live.remove(&addr) else {
            return false;
        };
        match self.order {
            ListOrder::Front => self.free.insert(0, (addr, size)),
            ListOrder::Back => self.free.push((addr, size)),
            ListOrder::Address => {
                self.free.push((addr, size));
                self.free.sort_by_key(|&(a, _)| a);
            }
            ListOrder::SizeAscending => {
                self.free.push((addr, size));
                self.free.sort_by_key(|&(_, s)| s);
            }
            ListOrder::SizeDescending => {
                self.free.push((addr, size));
                self.free.sort_by_key(|&(_, s)| std::cmp::Reverse(s));
            }
        }
        if self.coalesce {
            let mut merged: Vec<(u64, u64)> = Vec::with_capacity(self.free.len());
            for &(a, s) in &self.free {
                match merged.last_mut() {
                    Some(prev) if prev.0 + prev.1 == a => prev.1 += s,
                    _ => merged.push((a, s)),
                }
            }
            self.free = merged;
        }
        true
    }

    /// External fragmentation: 1 − largest free chunk / total free (0 when nothing is free).
    pub fn external_fragmentation(&self) -> f64 {
        let total: u64 = self.free.iter().map(|f| f.1).sum();
        let largest = self.free.iter().map(|f| f.1).max().unwrap_or(0);
        if total == 0 {
            0.0
        } else {
            1.0 - largest as f64 / total as f64
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn fits_split_and_coalesce() {
        let mut f = FreeList::new(1000, 100, Fit::Best, ListOrder::Address, true, 0, None);
        let a = f.alloc(10).unwrap().addr.unwrap();
        let b = f.alloc(20).unwrap().addr.unwrap();
        assert_eq!((a, b), (1000, 1010));
        assert_eq!(f.free_list(), &[(1030, 70)]);
        assert!(f.free(a));
        assert!(!f.free(a), "double free");
        assert_eq!(f.free_list(), &[(1000, 10), (1030, 70)]);
        // Best fit takes the 10-byte hole for 8 bytes.
        assert_eq!(
            f.alloc(8).unwrap(),
            Allocation {
                addr: Some(1000),
                searched: 2
            }
        );
        assert!(f.free(1000));
        assert!(f.free(b));
        assert_eq!(f.free_list(), &[(1000, 100)]);
        assert_eq!(f.alloc(101).unwrap().addr, None);
        let h = FreeList::new(0, 64, Fit::First, ListOrder::Back, false, 4, Some(8));
        assert_eq!(h.need(5), 12);
    }

    #[test]
    fn next_fit_resumes_where_the_last_search_stopped() {
        let mut f = FreeList::new(0, 100, Fit::Next, ListOrder::Address, false, 0, None);
        for _ in 0..3 {
            f.alloc(10).unwrap();
        }
        assert!(f.free(0));
        // List [0,10] [30,70]; the last search stopped at position 0 (the big chunk then).
        // Next fit starts there: the 10-byte hole at 0 fits and is found first, searching one.
        assert_eq!(f.free_list(), &[(0, 10), (30, 70)]);
        let a = f.alloc(5).unwrap();
        assert_eq!((a.addr, a.searched), (Some(0), 1));
        // That search stopped at position 0 again ([5,5] [30,70]); 8 bytes skip it.
        let a = f.alloc(8).unwrap();
        assert_eq!((a.addr, a.searched), (Some(30), 2));
        // Now the rover sits on position 1: a 3-byte request lands at 38, not in the hole at 5,
        // where first fit would have put it.
        let a = f.alloc(3).unwrap();
        assert_eq!((a.addr, a.searched), (Some(38), 1));
        let mut first = FreeList::new(0, 100, Fit::First, ListOrder::Address, false, 0, None);
        for n in [10, 10, 10] {
            first.alloc(n).unwrap();
        }
        first.free(0);
        first.alloc(5).unwrap();
        first.alloc(8).unwrap();
        assert_eq!(first.alloc(3).unwrap().addr, Some(5));
    }

    proptest! {
        /// Live blocks never overlap; every byte is live or free exactly once; with coalescing
        /// and address order no two free chunks are adjacent.
        #[test]
        fn invariants(ops in prop::collection::vec((any::<bool>(), 0u64..30, any::<prop::sample::Index>()), 1..200),
                      fit in prop::sample::select(vec![Fit::First, Fit::Next, Fit::Best, Fit::Worst]),
                      order in prop::sample::select(vec![ListOrder::Address, ListOrder::SizeAscending,
                          ListOrder::SizeDescending, ListOrder::Front, ListOrder::Back]),
                      coalesce in any::<bool>()) {
            let mut f = FreeList::new(0, 256, fit, order, coalesce, 2, Some(4));
            for (alloc, size, pick) in ops {
                if alloc {
                    let _ = f.alloc(size);
                } else if !f.live().is_empty() {
                    let k = *f.live().keys().nth(pick.index(f.live().len())).unwrap();
                    prop_assert!(f.free(k));
                }
                let mut owner = vec![0u8; 256];
                for (&a, &s) in f.live() {
                    for b in a..a + s { owner[b as usize] += 1; }
                }
                for &(a, s) in f.free_list() {
                    for b in a..a + s { owner[b as usize] += 1; }
                }
                prop_assert!(owner.iter().all(|&o| o == 1), "a byte is in zero or two places");
                // Coalescing merges list neighbours, so only address order guarantees no
                // two adjacent free chunks.
                if coalesce && order == ListOrder::Address {
                    for w in f.free_list().windows(2) {
                        prop_assert!(w[0].0 + w[0].1 < w[1].0, "adjacent free chunks were not merged");
                    }
                }
            }
        }
    }
}
