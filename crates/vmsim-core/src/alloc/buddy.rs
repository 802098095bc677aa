//! A binary buddy heap (Knowlton 1965; Knuth, TAOCP vol. 1 §2.5; OSTEP ch. 17): blocks of
//! 2^k minimum-size units aligned to their size, split on allocation, merged with their buddy
//! on free. A request takes the smallest block that holds it and its header, so rounding to a
//! power of two is this allocator's internal fragmentation.
//!
//! The splitting and merging are the frame allocator's ([`crate::phys::buddy::Buddy`]), run
//! over heap units instead of frames: one buddy mechanism in the project. Search steps are the
//! per-order free lists examined, from the request's order up to the first non-empty one.

use super::{AllocOutcome, Allocator, ConfigError, FreeError, Freed, Ledger, LiveBlock, Span};
use crate::phys::buddy::{Buddy, BuddyUnit, ORDER_LIMIT};

/// One minimum-size block of the heap, by index from address 0.
#[derive(Debug, Clone, Copy)]
struct Unit(u64);

impl BuddyUnit for Unit {
    fn from_index(i: u64) -> Self {
        Unit(i)
    }
    fn index(self) -> u64 {
        self.0
    }
}

/// The buddy heap.
#[derive(Debug, Clone)]
pub struct HeapBuddy {
    range: Span,
    /// log2 of the minimum block size.
    shift: u32,
    header: u64,
    buddy: Buddy<Unit>,
    live: Ledger,
}

impl HeapBuddy {
    /// A heap of `size` bytes at `base`, in blocks of at least `min_block` bytes (a power of
    /// two dividing `base` and `size`), each block starting with `header` bytes. Blocks are
    /// aligned to their size relative to address 0, so an unaligned base starts with smaller
    /// blocks.
    pub fn new(base: u64, size: u64, min_block: u64, header: u64) -> Result<Self, ConfigError> {
        if !min_block.is_power_of_two() {
            return Err(ConfigError::NotPowerOfTwo {
                what: "minimum block",
                value: min_block,
            });
        }
        for (what, value) in [("base", base), ("size", size)] {
            if value % min_block != 0 {
                return Err(ConfigError::Unaligned {
                    what,
                    value,
                    unit: min_block,
                });
            }
        }
        if size == 0 || base.checked_add(size).is_none() {
            return Err(ConfigError::Invalid(format!(
                "a heap of {size} bytes at {base:#x} is empty or wraps around"
            )));
        }
        let shift = min_block.trailing_zeros();
        let units = size >> shift;
        let max_order = (units.ilog2() as u8).min(ORDER_LIMIT);
        Ok(HeapBuddy {
            range: Span { start: base, size },
            shift,
            header,
            buddy: Buddy::new(base >> shift, units, max_order),
            live: Ledger::new(),
        })
    }

    /// The order of the block a request of `size` bytes needs, `None` beyond any order.
    pub fn order_for(&self, size: u64) -> Option<u8> {
        let need = size.checked_add(self.header)?;
        let units = need.div_ceil(1 << self.shift).max(1);
        let order = units.checked_next_power_of_two()?.trailing_zeros();
        u8::try_from(order).ok()
    }

    /// Free blocks per order (like `/proc/buddyinfo`).
    pub fn free_counts(&self) -> Vec<usize> {
        self.buddy.free_blocks()
    }
}

impl Allocator for HeapBuddy {
    fn name(&self) -> &'static str {
        "buddy"
    }

    fn range(&self) -> Span {
        self.range
    }

    fn alloc(&mut self, size: u64) -> AllocOutcome {
        let Some(order) = self.order_for(size) else {
            return AllocOutcome::no_fit(0);
        };
        if order > self.buddy.max_order() {
            return AllocOutcome::no_fit(0);
        }
        match self.buddy.alloc_counted(order) {
            Err(_) => AllocOutcome::no_fit(usize::from(self.buddy.max_order() - order) + 1),
            Ok((unit, searched)) => {
                let block = LiveBlock {
                    start: unit.0 << self.shift,
                    size: 1 << (self.shift + u32::from(order)),
                    header: self.header,
                    requested: size,
                };
                self.live.place(block, searched)
            }
        }
    }

    fn free(&mut self, ptr: u64) -> Result<Freed, FreeError> {
        let block = self.live.take(ptr)?;
        let order = (block.size >> self.shift).trailing_zeros() as u8;
        let merges = self.buddy.free(Unit(block.start >> self.shift), order);
        Ok(Freed { block, merges })
    }

    fn ledger(&self) -> &Ledger {
        &self.live
    }

    fn free_blocks(&self) -> Vec<Span> {
        self.buddy
            .free_list()
            .map(|(u, o)| Span {
                start: u.0 << self.shift,
                size: 1 << (self.shift + u32::from(o)),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alloc::metrics::tests::check_invariants;
    use crate::alloc::AllocFailure;
    use proptest::prelude::*;

    #[test]
    fn splits_rounds_and_merges() {
        // 1 KiB at 0x1000 in 64-byte units: one order-4 block.
        let mut b = HeapBuddy::new(0x1000, 1024, 64, 8).unwrap();
        assert_eq!(b.free_counts(), [0, 0, 0, 0, 1]);
        // 100 + 8 bytes -> 128 (order 1): split 1024 -> 512 -> 256 -> 128; orders 1 to 4 looked at.
        let o = b.alloc(100);
        let a = o.block().unwrap();
        assert_eq!(
            (a.start, a.size, a.ptr(), a.waste(), o.searched()),
            (0x1000, 128, 0x1008, 28, 4)
        );
        assert_eq!(b.free_counts(), [0, 1, 1, 1, 0]);
        // 56 + 8 = 64 bytes: order 0, split the free 128 at 0x1080.
        let c = b.alloc(56).block().unwrap();
        assert_eq!((c.start, c.size), (0x1080, 64));
        assert_eq!(
            b.free_blocks(),
            [
                Span {
                    start: 0x10c0,
                    size: 64
                },
                Span {
                    start: 0x1100,
                    size: 256
                },
                Span {
                    start: 0x1200,
                    size: 512
                }
            ]
        );
        // 1017 + 8 bytes needs 2048: more than the heap.
        assert_eq!(
            b.alloc(1017),
            AllocOutcome::Failed {
                reason: AllocFailure::NoFit,
                searched: 0
            }
        );
        // Freeing the 64 merges with 0x10c0 only (its buddy 0x1000 block of 128 is live).
        assert_eq!(b.free(0x1088).unwrap().merges, 1);
        assert_eq!(b.free(0x1088), Err(FreeError::DoubleFree { ptr: 0x1088 }));
        // Freeing the 128 merges all the way up: 128+128, 256+256, 512+512.
        assert_eq!(b.free(0x1008).unwrap().merges, 3);
        assert_eq!(b.free_counts(), [0, 0, 0, 0, 1]);
    }

    #[test]
    fn rejects_bad_geometry() {
        assert!(matches!(
            HeapBuddy::new(0, 1000, 48, 0),
            Err(ConfigError::NotPowerOfTwo { .. })
        ));
        assert!(matches!(
            HeapBuddy::new(8, 1024, 16, 0),
            Err(ConfigError::Unaligned { what: "base", .. })
        ));
        assert!(matches!(
            HeapBuddy::new(0, 0, 16, 0),
            Err(ConfigError::Invalid(_))
        ));
    }

    proptest! {
        /// Blocks are aligned to their size, never overlap, cover the range with the free
        /// blocks, and freeing everything merges back to the starting blocks.
        #[test]
        fn invariants(ops in prop::collection::vec((any::<bool>(), 0u64..300, any::<prop::sample::Index>()), 1..200),
                      base_units in 0u64..8, units in 1u64..64, header in 0u64..9) {
            let mut b = HeapBuddy::new(base_units * 16, units * 16, 16, header).unwrap();
            let start = b.free_blocks();
            for (alloc, size, pick) in ops {
                if alloc {
                    if let Some(blk) = b.alloc(size).block() {
                        prop_assert!(blk.size.is_power_of_two());
                        prop_assert_eq!(blk.start % blk.size, 0, "unaligned block");
                        prop_assert!(blk.size >= size + header && (blk.size == 16 || blk.size / 2 < size + header));
                    }
                } else if !b.live().is_empty() {
                    let live = b.live();
                    prop_assert!(b.free(live[pick.index(live.len())].ptr()).is_ok());
                }
                check_invariants(&b)?;
                // Merging is complete: no free block's buddy is free at the same size.
                let free = b.free_blocks();
                for f in &free {
                    prop_assert_eq!(f.start % f.size, 0, "unaligned free block");
                    let buddy = f.start ^ f.size;
                    prop_assert!(!free.iter().any(|g| g.start == buddy && g.size == f.size),
                        "free buddies {:#x} and {:#x} of {} bytes were not merged", f.start, buddy, f.size);
                }
            }
            for blk in b.live() {
                prop_assert!(b.free(blk.ptr()).is_ok());
            }
            prop_assert_eq!(b.free_blocks(), start);
        }
    }
}
