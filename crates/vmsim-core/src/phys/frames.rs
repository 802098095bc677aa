//! Hands out physical frames in naturally aligned power-of-two blocks (order 0 = one 4 KiB
//! frame, order 9 = 2 MiB, order 18 = 1 GiB).
//!
//! This is the minimal allocator the demand-zero kernel needs: frames come from a bump pointer
//! that aligns each block to its size, and freed blocks are reused from per-order free lists
//! (split when a smaller block is needed, never coalesced). The full kernel model brings a binary buddy allocator in its place.

use crate::addr::Pfn;
use thiserror::Error;

/// No block of the requested order is left.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("out of physical memory: no free block of {frames} frames ({total} frames installed)")]
pub struct OutOfFrames {
    /// Frames requested.
    pub frames: u64,
    /// Frames installed.
    pub total: u64,
}

/// Highest order handed out (1 GiB blocks of 4 KiB frames).
pub const MAX_ORDER: u8 = 18;

/// A frame allocator over `total` frames starting at frame `first`.
#[derive(Debug, Clone)]
pub struct FrameAllocator {
    first: u64,
    next: u64,
    end: u64,
    free: [Vec<Pfn>; MAX_ORDER as usize + 1],
    in_use: u64,
}

impl FrameAllocator {
    /// An allocator for frames `first .. first + total`. Frame 0 is usually kept out of use, as
    /// real kernels do, so that a zero frame number in an entry is never a valid page.
    pub fn new(first: u64, total: u64) -> Self {
        FrameAllocator {
            first,
            next: first,
            end: first.saturating_add(total),
            free: Default::default(),
            in_use: 0,
        }
    }

    /// Allocates a block of 2^`order` frames aligned to its size.
    pub fn alloc(&mut self, order: u8) -> Result<Pfn, OutOfFrames> {
        let order = order.min(MAX_ORDER);
        let n = 1u64 << order;
        // Reuse the smallest free block that fits, splitting off the halves not needed.
        if let Some(from) = (order..=MAX_ORDER).find(|&o| !self.free[o as usize].is_empty()) {
            if let Some(pfn) = self.free[from as usize].pop() {
                for o in (order..from).rev() {
                    self.free[o as usize].push(Pfn(pfn.0 + (1 << o)));
                }
                self.in_use += n;
                return Ok(pfn);
            }
        }
        let start = self.next.next_multiple_of(n);
        match start.checked_add(n) {
            Some(end) if end <= self.end => {
                // Frames skipped for alignment go to the free lists of their natural orders.
                let mut gap = self.next;
                while gap < start {
                    let o = (gap.trailing_zeros() as u8).min(MAX_ORDER);
                    let mut o = o;
                    while gap + (1 << o) > start {
                        o -= 1;
                    }
                    self.free[o as usize].push(Pfn(gap));
                    gap += 1 << o;
                }
                self.next = end;
                self.in_use += n;
                Ok(Pfn(start))
            }
            _ => Err(OutOfFrames {
                frames: n,
                total: self.end - self.first,
            }),
        }
    }

    /// Returns a block previously allocated with the same `order`.
    pub fn free(&mut self, pfn: Pfn, order: u8) {
        let order = order.min(MAX_ORDER);
        self.in_use -= 1 << order;
        self.free[order as usize].push(pfn);
    }

    /// Frames currently allocated.
    pub fn in_use(&self) -> u64 {
        self.in_use
    }

    /// One past the highest frame number ever handed out.
    pub fn high_water(&self) -> u64 {
        self.next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_aligned_and_reused() {
        let mut a = FrameAllocator::new(1, 1 << 20);
        let p = a.alloc(0).unwrap();
        assert_eq!(p, Pfn(1));
        let h = a.alloc(9).unwrap();
        assert_eq!(h.0 % 512, 0);
        assert_eq!(h, Pfn(512));
        // The alignment gap 2..512 is reusable.
        let q = a.alloc(0).unwrap();
        assert!(q.0 >= 2 && q.0 < 512, "{q:?}");
        assert_eq!(a.in_use(), 514);
        a.free(h, 9);
        assert_eq!(a.alloc(9).unwrap(), h);
    }

    #[test]
    fn exhaustion_is_an_error() {
        let mut a = FrameAllocator::new(0, 4);
        for _ in 0..4 {
            a.alloc(0).unwrap();
        }
        assert_eq!(
            a.alloc(0),
            Err(OutOfFrames {
                frames: 1,
                total: 4
            })
        );
        assert!(a.alloc(9).is_err());
    }
}
