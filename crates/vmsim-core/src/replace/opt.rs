//! OPT (Belady's MIN): evict the resident page whose next reference is furthest in the future
//! (Belady, IBM Systems Journal 1966). Offline: built from the whole page sequence, whose
//! next-use positions are computed in one backward pass; O(log n) per reference.

use super::{check_frames, Evicted, Outcome, Page, Policy, ReplaceError};
use rustc_hash::FxHashMap;
use std::collections::BTreeSet;

/// "Never used again"; such pages tie-break by page number.
const NEVER: u64 = u64::MAX;

/// The policy; [`Policy::resident`] lists pages soonest next use first (the victim is last).
///
/// References must follow the sequence given to [`Opt::new`]; a reference past its end or to a
/// different page than the sequence has there is treated as never used again.
#[derive(Debug, Clone)]
pub struct Opt {
    cap: usize,
    trace: Vec<Page>,
    next_use: Vec<u64>,
    pos: usize,
    /// Resident page → (its next use, dirty).
    map: FxHashMap<Page, (u64, bool)>,
    order: BTreeSet<(u64, Page)>,
}

/// For each position, the position of the next reference to the same page (or [`NEVER`]).
pub fn next_uses(trace: &[Page]) -> Vec<u64> {
    let mut next = vec![NEVER; trace.len()];
    let mut seen: FxHashMap<Page, u64> = FxHashMap::default();
    for (i, &p) in trace.iter().enumerate().rev() {
        if let Some(&n) = seen.get(&p) {
            next[i] = n;
        }
        seen.insert(p, i as u64);
    }
    next
}

impl Opt {
    /// An empty cache of `frames` frames that will see `trace`.
    pub fn new(frames: usize, trace: &[Page]) -> Result<Self, ReplaceError> {
        check_frames(frames)?;
        Ok(Opt {
            cap: frames,
            trace: trace.to_vec(),
            next_use: next_uses(trace),
            pos: 0,
            map: FxHashMap::default(),
            order: BTreeSet::new(),
        })
    }
}

/// A kernel reclaims with it through the provided methods (spare pages for free frames).
impl super::Reclaim for Opt {}

impl Policy for Opt {
    fn capacity(&self) -> usize {
        self.cap
    }
    fn len(&self) -> usize {
        self.map.len()
    }
    fn contains(&self, page: Page) -> bool {
        self.map.contains_key(&page)
    }
    fn access(&mut self, page: Page, write: bool) -> Outcome {
        let next = match self.trace.get(self.pos) {
            Some(&p) if p == page => self.next_use[self.pos],
            _ => NEVER,
        };
        self.pos += 1;
        if let Some(e) = self.map.get_mut(&page) {
            self.order.remove(&(e.0, page));
            e.0 = next;
            e.1 |= write;
            self.order.insert((next, page));
            return Outcome::Hit;
        }
        let evicted = if self.map.len() >= self.cap {
            self.order.pop_last().and_then(|(_, victim)| {
                self.map.remove(&victim).map(|e| Evicted {
                    page: victim,
                    dirty: e.1,
                })
            })
        } else {
            None
        };
        self.map.insert(page, (next, write));
        self.order.insert((next, page));
        Outcome::Miss { evicted }
    }
    fn remove(&mut self, page: Page) -> Option<Evicted> {
        let e = self.map.remove(&page)?;
        self.order.remove(&(e.0, page));
        Some(Evicted { page, dirty: e.1 })
    }
    fn resident(&self, out: &mut Vec<Page>) {
        out.extend(self.order.iter().map(|k| k.1));
    }
}
