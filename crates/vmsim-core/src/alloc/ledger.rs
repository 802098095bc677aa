//! The live blocks of a heap, by pointer, and the pointers freed since: what every allocator
//! needs to tell a valid free from a double free, a free into the middle of a block, or a
//! pointer that was never handed out (the errors a memory checker reports, OSTEP ch. 14).

use super::{AllocFailure, AllocOutcome, FreeError, LiveBlock};
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;

/// Live blocks and freed pointers.
#[derive(Debug, Clone, Default)]
pub struct Ledger {
    live: BTreeMap<u64, LiveBlock>,
    /// Pointers that were freed and not handed out again.
    freed: BTreeSet<u64>,
    /// Bytes the live blocks occupy and their callers asked for, kept as blocks come and go
    /// so that measuring a heap after every operation does not walk every block.
    bytes: u64,
    requested: u64,
}

impl Ledger {
    /// An empty ledger.
    pub fn new() -> Self {
        Ledger::default()
    }

    /// Records a block given out; `Err(ptr)` if a live block already has its pointer.
    pub fn insert(&mut self, block: LiveBlock) -> Result<(), u64> {
        let ptr = block.ptr();
        if self.live.contains_key(&ptr) {
            return Err(ptr);
        }
        self.freed.remove(&ptr);
        self.live.insert(ptr, block);
        self.bytes += block.size;
        self.requested += block.requested;
        Ok(())
    }

    /// Records a block an allocation chose after `searched` steps and reports the outcome: a
    /// [`AllocFailure::SamePointer`] failure, recording nothing, if its pointer is taken.
    pub fn place(&mut self, block: LiveBlock, searched: usize) -> AllocOutcome {
        match self.insert(block) {
            Ok(()) => AllocOutcome::Placed { block, searched },
            Err(_) => AllocOutcome::Failed {
                reason: AllocFailure::SamePointer,
                searched,
            },
        }
    }

    /// Removes the block whose pointer is `ptr`, or says why `ptr` is not one.
    pub fn take(&mut self, ptr: u64) -> Result<LiveBlock, FreeError> {
        if let Some(b) = self.live.remove(&ptr) {
            self.bytes -= b.size;
            self.requested -= b.requested;
            self.freed.insert(ptr);
            return Ok(b);
        }
        if let Some(b) = self.containing(ptr) {
            return Err(FreeError::Interior {
                ptr,
                block: b.ptr(),
            });
        }
        if self.freed.contains(&ptr) {
            Err(FreeError::DoubleFree { ptr })
        } else {
            Err(FreeError::Invalid { ptr })
        }
    }

    /// The live block whose bytes (header included) contain `addr`.
    pub fn containing(&self, addr: u64) -> Option<&LiveBlock> {
        // Blocks do not overlap, so they are in the same order by pointer and by start: the
        // candidates are the last block whose pointer is at or below `addr` and, for an
        // address inside a header, the first one above it.
        let below = self.live.range(..=addr).next_back().map(|(_, b)| b);
        let above = self
            .live
            .range((Bound::Excluded(addr), Bound::Unbounded))
            .next()
            .map(|(_, b)| b);
        [below, above]
            .into_iter()
            .flatten()
            .find(|b| b.start <= addr && addr < b.end())
    }

    /// The block whose pointer is `ptr`.
    pub fn get(&self, ptr: u64) -> Option<&LiveBlock> {
        self.live.get(&ptr)
    }

    /// Live blocks by address.
    pub fn blocks(&self) -> impl Iterator<Item = &LiveBlock> {
        self.live.values()
    }

    /// Number of live blocks.
    pub fn len(&self) -> usize {
        self.live.len()
    }

    /// Bytes the live blocks occupy (headers and rounding included).
    pub fn live_bytes(&self) -> u64 {
        self.bytes
    }

    /// Bytes the callers of the live blocks asked for.
    pub fn requested_bytes(&self) -> u64 {
        self.requested
    }

    /// Whether no block is live.
    pub fn is_empty(&self) -> bool {
        self.live.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(start: u64, size: u64, header: u64) -> LiveBlock {
        LiveBlock {
            start,
            size,
            header,
            requested: size - header,
        }
    }

    #[test]
    fn classifies_bad_frees() {
        let mut l = Ledger::new();
        l.insert(block(100, 20, 4)).unwrap();
        l.insert(block(120, 10, 4)).unwrap();
        assert_eq!(l.insert(block(104, 0, 0)), Err(104));
        assert_eq!(
            l.take(110),
            Err(FreeError::Interior {
                ptr: 110,
                block: 104
            })
        );
        // Inside the second block's header: interior of that block, not of the first.
        assert_eq!(
            l.take(121),
            Err(FreeError::Interior {
                ptr: 121,
                block: 124
            })
        );
        assert_eq!(l.take(104).unwrap().start, 100);
        assert_eq!(l.take(104), Err(FreeError::DoubleFree { ptr: 104 }));
        assert_eq!(l.take(99), Err(FreeError::Invalid { ptr: 99 }));
        assert_eq!(l.take(u64::MAX), Err(FreeError::Invalid { ptr: u64::MAX }));
        // Handed out again, the pointer is valid once more.
        l.insert(block(100, 8, 4)).unwrap();
        assert!(l.take(104).is_ok());
        assert_eq!(l.len(), 1);
    }
}
