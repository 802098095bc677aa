//! Belady's OPT over a compact look-ahead log: the stream is kept as 4-byte dense page ids and
//! one write bit per reference while it is read; at its end one backward pass gives every
//! reference's next use (another 4 bytes), and a forward pass simulates any number of frame
//! counts. 8⅛ bytes per reference in all, where keeping `(page, write)` pairs and 8-byte next
//! uses costs 32, and no hash lookup per reference once the log is built. The simulation adds
//! two bits per reference (resident pages and their dirty bits as bits at their next use).
//!
//! Exactly [`vmsim_core::replace::opt::Opt`]'s outcomes: the victim is the resident page used
//! furthest in the future, pages never used again going first in decreasing page number (each
//! id's rank in page order is computed once, for those pages only).

use rustc_hash::FxHashMap;
use thiserror::Error;
use vmsim_core::replace::{Page, Stats};

/// "Never used again", as a next-use position.
const NEVER: u32 = u32::MAX;

/// The log is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("OPT's look-ahead holds at most {} references (4-byte positions)", u32::MAX - 1)]
pub struct LogFull;

/// Pages below this are given their ids through a table indexed by the page (grown to the
/// largest such page seen, at most 16 MiB): no hashing for the small page numbers most traces
/// have. Larger pages go through a hash map.
const DIRECT_BELOW: u64 = 1 << 22;

/// "No id yet" in the direct table.
const NO_ID: u32 = u32::MAX;

/// The references seen so far, compactly.
#[derive(Debug, Clone, Default)]
pub struct OptLog {
    /// Page → dense id for pages below [`DIRECT_BELOW`], while reading.
    direct: Vec<u32>,
    /// Page → dense id for the other pages, while reading.
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
            let id = if page < DIRECT_BELOW {
                let p = page as usize;
                if p >= self.direct.len() {
                    let len = (p + 1)
                        .max(2 * self.direct.len())
                        .min(DIRECT_BELOW as usize);
                    self.direct.resize(len, NO_ID);
                }
                let slot = &mut self.direct[p];
                if *slot == NO_ID {
                    *slot = next;
                }
                *slot
            } else {
                *self.index.entry(page).or_insert(next)
            };
            if id == next {
                self.pages.push(page);
            }
            let i = self.ids.len();
            if i.is_multiple_of(64) {
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
            direct,
            index,
            pages,
            ids,
            writes,
        } = self;
        drop((direct, index));
        // rank[id]: the id's place in page order, for the never-used-again tie-break.
        let mut by_page: Vec<(Page, u32)> = pages.iter().copied().zip(0u32..).collect();
        by_page.sort_unstable();
        let mut rank = vec![0u32; pages.len()];
        for (r, &(_, id)) in by_page.iter().enumerate() {
            rank[id as usize] = r as u32;
        }
        drop(by_page);
        // Backward pass: `last[id]` is the next position of `id` after the current one.
        let mut last = vec![NEVER; pages.len()];
        let mut next = vec![NEVER; ids.len()];
        for (i, &id) in ids.iter().enumerate().rev() {
            next[i] = last[id as usize];
            last[id as usize] = i as u32;
        }
        Lookahead {
            rank,
            ids,
            next,
            writes,
        }
    }
}

/// A finished log: each reference's page and next use.
#[derive(Debug, Clone)]
pub struct Lookahead {
    /// Id → the page's place among the distinct pages in increasing order.
    rank: Vec<u32>,
    /// Per reference: its page's id.
    ids: Vec<u32>,
    /// Per reference: the position of the next reference to the same page, or [`NEVER`].
    next: Vec<u32>,
    writes: Vec<u64>,
}

impl Lookahead {
    /// Distinct pages.
    pub fn footprint(&self) -> usize {
        self.rank.len()
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
    /// A resident page is one set bit: at its next use's position in a bitmap over positions,
    /// or at its rank in a bitmap over ranks when it is never used again. The reference at `t`
    /// hits exactly when bit `t` is set (only its page can have a next use there); the victim
    /// is the highest bit (ranks first), found in a few word scans through the bitmaps'
    /// summary levels. Dirty bits travel with the keys in bitmaps of the same shapes, so no
    /// per-page state is touched and the hot data is two bits per reference.
    pub fn simulate(&self, frames: usize) -> Stats {
        let cap = frames.max(1).min(self.rank.len().max(1));
        let mut by_next = MaxBits::new(self.ids.len());
        let mut dirty_next = vec![0u64; self.ids.len().div_ceil(64)];
        let mut never = MaxBits::new(self.rank.len());
        let mut dirty_never = vec![0u64; self.rank.len().div_ceil(64)];
        let mut resident = 0usize;
        let mut s = Stats::default();
        for (t, &next) in self.next.iter().enumerate() {
            let mut dirty = bit(&self.writes, t);
            if by_next.contains(t) {
                s.hits += 1;
                by_next.clear(t);
                dirty |= bit(&dirty_next, t);
                put(&mut dirty_next, t, false);
            } else {
                s.misses += 1;
                if resident == cap {
                    let was_dirty = match never.max() {
                        Some(r) => {
                            never.clear(r);
                            bit(&dirty_never, r)
                        }
                        None => {
                            let k = by_next.max().expect("memory is full");
                            by_next.clear(k);
                            let d = bit(&dirty_next, k);
                            put(&mut dirty_next, k, false);
                            d
                        }
                    };
                    s.evictions += 1;
                    s.dirty_evictions += u64::from(was_dirty);
                } else {
                    resident += 1;
                }
            }
            match next {
                NEVER => {
                    let r = self.rank[self.ids[t] as usize] as usize;
                    never.set(r);
                    put(&mut dirty_never, r, dirty);
                }
                n => {
                    by_next.set(n as usize);
                    put(&mut dirty_next, n as usize, dirty);
                }
            }
        }
        s
    }
}

/// Bit `i` of a bitmap.
#[inline]
fn bit(words: &[u64], i: usize) -> bool {
    (words[i / 64] >> (i % 64)) & 1 == 1
}

/// Sets bit `i` of a bitmap to `on`.
#[inline]
fn put(words: &mut [u64], i: usize, on: bool) {
    let w = &mut words[i / 64];
    *w = (*w & !(1 << (i % 64))) | (u64::from(on) << (i % 64));
}

/// A set of integers below a bound with the largest in O(levels): a bitmap plus summary
/// levels, each bit of a level saying whether a word of the level below has a bit set. One
/// bit per integer and a 63rd of that above it.
#[derive(Debug, Clone)]
struct MaxBits {
    /// `levels[0]` is the bitmap; the last level is one word.
    levels: Vec<Vec<u64>>,
}

impl MaxBits {
    fn new(n: usize) -> Self {
        let mut levels = vec![vec![0u64; n.div_ceil(64).max(1)]];
        while levels[levels.len() - 1].len() > 1 {
            let words = levels[levels.len() - 1].len().div_ceil(64);
            levels.push(vec![0; words]);
        }
        MaxBits { levels }
    }

    #[inline]
    fn contains(&self, i: usize) -> bool {
        bit(&self.levels[0], i)
    }

    #[inline]
    fn set(&mut self, mut i: usize) {
        for level in &mut self.levels {
            let w = &mut level[i / 64];
            let was = *w;
            *w |= 1 << (i % 64);
            if was != 0 {
                return;
            }
            i /= 64;
        }
    }

    #[inline]
    fn clear(&mut self, mut i: usize) {
        for level in &mut self.levels {
            let w = &mut level[i / 64];
            *w &= !(1 << (i % 64));
            if *w != 0 {
                return;
            }
            i /= 64;
        }
    }

    /// The largest member.
    #[inline]
    fn max(&self) -> Option<usize> {
        let top = self.levels[self.levels.len() - 1][0];
        if top == 0 {
            return None;
        }
        let mut i = 63 - top.leading_zeros() as usize;
        for level in self.levels.iter().rev().skip(1) {
            let w = level[i];
            i = i * 64 + 63 - w.leading_zeros() as usize;
        }
        Some(i)
    }
}
