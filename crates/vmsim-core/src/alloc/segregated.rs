//! Segregated free lists (Wilson et al. 1995 §3.6, "segregated storage"; OSTEP ch. 17): one
//! list per size class, each holding blocks of exactly its class size, so a request is served
//! from its class list without searching (exact fit per class).
//!
//! A request (plus header) goes to the smallest class that holds it. An empty class list is
//! refilled one block at a time by carving from a general free list (first fit, address order,
//! coalescing: [`FreeList`]); requests above the largest class are served from that general list
//! directly and return to it on free. Blocks freed into a class list stay there: they are never
//! split for smaller classes, merged, or handed back to the general list, which is the memory
//! segregated storage strands when the size mix changes. Search steps: one for the class list
//! looked at, plus the general-list entries examined when it is empty.

use super::{
    AllocOutcome, Allocator, ConfigError, Fit, FreeError, FreeList, Freed, Ledger, ListOrder,
    LiveBlock, Span,
};

/// The segregated-lists heap.
#[derive(Debug, Clone)]
pub struct Segregated {
    range: Span,
    header: u64,
    /// Class sizes, ascending.
    classes: Vec<u64>,
    /// Per class, free block starts; the last is handed out first (LIFO).
    lists: Vec<Vec<u64>>,
    general: FreeList,
    live: Ledger,
}

impl Segregated {
    /// A heap of `size` bytes at `base` with the given class sizes (ascending, non-zero) and
    /// a header of `header` bytes per block.
    pub fn new(base: u64, size: u64, classes: &[u64], header: u64) -> Result<Self, ConfigError> {
        if classes.is_empty() || classes[0] == 0 || classes.windows(2).any(|w| w[0] >= w[1]) {
            return Err(ConfigError::Invalid(format!(
                "size classes must be non-zero and strictly ascending, not {classes:?}"
            )));
        }
        if base.checked_add(size).is_none() {
            return Err(ConfigError::Invalid(format!(
                "a heap of {size} bytes at {base:#x} wraps around"
            )));
        }
        Ok(Segregated {
            range: Span { start: base, size },
            header,
            classes: classes.to_vec(),
            lists: vec![Vec::new(); classes.len()],
            general: FreeList::new(base, size, Fit::First, ListOrder::Address, true, 0, None),
            live: Ledger::new(),
        })
    }

    /// Powers of two from `min` to `max` (both powers of two), the usual class list.
    pub fn powers_of_two(min: u64, max: u64) -> Result<Vec<u64>, ConfigError> {
        for (what, value) in [("smallest class", min), ("largest class", max)] {
            if !value.is_power_of_two() {
                return Err(ConfigError::NotPowerOfTwo { what, value });
            }
        }
        Ok(std::iter::successors(Some(min), |&c| c.checked_mul(2))
            .take_while(|&c| c <= max)
            .collect())
    }

    /// The class sizes.
    pub fn classes(&self) -> &[u64] {
        &self.classes
    }

    /// Free blocks waiting in each class list.
    pub fn class_lengths(&self) -> Vec<usize> {
        self.lists.iter().map(Vec::len).collect()
    }
}

impl Allocator for Segregated {
    fn name(&self) -> &'static str {
        "segregated"
    }

    fn range(&self) -> Span {
        self.range
    }

    fn alloc(&mut self, size: u64) -> AllocOutcome {
        let Some(need) = size.checked_add(self.header) else {
            return AllocOutcome::no_fit(0);
        };
        let class = self.classes.iter().position(|&c| c >= need);
        let (start, block_size, searched) = match class {
            Some(c) => match self.lists[c].pop() {
                Some(start) => (start, self.classes[c], 1),
                None => match self.general.take_chunk(self.classes[c]) {
                    (Some(start), s) => (start, self.classes[c], 1 + s),
                    (None, s) => return AllocOutcome::no_fit(1 + s),
                },
            },
            None => match self.general.take_chunk(need) {
                (Some(start), s) => (start, need, s),
                (None, s) => return AllocOutcome::no_fit(s),
            },
        };
        let block = LiveBlock {
            start,
            size: block_size,
            header: self.header,
            requested: size,
        };
        self.live.place(block, searched)
    }

    fn free(&mut self, ptr: u64) -> Result<Freed, FreeError> {
        let block = self.live.take(ptr)?;
        // Blocks above the largest class are larger than every class size.
        let merges = match self.classes.binary_search(&block.size) {
            Ok(c) => {
                self.lists[c].push(block.start);
                0
            }
            _ => self.general.give_back(block.start, block.size),
        };
        Ok(Freed { block, merges })
    }

    fn ledger(&self) -> &Ledger {
        &self.live
    }

    fn free_blocks(&self) -> Vec<Span> {
        let classes = self
            .classes
            .iter()
            .zip(&self.lists)
            .flat_map(|(&size, l)| l.iter().rev().map(move |&start| Span { start, size }));
        classes.chain(self.general.free_blocks()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alloc::metrics::tests::check_invariants;
    use crate::alloc::AllocFailure;
    use proptest::prelude::*;

    #[test]
    fn exact_fit_per_class_and_fallback() {
        let classes = Segregated::powers_of_two(16, 64).unwrap();
        assert_eq!(classes, [16, 32, 64]);
        let mut s = Segregated::new(0, 256, &classes, 4).unwrap();
        // 10 + 4 -> class 16, carved from the general list (one class list, one entry).
        let a = s.alloc(10);
        assert_eq!(
            (
                a.block().unwrap().start,
                a.block().unwrap().size,
                a.searched()
            ),
            (0, 16, 2)
        );
        // 20 + 4 -> class 32 at 16; 100 + 4 = 104 is above every class: general list, exact.
        assert_eq!(s.alloc(20).block().unwrap().start, 16);
        let big = s.alloc(100).block().unwrap();
        assert_eq!((big.start, big.size, big.waste()), (48, 104, 4));
        // Freed class blocks wait in their list and come back first, in one step.
        s.free(4).unwrap();
        assert_eq!(s.class_lengths(), [1, 0, 0]);
        let again = s.alloc(1);
        assert_eq!((again.block().unwrap().start, again.searched()), (0, 1));
        // The large block goes back to the general list and coalesces with the tail.
        assert_eq!(s.free(52).unwrap().merges, 1);
        assert_eq!(
            s.free_blocks(),
            [Span {
                start: 48,
                size: 208
            }]
        );
        // A stranded class-16 block is not used for a 64-byte class request once the
        // general list cannot supply one.
        s.free(4).unwrap();
        for _ in 0..3 {
            assert!(s.alloc(60).block().is_some());
        }
        let f = s.alloc(60);
        assert_eq!(
            f,
            AllocOutcome::Failed {
                reason: AllocFailure::NoFit,
                searched: 2
            }
        );
        assert_eq!(s.free(4), Err(FreeError::DoubleFree { ptr: 4 }));
    }

    #[test]
    fn rejects_bad_classes() {
        assert!(Segregated::new(0, 64, &[], 0).is_err());
        assert!(Segregated::new(0, 64, &[32, 16], 0).is_err());
        assert!(Segregated::new(0, 64, &[0, 16], 0).is_err());
        assert!(Segregated::powers_of_two(16, 48).is_err());
    }

    proptest! {
        #[test]
        fn invariants(ops in prop::collection::vec((any::<bool>(), 0u64..120, any::<prop::sample::Index>()), 1..200),
                      header in 0u64..8) {
            let mut s = Segregated::new(64, 512, &[8, 16, 24, 48, 96], header).unwrap();
            for (alloc, size, pick) in ops {
                if alloc {
                    if let Some(b) = s.alloc(size).block() {
                        let class = s.classes().iter().find(|&&c| c >= size + header);
                        prop_assert_eq!(b.size, class.copied().unwrap_or(size + header));
                    }
                } else if !s.live().is_empty() {
                    let live = s.live();
                    prop_assert!(s.free(live[pick.index(live.len())].ptr()).is_ok());
                }
                check_invariants(&s)?;
                // The general list is address-ordered and coalesced.
                for w in s.general.free_list().windows(2) {
                    prop_assert!(w[0].0 + w[0].1 < w[1].0, "adjacent general chunks");
                }
            }
        }
    }
}
