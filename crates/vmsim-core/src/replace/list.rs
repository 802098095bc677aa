//! A list-ordered page cache with the classic replacement policies (Belady 1966 for OPT;
//! Corbató 1968 for CLOCK), in the form OSTEP's `paging-policy.py` simulates them: the list
//! order is part of the answer (FIFO oldest first, LRU and MRU least recent first, others
//! insertion order), random choices come from the caller's generator, and CLOCK keeps a
//! saturating counter of `bits` per page and spins a randomly placed hand.

use std::collections::HashMap;
use thiserror::Error;

/// A policy of the list cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListPolicy {
    /// Evict the page resident longest.
    Fifo,
    /// Evict the least recently used page.
    Lru,
    /// Evict the most recently used page.
    Mru,
    /// Belady's optimal: evict the page used furthest in the future (needs the trace).
    Opt,
    /// The opposite of OPT: evict the page used soonest (a worst-case reference).
    Unopt,
    /// Evict a uniformly random page.
    Rand,
    /// Spin a randomly placed hand: a page with a non-zero counter has it decremented and is
    /// spared; the first with zero is evicted. Counters saturate at `bits`.
    Clock {
        /// Counter maximum (OSTEP's `-b`).
        bits: i64,
    },
}

impl ListPolicy {
    /// The policy named as OSTEP names it (`FIFO`, `LRU`, `MRU`, `OPT`, `UNOPT`, `RAND`,
    /// `CLOCK`; case-sensitive).
    pub fn from_ostep(name: &str, clock_bits: i64) -> Option<Self> {
        Some(match name {
            "FIFO" => ListPolicy::Fifo,
            "LRU" => ListPolicy::Lru,
            "MRU" => ListPolicy::Mru,
            "OPT" => ListPolicy::Opt,
            "UNOPT" => ListPolicy::Unopt,
            "RAND" => ListPolicy::Rand,
            "CLOCK" => ListPolicy::Clock { bits: clock_bits },
            _ => return None,
        })
    }
}

/// A miss found the cache full but it holds nothing (capacity 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("a full cache of capacity 0 has no page to evict")]
pub struct EmptyCache;

/// What one reference did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListStep {
    /// Whether the page was resident.
    pub hit: bool,
    /// The page evicted to make room, if any.
    pub victim: Option<i64>,
}

/// The cache.
#[derive(Debug, Clone)]
pub struct ListCache {
    policy: ListPolicy,
    /// Slots; a negative capacity never fills.
    capacity: i64,
    filled: i64,
    resident: Vec<i64>,
    counters: HashMap<i64, i64>,
}

impl ListCache {
    /// An empty cache of `capacity` slots.
    pub fn new(policy: ListPolicy, capacity: i64) -> Self {
        ListCache {
            policy,
            capacity,
            filled: 0,
            resident: Vec::new(),
            counters: HashMap::new(),
        }
    }

    /// Resident pages in the policy's list order.
    pub fn resident(&self) -> &[i64] {
        &self.resident
    }

    /// Whether every slot is taken: a miss now evicts.
    pub fn filled(&self) -> bool {
        self.filled == self.capacity
    }

    /// The use counter of a resident page (CLOCK's bits; other policies count too).
    pub fn counter(&self, page: i64) -> Option<i64> {
        self.counters.get(&page).copied()
    }

    /// References page `trace[pos]`; `draw()` returns the next random number in [0, 1) for
    /// RAND and CLOCK. OPT and UNOPT look ahead in `trace`.
    pub fn access(
        &mut self,
        trace: &[i64],
        pos: usize,
        mut draw: impl FnMut() -> f64,
    ) -> Result<ListStep, EmptyCache> {
        let page = trace[pos];
        let step = if let Some(i) = self.resident.iter().position(|&p| p == page) {
            if matches!(self.policy, ListPolicy::Lru | ListPolicy::Mru) {
                let p = self.resident.remove(i);
                self.resident.push(p);
            }
            ListStep {
                hit: true,
                victim: None,
            }
        } else {
            let victim = if self.filled == self.capacity {
                Some(self.evict(trace, pos, &mut draw)?)
            } else {
                self.filled += 1;
                None
            };
            self.resident.push(page);
            ListStep { hit: false, victim }
        };
        // A page's counter starts at 1 (even with 0 bits); a repeat reference adds one up to
        // the counter's maximum.
        let bits = self.clock_bits();
        match self.counters.get_mut(&page) {
            None => {
                self.counters.insert(page, 1);
            }
            Some(c) => *c = (*c + 1).min(bits),
        }
        Ok(step)
    }

    fn clock_bits(&self) -> i64 {
        match self.policy {
            ListPolicy::Clock { bits } => bits,
            _ => i64::MAX,
        }
    }

    fn evict(
        &mut self,
        trace: &[i64],
        pos: usize,
        draw: &mut impl FnMut() -> f64,
    ) -> Result<i64, EmptyCache> {
        if self.resident.is_empty() {
            return Err(EmptyCache);
        }
        let idx = match self.policy {
            ListPolicy::Fifo | ListPolicy::Lru => 0,
            ListPolicy::Mru => self.resident.len() - 1,
            ListPolicy::Rand => (self.resident.len() as f64 * draw()).trunc() as usize,
            ListPolicy::Clock { .. } => loop {
                let i = (self.resident.len() as f64 * draw()).trunc() as usize;
                let c = self.counters.entry(self.resident[i]).or_insert(0);
                if *c >= 1 {
                    *c -= 1;
                } else {
                    self.counters.remove(&self.resident[i]);
                    break i;
                }
            },
            ListPolicy::Opt | ListPolicy::Unopt => {
                let next_use = |p: i64| {
                    trace[pos + 1..]
                        .iter()
                        .position(|&q| q == p)
                        .map_or(trace.len(), |d| pos + 1 + d)
                };
                let mut best = 0;
                for i in 1..self.resident.len() {
                    let (a, b) = (next_use(self.resident[i]), next_use(self.resident[best]));
                    let better = if self.policy == ListPolicy::Opt {
                        a >= b
                    } else {
                        a < b
                    };
                    if better {
                        best = i;
                    }
                }
                best
            }
        };
        Ok(self.resident.remove(idx.min(self.resident.len() - 1)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn misses(policy: ListPolicy, frames: i64, trace: &[i64]) -> usize {
        let mut c = ListCache::new(policy, frames);
        (0..trace.len())
            .filter(|&i| !c.access(trace, i, || 0.5).unwrap().hit)
            .count()
    }

    #[test]
    fn beladys_anomaly_for_fifo() {
        let t = [1, 2, 3, 4, 1, 2, 5, 1, 2, 3, 4, 5];
        assert_eq!(misses(ListPolicy::Fifo, 3, &t), 9);
        assert_eq!(misses(ListPolicy::Fifo, 4, &t), 10);
        // OPT has no anomaly and beats FIFO.
        assert_eq!(misses(ListPolicy::Opt, 3, &t), 7);
        assert_eq!(misses(ListPolicy::Opt, 4, &t), 6);
    }

    #[test]
    fn lru_order_and_capacity_zero() {
        let t = [1, 2, 1, 3];
        let mut c = ListCache::new(ListPolicy::Lru, 2);
        for i in 0..t.len() {
            c.access(&t, i, || 0.0).unwrap();
        }
        assert_eq!(c.resident(), &[1, 3]);
        let mut z = ListCache::new(ListPolicy::Fifo, 0);
        assert_eq!(z.access(&t, 0, || 0.0), Err(EmptyCache));
    }
}
