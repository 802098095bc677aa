//! The extended-page-table entry and walk, as the Intel SDM Vol. 3C gives them (§29.3.2 "EPT
//! Translation Mechanism" and its tables of entry formats; chapter 28 in editions before 2023).
//! An EPT entry differs from an x86-64 paging entry: there is no P bit (an entry is present when
//! any of R, W, X is set, bits 0-2), bits 3-5 of a leaf are the memory type, bit 7 marks a
//! 2 MiB or 1 GiB leaf, and with EPT A/D enabled (EPTP bit 6) bits 8 and 9 are accessed and
//! dirty. The walk is the host dimension of a nested walk: it reads 4 or 5 levels (EPTP bits
//! 5:3 give the length minus one) from host-physical memory. AMD's nested page tables would
//! reuse the x86-64 format instead; vmsim follows Intel here.

use crate::addr::{PageSize, Pfn, PhysAddr};
use crate::phys::PhysMem;
use crate::pte::{Level, TableIndex};
use serde::{Deserialize, Serialize};

/// Bits of an EPT entry that the model interprets.
pub mod bits {
    /// Read access allowed (bit 0).
    pub const READ: u64 = 1 << 0;
    /// Write access allowed (bit 1).
    pub const WRITE: u64 = 1 << 1;
    /// Supervisor-mode instruction fetch allowed (bit 2).
    pub const EXEC: u64 = 1 << 2;
    /// Memory type of a leaf (bits 5:3).
    pub const MEMTYPE_SHIFT: u32 = 3;
    /// Ignore the guest's PAT for this leaf (bit 6).
    pub const IGNORE_PAT: u64 = 1 << 6;
    /// A 2 MiB or 1 GiB leaf (bit 7; always clear in a PTE).
    pub const LEAF: u64 = 1 << 7;
    /// Accessed, with EPT A/D enabled (bit 8).
    pub const ACCESSED: u64 = 1 << 8;
    /// Dirty, in leaves, with EPT A/D enabled (bit 9).
    pub const DIRTY: u64 = 1 << 9;
    /// Frame bits 51:12.
    pub const FRAME: u64 = 0x000f_ffff_ffff_f000;
}

/// The memory type of an EPT leaf (SDM Vol. 3C §29.3.7; values 2, 3 and 7 are reserved).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MemType {
    /// Uncacheable (0).
    Uc,
    /// Write combining (1).
    Wc,
    /// Write through (4).
    Wt,
    /// Write protected (5).
    Wp,
    /// Write back (6): what a hypervisor gives ordinary guest RAM.
    Wb,
}

impl MemType {
    const fn code(self) -> u64 {
        match self {
            MemType::Uc => 0,
            MemType::Wc => 1,
            MemType::Wt => 4,
            MemType::Wp => 5,
            MemType::Wb => 6,
        }
    }

    const fn from_code(c: u64) -> Option<MemType> {
        match c {
            0 => Some(MemType::Uc),
            1 => Some(MemType::Wc),
            4 => Some(MemType::Wt),
            5 => Some(MemType::Wp),
            6 => Some(MemType::Wb),
            _ => None,
        }
    }
}

/// One EPT paging-structure entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EptEntry(u64);

impl EptEntry {
    /// The all-zero entry: not present.
    pub const EMPTY: EptEntry = EptEntry(0);

    /// The raw bits.
    pub const fn raw(self) -> u64 {
        self.0
    }

    /// An entry from its raw bits.
    pub const fn from_raw(raw: u64) -> EptEntry {
        EptEntry(raw)
    }

    /// A non-leaf entry referencing the table in `next`, with every right (a hypervisor keeps
    /// rights at the leaves, as Linux's KVM does).
    pub const fn table(next: Pfn) -> EptEntry {
        EptEntry((next.0 << 12) & bits::FRAME | bits::READ | bits::WRITE | bits::EXEC)
    }

    /// A leaf at `level` mapping the page at `frame` (its first 4 KiB frame) with every right
    /// and memory type `mt`.
    pub const fn leaf(frame: Pfn, level: Level, mt: MemType) -> EptEntry {
        let big = if matches!(level, Level::Pt) {
            0
        } else {
            bits::LEAF
        };
        EptEntry(
            (frame.0 << 12) & bits::FRAME
                | bits::READ
                | bits::WRITE
                | bits::EXEC
                | mt.code() << bits::MEMTYPE_SHIFT
                | big,
        )
    }

    /// Present: some access is allowed (SDM: an entry with R, W and X clear is not present).
    pub const fn present(self) -> bool {
        self.0 & (bits::READ | bits::WRITE | bits::EXEC) != 0
    }

    /// Whether `bit` (one of [`bits`]) is set.
    pub const fn has(self, bit: u64) -> bool {
        self.0 & bit != 0
    }

    /// The entry with `bit` set.
    pub const fn with(self, bit: u64) -> EptEntry {
        EptEntry(self.0 | bit)
    }

    /// Whether this entry at `level` maps a page rather than referencing a table.
    pub const fn is_leaf(self, level: Level) -> bool {
        matches!(level, Level::Pt) || self.0 & bits::LEAF != 0
    }

    /// The frame the entry references (table or page).
    pub const fn frame(self) -> Pfn {
        Pfn((self.0 & bits::FRAME) >> 12)
    }

    /// The memory type of a leaf; `None` for a reserved code (an EPT misconfiguration).
    pub const fn mem_type(self) -> Option<MemType> {
        MemType::from_code((self.0 >> bits::MEMTYPE_SHIFT) & 7)
    }
}

/// Where the host's EPT starts and how it is read: EPTP's root frame, its walk length and
/// whether the processor sets A/D bits (EPTP bit 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Eptp {
    /// Frame of the top table (PML4 or PML5).
    pub root: Pfn,
    /// Top level: [`Level::Pml4`] for a 4-level EPT, [`Level::Pml5`] for 5.
    pub top: Level,
    /// EPT accessed and dirty flags enabled.
    pub ad: bool,
}

/// One EPT entry read by a host walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EptRead {
    /// EPT level read.
    pub level: Level,
    /// Host-physical address of the entry.
    pub entry_addr: PhysAddr,
    /// The entry as read.
    pub entry: EptEntry,
}

/// The end of a host walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EptWalk {
    /// The guest-physical page is mapped: the host page's first frame and its size.
    Mapped {
        /// First 4 KiB host frame of the host page.
        frame: Pfn,
        /// Host page size.
        size: PageSize,
    },
    /// No entry at `level`: an EPT violation.
    Violation {
        /// Level of the missing entry.
        level: Level,
    },
}

/// Index of `gpa` into an EPT table at `level` (9 bits per level above the 4 KiB offset).
pub const fn index(gpa: u64, level: Level) -> TableIndex {
    TableIndex::truncate(gpa >> (12 + 9 * (level.number() as u32 - 1)))
}

/// Size a leaf at `level` maps.
pub const fn leaf_size(level: Level) -> PageSize {
    match level {
        Level::Pt => PageSize::SIZE_4K,
        Level::Pd => PageSize::SIZE_2M,
        _ => PageSize::SIZE_1G,
    }
}

/// Walks the EPT for guest-physical address `gpa` from `level` and table `table` (the root, or
/// where a host page-walk cache left off), calling `on_read` for every entry read in order. With
/// A/D enabled the walk sets A in every entry it uses, and D in the leaf when `write`.
pub fn walk(
    host: &mut PhysMem,
    eptp: &Eptp,
    gpa: u64,
    mut table: Pfn,
    mut level: Level,
    write: bool,
    mut on_read: impl FnMut(&EptRead),
) -> EptWalk {
    loop {
        let i = index(gpa, level);
        let entry = EptEntry::from_raw(host.read(table, i).raw());
        on_read(&EptRead {
            level,
            entry_addr: PhysMem::entry_addr(table, i),
            entry,
        });
        if !entry.present() {
            return EptWalk::Violation { level };
        }
        let leaf = entry.is_leaf(level);
        if eptp.ad {
            let mut set = entry.with(bits::ACCESSED);
            if leaf && write {
                set = set.with(bits::DIRTY);
            }
            if set != entry {
                host.write(table, i, crate::pte::Pte::from_raw(set.raw()));
            }
        }
        if leaf {
            let size = leaf_size(level);
            let frame = Pfn(entry.frame().0 & !((size.bytes() >> 12) - 1));
            return EptWalk::Mapped { frame, size };
        }
        table = entry.frame();
        level = match level.next_lower() {
            Some(l) => l,
            None => return EptWalk::Violation { level },
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presence_is_any_right_and_leaf_bit_only_above_pt() {
        assert!(!EptEntry::EMPTY.present());
        assert!(EptEntry::from_raw(bits::EXEC).present());
        let e = EptEntry::leaf(Pfn(0x200), Level::Pd, MemType::Wb);
        assert!(e.is_leaf(Level::Pd) && e.has(bits::LEAF));
        assert_eq!(e.mem_type(), Some(MemType::Wb));
        assert_eq!(e.frame(), Pfn(0x200));
        let p = EptEntry::leaf(Pfn(7), Level::Pt, MemType::Uc);
        assert!(!p.has(bits::LEAF) && p.is_leaf(Level::Pt));
        assert_eq!(p.mem_type(), Some(MemType::Uc));
        assert!(!EptEntry::table(Pfn(9)).is_leaf(Level::Pml4));
        assert_eq!(EptEntry::from_raw(2 << 3 | 1).mem_type(), None);
    }

    #[test]
    fn walk_reads_each_level_and_sets_accessed_and_dirty() {
        let mut host = PhysMem::new(64);
        let root = host.alloc_table().unwrap();
        let pd = host.alloc_table().unwrap();
        let pdpt = host.alloc_table().unwrap();
        let gpa = 0x4020_1000u64; // PML4 0, PDPT 1, PD 1
        host.write(root, index(gpa, Level::Pml4), pte(EptEntry::table(pdpt)));
        host.write(pdpt, index(gpa, Level::Pdpt), pte(EptEntry::table(pd)));
        let leaf = EptEntry::leaf(Pfn(0x400), Level::Pd, MemType::Wb);
        host.write(pd, index(gpa, Level::Pd), pte(leaf));
        let eptp = Eptp {
            root,
            top: Level::Pml4,
            ad: true,
        };
        let mut levels = vec![];
        let w = walk(&mut host, &eptp, gpa, root, Level::Pml4, true, |r| {
            levels.push(r.level)
        });
        assert_eq!(levels, [Level::Pml4, Level::Pdpt, Level::Pd]);
        assert_eq!(
            w,
            EptWalk::Mapped {
                frame: Pfn(0x400),
                size: PageSize::SIZE_2M
            }
        );
        let now = EptEntry::from_raw(host.read(pd, index(gpa, Level::Pd)).raw());
        assert!(now.has(bits::ACCESSED) && now.has(bits::DIRTY));
        let miss = walk(&mut host, &eptp, 1 << 39, root, Level::Pml4, false, |_| {});
        assert_eq!(miss, EptWalk::Violation { level: Level::Pml4 });
    }

    fn pte(e: EptEntry) -> crate::pte::Pte {
        crate::pte::Pte::from_raw(e.raw())
    }
}
