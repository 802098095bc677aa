//! The binary buddy allocator Linux uses for physical frames (mm/page_alloc.c): free lists per
//! order, a block of order k is 2^k frames aligned to its size, allocation splits larger blocks,
//! and freeing merges a block with its free buddy, repeatedly.
//!
//! Linux's buddy stops at order 10 (4 MiB); here the top order is a parameter so that the model
//! can also hand out 1 GiB pages (order 18), which Linux takes from reserved pools instead.
//! Free lists are ordered sets, so the lowest free block is always taken: deterministic.
//!
//! The mechanism is generic over what a unit is ([`BuddyUnit`]): a physical frame here, a
//! minimum-size block of a heap in `alloc::buddy`, so both run the same splitting and merging.

use crate::addr::Pfn;
use std::collections::BTreeSet;
use std::marker::PhantomData;
use thiserror::Error;

/// The index of one unit the buddy system manages: blocks are runs of 2^order units.
pub trait BuddyUnit: Copy {
    /// The unit with index `i`.
    fn from_index(i: u64) -> Self;
    /// Its index.
    fn index(self) -> u64;
}

impl BuddyUnit for Pfn {
    fn from_index(i: u64) -> Self {
        Pfn(i)
    }
    fn index(self) -> u64 {
        self.0
    }
}

/// No free block large enough.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("out of physical memory: no free block of {frames} frames ({total} frames installed)")]
pub struct OutOfFrames {
    /// Frames requested.
    pub frames: u64,
    /// Frames installed.
    pub total: u64,
}

/// Linux's largest order (MAX_ORDER - 1 = 10 on x86-64: 4 MiB blocks).
pub const LINUX_MAX_ORDER: u8 = 10;
/// The largest order physical memory uses (1 GiB of 4 KiB frames).
pub const MAX_ORDER: u8 = 18;
/// The largest order the mechanism supports (2^40 units), so that sizes never overflow.
pub const ORDER_LIMIT: u8 = 40;

/// A buddy allocator over units (frames by default) `first .. first + total`.
#[derive(Debug, Clone)]
pub struct Buddy<U = Pfn> {
    first: u64,
    total: u64,
    max_order: u8,
    /// Free blocks per order, by first unit.
    free: Vec<BTreeSet<u64>>,
    in_use: u64,
    unit: PhantomData<U>,
}

impl<U: BuddyUnit> Buddy<U> {
    /// An allocator whose blocks go up to `max_order` (at most [`ORDER_LIMIT`]), with every
    /// unit free. Blocks are aligned relative to unit 0, so the first units may form
    /// smaller blocks.
    pub fn new(first: u64, total: u64, max_order: u8) -> Self {
        let max_order = max_order.min(ORDER_LIMIT);
        let mut b = Buddy {
            first,
            total,
            max_order,
            free: vec![BTreeSet::new(); max_order as usize + 1],
            in_use: 0,
            unit: PhantomData,
        };
        let end = first.saturating_add(total);
        let mut at = first;
        while at < end {
            let mut o = (at.trailing_zeros() as u8).min(max_order);
            while at + (1u64 << o) > end {
                o -= 1;
            }
            b.free[o as usize].insert(at);
            at += 1 << o;
        }
        b
    }

    /// The largest order.
    pub fn max_order(&self) -> u8 {
        self.max_order
    }

    /// Allocates 2^`order` contiguous units aligned to their size.
    pub fn alloc(&mut self, order: u8) -> Result<U, OutOfFrames> {
        self.alloc_counted(order).map(|(u, _)| u)
    }

    /// Like [`Buddy::alloc`], also returning the free lists examined (one per order from
    /// `order` up to the first non-empty one).
    pub fn alloc_counted(&mut self, order: u8) -> Result<(U, usize), OutOfFrames> {
        let err = OutOfFrames {
            frames: 1u64.checked_shl(order as u32).unwrap_or(u64::MAX),
            total: self.total,
        };
        if order > self.max_order {
            return Err(err);
        }
        let from = (order..=self.max_order)
            .find(|&o| !self.free[o as usize].is_empty())
            .ok_or(err)?;
        let block = self.free[from as usize].pop_first().ok_or(err)?;
        // Split: keep the lower half, free the upper halves.
        for o in (order..from).rev() {
            self.free[o as usize].insert(block + (1 << o));
        }
        self.in_use += 1 << order;
        Ok((U::from_index(block), usize::from(from - order) + 1))
    }

    /// Frees a block allocated with the same `order`, merging it with free buddies; the number
    /// of merges.
    pub fn free(&mut self, unit: U, order: u8) -> usize {
        let mut block = unit.index();
        let mut o = order.min(self.max_order);
        let from = o;
        self.in_use -= 1 << o;
        while o < self.max_order {
            let buddy = block ^ (1 << o);
            let in_range = buddy >= self.first && buddy + (1 << o) <= self.first + self.total;
            if in_range && self.free[o as usize].remove(&buddy) {
                block = block.min(buddy);
                o += 1;
            } else {
                break;
            }
        }
        self.free[o as usize].insert(block);
        usize::from(o - from)
    }

    /// The free blocks, smallest order first and by address within an order: the order in
    /// which allocation looks at them.
    pub fn free_list(&self) -> impl Iterator<Item = (U, u8)> + '_ {
        self.free
            .iter()
            .enumerate()
            .flat_map(|(o, set)| set.iter().map(move |&b| (U::from_index(b), o as u8)))
    }

    /// Frames allocated.
    pub fn in_use(&self) -> u64 {
        self.in_use
    }

    /// Frames free.
    pub fn free_frames(&self) -> u64 {
        self.total - self.in_use
    }

    /// Frames installed.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Number of free blocks of each order (like `/proc/buddyinfo`).
    pub fn free_blocks(&self) -> Vec<usize> {
        self.free.iter().map(|s| s.len()).collect()
    }

    /// Whether a free block of at least `order` exists.
    pub fn has_block(&self, order: u8) -> bool {
        (order..=self.max_order).any(|o| !self.free[o as usize].is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn split_and_coalesce() {
        let mut b: Buddy = Buddy::new(0, 1024, 10);
        assert_eq!(b.free_blocks()[10], 1);
        let a = b.alloc(0).unwrap();
        assert_eq!(a, Pfn(0));
        // The split left one free block of each order 0..9.
        assert_eq!(b.free_blocks(), vec![1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0]);
        let big = b.alloc(9).unwrap();
        assert_eq!(big, Pfn(512));
        b.free(a, 0);
        b.free(big, 9);
        assert_eq!(b.free_blocks(), vec![0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        assert_eq!(b.in_use(), 0);
    }

    #[test]
    fn unaligned_ranges_and_exhaustion() {
        let mut b: Buddy = Buddy::new(1, 7, 10);
        // Frames 1..8: blocks {1}, {2,3}, {4..7}.
        assert_eq!(b.free_blocks()[..3], [1, 1, 1]);
        assert_eq!(b.alloc(2).unwrap(), Pfn(4));
        assert!(b.alloc(2).is_err());
        assert_eq!(b.alloc(1).unwrap(), Pfn(2));
        assert_eq!(b.alloc(0).unwrap(), Pfn(1));
        assert_eq!(
            b.alloc(0),
            Err(OutOfFrames {
                frames: 1,
                total: 7
            })
        );
        assert!(b.alloc(11).is_err());
    }

    proptest! {
        /// Random allocations and frees: blocks are aligned, never overlap, and freeing
        /// everything coalesces back to exactly the starting blocks.
        #[test]
        fn coalesces_back(ops in prop::collection::vec((0u8..6, any::<bool>(), any::<prop::sample::Index>()), 1..300),
                          first in 0u64..8, total in 1u64..600) {
            let mut b: Buddy = Buddy::new(first, total, 8);
            let start = b.free_blocks();
            let mut live: Vec<(u64, u8)> = Vec::new();
            for (order, alloc, pick) in ops {
                if alloc || live.is_empty() {
                    if let Ok(p) = b.alloc(order) {
                        prop_assert_eq!(p.0 % (1 << order), 0);
                        prop_assert!(p.0 >= first && p.0 + (1 << order) <= first + total);
                        for &(q, qo) in &live {
                            prop_assert!(p.0 + (1 << order) <= q || q + (1 << qo) <= p.0);
                        }
                        live.push((p.0, order));
                    }
                } else {
                    let (p, o) = live.swap_remove(pick.index(live.len()));
                    b.free(Pfn(p), o);
                }
                let used: u64 = live.iter().map(|&(_, o)| 1u64 << o).sum();
                prop_assert_eq!(b.in_use(), used);
            }
            for (p, o) in live {
                b.free(Pfn(p), o);
            }
            prop_assert_eq!(b.free_blocks(), start);
        }
    }
}
