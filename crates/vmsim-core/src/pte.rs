//! The x86-64 paging-structure entry, bit for bit as Intel SDM Vol. 3A §4.5 (Tables 4-15 to 4-20)
//! lays it out, plus the level and index types a walk uses.
//!
//! An entry is a `u64`; flags are named, multi-bit fields have accessors, and bits the model does
//! not interpret (the ignored/available bits 9..11 and 52..58) survive a round trip untouched.

use crate::addr::{PageSize, Pfn};
use bitflags::bitflags;
use serde::Serialize;
use std::fmt;

bitflags! {
    /// Single-bit fields of a paging-structure entry (SDM Vol. 3A §4.5, Tables 4-15..4-20).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct PteFlags: u64 {
        /// Bit 0, P: the entry maps a page or references a table; when clear the processor
        /// ignores every other bit and a reference causes a page fault (§4.7).
        const PRESENT = 1 << 0;
        /// Bit 1, R/W: writes allowed when set; when clear, user writes fault, and supervisor
        /// writes fault only if CR0.WP = 1 (§4.6.1).
        const WRITABLE = 1 << 1;
        /// Bit 2, U/S: user-mode (CPL 3) accesses allowed when set (§4.6.1); with CR4.SMEP and
        /// CR4.SMAP it also restricts supervisor fetches and data accesses to user pages.
        const USER = 1 << 2;
        /// Bit 3, PWT: page-level write-through, selects the memory type with PCD and PAT (§4.9).
        const WRITE_THROUGH = 1 << 3;
        /// Bit 4, PCD: page-level cache disable (§4.9).
        const CACHE_DISABLE = 1 << 4;
        /// Bit 5, A: set by the processor the first time the entry is used in a translation
        /// (§4.8); software clears it to sample references.
        const ACCESSED = 1 << 5;
        /// Bit 6, D: set by the processor on the first write through a leaf entry (§4.8);
        /// ignored in non-leaf entries.
        const DIRTY = 1 << 6;
        /// Bit 7, PS in PDPTEs and PDEs: the entry maps a 1 GiB or 2 MiB page instead of
        /// referencing a table. Reserved (must be 0) in PML4Es and PML5Es. In a PTE this bit is
        /// PAT instead (see [`PteFlags::PAT_4K`]).
        const HUGE = 1 << 7;
        /// Bit 8, G: global translation (with CR4.PGE) that survives CR3 writes (§4.10.2.4);
        /// leaf entries only.
        const GLOBAL = 1 << 8;
        /// Bit 63, XD: instruction fetches from the region fault when IA32_EFER.NXE = 1 (§4.6.2).
        const NO_EXECUTE = 1 << 63;
    }
}

impl PteFlags {
    /// Bit 7 of a 4 KiB PTE is the PAT bit (memory type), not PS.
    pub const PAT_4K: PteFlags = PteFlags::HUGE;
    /// Bit 12 of a 2 MiB or 1 GiB leaf is its PAT bit (it overlaps the frame field of tables).
    pub const PAT_LARGE_BIT: u64 = 1 << 12;
}

/// A level of the radix tree. x86-64 names the levels by table; teaching machines number them
/// 1 (leaf tables) to n (the root).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum Level {
    /// Level 1: page table, entries map 4 KiB pages (Linux `pte`).
    Pt = 1,
    /// Level 2: page directory, entries reference a PT or map a 2 MiB page (Linux `pmd`).
    Pd = 2,
    /// Level 3: page-directory-pointer table, entries reference a PD or map 1 GiB (Linux `pud`).
    Pdpt = 3,
    /// Level 4: PML4, the root under 4-level paging (Linux `p4d`/`pgd`).
    Pml4 = 4,
    /// Level 5: PML5, the root under 5-level paging (Linux `pgd`).
    Pml5 = 5,
}

impl Level {
    /// All levels, leaf first.
    pub const ALL: [Level; 5] = [Level::Pt, Level::Pd, Level::Pdpt, Level::Pml4, Level::Pml5];

    /// The level numbered `n` (1 = leaf tables).
    pub const fn from_number(n: u8) -> Option<Level> {
        match n {
            1 => Some(Level::Pt),
            2 => Some(Level::Pd),
            3 => Some(Level::Pdpt),
            4 => Some(Level::Pml4),
            5 => Some(Level::Pml5),
            _ => None,
        }
    }

    /// 1 for leaf tables up to 5 for PML5.
    pub const fn number(self) -> u8 {
        self as u8
    }

    /// The level below (towards the leaves), or `None` at the page table.
    pub const fn next_lower(self) -> Option<Level> {
        Level::from_number(self as u8 - 1)
    }

    /// Dense index 0..5 for per-level arrays (PT = 0).
    pub const fn index(self) -> usize {
        self as usize - 1
    }

    /// The SDM's name of the table at this level.
    pub const fn table_name(self) -> &'static str {
        match self {
            Level::Pt => "PT",
            Level::Pd => "PD",
            Level::Pdpt => "PDPT",
            Level::Pml4 => "PML4",
            Level::Pml5 => "PML5",
        }
    }

    /// The SDM's name of an entry at this level.
    pub const fn entry_name(self) -> &'static str {
        match self {
            Level::Pt => "PTE",
            Level::Pd => "PDE",
            Level::Pdpt => "PDPTE",
            Level::Pml4 => "PML4E",
            Level::Pml5 => "PML5E",
        }
    }

    /// Stable lower-case key used in JSON (`pt`, `pd`, `pdpt`, `pml4`, `pml5`).
    pub const fn key(self) -> &'static str {
        match self {
            Level::Pt => "pt",
            Level::Pd => "pd",
            Level::Pdpt => "pdpt",
            Level::Pml4 => "pml4",
            Level::Pml5 => "pml5",
        }
    }

    /// The x86-64 page size a leaf at this level maps, if this level may hold leaves.
    pub const fn x86_leaf_size(self) -> Option<PageSize> {
        match self {
            Level::Pt => Some(PageSize::SIZE_4K),
            Level::Pd => Some(PageSize::SIZE_2M),
            Level::Pdpt => Some(PageSize::SIZE_1G),
            _ => None,
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.table_name())
    }
}

/// An index into one table: always below 512 (x86-64 tables have 512 entries; teaching tables
/// use at most 9 bits per level).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct TableIndex(u16);

impl TableIndex {
    /// `Some` if `i < 512`.
    pub const fn new(i: u16) -> Option<Self> {
        if i < 512 {
            Some(TableIndex(i))
        } else {
            None
        }
    }

    /// The index of `va_bits_above_shift & mask`: truncates to 9 bits, so always valid.
    pub const fn truncate(i: u64) -> Self {
        TableIndex((i & 0x1ff) as u16)
    }

    /// As a `usize` for indexing.
    pub const fn get(self) -> usize {
        self.0 as usize
    }
}

/// Why an entry's reserved bits make it invalid (a page fault with the RSVD error-code bit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ReservedBits {
    /// Frame bits at or above MAXPHYADDR (bits M..51) are set.
    #[error("address bits above MAXPHYADDR are set")]
    AboveMaxPhyAddr,
    /// PS set in a PML4E or PML5E, where it is reserved.
    #[error("PS is reserved at this level")]
    PsAtRoot,
    /// A 2 MiB or 1 GiB leaf has bits set between its PAT bit and its frame (bits 13..20 or 13..29).
    #[error("large-page frame is misaligned")]
    LargeFrameMisaligned,
}

/// A paging-structure entry: the raw `u64` as hardware reads it.
#[repr(transparent)]
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Pte(u64);

/// Bits 12..51: the largest possible frame field (MAXPHYADDR = 52).
const FRAME_FIELD: u64 = 0x000f_ffff_ffff_f000;
/// Bits 59..62: protection key (§4.6.2).
const PKEY_SHIFT: u32 = 59;
const PKEY_MASK: u64 = 0xf << PKEY_SHIFT;

impl Pte {
    /// The not-present entry.
    pub const EMPTY: Pte = Pte(0);

    /// Wraps a raw value read from a table.
    pub const fn from_raw(raw: u64) -> Self {
        Pte(raw)
    }

    /// The raw value.
    pub const fn raw(self) -> u64 {
        self.0
    }

    /// An entry pointing at `pfn` (a 4 KiB frame number; for a large leaf, the first 4 KiB frame
    /// of the large frame) with `flags`.
    pub const fn new(pfn: Pfn, flags: PteFlags) -> Self {
        Pte(((pfn.0 << 12) & FRAME_FIELD) | flags.bits())
    }

    /// The named flags that are set.
    pub const fn flags(self) -> PteFlags {
        PteFlags::from_bits_truncate(self.0)
    }

    /// Whether every flag in `f` is set.
    pub const fn has(self, f: PteFlags) -> bool {
        self.0 & f.bits() == f.bits()
    }

    /// P bit.
    pub const fn present(self) -> bool {
        self.0 & 1 != 0
    }

    /// Returns the entry with `f` set.
    pub const fn with(self, f: PteFlags) -> Self {
        Pte(self.0 | f.bits())
    }

    /// Returns the entry with `f` cleared.
    pub const fn without(self, f: PteFlags) -> Self {
        Pte(self.0 & !f.bits())
    }

    /// Replaces the permission-relevant flags (RW, US, XD) with those in `f`, keeping the rest.
    pub const fn with_permissions(self, f: PteFlags) -> Self {
        let perm = PteFlags::WRITABLE.bits() | PteFlags::USER.bits() | PteFlags::NO_EXECUTE.bits();
        Pte((self.0 & !perm) | (f.bits() & perm))
    }

    /// The referenced frame for a table entry or 4 KiB leaf: bits 12..M-1.
    pub const fn frame(self) -> Pfn {
        Pfn((self.0 & FRAME_FIELD) >> 12)
    }

    /// The frame of a large leaf (2 MiB or 1 GiB): bit 12 is PAT, so the frame starts at the
    /// page-size boundary. Returned as a 4 KiB frame number.
    pub const fn large_frame(self, size: PageSize) -> Pfn {
        Pfn((self.0 & FRAME_FIELD & !size.mask()) >> 12)
    }

    /// The protection key, bits 59..62 (used when CR4.PKE is set; §4.6.2).
    pub const fn pkey(self) -> u8 {
        ((self.0 & PKEY_MASK) >> PKEY_SHIFT) as u8
    }

    /// Returns the entry with protection key `key` (low 4 bits used).
    pub const fn with_pkey(self, key: u8) -> Self {
        Pte((self.0 & !PKEY_MASK) | (((key & 0xf) as u64) << PKEY_SHIFT))
    }

    /// Whether this entry, read at `level`, maps a page rather than referencing a table.
    pub const fn is_leaf(self, level: Level) -> bool {
        matches!(level, Level::Pt) || self.0 & PteFlags::HUGE.bits() != 0
    }

    /// Checks the bits a present entry at `level` must have clear (SDM §4.5, Tables 4-15..4-20;
    /// XD is not reserved because the model runs with IA32_EFER.NXE = 1).
    pub const fn check_reserved(self, level: Level, maxphyaddr: u8) -> Result<(), ReservedBits> {
        let above = if maxphyaddr >= 52 {
            0
        } else {
            FRAME_FIELD & !((1u64 << maxphyaddr) - 1)
        };
        if self.0 & above != 0 {
            return Err(ReservedBits::AboveMaxPhyAddr);
        }
        let huge = self.0 & PteFlags::HUGE.bits() != 0;
        match level {
            Level::Pml4 | Level::Pml5 if huge => Err(ReservedBits::PsAtRoot),
            Level::Pd | Level::Pdpt if huge => {
                // Bits 13..(shift-1) are reserved: the frame of a large page is aligned.
                let shift = if matches!(level, Level::Pd) { 21 } else { 30 };
                let rsvd = ((1u64 << shift) - 1) & !((1u64 << 13) - 1);
                if self.0 & rsvd != 0 {
                    Err(ReservedBits::LargeFrameMisaligned)
                } else {
                    Ok(())
                }
            }
            _ => Ok(()),
        }
    }

    /// Flag letters for explanations, e.g. `P RW US A D NX`; absent flags are omitted.
    pub fn describe(self, level: Level) -> String {
        let mut parts: Vec<&str> = Vec::new();
        let f = self.flags();
        let names: [(PteFlags, &str); 9] = [
            (PteFlags::PRESENT, "P"),
            (PteFlags::WRITABLE, "RW"),
            (PteFlags::USER, "US"),
            (PteFlags::WRITE_THROUGH, "PWT"),
            (PteFlags::CACHE_DISABLE, "PCD"),
            (PteFlags::ACCESSED, "A"),
            (PteFlags::DIRTY, "D"),
            (PteFlags::GLOBAL, "G"),
            (PteFlags::NO_EXECUTE, "NX"),
        ];
        for (flag, name) in names {
            if f.contains(flag) {
                parts.push(name);
            }
        }
        if f.contains(PteFlags::HUGE) {
            parts.push(if matches!(level, Level::Pt) {
                "PAT"
            } else {
                "PS"
            });
        }
        if !self.present() {
            return "not present".to_string();
        }
        let mut s = parts.join(" ");
        if self.pkey() != 0 {
            s.push_str(&format!(" PKEY={}", self.pkey()));
        }
        s
    }
}

impl fmt::Debug for Pte {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pte({:#018x})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_matches_sdm() {
        let e = Pte::new(
            Pfn(0x12345),
            PteFlags::PRESENT | PteFlags::WRITABLE | PteFlags::NO_EXECUTE,
        )
        .with_pkey(0xa);
        assert_eq!(e.raw(), 0x8000_0000_1234_5003 | (0xa << 59));
        assert_eq!(e.frame(), Pfn(0x12345));
        assert_eq!(e.pkey(), 0xa);
        assert!(e.present());
        assert!(e.has(PteFlags::NO_EXECUTE));
        assert!(!e.has(PteFlags::USER));
    }

    #[test]
    fn ignored_bits_survive() {
        // Bits 9..11 and 52..58 are available to software.
        let raw = 0x07f0_0000_0000_0e01;
        let e = Pte::from_raw(raw)
            .with(PteFlags::ACCESSED)
            .without(PteFlags::ACCESSED);
        assert_eq!(e.raw(), raw);
        assert_eq!(e.with_permissions(PteFlags::WRITABLE).raw(), raw | 2);
    }

    #[test]
    fn reserved_bits() {
        let e = Pte::from_raw(1 | (1 << 45));
        assert_eq!(e.check_reserved(Level::Pt, 46), Ok(()));
        assert_eq!(
            e.check_reserved(Level::Pt, 45),
            Err(ReservedBits::AboveMaxPhyAddr)
        );
        let ps = Pte::from_raw(1 | (1 << 7));
        assert_eq!(
            ps.check_reserved(Level::Pml4, 52),
            Err(ReservedBits::PsAtRoot)
        );
        assert_eq!(ps.check_reserved(Level::Pd, 52), Ok(()));
        let mis = Pte::from_raw(1 | (1 << 7) | (1 << 14));
        assert_eq!(
            mis.check_reserved(Level::Pd, 52),
            Err(ReservedBits::LargeFrameMisaligned)
        );
        // Bit 12 of a large leaf is PAT, not reserved.
        let pat = Pte::from_raw(1 | (1 << 7) | (1 << 12) | (1 << 21));
        assert_eq!(pat.check_reserved(Level::Pd, 52), Ok(()));
        assert_eq!(pat.large_frame(PageSize::SIZE_2M), Pfn(0x200));
        // A PTE's bit 7 is PAT and never reserved.
        assert_eq!(ps.check_reserved(Level::Pt, 52), Ok(()));
    }

    #[test]
    fn levels() {
        assert_eq!(Level::Pml5.next_lower(), Some(Level::Pml4));
        assert_eq!(Level::Pt.next_lower(), None);
        assert_eq!(Level::Pd.x86_leaf_size(), Some(PageSize::SIZE_2M));
        assert!(TableIndex::new(512).is_none());
        assert_eq!(TableIndex::truncate(0x3ff).get(), 0x1ff);
    }
}
