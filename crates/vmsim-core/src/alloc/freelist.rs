//! A free-list allocator (Knuth, TAOCP vol. 1 §2.5; OSTEP ch. 17): free chunks kept in a list
//! in a chosen order, a fit policy that walks it (first, best, worst), splitting of larger
//! chunks, optional coalescing on free, a per-block header and request alignment. Search
//! effort is counted, and the list is exposed after every operation.
//!
//! The list is not re-sorted after an allocation shrinks a chunk in place, so size-ordered
//! lists can drift out of order, and coalescing merges only neighbours in list order: the
//! behaviour the OSTEP homework teaches.

use super::{
    by_name, name_of, AllocOutcome, Allocator, FreeError, FreeTotals, Freed, Ledger, LiveBlock,
    Span,
};
use std::collections::BTreeMap;

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

impl Fit {
    /// Every fit, with its name.
    pub const ALL: [(Fit, &'static str); 4] = [
        (Fit::First, "first"),
        (Fit::Next, "next"),
        (Fit::Best, "best"),
        (Fit::Worst, "worst"),
    ];
}

impl ListOrder {
    /// Every order, with its name.
    pub const ALL: [(ListOrder, &'static str); 5] = [
        (ListOrder::Address, "address"),
        (ListOrder::SizeAscending, "size-asc"),
        (ListOrder::SizeDescending, "size-desc"),
        (ListOrder::Front, "front"),
        (ListOrder::Back, "back"),
    ];
}

impl std::str::FromStr for Fit {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        by_name(&Fit::ALL, s, "fit")
    }
}

impl std::fmt::Display for Fit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(name_of(&Fit::ALL, *self))
    }
}

impl std::str::FromStr for ListOrder {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        by_name(&ListOrder::ALL, s, "list order")
    }
}

impl std::fmt::Display for ListOrder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(name_of(&ListOrder::ALL, *self))
    }
}

/// The allocator.
#[derive(Debug, Clone)]
pub struct FreeList {
    fit: Fit,
    order: ListOrder,
    coalesce: bool,
    header: u64,
    align: Option<u64>,
    /// Heap start and size.
    range: Span,
    free: Vec<(u64, u64)>,
    /// The free chunks' sizes (size → how many) and their total, kept with `free` so that a
    /// measurement after every operation need not walk the list.
    sizes: BTreeMap<u64, usize>,
    free_bytes: u64,
    live: Ledger,
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
            range: Span { start: base, size },
            free: vec![(base, size)],
            sizes: BTreeMap::from([(size, 1)]),
            free_bytes: size,
            live: Ledger::new(),
            rover: 0,
        }
    }

    /// The free list: (start, size) in list order.
    pub fn free_list(&self) -> &[(u64, u64)] {
        &self.free
    }

    fn count(&mut self, size: u64) {
        *self.sizes.entry(size).or_insert(0) += 1;
    }

    fn uncount(&mut self, size: u64) {
        if let Some(n) = self.sizes.get_mut(&size) {
            *n -= 1;
            if *n == 0 {
                self.sizes.remove(&size);
            }
        }
    }

    /// The bytes a request of `size` takes: rounded up to the alignment, plus the header.
    pub fn need(&self, size: u64) -> u64 {
        // Saturating: a request too large to represent never fits.
        let s = match self.align {
            Some(a) if a > 0 => size.div_ceil(a).saturating_mul(a),
            _ => size,
        };
        s.saturating_add(self.header)
    }

    /// The chunk `alloc` would choose for `need` bytes (its list position) and the entries
    /// examined.
    fn search(&self, need: u64) -> (Option<usize>, usize) {
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
                Fit::First | Fit::Next => return (Some(i), searched),
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
        (chosen, searched)
    }

    /// Takes `need` bytes at list position `i` (splitting the chunk), without recording a live
    /// block: for allocators that build on this one and keep their own ledger.
    fn carve(&mut self, i: usize, need: u64) -> u64 {
        let (start, sz) = self.free[i];
        // A split chunk stays at `i`; a removed one leaves its successor there.
        self.rover = i;
        self.uncount(sz);
        if sz > need {
            self.free[i] = (start + need, sz - need);
            self.count(sz - need);
        } else {
            self.free.remove(i);
        }
        self.free_bytes -= sz.min(need);
        start
    }

    /// Takes a chunk of exactly `need` bytes under the fit policy, with the entries examined;
    /// `None` when nothing fits. The caller tracks the chunk and gives it back with
    /// [`FreeList::give_back`].
    pub fn take_chunk(&mut self, need: u64) -> (Option<u64>, usize) {
        let (chosen, searched) = self.search(need);
        (chosen.map(|i| self.carve(i, need)), searched)
    }

    /// Returns a chunk to the list under the list order, coalescing if configured; the number
    /// of merges.
    pub fn give_back(&mut self, addr: u64, size: u64) -> usize {
        self.free_bytes += size;
        self.count(size);
        match self.order {
            ListOrder::Front => self.free.insert(0, (addr, size)),
            ListOrder::Back => self.free.push((addr, size)),
            ListOrder::Address => return self.give_back_by_address(addr, size),
            ListOrder::SizeAscending => {
                self.free.push((addr, size));
                self.free.sort_by_key(|&(_, s)| s);
            }
            ListOrder::SizeDescending => {
                self.free.push((addr, size));
                self.free.sort_by_key(|&(_, s)| std::cmp::Reverse(s));
            }
        }
        if !self.coalesce {
            return 0;
        }
        let before = self.free.len();
        let mut merged: Vec<(u64, u64)> = Vec::with_capacity(before);
        for &(a, s) in &std::mem::take(&mut self.free) {
            match merged.last_mut() {
                Some(prev) if prev.0 + prev.1 == a => {
                    let (p, joined) = (prev.1, prev.1 + s);
                    prev.1 = joined;
                    self.uncount_merge(p, s, joined);
                }
                _ => merged.push((a, s)),
            }
        }
        self.free = merged;
        before - self.free.len()
    }

    fn uncount_merge(&mut self, a: u64, b: u64, joined: u64) {
        self.uncount(a);
        self.uncount(b);
        self.count(joined);
    }

    /// [`FreeList::give_back`] for a list in address order, which stays sorted and (when
    /// coalescing) has no two neighbours touching: the chunk goes in by binary search and can
    /// only merge with its two neighbours. Re-sorting and re-merging the whole list on every
    /// free made long workloads quadratic.
    fn give_back_by_address(&mut self, addr: u64, size: u64) -> usize {
        let mut i = self.free.partition_point(|&(a, _)| a < addr);
        self.free.insert(i, (addr, size));
        if !self.coalesce {
            return 0;
        }
        let mut merges = 0;
        if i > 0 && self.free[i - 1].0 + self.free[i - 1].1 == addr {
            let (p, s) = (self.free[i - 1].1, self.free[i].1);
            self.free[i - 1].1 = p + s;
            self.free.remove(i);
            self.uncount_merge(p, s, p + s);
            i -= 1;
            merges += 1;
        }
        if let Some(&(a, s)) = self.free.get(i + 1) {
            let (start, p) = self.free[i];
            if start + p == a {
                self.free[i].1 = p + s;
                self.free.remove(i + 1);
                self.uncount_merge(p, s, p + s);
                merges += 1;
            }
        }
        merges
    }
}

impl Allocator for FreeList {
    fn name(&self) -> &'static str {
        "freelist"
    }

    fn range(&self) -> Span {
        self.range
    }

    /// Search steps are the free-list entries examined.
    fn alloc(&mut self, size: u64) -> AllocOutcome {
        let need = self.need(size);
        let (chosen, searched) = self.search(need);
        let Some(i) = chosen else {
            return AllocOutcome::no_fit(searched);
        };
        let block = LiveBlock {
            start: self.free[i].0,
            size: need,
            header: self.header,
            requested: size,
        };
        // Recorded first: a zero-byte block on a taken pointer fails and carves nothing.
        let o = self.live.place(block, searched);
        if o.block().is_some() {
            self.carve(i, need);
        }
        o
    }

    fn free(&mut self, ptr: u64) -> Result<Freed, FreeError> {
        let block = self.live.take(ptr)?;
        let merges = self.give_back(block.start, block.size);
        Ok(Freed { block, merges })
    }

    fn ledger(&self) -> &Ledger {
        &self.live
    }

    fn free_totals(&self) -> FreeTotals {
        FreeTotals {
            blocks: self.free.len(),
            bytes: self.free_bytes,
            largest: self.sizes.last_key_value().map_or(0, |(&s, _)| s),
        }
    }

    fn free_blocks(&self) -> Vec<Span> {
        self.free
            .iter()
            .map(|&(start, size)| Span { start, size })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alloc::metrics::tests::check_invariants;
    use crate::alloc::AllocFailure;
    use proptest::prelude::*;

    fn addr(f: &mut FreeList, size: u64) -> Option<u64> {
        f.alloc(size).block().map(|b| b.start)
    }

    fn placed(f: &mut FreeList, size: u64) -> (Option<u64>, usize) {
        let o = f.alloc(size);
        (o.block().map(|b| b.start), o.searched())
    }

    #[test]
    fn fits_split_and_coalesce() {
        let mut f = FreeList::new(1000, 100, Fit::Best, ListOrder::Address, true, 0, None);
        let a = addr(&mut f, 10).unwrap();
        let b = addr(&mut f, 20).unwrap();
        assert_eq!((a, b), (1000, 1010));
        assert_eq!(f.free_list(), &[(1030, 70)]);
        assert_eq!(f.free(a).unwrap().merges, 0);
        assert_eq!(f.free(a), Err(FreeError::DoubleFree { ptr: 1000 }));
        assert_eq!(f.free_list(), &[(1000, 10), (1030, 70)]);
        // Best fit takes the 10-byte hole for 8 bytes.
        assert_eq!(placed(&mut f, 8), (Some(1000), 2));
        assert!(f.free(1000).is_ok());
        // 1000+10 merges with 1010+20 and then with 1030+70.
        assert_eq!(f.free(b).unwrap().merges, 2);
        assert_eq!(f.free_list(), &[(1000, 100)]);
        assert_eq!(
            f.alloc(101),
            AllocOutcome::Failed {
                reason: AllocFailure::NoFit,
                searched: 1
            }
        );
        let mut h = FreeList::new(0, 64, Fit::First, ListOrder::Back, false, 4, Some(8));
        assert_eq!(h.need(5), 12);
        assert_eq!(h.need(u64::MAX), u64::MAX);
        assert!(h.alloc(u64::MAX).block().is_none());
    }

    #[test]
    fn names_round_trip() {
        for (fit, name) in Fit::ALL {
            assert_eq!(name.parse::<Fit>(), Ok(fit));
            assert_eq!(fit.to_string(), name);
        }
        for (order, name) in ListOrder::ALL {
            assert_eq!(name.parse::<ListOrder>(), Ok(order));
            assert_eq!(order.to_string(), name);
        }
        assert!("nearest"
            .parse::<Fit>()
            .unwrap_err()
            .contains("first, next, best, worst"));
    }

    #[test]
    fn headers_and_pointers() {
        let mut f = FreeList::new(0, 64, Fit::First, ListOrder::Address, true, 4, Some(8));
        let b = f.alloc(5).block().unwrap();
        // 5 bytes round to 8, plus a 4-byte header: 12 bytes, 7 of them waste.
        assert_eq!((b.start, b.size, b.ptr(), b.waste()), (0, 12, 4, 7));
        assert_eq!(f.free(0), Err(FreeError::Interior { ptr: 0, block: 4 }));
        assert_eq!(f.free(40), Err(FreeError::Invalid { ptr: 40 }));
        assert!(f.free(4).is_ok());
        // Zero bytes without a header twice at one address is refused, not recorded twice.
        let mut z = FreeList::new(0, 8, Fit::First, ListOrder::Address, false, 0, None);
        assert!(z.alloc(0).block().is_some());
        assert_eq!(
            z.alloc(0),
            AllocOutcome::Failed {
                reason: AllocFailure::SamePointer,
                searched: 1
            }
        );
        assert_eq!(z.live().len(), 1);
    }

    #[test]
    fn next_fit_resumes_where_the_last_search_stopped() {
        let mut f = FreeList::new(0, 100, Fit::Next, ListOrder::Address, false, 0, None);
        for _ in 0..3 {
            let _ = f.alloc(10);
        }
        assert!(f.free(0).is_ok());
        // List [0,10] [30,70]; the last search stopped at position 0 (the big chunk then).
        // Next fit starts there: the 10-byte hole at 0 fits and is found first, searching one.
        assert_eq!(f.free_list(), &[(0, 10), (30, 70)]);
        assert_eq!(placed(&mut f, 5), (Some(0), 1));
        // That search stopped at position 0 again ([5,5] [30,70]); 8 bytes skip it.
        assert_eq!(placed(&mut f, 8), (Some(30), 2));
        // Now the rover sits on position 1: a 3-byte request lands at 38, not in the hole at 5,
        // where first fit would have put it.
        assert_eq!(placed(&mut f, 3), (Some(38), 1));
        let mut first = FreeList::new(0, 100, Fit::First, ListOrder::Address, false, 0, None);
        for n in [10, 10, 10] {
            let _ = first.alloc(n);
        }
        assert!(first.free(0).is_ok());
        let _ = first.alloc(5);
        let _ = first.alloc(8);
        assert_eq!(addr(&mut first, 3), Some(5));
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
                    let live = f.live();
                    let b = live[pick.index(live.len())];
                    // The list as the whole-list re-sort and re-merge made it.
                    let mut expect = f.free_list().to_vec();
                    expect.push((b.start, b.size));
                    if order == ListOrder::Address {
                        expect.sort_by_key(|&(a, _)| a);
                        if coalesce {
                            let mut merged: Vec<(u64, u64)> = Vec::new();
                            for (a, s) in expect {
                                match merged.last_mut() {
                                    Some(p) if p.0 + p.1 == a => p.1 += s,
                                    _ => merged.push((a, s)),
                                }
                            }
                            expect = merged;
                        }
                    }
                    prop_assert!(f.free(b.ptr()).is_ok());
                    if order == ListOrder::Address {
                        prop_assert_eq!(f.free_list(), &expect[..]);
                    }
                }
                check_invariants(&f)?;
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
