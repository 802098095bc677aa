//! What an allocator's choices cost, measured the same way for every [`Allocator`]: external
//! fragmentation (1 − largest free block / total free; Wilson et al. 1995 §2.2 discuss why no
//! single number captures it), internal fragmentation (bytes given out beyond the request:
//! headers and rounding), free-list length, search steps per allocation and failures.

use super::{AllocOutcome, Allocator, FreeError, Freed};
use crate::units::ratio;
use serde::Serialize;

/// The state of a heap at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Snapshot {
    /// Blocks live.
    pub live_blocks: usize,
    /// Bytes the live blocks occupy (headers and rounding included).
    pub live_bytes: u64,
    /// Bytes the callers of the live blocks asked for.
    pub requested_bytes: u64,
    /// Internal fragmentation in bytes: `live_bytes - requested_bytes`.
    pub internal_waste: u64,
    /// Free blocks: the length of the free list (of all lists, for several).
    pub free_blocks: usize,
    /// Bytes free.
    pub free_bytes: u64,
    /// The largest free block.
    pub largest_free: u64,
    /// 1 − largest free block / total free; 0 when nothing is free.
    pub external_fragmentation: f64,
    /// Bytes of allocator metadata inside the range.
    pub metadata_bytes: u64,
}

impl Snapshot {
    /// Measures `a` now.
    pub fn of<A: Allocator + ?Sized>(a: &A) -> Self {
        // Totals kept as the heap changes: a walk over every block here, after every
        // operation, made long workloads quadratic.
        let ledger = a.ledger();
        let (live_bytes, requested_bytes) = (ledger.live_bytes(), ledger.requested_bytes());
        let free = a.free_totals();
        Snapshot {
            live_blocks: ledger.len(),
            live_bytes,
            requested_bytes,
            internal_waste: live_bytes - requested_bytes,
            free_blocks: free.blocks,
            free_bytes: free.bytes,
            largest_free: free.largest,
            external_fragmentation: external_fragmentation(free.bytes, free.largest),
            metadata_bytes: a.metadata().iter().map(|s| s.size).sum(),
        }
    }

    /// Internal waste as a fraction of the live bytes (0 when nothing is live).
    pub fn internal_fragmentation(&self) -> f64 {
        ratio(self.internal_waste, self.live_bytes)
    }
}

/// 1 − largest / total, 0 when nothing is free.
pub fn external_fragmentation(free_bytes: u64, largest_free: u64) -> f64 {
    if free_bytes == 0 {
        0.0
    } else {
        1.0 - largest_free as f64 / free_bytes as f64
    }
}

/// Totals over a run of operations, accumulated one operation at a time.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Summary {
    /// Operations run.
    pub ops: usize,
    /// Allocations attempted.
    pub allocs: usize,
    /// Allocations that got nothing.
    pub failures: usize,
    /// Frees that released a block.
    pub frees: usize,
    /// Frees refused (double, interior or invalid pointers).
    pub bad_frees: usize,
    /// Search steps over all allocations, failed ones included.
    pub search_steps: u64,
    /// The longest search.
    pub max_search: usize,
    /// Merges performed by frees.
    pub merges: u64,
    /// The most bytes requested by live blocks at once.
    pub peak_requested: u64,
    /// The most internal waste at once.
    pub peak_internal_waste: u64,
    /// The highest external fragmentation after any operation.
    pub peak_external_fragmentation: f64,
    /// Mean external fragmentation over the operations.
    pub mean_external_fragmentation: f64,
    /// The state after the last operation.
    pub last: Option<Snapshot>,
}

impl Summary {
    /// Counts an allocation.
    pub fn alloc(&mut self, o: &AllocOutcome) {
        self.allocs += 1;
        if o.block().is_none() {
            self.failures += 1;
        }
        self.search_steps += o.searched() as u64;
        self.max_search = self.max_search.max(o.searched());
    }

    /// Counts a free.
    pub fn free(&mut self, r: &Result<Freed, FreeError>) {
        match r {
            Ok(f) => {
                self.frees += 1;
                self.merges += f.merges as u64;
            }
            Err(_) => self.bad_frees += 1,
        }
    }

    /// Ends an operation with the heap's state after it.
    pub fn after(&mut self, s: &Snapshot) {
        self.ops += 1;
        self.peak_requested = self.peak_requested.max(s.requested_bytes);
        self.peak_internal_waste = self.peak_internal_waste.max(s.internal_waste);
        self.peak_external_fragmentation = self
            .peak_external_fragmentation
            .max(s.external_fragmentation);
        let n = self.ops as f64;
        self.mean_external_fragmentation +=
            (s.external_fragmentation - self.mean_external_fragmentation) / n;
        self.last = Some(*s);
    }

    /// Mean search steps per allocation.
    pub fn steps_per_alloc(&self) -> f64 {
        if self.allocs == 0 {
            0.0
        } else {
            self.search_steps as f64 / self.allocs as f64
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::alloc::FreeList;
    use proptest::test_runner::TestCaseError;

    /// The slow oracle every allocator's property test runs after each operation: a per-byte
    /// owner count over the range (each byte in exactly one live block, free block or
    /// metadata run), and the ledger's blocks inside the range.
    pub(crate) fn check_invariants<A: Allocator + ?Sized>(a: &A) -> Result<(), TestCaseError> {
        let r = a.range();
        let mut owner = vec![0u8; r.size as usize];
        let mut mark = |start: u64, end: u64, what: &str| -> Result<(), TestCaseError> {
            if start < r.start || end > r.end() || start > end {
                return Err(TestCaseError::fail(format!(
                    "{what} {start:#x}..{end:#x} outside the range"
                )));
            }
            for b in start..end {
                owner[(b - r.start) as usize] += 1;
            }
            Ok(())
        };
        for b in a.live() {
            if b.header + b.requested > b.size {
                return Err(TestCaseError::fail(format!(
                    "block {b:?} smaller than asked"
                )));
            }
            mark(b.start, b.end(), "live block")?;
        }
        for s in a.free_blocks() {
            mark(s.start, s.end(), "free block")?;
        }
        for s in a.metadata() {
            mark(s.start, s.end(), "metadata")?;
        }
        if let Some(i) = owner.iter().position(|&o| o != 1) {
            return Err(TestCaseError::fail(format!(
                "byte {:#x} is in {} places",
                r.start + i as u64,
                owner[i]
            )));
        }
        // The totals a snapshot takes from what the allocator keeps equal a walk over every
        // block.
        let (live, free) = (a.live(), a.free_blocks());
        let walked = (
            live.len(),
            live.iter().map(|b| b.size).sum::<u64>(),
            live.iter().map(|b| b.requested).sum::<u64>(),
            free.len(),
            free.iter().map(|s| s.size).sum::<u64>(),
            free.iter().map(|s| s.size).max().unwrap_or(0),
        );
        let s = Snapshot::of(a);
        let kept = (
            s.live_blocks,
            s.live_bytes,
            s.requested_bytes,
            s.free_blocks,
            s.free_bytes,
            s.largest_free,
        );
        if kept != walked {
            return Err(TestCaseError::fail(format!(
                "snapshot {kept:?}, blocks walked {walked:?}"
            )));
        }
        Ok(())
    }

    #[test]
    fn hand_computed_snapshot_and_summary() {
        let mut f = FreeList::new(
            0,
            100,
            crate::alloc::Fit::First,
            crate::alloc::ListOrder::Address,
            true,
            4,
            Some(8),
        );
        let mut s = Summary::default();
        // 10 bytes -> 16 + 4 = 20 at 0; 3 -> 8 + 4 = 12 at 20; 30 -> 32 + 4 = 36 at 32.
        for n in [10, 3, 30] {
            let o = f.alloc(n);
            s.alloc(&o);
            s.after(&Snapshot::of(&f));
        }
        let r = f.free(24);
        s.free(&r);
        let snap = Snapshot::of(&f);
        s.after(&snap);
        // Live: 20 + 36 bytes for 40 asked; free: 20..32 (12) and 68..100 (32).
        assert_eq!(
            (snap.live_bytes, snap.requested_bytes, snap.internal_waste),
            (56, 40, 16)
        );
        assert_eq!(
            (snap.free_blocks, snap.free_bytes, snap.largest_free),
            (2, 44, 32)
        );
        assert!((snap.external_fragmentation - 12.0 / 44.0).abs() < 1e-12);
        // 100 bytes never fit.
        let o = f.alloc(100);
        s.alloc(&o);
        s.after(&Snapshot::of(&f));
        assert_eq!((s.allocs, s.failures, s.frees, s.ops), (4, 1, 1, 5));
        // Searches: 1, 1, 1, then both chunks.
        assert_eq!((s.search_steps, s.max_search), (5, 2));
        assert_eq!(s.steps_per_alloc(), 1.25);
        assert_eq!(s.peak_requested, 43);
        let e = 12.0 / 44.0;
        assert!((s.peak_external_fragmentation - e).abs() < 1e-12);
        assert!((s.mean_external_fragmentation - 2.0 * e / 5.0).abs() < 1e-12);
    }
}
