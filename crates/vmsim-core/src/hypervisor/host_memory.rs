//! The host's side of guest memory: host-physical frames, the EPT that maps guest-physical
//! pages onto them, and backing on demand. A guest-physical page gets host memory the first time
//! a walk reaches it (an EPT violation, a VM exit the host resolves), in host pages of the
//! configured size, as KVM does with transparent huge pages on the host: a 2 MiB host page backs
//! 512 guest frames at once and its EPT leaf sits one level higher, so host walks are shorter.
//!
//! Host memory is sized from the guest's so that backing never runs out: the guest's frames
//! rounded up to the host page, plus room for the EPT's own tables. Overcommit, host swap and
//! ballooning are not modelled.

use super::ept::{self, EptEntry, EptWalk, Eptp, MemType};
use crate::addr::{PageSize, Pfn};
use crate::phys::PhysMem;
use crate::pte::{Level, Pte};

/// Host memory backing one guest.
#[derive(Debug, Clone)]
pub struct HostMemory {
    mem: PhysMem,
    eptp: Eptp,
    page: PageSize,
    guest_frames: u64,
    backed_frames: u64,
}

impl HostMemory {
    /// Host memory for a guest of `guest_frames` 4 KiB frames, an EPT of `top` levels (PML4 or
    /// PML5) with A/D flags when `ad`, backing the guest in host pages of `page`.
    pub fn new(guest_frames: u64, top: Level, page: PageSize, ad: bool) -> HostMemory {
        let per = page.bytes() >> 12;
        let data = guest_frames.div_ceil(per) * per;
        // One table per 512 entries at each level, plus a path per level and frame 0.
        let tables = data.div_ceil(512) * 2 + 8;
        let mut mem = PhysMem::new(data + tables + per + 1);
        // A fresh PhysMem always has a frame for the root.
        let root = mem.alloc_table().unwrap_or(Pfn(1));
        HostMemory {
            mem,
            eptp: Eptp { root, top, ad },
            page,
            guest_frames,
            backed_frames: 0,
        }
    }

    /// The EPT pointer.
    pub fn eptp(&self) -> &Eptp {
        &self.eptp
    }

    /// The host page size.
    pub fn page_size(&self) -> PageSize {
        self.page
    }

    /// Host-physical memory (EPT tables and the frames backing the guest).
    pub fn mem_mut(&mut self) -> &mut PhysMem {
        &mut self.mem
    }

    /// Host frames (4 KiB) handed to the guest so far.
    pub fn backed_frames(&self) -> u64 {
        self.backed_frames
    }

    /// EPT table frames in use.
    pub fn ept_tables(&self) -> u64 {
        self.mem.frames_in_use() - self.backed_frames()
    }

    /// Resolves an EPT violation at guest-physical `gpa`: backs the host page around it with
    /// fresh host frames and maps it. Where no block of the host page size is free, or part of
    /// the region is already mapped in smaller pages, it backs with the next smaller size.
    /// Returns `false` (nothing done) for an address past the guest's memory, which the guest's
    /// own kernel never hands out, or when host memory is exhausted.
    pub fn back(&mut self, gpa: u64) -> bool {
        if gpa >> 12 >= self.guest_frames {
            return false;
        }
        let mut want = match self.page {
            s if s == PageSize::SIZE_1G => Level::Pdpt,
            s if s == PageSize::SIZE_2M => Level::Pd,
            _ => Level::Pt,
        };
        let mut table = self.eptp.root;
        let mut level = self.eptp.top;
        loop {
            let i = ept::index(gpa, level);
            let e = EptEntry::from_raw(self.mem.read(table, i).raw());
            if level == want {
                if e.present() && e.is_leaf(level) {
                    return true;
                }
                if !e.present() {
                    let size = ept::leaf_size(level);
                    if let Ok(frame) = self.mem.frames().alloc((size.shift() - 12) as u8) {
                        let leaf = EptEntry::leaf(frame, level, MemType::Wb);
                        self.mem.write(table, i, Pte::from_raw(leaf.raw()));
                        self.backed_frames += size.bytes() >> 12;
                        return true;
                    }
                }
                // A table is here already, or no block is free: smaller pages.
                match level.next_lower() {
                    Some(l) => want = l,
                    None => return false,
                }
            }
            table = if e.present() {
                e.frame()
            } else {
                let Ok(t) = self.mem.alloc_table() else {
                    return false;
                };
                self.mem
                    .write(table, i, Pte::from_raw(EptEntry::table(t).raw()));
                t
            };
            level = match level.next_lower() {
                Some(l) => l,
                None => return false,
            };
        }
    }

    /// The host frame holding guest-physical `gpa`'s 4 KiB page, if backed: a software walk
    /// that reads no counters and sets no bits (for checks and for shadow paging's host).
    pub fn lookup(&self, gpa: u64) -> Option<(Pfn, PageSize)> {
        let mut table = self.eptp.root;
        let mut level = self.eptp.top;
        loop {
            let e = EptEntry::from_raw(self.mem.read(table, ept::index(gpa, level)).raw());
            if !e.present() {
                return None;
            }
            if e.is_leaf(level) {
                let size = ept::leaf_size(level);
                let base = e.frame().0 & !((size.bytes() >> 12) - 1);
                return Some((Pfn(base + ((gpa & size.mask()) >> 12)), size));
            }
            table = e.frame();
            level = level.next_lower()?;
        }
    }

    /// The host walk from `table` at `level` (see [`ept::walk`]).
    pub fn walk(
        &mut self,
        gpa: u64,
        table: Pfn,
        level: Level,
        write: bool,
        on_read: impl FnMut(&ept::EptRead),
    ) -> EptWalk {
        let eptp = self.eptp;
        ept::walk(&mut self.mem, &eptp, gpa, table, level, write, on_read)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backing_maps_the_whole_host_page_and_nothing_past_the_guest() {
        let mut h = HostMemory::new(4096, Level::Pml4, PageSize::SIZE_2M, true);
        assert_eq!(h.lookup(0x3000), None);
        assert!(h.back(0x3000));
        let (f0, size) = h.lookup(0).unwrap();
        assert_eq!(size, PageSize::SIZE_2M);
        assert_eq!(h.lookup(0x1f_f000).unwrap().0, Pfn(f0.0 + 0x1ff));
        assert_eq!(h.lookup(0x20_0000), None);
        assert!(!h.back(4096 << 12));
        assert_eq!(h.backed_frames(), 512);
        // PML4, PDPT and PD tables.
        assert_eq!(h.ept_tables(), 3);
    }

    #[test]
    fn every_guest_frame_can_be_backed_in_4k_pages() {
        let mut h = HostMemory::new(3000, Level::Pml5, PageSize::SIZE_4K, false);
        for g in 0..3000u64 {
            assert!(h.back(g << 12), "frame {g}");
        }
        let mut seen = std::collections::HashSet::new();
        for g in 0..3000u64 {
            assert!(seen.insert(h.lookup(g << 12).unwrap().0));
        }
    }
}
