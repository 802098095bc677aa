//! Which resident page reclaim evicts, as the LRU lists of mm/swap.c and mm/vmscan.c
//! (`folio_add_lru`, `shrink_active_list`, `shrink_inactive_list`), beside FIFO, exact LRU and
//! CLOCK for comparison. The policies see pages as frame numbers and learn about references
//! only as hardware reports them: through accessed (A) bits
//! that the kernel tests and clears (`young`), except exact LRU, which is told of every access
//! (a simulator's privilege, for comparison with what real kernels can know).
//!
//! - FIFO: oldest resident page first.
//! - LRU: least recently accessed first (exact).
//! - CLOCK: second chance: a page whose A bit is set is spared once and its bit cleared.
//! - Two-list: Linux's active/inactive lists (mm/vmscan.c): new pages enter the inactive
//!   list; a referenced inactive page is promoted; when the inactive list is shorter than the
//!   active one, pages move down from the active tail, referenced ones rotating back.

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::str::FromStr;

/// A reclaim policy's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReclaimPolicy {
    /// First in, first out.
    Fifo,
    /// Exact least recently used.
    Lru,
    /// One-handed clock over A bits.
    Clock,
    /// Linux's active/inactive lists.
    TwoList,
}

impl ReclaimPolicy {
    /// All policies.
    pub const ALL: [ReclaimPolicy; 4] = [
        ReclaimPolicy::Fifo,
        ReclaimPolicy::Lru,
        ReclaimPolicy::Clock,
        ReclaimPolicy::TwoList,
    ];

    /// Command-line name.
    pub fn name(self) -> &'static str {
        match self {
            ReclaimPolicy::Fifo => "fifo",
            ReclaimPolicy::Lru => "lru",
            ReclaimPolicy::Clock => "clock",
            ReclaimPolicy::TwoList => "two-list",
        }
    }
}

impl FromStr for ReclaimPolicy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| {
                format!("unknown reclaim policy `{s}` (expected fifo, lru, clock or two-list)")
            })
    }
}

/// An ordered set of frames: O(log n) insert at the back, remove anywhere, pop the front.
#[derive(Debug, Clone, Default)]
struct Queue {
    order: BTreeMap<u64, u64>,
    seq_of: FxHashMap<u64, u64>,
    next: u64,
}

impl Queue {
    fn push_back(&mut self, pfn: u64) {
        self.remove(pfn);
        self.next += 1;
        self.order.insert(self.next, pfn);
        self.seq_of.insert(pfn, self.next);
    }
    fn remove(&mut self, pfn: u64) -> bool {
        match self.seq_of.remove(&pfn) {
            Some(s) => {
                self.order.remove(&s);
                true
            }
            None => false,
        }
    }
    fn pop_front(&mut self) -> Option<u64> {
        let (_, pfn) = self.order.pop_first()?;
        self.seq_of.remove(&pfn);
        Some(pfn)
    }
    fn len(&self) -> usize {
        self.order.len()
    }
    fn contains(&self, pfn: u64) -> bool {
        self.seq_of.contains_key(&pfn)
    }
}

/// The resident pages a policy may evict, in its own order.
#[derive(Debug, Clone)]
pub struct Reclaimer {
    policy: ReclaimPolicy,
    /// FIFO, LRU and CLOCK order; the inactive list for two-list.
    main: Queue,
    /// The active list (two-list only).
    active: Queue,
    /// Pages scanned while choosing victims.
    pub scanned: u64,
}

impl Reclaimer {
    /// An empty reclaimer.
    pub fn new(policy: ReclaimPolicy) -> Self {
        Reclaimer {
            policy,
            main: Queue::default(),
            active: Queue::default(),
            scanned: 0,
        }
    }

    /// The policy.
    pub fn policy(&self) -> ReclaimPolicy {
        self.policy
    }

    /// Whether the policy wants to hear of every access ([`Reclaimer::accessed`]).
    pub fn tracks_accesses(&self) -> bool {
        self.policy == ReclaimPolicy::Lru
    }

    /// A page became resident and evictable.
    pub fn insert(&mut self, pfn: u64) {
        self.main.push_back(pfn);
    }

    /// A page was accessed (only exact LRU uses this; the others see A bits).
    pub fn accessed(&mut self, pfn: u64) {
        if self.policy == ReclaimPolicy::Lru && self.main.contains(pfn) {
            self.main.push_back(pfn);
        }
    }

    /// A page is no longer evictable (freed, unmapped).
    pub fn remove(&mut self, pfn: u64) {
        if !self.main.remove(pfn) {
            self.active.remove(pfn);
        }
    }

    /// Resident evictable pages.
    pub fn len(&self) -> usize {
        self.main.len() + self.active.len()
    }

    /// Whether none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Chooses and removes a victim. `young(pfn)` tests and clears the page's A bits in every
    /// page table that maps it.
    pub fn victim(&mut self, mut young: impl FnMut(u64) -> bool) -> Option<u64> {
        match self.policy {
            ReclaimPolicy::Fifo | ReclaimPolicy::Lru => {
                self.scanned += 1;
                self.main.pop_front()
            }
            ReclaimPolicy::Clock => {
                // At most two turns: the first clears every bit.
                for _ in 0..2 * self.main.len() + 1 {
                    let p = self.main.pop_front()?;
                    self.scanned += 1;
                    if young(p) {
                        self.main.push_back(p);
                    } else {
                        return Some(p);
                    }
                }
                self.main.pop_front()
            }
            ReclaimPolicy::TwoList => {
                for _ in 0..2 * self.len() + 2 {
                    // Keep the inactive list at least as long as the active one.
                    if self.main.len() < self.active.len() || self.main.len() == 0 {
                        if let Some(a) = self.active.pop_front() {
                            self.scanned += 1;
                            if young(a) {
                                self.active.push_back(a);
                            } else {
                                self.main.push_back(a);
                            }
                            continue;
                        }
                    }
                    let p = self.main.pop_front()?;
                    self.scanned += 1;
                    if young(p) {
                        self.active.push_back(p);
                    } else {
                        return Some(p);
                    }
                }
                self.main.pop_front().or_else(|| self.active.pop_front())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifo_lru_clock() {
        let mut f = Reclaimer::new(ReclaimPolicy::Fifo);
        let mut l = Reclaimer::new(ReclaimPolicy::Lru);
        for p in 1..=3 {
            f.insert(p);
            l.insert(p);
        }
        f.accessed(1);
        l.accessed(1);
        assert_eq!(f.victim(|_| false), Some(1));
        assert_eq!(l.victim(|_| false), Some(2));
        let mut c = Reclaimer::new(ReclaimPolicy::Clock);
        for p in 1..=3 {
            c.insert(p);
        }
        // Page 1 referenced: spared once.
        let mut refd = std::collections::HashSet::from([1u64]);
        assert_eq!(c.victim(|p| refd.remove(&p)), Some(2));
        assert_eq!(c.victim(|p| refd.remove(&p)), Some(3));
        assert_eq!(c.victim(|p| refd.remove(&p)), Some(1));
        assert!(c.victim(|_| true).is_none());
    }

    #[test]
    fn two_list_promotes_referenced_pages() {
        let mut t = Reclaimer::new(ReclaimPolicy::TwoList);
        for p in 1..=4 {
            t.insert(p);
        }
        // Pages 1 and 2 are referenced: promoted; 3 goes.
        let mut refd = std::collections::HashSet::from([1u64, 2]);
        assert_eq!(t.victim(|p| refd.remove(&p)), Some(3));
        assert_eq!(t.len(), 3);
        t.remove(1);
        assert_eq!(t.len(), 2);
        assert_eq!(
            "two-list".parse::<ReclaimPolicy>(),
            Ok(ReclaimPolicy::TwoList)
        );
        assert!("mglru".parse::<ReclaimPolicy>().is_err());
    }
}
