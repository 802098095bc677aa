//! OPT (Belady, IBM Systems Journal 1966): evict the page whose next use lies furthest in the
//! future. Offline: built from the whole trace, with next-use positions from one backward pass;
//! a max-heap keyed by next use (with lazy deletion) finds the victim in O(log n).

use super::{Evicted, Outcome, Policy};
use rustc_hash::FxHashMap;
use std::collections::BinaryHeap;

/// Belady's optimal policy for one known trace.
#[derive(Debug, Clone)]
pub struct Opt {
    cap: usize,
    next_use: Vec<u64>,
    pos: usize,
    /// Resident page -> (its current next use, dirty).
    resident: FxHashMap<u64, (u64, bool)>,
    heap: BinaryHeap<(u64, u64)>,
}

impl Opt {
    /// OPT over `frames` frames for exactly the page sequence `trace`.
    pub fn new(frames: usize, trace: &[u64]) -> Self {
        let never = u64::MAX;
        let mut next_use = vec![never; trace.len()];
        let mut seen: FxHashMap<u64, u64> = FxHashMap::default();
        for (i, &p) in trace.iter().enumerate().rev() {
            next_use[i] = seen.get(&p).copied().unwrap_or(never);
            seen.insert(p, i as u64);
        }
        Opt {
            cap: frames.max(1),
            next_use,
            pos: 0,
            resident: FxHashMap::default(),
            heap: BinaryHeap::new(),
        }
    }
}

impl Policy for Opt {
    fn name(&self) -> &'static str {
        "opt"
    }
    fn capacity(&self) -> usize {
        self.cap
    }
    fn len(&self) -> usize {
        self.resident.len()
    }
    fn access(&mut self, page: u64, write: bool) -> Outcome {
        let nu = self.next_use.get(self.pos).copied().unwrap_or(u64::MAX);
        self.pos += 1;
        if let Some(e) = self.resident.get_mut(&page) {
            *e = (nu, e.1 | write);
            self.heap.push((nu, page));
            return Outcome::Hit;
        }
        let mut evicted = None;
        if self.resident.len() >= self.cap {
            while let Some((when, victim)) = self.heap.pop() {
                // Entries whose next use changed since they were pushed are stale.
                if self.resident.get(&victim).is_some_and(|e| e.0 == when) {
                    let (_, dirty) = self.resident.remove(&victim).unwrap_or((0, false));
                    evicted = Some(Evicted {
                        page: victim,
                        dirty,
                    });
                    break;
                }
            }
        }
        self.resident.insert(page, (nu, write));
        self.heap.push((nu, page));
        Outcome::Miss { evicted }
    }
}
