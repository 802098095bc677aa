//! Belady's OPT over a compact look-ahead log: the stream is kept as 4-byte dense page ids and
//! one write bit per reference while it is read; at its end one backward pass gives every
//! reference's next use (another 4 bytes), and a forward pass simulates any number of frame
//! counts. 8⅛ bytes per reference in all, where keeping `(page, write)` pairs and 8-byte next
//! uses costs 32, and no hash lookup per reference once the log is built.
//!
//! Exactly [`vmsim_core::replace::opt::Opt`]'s outcomes: the victim is the resident page used
//! furthest in the future, pages never used again going first in decreasing page number. The
//! ids are renumbered in page order before the simulation so that this tie-break is a
//! comparison of ids.

use rustc_hash::FxHashMap;
use std::collections::BinaryHeap;
use thiserror::Error;
use vmsim_core::replace::{Page, Stats};

/// "Never used again", as a next-use position.
const NEVER: u32 = u32::MAX;

/// The log is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("OPT's look-ahead holds at most {} references (4-byte positions)", u32::MAX - 1)]
pub struct LogFull;

/// The references seen so far, compactly.
#[derive(Debug, Clone, Default)]
pub struct OptLog {
    /// Page → dense id, while reading.
    index: FxHashMap<Page, u32>,
    /// Dense id → page.
    pages: Vec<Page>,
    /// Per reference: the page's dense id.
    ids: Vec<u32>,
    /// Per reference: whether it writes (bit `i % 64` of word `i / 64`).
    writes: Vec<u64>,
}

impl OptLog {
    /// An empty log.
    pub fn new() -> Self {
        OptLog::default()
    }

    /// References logged.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether nothing is logged.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Appends references.
    pub fn extend(&mut self, refs: &[(Page, bool)]) -> Result<(), LogFull> {
        if self.ids.len() + refs.len() >= NEVER as usize {
            return Err(LogFull);
        }
        self.ids.reserve(refs.len());
        for &(page, write) in refs {
            let next = self.pages.len() as u32;
            let id = *self.index.entry(page).or_insert(next);
            if id == next {
                self.pages.push(page);
            }
            let i = self.ids.len();
            if i % 64 == 0 {
                self.writes.push(0);
            }
            self.writes[i / 64] |= u64::from(write) << (i % 64);
            self.ids.push(id);
        }
        Ok(())
    }

    /// Ends the log: ids renumbered in page order, next uses computed.
    pub fn finish(self) -> Lookahead {
        let OptLog {
            index,
            pages,
            mut ids,
            writes,
        } = self;
        drop(index);
        // rank[id]: the id's place in page order.
        let mut order: Vec<u32> = (0..pages.len() as u32).collect();
        order.sort_unstable_by_key(|&id| pages[id as usize]);
        let mut rank = vec![0u32; pages.len()];
        for (r, &id) in order.iter().enumerate() {
            rank[id as usize] = r as u32;
        }
        drop(order);
        let mut pages_sorted = pages;
        pages_sorted.sort_unstable();
        ids.iter_mut().for_each(|id| *id = rank[*id as usize]);
        drop(rank);
        // Backward pass: `last[id]` is the next position of `id` after the current one.
        let mut last = vec![NEVER; pages_sorted.len()];
        let mut next = vec![NEVER; ids.len()];
        for (i, &id) in ids.iter().enumerate().rev() {
            next[i] = last[id as usize];
            last[id as usize] = i as u32;
        }
        Lookahead {
            pages: pages_sorted,
            ids,
            next,
            writes,
        }
    }
}

/// A finished log: each reference's page and next use.
#[derive(Debug, Clone)]
pub struct Lookahead {
    /// Rank → page (distinct pages in increasing order).
    pages: Vec<Page>,
    /// Per reference: its page's rank.
    ids: Vec<u32>,
    /// Per reference: the position of the next reference to the same page, or [`NEVER`].
    next: Vec<u32>,
    writes: Vec<u64>,
}

impl Lookahead {
    /// Distinct pages.
    pub fn footprint(&self) -> usize {
        self.pages.len()
    }

    /// References.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether there are no references.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// OPT's counts with `frames` frames (at least 1).
    ///
    /// Resident pages sit in a max-heap keyed by next use (pages never used again above all,
    /// by rank). A hit at position `t` leaves the page's old entry, keyed `t`, in the heap:
    /// every resident page's next use is after `t`, so stale entries are below all live ones,
    /// never popped as a victim, and dropped whenever they outnumber the frames.
    pub fn simulate(&self, frames: usize) -> Stats {
        let cap = frames.max(1).min(self.pages.len().max(1));
        let key = |t: usize| -> u64 {
            match self.next[t] {
                NEVER => (1u64 << 32) + u64::from(self.ids[t]),
                n => u64::from(n),
            }
        };
        // Per rank: bit 0 resident, bit 1 dirty.
        let mut state = vec![0u8; self.pages.len()];
        let mut heap: BinaryHeap<u64> = BinaryHeap::with_capacity(2 * cap + 1);
        let mut resident = 0usize;
        let mut s = Stats::default();
        for (t, &id) in self.ids.iter().enumerate() {
            let write = (self.writes[t / 64] >> (t % 64)) & 1 == 1;
            let st = &mut state[id as usize];
            if *st & 1 == 1 {
                s.hits += 1;
                *st |= u8::from(write) << 1;
                if heap.len() > 2 * cap {
                    heap.retain(|&k| k > t as u64);
                }
                heap.push(key(t));
                continue;
            }
            *st = 1 | (u8::from(write) << 1);
            s.misses += 1;
            if resident == cap {
                let victim = heap.pop().map(|k| self.victim_rank(k));
                if let Some(v) = victim {
                    let vs = &mut state[v as usize];
                    s.evictions += 1;
                    s.dirty_evictions += u64::from(*vs >> 1);
                    *vs = 0;
                }
            } else {
                resident += 1;
            }
            heap.push(key(t));
        }
        s
    }

    /// The rank a live heap key belongs to.
    #[inline]
    fn victim_rank(&self, k: u64) -> u32 {
        if k >= 1 << 32 {
            (k - (1 << 32)) as u32
        } else {
            self.ids[k as usize]
        }
    }
}
