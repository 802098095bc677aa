//! An inverted page table: one entry per physical frame, naming the (process, virtual page) it
//! holds, found through a hash anchor table whose slots start chains threaded through the
//! entries (the IBM System/38 and PowerPC / IA-64 VHPT "long format" idea; OSTEP ch. 20.3).
//! Its size follows physical memory, not the address space, which is why it suits sparse 64-bit
//! spaces; the price is a hash and a chain walk per translation, and no simple sharing of a
//! frame between address spaces.

use super::{pa, PagePerm, Translate, TranslateFault};
use crate::access::AccessKind;
use crate::addr::{PageSize, PhysAddr, VirtAddr};
use thiserror::Error;

/// Bytes of one hash-anchor slot (a frame number).
pub const ANCHOR_BYTES: u64 = 4;
/// Bytes of one entry: virtual page, process id, permissions, chain link.
pub const ENTRY_BYTES: u64 = 16;

const NONE: u32 = u32::MAX;

/// One frame's entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// The process whose page the frame holds.
    pub pid: u32,
    /// The virtual page.
    pub vpn: u64,
    /// What the page allows beyond reading.
    pub perm: PagePerm,
    /// The next frame on the same hash chain.
    next: u32,
}

/// Why a mapping was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum InvertedError {
    /// The frame number is not below the table's frame count.
    #[error("frame {0} is beyond physical memory")]
    NoSuchFrame(u32),
    /// The frame already holds a page.
    #[error("frame {0} already holds a page")]
    FrameInUse(u32),
    /// The page is already mapped (to another frame).
    #[error("page {vpn:#x} of process {pid} is already mapped")]
    AlreadyMapped {
        /// Process.
        pid: u32,
        /// Virtual page.
        vpn: u64,
    },
}

/// The result of a lookup: the frame, if any, and the memory references the search made (the
/// anchor slot and every entry visited).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lookup {
    /// The frame holding the page.
    pub frame: Option<u32>,
    /// Memory references.
    pub refs: u32,
}

/// The table.
#[derive(Debug, Clone)]
pub struct InvertedTable {
    page_size: PageSize,
    anchors: Vec<u32>,
    frames: Vec<Option<Entry>>,
    /// The process whose addresses [`Translate::translate`] resolves (the ASID register).
    pub current: u32,
}

impl InvertedTable {
    /// A table for `frames` physical frames of `page_size`, with a hash anchor table of the
    /// next power of two slots (one chain per frame on average at most).
    pub fn new(frames: u32, page_size: PageSize) -> Self {
        InvertedTable {
            page_size,
            anchors: vec![NONE; (frames.max(1) as usize).next_power_of_two()],
            frames: vec![None; frames as usize],
            current: 0,
        }
    }

    /// The anchor slot of (pid, vpn): Fibonacci hashing of the two.
    fn slot(&self, pid: u32, vpn: u64) -> usize {
        let h = (vpn ^ (u64::from(pid) << 48)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        (h >> 32) as usize & (self.anchors.len() - 1)
    }

    /// Finds the frame of (pid, vpn), counting references.
    pub fn lookup(&self, pid: u32, vpn: u64) -> Lookup {
        let mut refs = 1;
        let mut f = self.anchors[self.slot(pid, vpn)];
        while f != NONE {
            refs += 1;
            let e = self.frames[f as usize].expect("chained frames hold entries");
            if e.pid == pid && e.vpn == vpn {
                return Lookup {
                    frame: Some(f),
                    refs,
                };
            }
            f = e.next;
        }
        Lookup { frame: None, refs }
    }

    /// Puts (pid, vpn) in `frame`, at the head of its chain.
    pub fn map(
        &mut self,
        pid: u32,
        vpn: u64,
        frame: u32,
        perm: PagePerm,
    ) -> Result<(), InvertedError> {
        match self.frames.get(frame as usize) {
            None => return Err(InvertedError::NoSuchFrame(frame)),
            Some(Some(_)) => return Err(InvertedError::FrameInUse(frame)),
            Some(None) => {}
        }
        if self.lookup(pid, vpn).frame.is_some() {
            return Err(InvertedError::AlreadyMapped { pid, vpn });
        }
        let s = self.slot(pid, vpn);
        self.frames[frame as usize] = Some(Entry {
            pid,
            vpn,
            perm,
            next: self.anchors[s],
        });
        self.anchors[s] = frame;
        Ok(())
    }

    /// Removes (pid, vpn); returns the frame it held.
    pub fn unmap(&mut self, pid: u32, vpn: u64) -> Option<u32> {
        let s = self.slot(pid, vpn);
        let mut prev = NONE;
        let mut f = self.anchors[s];
        while f != NONE {
            let e = self.frames[f as usize].expect("chained frames hold entries");
            if e.pid == pid && e.vpn == vpn {
                if prev == NONE {
                    self.anchors[s] = e.next;
                } else if let Some(p) = self.frames[prev as usize].as_mut() {
                    p.next = e.next;
                }
                self.frames[f as usize] = None;
                return Some(f);
            }
            prev = f;
            f = e.next;
        }
        None
    }

    /// The entry of `frame`.
    pub fn entry(&self, frame: u32) -> Option<Entry> {
        self.frames.get(frame as usize).copied().flatten()
    }

    /// Frames holding a page.
    pub fn used(&self) -> usize {
        self.frames.iter().filter(|e| e.is_some()).count()
    }
}

impl Translate for InvertedTable {
    fn name(&self) -> &'static str {
        "inverted"
    }

    fn translate(&self, va: VirtAddr, kind: AccessKind) -> Result<PhysAddr, TranslateFault> {
        let v = va.as_u64();
        let vpn = v >> self.page_size.shift();
        let frame = self
            .lookup(self.current, vpn)
            .frame
            .ok_or(TranslateFault::InvalidPage { vpn })?;
        let e = self.frames[frame as usize].ok_or(TranslateFault::InvalidPage { vpn })?;
        if !e.perm.allows(kind) {
            return Err(TranslateFault::PageProtection { vpn });
        }
        Ok(pa(
            (u64::from(frame) << self.page_size.shift()) | (v & self.page_size.mask())
        ))
    }

    fn overhead_bytes(&self) -> u64 {
        self.anchors.len() as u64 * ANCHOR_BYTES + self.frames.len() as u64 * ENTRY_BYTES
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn processes_share_the_table_not_the_pages() {
        let mut t = InvertedTable::new(8, PageSize::SIZE_4K);
        t.map(1, 0x10, 3, PagePerm::default()).unwrap();
        t.map(2, 0x10, 5, PagePerm::ALL).unwrap();
        assert_eq!(t.lookup(1, 0x10).frame, Some(3));
        assert_eq!(t.lookup(2, 0x10).frame, Some(5));
        assert_eq!(t.lookup(3, 0x10).frame, None);
        assert_eq!(
            t.map(1, 0x11, 3, PagePerm::ALL),
            Err(InvertedError::FrameInUse(3))
        );
        assert_eq!(
            t.map(1, 0x10, 4, PagePerm::ALL),
            Err(InvertedError::AlreadyMapped { pid: 1, vpn: 0x10 })
        );
        assert_eq!(
            t.map(1, 0x12, 8, PagePerm::ALL),
            Err(InvertedError::NoSuchFrame(8))
        );
        t.current = 1;
        let va = VirtAddr::new_unchecked(0x10_123);
        assert_eq!(t.translate(va, AccessKind::Read).unwrap().as_u64(), 0x3123);
        assert_eq!(
            t.translate(va, AccessKind::Write),
            Err(TranslateFault::PageProtection { vpn: 0x10 })
        );
        t.current = 2;
        assert_eq!(t.translate(va, AccessKind::Fetch).unwrap().as_u64(), 0x5123);
        assert_eq!(t.unmap(2, 0x10), Some(5));
        assert_eq!(
            t.translate(va, AccessKind::Read),
            Err(TranslateFault::InvalidPage { vpn: 0x10 })
        );
        assert_eq!(t.overhead_bytes(), 8 * ANCHOR_BYTES + 8 * ENTRY_BYTES);
    }

    #[test]
    fn chains_cost_a_reference_per_entry() {
        // A one-slot anchor table puts every page on one chain, newest first.
        let mut t = InvertedTable::new(1, PageSize::SIZE_4K);
        t.anchors = vec![NONE];
        t.frames = vec![None; 4];
        for (i, vpn) in [7u64, 8, 9].into_iter().enumerate() {
            t.map(1, vpn, i as u32, PagePerm::ALL).unwrap();
        }
        assert_eq!(t.lookup(1, 9).refs, 2);
        assert_eq!(t.lookup(1, 7).refs, 4);
        assert_eq!(t.lookup(1, 6).refs, 4);
        assert_eq!(t.unmap(1, 8), Some(1));
        assert_eq!(t.lookup(1, 7).refs, 3);
        assert_eq!(t.used(), 2);
    }
}
