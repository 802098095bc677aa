//! Physical memory handed out in contiguous variable-sized regions, as segmentation and base
//! and bounds need it (OSTEP ch. 16 §16.6; Knuth TAOCP vol. 1 §2.5): a [`FreeList`] with first,
//! best or worst fit places each region, the map shows the holes frees leave (external
//! fragmentation), and compaction slides every live region down to the bottom, copying its
//! bytes, so the free space becomes one block. The contents are kept, so a move is a real copy.
//! A region may be shared (OSTEP ch. 16 §16.4, code shared between processes): it counts its
//! holders, goes back to the free list when the last one releases it, and moves once.

use crate::alloc::freelist::{Fit, FreeList, ListOrder};
use crate::alloc::metrics::external_fragmentation;
use serde::Serialize;
use std::collections::BTreeMap;

/// Who owns a region: a process and one of its segments, or (`seg: None`) its whole address
/// space under base and bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Owner {
    /// Process index.
    pub pid: usize,
    /// Segment number, or `None` for the whole address space.
    pub seg: Option<usize>,
}

/// One stretch of the physical map.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Region {
    /// First byte.
    pub start: u64,
    /// Bytes.
    pub size: u64,
    /// The owner (the earliest holder still holding it), or `None` for a hole.
    pub owner: Option<Owner>,
    /// The other holders sharing it, in the order they joined.
    pub sharers: Vec<Owner>,
}

/// A region compaction moved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Move {
    /// Whose (the earliest holder).
    pub owner: Owner,
    /// The other holders, whose base registers move too.
    pub sharers: Vec<Owner>,
    /// Old start.
    pub from: u64,
    /// New start.
    pub to: u64,
    /// Bytes copied.
    pub bytes: u64,
}

/// What releasing a holder's region did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "released", rename_all = "snake_case")]
pub enum Release {
    /// The holder had no region.
    NotHeld,
    /// It was the last holder: the region is free.
    Freed,
    /// Other holders keep the region.
    StillShared {
        /// Holders left.
        holders: usize,
    },
}

/// What compaction did.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Compaction {
    /// Regions moved, lowest first.
    pub moves: Vec<Move>,
    /// Total bytes copied: the cost (a shared region counts once).
    pub bytes_copied: u64,
}

/// The memory.
#[derive(Debug, Clone)]
pub struct SegmentMemory {
    fit: Fit,
    size: u64,
    free: FreeList,
    /// Region start -> holders (earliest first) and size.
    owners: BTreeMap<u64, (Vec<Owner>, u64)>,
    /// Owner -> region start.
    starts: BTreeMap<Owner, u64>,
    bytes: Vec<u8>,
}

impl SegmentMemory {
    /// `size` bytes, all free, placed by `fit` over an address-ordered, coalescing free list.
    pub fn new(size: u64, fit: Fit) -> Self {
        SegmentMemory {
            fit,
            size,
            free: FreeList::new(0, size, fit, ListOrder::Address, true, 0, None),
            owners: BTreeMap::new(),
            starts: BTreeMap::new(),
            bytes: vec![0; size as usize],
        }
    }

    /// Total bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The free list: (start, size) by address.
    pub fn free_list(&self) -> &[(u64, u64)] {
        self.free.free_list()
    }

    /// External fragmentation: 1 − largest hole / total free.
    pub fn fragmentation(&self) -> f64 {
        let f = self.free.free_list();
        external_fragmentation(
            f.iter().map(|h| h.1).sum(),
            f.iter().map(|h| h.1).max().unwrap_or(0),
        )
    }

    /// Start and size of `owner`'s region.
    pub fn region(&self, owner: Owner) -> Option<(u64, u64)> {
        let &start = self.starts.get(&owner)?;
        Some((start, self.owners.get(&start)?.1))
    }

    /// Places a region of `size` (> 0) bytes for `owner` (which has none); `None` when no hole
    /// is large enough.
    pub fn place(&mut self, owner: Owner, size: u64) -> Option<u64> {
        if size == 0 || self.starts.contains_key(&owner) {
            return None;
        }
        let start = self.free.take_chunk(size).0?;
        self.owners.insert(start, (vec![owner], size));
        self.starts.insert(owner, start);
        Some(start)
    }

    /// Makes `sharer` (which has no region) a holder of `holder`'s region, returning its start
    /// and size; `None` if `holder` has no region or `sharer` has one.
    pub fn share(&mut self, holder: Owner, sharer: Owner) -> Option<(u64, u64)> {
        if self.starts.contains_key(&sharer) {
            return None;
        }
        let &start = self.starts.get(&holder)?;
        let (holders, size) = self.owners.get_mut(&start)?;
        holders.push(sharer);
        self.starts.insert(sharer, start);
        Some((start, *size))
    }

    /// All holders of `owner`'s region, earliest first (empty if it has none).
    pub fn holders(&self, owner: Owner) -> &[Owner] {
        self.starts
            .get(&owner)
            .and_then(|s| self.owners.get(s))
            .map_or(&[], |(h, _)| h.as_slice())
    }

    /// Drops `owner`'s hold on its region; the last holder frees it.
    pub fn release(&mut self, owner: Owner) -> Release {
        let Some(start) = self.starts.remove(&owner) else {
            return Release::NotHeld;
        };
        let Some((holders, size)) = self.owners.get_mut(&start) else {
            return Release::NotHeld;
        };
        holders.retain(|&h| h != owner);
        if holders.is_empty() {
            let size = *size;
            self.owners.remove(&start);
            self.free.give_back(start, size);
            Release::Freed
        } else {
            Release::StillShared {
                holders: holders.len(),
            }
        }
    }

    /// The whole map, by address: live regions and holes.
    pub fn map(&self) -> Vec<Region> {
        let mut v: Vec<Region> = self
            .owners
            .iter()
            .map(|(&start, (holders, size))| Region {
                start,
                size: *size,
                owner: holders.first().copied(),
                sharers: holders[1..].to_vec(),
            })
            .chain(self.free.free_list().iter().map(|&(start, size)| Region {
                start,
                size,
                owner: None,
                sharers: Vec::new(),
            }))
            .collect();
        v.sort_by_key(|r| r.start);
        v
    }

    /// The physical bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The physical bytes, to write.
    pub fn bytes_mut(&mut self) -> &mut [u8] {
        &mut self.bytes
    }

    /// Slides every live region down, in address order, to the lowest free address, copying its
    /// contents once however many hold it; afterwards the free space is one block at the top.
    pub fn compact(&mut self) -> Compaction {
        let live: Vec<(u64, u64, Vec<Owner>)> = std::mem::take(&mut self.owners)
            .into_iter()
            .map(|(s, (h, z))| (s, z, h))
            .collect();
        // Placed again lowest first in a fresh list, each region lands at the end of the one
        // before: the free list always holds just the tail, whatever the fit.
        let mut rebuilt = FreeList::new(0, self.size, self.fit, ListOrder::Address, true, 0, None);
        let mut c = Compaction::default();
        let mut to = 0;
        for (from, size, holders) in live {
            let got = rebuilt.take_chunk(size).0;
            debug_assert_eq!(got, Some(to));
            if to != from {
                self.bytes
                    .copy_within(from as usize..(from + size) as usize, to as usize);
                c.moves.push(Move {
                    owner: holders[0],
                    sharers: holders[1..].to_vec(),
                    from,
                    to,
                    bytes: size,
                });
                c.bytes_copied += size;
            }
            for &h in &holders {
                self.starts.insert(h, to);
            }
            self.owners.insert(to, (holders, size));
            to += size;
        }
        self.free = rebuilt;
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn o(pid: usize, seg: usize) -> Owner {
        Owner {
            pid,
            seg: Some(seg),
        }
    }

    /// 100 bytes: A 20, B 30, C 10, D 25, then B and D freed: holes [20, 50) and [60, 100)
    /// (D's hole joins the 15 free bytes at the end).
    fn holes(fit: Fit) -> SegmentMemory {
        let mut m = SegmentMemory::new(100, fit);
        assert_eq!(m.place(o(0, 0), 20), Some(0));
        assert_eq!(m.place(o(1, 0), 30), Some(20));
        assert_eq!(m.place(o(2, 0), 10), Some(50));
        assert_eq!(m.place(o(3, 0), 25), Some(60));
        assert_eq!(m.release(o(1, 0)), Release::Freed);
        assert_eq!(m.release(o(3, 0)), Release::Freed);
        m
    }

    #[test]
    fn fits_choose_different_holes() {
        let m = holes(Fit::First);
        assert_eq!(m.free_list(), &[(20, 30), (60, 40)]);
        assert!((m.fragmentation() - (1.0 - 40.0 / 70.0)).abs() < 1e-12);
        // 25 bytes: first and best fit take the 30-byte hole, worst fit the 40-byte one.
        for (fit, at) in [(Fit::First, 20), (Fit::Best, 20), (Fit::Worst, 60)] {
            assert_eq!(holes(fit).place(o(4, 0), 25), Some(at), "{fit:?}");
        }
        // 35 bytes fit only at 60; 45 bytes fit nowhere though 70 are free.
        assert_eq!(holes(Fit::Best).place(o(4, 0), 35), Some(60));
        assert_eq!(holes(Fit::First).place(o(4, 0), 45), None);
    }

    #[test]
    fn compaction_slides_regions_down_and_copies_them() {
        let mut m = holes(Fit::Best);
        m.bytes_mut()[50..60].copy_from_slice(b"0123456789");
        let c = m.compact();
        assert_eq!(
            c.moves,
            [Move {
                owner: o(2, 0),
                sharers: vec![],
                from: 50,
                to: 20,
                bytes: 10
            }]
        );
        assert_eq!(c.bytes_copied, 10);
        assert_eq!(&m.bytes()[20..30], b"0123456789");
        assert_eq!(m.free_list(), &[(30, 70)]);
        assert_eq!(m.fragmentation(), 0.0);
        assert_eq!(
            m.map(),
            [
                Region {
                    start: 0,
                    size: 20,
                    owner: Some(o(0, 0)),
                    sharers: vec![],
                },
                Region {
                    start: 20,
                    size: 10,
                    owner: Some(o(2, 0)),
                    sharers: vec![],
                },
                Region {
                    start: 30,
                    size: 70,
                    owner: None,
                    sharers: vec![],
                },
            ]
        );
        assert_eq!(m.region(o(2, 0)), Some((20, 10)));
        // The 45 bytes that fitted nowhere now fit.
        assert_eq!(m.place(o(4, 0), 45), Some(30));
        assert_eq!(m.release(o(1, 0)), Release::NotHeld, "already freed");
        assert_eq!(m.place(o(0, 0), 5), None, "owner already placed");
    }

    #[test]
    fn a_shared_region_outlives_its_owner_and_moves_once() {
        let mut m = holes(Fit::First);
        // C's region [50, 60) is shared by E; freeing C keeps it for E, now its owner.
        assert_eq!(m.share(o(2, 0), o(4, 0)), Some((50, 10)));
        assert_eq!(m.share(o(1, 0), o(5, 0)), None, "B holds nothing");
        assert_eq!(m.share(o(2, 0), o(0, 0)), None, "A holds a region already");
        assert_eq!(m.holders(o(4, 0)), &[o(2, 0), o(4, 0)]);
        assert_eq!(m.release(o(2, 0)), Release::StillShared { holders: 1 });
        assert_eq!(m.free_list(), &[(20, 30), (60, 40)]);
        let c = m.compact();
        assert_eq!(c.bytes_copied, 10);
        assert_eq!(m.region(o(4, 0)), Some((20, 10)));
        assert_eq!(m.release(o(4, 0)), Release::Freed);
        assert_eq!(m.free_list(), &[(20, 80)]);
    }
}
