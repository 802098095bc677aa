//! A process's `malloc` heap as glibc's ptmalloc grows it (glibc `malloc/malloc.c`: `sysmalloc`,
//! `systrim`, `mmap_threshold`; mallopt(3)): small chunks are carved from a heap that `brk`
//! extends in page-rounded steps (request plus `M_TOP_PAD`) and shrinks when the free top exceeds
//! `M_TRIM_THRESHOLD`; requests whose chunk reaches `M_MMAP_THRESHOLD` (128 KiB by default) get a
//! page-rounded mapping of their own that `free` unmaps. Freeing a mapped chunk larger than the
//! threshold raises it to that size (the dynamic threshold), unless the threshold was set
//! explicitly.
//!
//! Chunk sizes follow glibc's `request2size` on 64-bit (request + 8, rounded to 16, at least 32);
//! within the brk heap chunks come from a [`FreeList`] (best fit, address order, coalescing), an
//! approximation of glibc's size-class bins that grows the top in the same way.

use crate::alloc::freelist::{Fit, FreeList, ListOrder};
use serde::Serialize;
use std::collections::BTreeMap;

/// glibc's `DEFAULT_MMAP_THRESHOLD_MAX` on 64-bit: the dynamic threshold never rises past it.
pub const MMAP_THRESHOLD_MAX: u64 = 32 << 20;

/// Tunables, named after their `mallopt` parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct HeapConfig {
    /// Page size: brk steps and mappings are multiples of it.
    pub page: u64,
    /// `M_MMAP_THRESHOLD`: chunks at least this large are mapped.
    pub mmap_threshold: u64,
    /// Whether freeing a large mapped chunk raises the threshold (off once set by mallopt).
    pub dynamic_threshold: bool,
    /// `M_TOP_PAD`: extra bytes requested from brk beyond what a request needs.
    pub top_pad: u64,
    /// `M_TRIM_THRESHOLD`: free bytes at the top beyond which brk shrinks.
    pub trim_threshold: u64,
    /// Initial program break (page aligned).
    pub heap_base: u64,
    /// Lowest address of the mmap area.
    pub mmap_base: u64,
}

impl Default for HeapConfig {
    fn default() -> Self {
        HeapConfig {
            page: 4096,
            mmap_threshold: 128 << 10,
            dynamic_threshold: true,
            top_pad: 128 << 10,
            trim_threshold: 128 << 10,
            heap_base: 0x0060_0000,
            mmap_base: 0x7f00_0000_0000,
        }
    }
}

/// A system call the allocator made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "call", rename_all = "snake_case")]
pub enum SysCall {
    /// The program break moved from `from` to `to`.
    Brk {
        /// Old break.
        from: u64,
        /// New break.
        to: u64,
    },
    /// A private anonymous mapping of `len` bytes at `addr`.
    Mmap {
        /// Start.
        addr: u64,
        /// Length (page multiple).
        len: u64,
    },
    /// The mapping at `addr` was removed.
    Munmap {
        /// Start.
        addr: u64,
        /// Length.
        len: u64,
    },
}

/// Where a chunk came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The brk heap.
    Brk,
    /// Its own mapping.
    Mmap,
}

/// A chunk handed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Chunk {
    /// Address returned to the program.
    pub payload: u64,
    /// Chunk size (header included; for a mapping, the mapping's length).
    pub chunk: u64,
    /// Where it lives.
    pub source: Source,
}

/// The heap.
#[derive(Debug, Clone)]
pub struct ProcessHeap {
    config: HeapConfig,
    /// Chunks of the brk heap; its free tail is the "top chunk".
    heap: FreeList,
    /// Placement of mappings in the mmap area.
    maps: FreeList,
    brk: u64,
    peak_brk: u64,
    mmapped_now: u64,
    mmapped_peak: u64,
    /// Chunks given out, by payload address (brk chunks lie below the mmap area).
    live: BTreeMap<u64, Chunk>,
}

/// How far the brk heap and the mmap area may extend.
const AREA: u64 = 1 << 40;

/// Rounds `x` up to a multiple of `m` (positive); `None` past `u64::MAX`.
fn round_up(x: u64, m: u64) -> Option<u64> {
    x.div_ceil(m).checked_mul(m)
}

impl ProcessHeap {
    /// An empty heap; the break starts at `heap_base`.
    pub fn new(config: HeapConfig) -> Self {
        // The first 8 bytes are padding so payloads (chunk + 8) are 16-byte aligned.
        let heap = FreeList::new(
            config.heap_base + 8,
            AREA - 8,
            Fit::Best,
            ListOrder::Address,
            true,
            0,
            None,
        );
        let maps = FreeList::new(
            config.mmap_base,
            AREA,
            Fit::First,
            ListOrder::Address,
            true,
            0,
            None,
        );
        ProcessHeap {
            config,
            heap,
            maps,
            brk: config.heap_base,
            peak_brk: config.heap_base,
            mmapped_now: 0,
            mmapped_peak: 0,
            live: BTreeMap::new(),
        }
    }

    /// The tunables in force (the threshold may have moved).
    pub fn config(&self) -> &HeapConfig {
        &self.config
    }

    /// The current program break.
    pub fn brk(&self) -> u64 {
        self.brk
    }

    /// The highest the break has been.
    pub fn peak_brk(&self) -> u64 {
        self.peak_brk
    }

    /// Bytes mapped now, and at most.
    pub fn mmapped(&self) -> (u64, u64) {
        (self.mmapped_now, self.mmapped_peak)
    }

    /// The break that covers the heap up to `end` plus the top pad, in whole pages.
    fn break_for(&self, end: u64) -> u64 {
        let c = &self.config;
        round_up((end - c.heap_base).saturating_add(c.top_pad), c.page)
            .and_then(|r| c.heap_base.checked_add(r))
            .unwrap_or(u64::MAX)
    }

    /// glibc's chunk size for a request of `size` bytes (64-bit: + 8, rounded to 16, at least
    /// 32); `None` if it overflows.
    pub fn chunk_size(size: u64) -> Option<u64> {
        Some((size.checked_add(8 + 15)? & !15).max(32))
    }

    /// Bytes the program may use in a chunk of `chunk` bytes from `source`.
    pub fn usable(chunk: u64, source: Source) -> u64 {
        match source {
            Source::Brk => chunk - 8,
            Source::Mmap => chunk - 16,
        }
    }

    /// Allocates `size` bytes; the system calls made are appended to `calls`. `None` when the
    /// area is exhausted (malloc returns NULL).
    pub fn malloc(&mut self, size: u64, calls: &mut Vec<SysCall>) -> Option<Chunk> {
        let nb = Self::chunk_size(size)?;
        if nb >= self.config.mmap_threshold {
            let len = round_up(nb.checked_add(8)?, self.config.page)?;
            let addr = self.maps.take_chunk(len).0?;
            calls.push(SysCall::Mmap { addr, len });
            self.mmapped_now += len;
            self.mmapped_peak = self.mmapped_peak.max(self.mmapped_now);
            let c = Chunk {
                payload: addr + 16,
                chunk: len,
                source: Source::Mmap,
            };
            self.live.insert(c.payload, c);
            return Some(c);
        }
        let start = self.heap.take_chunk(nb).0?;
        let end = start + nb;
        if end > self.brk {
            let to = self.break_for(end);
            calls.push(SysCall::Brk { from: self.brk, to });
            self.brk = to;
            self.peak_brk = self.peak_brk.max(to);
        }
        let c = Chunk {
            payload: start + 8,
            chunk: nb,
            source: Source::Brk,
        };
        self.live.insert(c.payload, c);
        Some(c)
    }

    /// Frees the chunk `c`; a chunk that is not live is left alone.
    pub fn free(&mut self, c: Chunk, calls: &mut Vec<SysCall>) {
        if self.live.get(&c.payload) != Some(&c) {
            return;
        }
        self.live.remove(&c.payload);
        match c.source {
            Source::Mmap => {
                let addr = c.payload - 16;
                self.maps.give_back(addr, c.chunk);
                calls.push(SysCall::Munmap { addr, len: c.chunk });
                self.mmapped_now -= c.chunk;
                if self.config.dynamic_threshold
                    && c.chunk > self.config.mmap_threshold
                    && c.chunk <= MMAP_THRESHOLD_MAX
                {
                    self.config.mmap_threshold = c.chunk;
                    self.config.trim_threshold = 2 * c.chunk;
                }
            }
            Source::Brk => {
                self.heap.give_back(c.payload - 8, c.chunk);
                // The top chunk: from the end of the highest live chunk to the break.
                let used_end = self
                    .live
                    .range(..self.config.mmap_base)
                    .next_back()
                    .map_or(self.config.heap_base, |(&p, c)| p - 8 + c.chunk);
                if self.brk - used_end.min(self.brk) > self.config.trim_threshold {
                    let to = self.break_for(used_end);
                    if to < self.brk {
                        calls.push(SysCall::Brk { from: self.brk, to });
                        self.brk = to;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_requests_grow_the_break_by_pages_with_the_top_pad() {
        let mut h = ProcessHeap::new(HeapConfig::default());
        let mut calls = Vec::new();
        let a = h.malloc(100, &mut calls).unwrap();
        // Chunk 112 at 0x600008; break = base + round_up(8 + 112 + 128K, 4K) = base + 132K.
        assert_eq!(a.payload, 0x60_0010);
        assert_eq!(a.chunk, 112);
        assert_eq!(
            calls,
            [SysCall::Brk {
                from: 0x60_0000,
                to: 0x60_0000 + (132 << 10)
            }]
        );
        calls.clear();
        // The next fits below the break: no call.
        let b = h.malloc(24, &mut calls).unwrap();
        assert_eq!((b.payload, b.chunk), (0x60_0010 + 112, 32));
        assert!(calls.is_empty());
        // 100000 bytes (chunk 100016) still fit below the break; the next 100000 cross it:
        // chunk 0x618748..0x630df8, break = base + round_up(0x30df8 + 128K, 4K) = 0x651000.
        let c = h.malloc(100_000, &mut calls).unwrap();
        assert_eq!((c.payload, c.source), (0x60_00a0, Source::Brk));
        assert!(calls.is_empty());
        let d = h.malloc(100_000, &mut calls).unwrap();
        assert_eq!(d.payload, 0x61_8750);
        assert_eq!(
            calls,
            [SysCall::Brk {
                from: 0x62_1000,
                to: 0x65_1000
            }]
        );
        calls.clear();
        // Freeing it leaves 0x388b8 > 128K free at the top: trimmed to
        // base + round_up(0x18748 + 128K, 4K) = 0x639000.
        h.free(d, &mut calls);
        assert_eq!(
            calls,
            [SysCall::Brk {
                from: 0x65_1000,
                to: 0x63_9000
            }]
        );
        assert_eq!((h.brk(), h.peak_brk()), (0x63_9000, 0x65_1000));
    }

    #[test]
    fn the_mmap_threshold_decides_and_moves() {
        let mut h = ProcessHeap::new(HeapConfig::default());
        let mut calls = Vec::new();
        // 131048 + 8 rounds to 131056 < 131072: brk.
        assert_eq!(h.malloc(131_048, &mut calls).unwrap().source, Source::Brk);
        // 131049 + 8 rounds to 131072: mapped, 131072 + 8 rounded to pages = 132K.
        calls.clear();
        let m = h.malloc(131_049, &mut calls).unwrap();
        assert_eq!(m.source, Source::Mmap);
        assert_eq!(m.payload, 0x7f00_0000_0010);
        assert_eq!(
            calls,
            [SysCall::Mmap {
                addr: 0x7f00_0000_0000,
                len: 132 << 10
            }]
        );
        assert_eq!(h.mmapped(), (132 << 10, 132 << 10));
        calls.clear();
        h.free(m, &mut calls);
        assert_eq!(
            calls,
            [SysCall::Munmap {
                addr: 0x7f00_0000_0000,
                len: 132 << 10
            }]
        );
        // Dynamic threshold: now 132K, so the same request goes to brk.
        assert_eq!(h.config().mmap_threshold, 132 << 10);
        assert_eq!(h.config().trim_threshold, 264 << 10);
        assert_eq!(h.malloc(131_049, &mut calls).unwrap().source, Source::Brk);
        // An explicit threshold stays put.
        let mut fixed = ProcessHeap::new(HeapConfig {
            mmap_threshold: 4096,
            dynamic_threshold: false,
            ..HeapConfig::default()
        });
        let m = fixed.malloc(5000, &mut calls).unwrap();
        assert_eq!((m.source, m.chunk), (Source::Mmap, 8192));
        fixed.free(m, &mut calls);
        assert_eq!(fixed.config().mmap_threshold, 4096);
        assert_eq!(fixed.malloc(4000, &mut calls).unwrap().source, Source::Brk);
    }
}
