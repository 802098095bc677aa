//! A direct-mapped memory of a TLB level's recent hits, kept in front of the level's search the
//! way a hardware micro-TLB sits in front of a CAM: a lookup of a page it remembers reads one
//! line instead of hashing into the tag index of a 72-way array.
//!
//! It is exact, not a second cache with its own contents. A hint says "a search for this address
//! granule and PCID returned this slot"; only fills and invalidations change what a search
//! returns (replacement-state updates do not), and each of them starts a new epoch, which makes
//! every older hint stale. So a current hint answers exactly what the search would, and the
//! caller applies the same replacement update. The granule is the smallest page size the level
//! holds: every page size a search probes is a function of the address's granule.
//!
//! The hint of the level's last hit doubles as the last-hit shortcut ([`HitFilter::last`]), which
//! matches at the entry's own page size, as that shortcut always has.

use crate::addr::VirtAddr;
use crate::tlb::{Pcid, SlotRef, TlbEntry};

/// Hints of a level whose search goes through a tag index: enough for the pages a program
/// touches between two TLB fills, few enough (3.5 KiB) to stay in the L1 data cache beside the
/// array. A level of scanned sets keeps only the last hit: its search, a scan of a few tags,
/// costs little more than a hint's test, which would mostly fail where such a level is asked
/// at all (after an L1 miss).
const HINTS: usize = 64;

/// One remembered hit.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Hint {
    /// The looked-up address's granule (`va >> grain`).
    key: u64,
    /// The epoch it was recorded in; hints of earlier epochs are stale.
    epoch: u32,
    /// The PCID looked up.
    pcid: u16,
    /// Where the search found the entry.
    pub(crate) at: SlotRef,
    /// The set of that slot.
    pub(crate) set: u32,
    /// A copy of the entry (entries change only at fills and invalidations, which end the
    /// epoch).
    pub(crate) entry: TlbEntry,
}

/// The recent hits of one TLB level. See the module documentation.
#[derive(Debug, Clone)]
pub(crate) struct HitFilter {
    hints: Box<[Hint; HINTS]>,
    /// log2 of the smallest page size the level holds.
    grain: u32,
    /// `HINTS - 1`, or 0 when only the last hit is kept.
    mask: u64,
    /// The current epoch (from 1; 0 marks a hint never written).
    epoch: u32,
    /// The hint of the last hit (stale when the epoch has moved on since).
    last: usize,
}

impl HitFilter {
    /// An empty filter for a level whose smallest page size is `2^grain` bytes; `wide` when its
    /// search goes through a tag index (else only the last hit is kept).
    pub(crate) fn new(grain: u32, wide: bool, stale: Hint) -> Self {
        HitFilter {
            hints: Box::new([Hint { epoch: 0, ..stale }; HINTS]),
            grain,
            mask: if wide { HINTS as u64 - 1 } else { 0 },
            epoch: 1,
            last: 0,
        }
    }

    /// A hint with nothing in it but `entry` and `at` (the contents of never-written hints).
    pub(crate) const fn blank(at: SlotRef, entry: TlbEntry) -> Hint {
        Hint {
            key: 0,
            epoch: 0,
            pcid: 0,
            at,
            set: 0,
            entry,
        }
    }

    /// The hint slot of `va`.
    #[inline(always)]
    fn index(&self, va: VirtAddr) -> usize {
        ((va.as_u64() >> self.grain) & self.mask) as usize % HINTS
    }

    /// The hint numbered `i` (as [`HitFilter::last`], [`HitFilter::get`] and
    /// [`HitFilter::record`] return them).
    #[inline(always)]
    pub(crate) fn hint(&self, i: usize) -> &Hint {
        &self.hints[i % HINTS]
    }

    /// The last hit's hint, if it was for `pcid` and its entry's page holds `va`. Its entry is
    /// already the most recent in its set: nothing has been looked up since.
    #[inline(always)]
    pub(crate) fn last(&self, va: VirtAddr, pcid: Pcid) -> Option<usize> {
        let h = self.hint(self.last);
        ((h.epoch == self.epoch) & (h.pcid == pcid.get()) & (va.vpn(h.entry.size) == h.entry.vpn))
            .then_some(self.last)
    }

    /// The hint of what a search for `va` and `pcid` would find, if this epoch has seen that
    /// search hit; it becomes the last hit.
    #[inline(always)]
    pub(crate) fn get(&mut self, va: VirtAddr, pcid: Pcid) -> Option<usize> {
        if self.mask == 0 {
            // The one hint is the last hit's, which the caller has tried.
            return None;
        }
        let i = self.index(va);
        let h = &self.hints[i];
        if (h.epoch == self.epoch) & (h.key == va.as_u64() >> self.grain) & (h.pcid == pcid.get()) {
            self.last = i;
            return Some(i);
        }
        None
    }

    /// A search for `va` and `pcid` found `entry` at `at`, in `set`: the last hit.
    #[inline(always)]
    pub(crate) fn record(
        &mut self,
        va: VirtAddr,
        pcid: Pcid,
        at: SlotRef,
        set: u32,
        entry: TlbEntry,
    ) -> usize {
        let i = self.index(va);
        self.last = i;
        self.hints[i] = Hint {
            key: va.as_u64() >> self.grain,
            epoch: self.epoch,
            pcid: pcid.get(),
            at,
            set,
            entry,
        };
        i
    }

    /// The level's entries changed: every hint is stale. When the epoch counter would wrap,
    /// hints are marked unwritten instead, so no old hint can match a reused epoch.
    #[inline]
    pub(crate) fn forget(&mut self) {
        if self.epoch == u32::MAX {
            for h in self.hints.iter_mut() {
                h.epoch = 0;
            }
            self.epoch = 0;
        }
        self.epoch += 1;
    }

    /// Forgets every hint but the last hit's (tests compare a level with only the last-hit
    /// shortcut, as it was before this filter, against one with the filter).
    #[cfg(test)]
    pub(crate) fn forget_all_but_last(&mut self) {
        let last = self.last % HINTS;
        for (i, h) in self.hints.iter_mut().enumerate() {
            if i != last {
                h.epoch = 0;
            }
        }
    }

    /// Sets the epoch counter (tests of its wrap).
    #[cfg(test)]
    pub(crate) fn set_epoch(&mut self, epoch: u32) {
        self.epoch = epoch;
    }
}
