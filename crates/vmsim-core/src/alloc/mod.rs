//! Free-space management: allocators that carve variable-sized blocks out of a range, and what
//! their choices cost in fragmentation and search (OSTEP ch. 17; Wilson et al., "Dynamic Storage
//! Allocation: A Survey and Critical Review", IWMM 1995).
//!
//! Every allocator implements [`Allocator`], so the same workload ([`workload`]) runs on each
//! and the same [`metrics`] measure them.

pub mod buddy;
pub mod freelist;
pub mod ledger;
pub mod metrics;
pub mod segment_memory;
pub mod segregated;
pub mod slab;
pub mod workload;

pub use buddy::HeapBuddy;
pub use freelist::{Fit, FreeList, ListOrder};
pub use ledger::Ledger;
pub use segregated::Segregated;
pub use slab::Slab;

use serde::Serialize;
use thiserror::Error;

/// A block handed out and not yet freed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LiveBlock {
    /// First byte of the block, its header included.
    pub start: u64,
    /// Bytes the block occupies: header, payload and rounding.
    pub size: u64,
    /// Header bytes at the start of the block.
    pub header: u64,
    /// Bytes the caller asked for (at most `size - header`).
    pub requested: u64,
}

impl LiveBlock {
    /// The pointer the caller receives and passes back to `free`: just past the header.
    pub fn ptr(&self) -> u64 {
        self.start + self.header
    }

    /// One past the last byte.
    pub fn end(&self) -> u64 {
        self.start + self.size
    }

    /// Internal fragmentation of this block: bytes given out beyond the request (header and
    /// rounding).
    pub fn waste(&self) -> u64 {
        self.size - self.requested
    }
}

/// Totals over the free blocks of a heap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FreeTotals {
    /// Free blocks (the length of the free list or lists).
    pub blocks: usize,
    /// Bytes free.
    pub bytes: u64,
    /// The largest free block (0 when none).
    pub largest: u64,
}

/// A run of bytes: a free block, or metadata the allocator keeps inside the range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Span {
    /// First byte.
    pub start: u64,
    /// Length in bytes.
    pub size: u64,
}

impl Span {
    /// One past the last byte.
    pub fn end(&self) -> u64 {
        self.start + self.size
    }
}

/// Why an allocation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AllocFailure {
    /// No free block (or page, for a slab) is large enough.
    NoFit,
    /// A zero-byte request without a header would start where a live block's pointer already
    /// is (two live blocks with one pointer); OSTEP's `malloc.py` stops with an assertion here.
    SamePointer,
}

/// The result of an allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum AllocOutcome {
    /// The request got a block.
    Placed {
        /// The block given out.
        block: LiveBlock,
        /// Search steps (list entries, size classes or orders examined; see each allocator).
        searched: usize,
    },
    /// The request got nothing.
    Failed {
        /// Why.
        reason: AllocFailure,
        /// Search steps spent before giving up.
        searched: usize,
    },
}

impl AllocOutcome {
    /// A failure for want of a large enough free block, after `searched` steps.
    pub fn no_fit(searched: usize) -> Self {
        AllocOutcome::Failed {
            reason: AllocFailure::NoFit,
            searched,
        }
    }

    /// Search steps, whether or not the request was placed.
    pub fn searched(&self) -> usize {
        match *self {
            AllocOutcome::Placed { searched, .. } | AllocOutcome::Failed { searched, .. } => {
                searched
            }
        }
    }

    /// The block, if one was given out.
    pub fn block(&self) -> Option<LiveBlock> {
        match *self {
            AllocOutcome::Placed { block, .. } => Some(block),
            AllocOutcome::Failed { .. } => None,
        }
    }
}

/// A successful free.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Freed {
    /// The block returned.
    pub block: LiveBlock,
    /// Merges the free performed (coalesced neighbours, buddy merges, slabs given back).
    pub merges: usize,
}

/// Why a free was refused: the errors a C program makes, reported instead of corrupting the
/// heap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error, Serialize)]
#[serde(tag = "error", rename_all = "snake_case")]
pub enum FreeError {
    /// The pointer was returned by an allocation and has already been freed.
    #[error("double free of {ptr:#x}")]
    DoubleFree {
        /// The pointer.
        ptr: u64,
    },
    /// The pointer lies inside a live block (its header or payload) but is not its pointer.
    #[error("invalid free of {ptr:#x}: inside the block whose pointer is {block:#x}")]
    Interior {
        /// The pointer.
        ptr: u64,
        /// The pointer of the block it falls in.
        block: u64,
    },
    /// No allocation ever returned this pointer.
    #[error("invalid free of {ptr:#x}: never returned by an allocation")]
    Invalid {
        /// The pointer.
        ptr: u64,
    },
}

/// Why an allocator cannot be built over the given range.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConfigError {
    /// A parameter that must be a power of two is not.
    #[error("{what} must be a power of two, not {value}")]
    NotPowerOfTwo {
        /// The parameter.
        what: &'static str,
        /// Its value.
        value: u64,
    },
    /// The base or size is not a multiple of the allocator's unit.
    #[error("{what} {value:#x} is not a multiple of {unit}")]
    Unaligned {
        /// The parameter.
        what: &'static str,
        /// Its value.
        value: u64,
        /// The unit it must be a multiple of.
        unit: u64,
    },
    /// Anything else out of range.
    #[error("{0}")]
    Invalid(String),
}

/// A heap over a byte range.
///
/// Contract. Callers pass `free` any value; the allocator refuses pointers it did not hand out
/// ([`FreeError`]) and its state stays unchanged then. Implementers guarantee, after every
/// operation:
/// - live blocks never overlap and lie inside [`Allocator::range`];
/// - every byte of the range is in exactly one of: a live block (header included), a free block
///   ([`Allocator::free_blocks`]), or allocator metadata ([`Allocator::metadata`]);
/// - [`LiveBlock::ptr`] of the block an allocation returns is what `free` takes back;
/// - the same operations in the same order give the same addresses (no hidden randomness).
pub trait Allocator {
    /// A short name for tables (`freelist`, `segregated`, `buddy`, `slab`).
    fn name(&self) -> &'static str;

    /// The managed bytes.
    fn range(&self) -> Span;

    /// Allocates `size` bytes.
    fn alloc(&mut self, size: u64) -> AllocOutcome;

    /// Frees the block whose pointer is `ptr`.
    fn free(&mut self, ptr: u64) -> Result<Freed, FreeError>;

    /// The live blocks and freed pointers.
    fn ledger(&self) -> &Ledger;

    /// The live blocks, by address.
    fn live(&self) -> Vec<LiveBlock> {
        self.ledger().blocks().copied().collect()
    }

    /// The free blocks, in the order the allocator searches them (its free list or lists).
    fn free_blocks(&self) -> Vec<Span>;

    /// How many free blocks there are, their bytes and the largest: what a measurement after
    /// every operation needs. Allocators that keep these as they go answer without walking
    /// their lists.
    fn free_totals(&self) -> FreeTotals {
        let free = self.free_blocks();
        FreeTotals {
            blocks: free.len(),
            bytes: free.iter().map(|s| s.size).sum(),
            largest: free.iter().map(|s| s.size).max().unwrap_or(0),
        }
    }

    /// Bytes of the range that are neither live nor free (slab descriptors and slack), by
    /// address. Empty for allocators that keep their metadata outside the range.
    fn metadata(&self) -> Vec<Span> {
        Vec::new()
    }
}

/// Looks a name up in a table of (value, name), or lists the names.
pub(crate) fn by_name<T: Copy>(
    table: &[(T, &'static str)],
    s: &str,
    what: &str,
) -> Result<T, String> {
    table
        .iter()
        .find(|(_, n)| *n == s)
        .map(|&(v, _)| v)
        .ok_or_else(|| {
            let names: Vec<&str> = table.iter().map(|(_, n)| *n).collect();
            format!("unknown {what} `{s}` (one of {})", names.join(", "))
        })
}

/// The name of a value in a table of (value, name).
pub(crate) fn name_of<T: Copy + PartialEq>(table: &[(T, &'static str)], v: T) -> &'static str {
    table.iter().find(|(t, _)| *t == v).map_or("?", |&(_, n)| n)
}
