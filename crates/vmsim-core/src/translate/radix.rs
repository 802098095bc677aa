//! The radix (multi-level) page table: x86-64 4- and 5-level paging (Intel SDM Vol. 3A §4.5) and
//! the n-level teaching variant, on one walker.
//!
//! Tables are frames of simulated physical memory ([`PhysMem`]) holding real `u64` entries, so
//! page-table memory is counted like the kernel counts it and a walk reads what hardware reads.
//! Intermediate entries are permissive (P, R/W, U/S), as Linux writes them; the leaf carries the
//! page's real protection.

use crate::addr::{AddrError, PageSize, PagingMode, Pfn, PhysAddr, VirtAddr};
use crate::phys::{OutOfFrames, PhysMem, TableMemory};
use crate::pte::{Level, Pte, PteFlags, ReservedBits, TableIndex};
use crate::tlb::Rights;
use serde::Serialize;
use thiserror::Error;

/// The shape of a radix tree: address width, page size and index bits per level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Geometry {
    levels: u8,
    page_shift: u8,
    /// Index bits per level, `[0]` = level 1 (leaf tables).
    bits: [u8; 5],
    /// Shift of the lowest address bit that indexes each level.
    shifts: [u8; 5],
    va_bits: u8,
    /// x86-64: addresses must be canonical and PS leaves are allowed at PD and PDPT.
    x86: bool,
    /// `2^shifts[i]`, precomputed: the region one entry of each level covers.
    sizes: [PageSize; 5],
}

/// The page sizes of `shifts` (shifts beyond 40 bits, unused levels, clamp to 1 TiB).
const fn sizes_of(shifts: [u8; 5]) -> [PageSize; 5] {
    let mut out = [PageSize::SIZE_4K; 5];
    let mut i = 0;
    while i < 5 {
        out[i] = PageSize::from_shift_clamped(shifts[i]);
        i += 1;
    }
    out
}

/// A teaching geometry that does not add up.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum GeometryError {
    /// Levels outside 1..=5.
    #[error("a radix table needs 1 to 5 levels, not {0}")]
    Levels(usize),
    /// A level indexed by more than 9 bits (tables have at most 512 entries).
    #[error("level {level} has {bits} index bits; at most 9 are supported")]
    LevelBits {
        /// The level (1 = leaf tables).
        level: usize,
        /// Its bits.
        bits: u8,
    },
    /// Offset bits plus index bits do not equal the address width.
    #[error("page offset ({offset} bits) plus index bits ({index} bits) must equal the address width ({va_bits} bits)")]
    Width {
        /// Offset bits.
        offset: u32,
        /// Sum of index bits.
        index: u32,
        /// Address width.
        va_bits: u8,
    },
}

impl Geometry {
    /// x86-64 4- or 5-level paging with 4 KiB base pages.
    pub const fn x86(mode: PagingMode) -> Self {
        let levels = mode.levels();
        Geometry {
            levels,
            page_shift: 12,
            bits: [9; 5],
            shifts: [12, 21, 30, 39, 48],
            va_bits: mode.va_bits(),
            x86: true,
            sizes: sizes_of([12, 21, 30, 39, 48]),
        }
    }

    /// A textbook geometry: `va_bits`-bit addresses, pages of `page_size`, and `level_bits`
    /// index bits per level listed from the root down (e.g. OSTEP's `[5, 5]` with 32-byte pages
    /// and 15-bit addresses).
    pub fn teaching(
        va_bits: u8,
        page_size: PageSize,
        level_bits: &[u8],
    ) -> Result<Self, GeometryError> {
        let n = level_bits.len();
        if !(1..=5).contains(&n) {
            return Err(GeometryError::Levels(n));
        }
        let mut bits = [0u8; 5];
        for (i, &b) in level_bits.iter().rev().enumerate() {
            if b == 0 || b > 9 {
                return Err(GeometryError::LevelBits {
                    level: i + 1,
                    bits: b,
                });
            }
            bits[i] = b;
        }
        let index: u32 = level_bits.iter().map(|&b| b as u32).sum();
        if index + page_size.shift() != va_bits as u32 {
            return Err(GeometryError::Width {
                offset: page_size.shift(),
                index,
                va_bits,
            });
        }
        let mut shifts = [0u8; 5];
        let mut s = page_size.shift() as u8;
        for i in 0..n {
            shifts[i] = s;
            s += bits[i];
        }
        Ok(Geometry {
            levels: n as u8,
            page_shift: page_size.shift() as u8,
            bits,
            shifts,
            va_bits,
            x86: false,
            sizes: sizes_of(shifts),
        })
    }

    /// The root level.
    pub fn top(&self) -> Level {
        Level::from_number(self.levels).unwrap_or(Level::Pt)
    }

    /// Number of levels.
    pub const fn levels(&self) -> u8 {
        self.levels
    }

    /// Virtual-address width.
    pub const fn va_bits(&self) -> u8 {
        self.va_bits
    }

    /// The base page size.
    pub fn page_size(&self) -> PageSize {
        self.leaf_size(Level::Pt)
    }

    /// Whether this is an x86-64 geometry (canonical addresses, PS leaves at PD and PDPT).
    pub const fn is_x86(&self) -> bool {
        self.x86
    }

    /// The index bits of `level`.
    pub const fn bits(&self, level: Level) -> u8 {
        self.bits[level.index()]
    }

    /// The table index `va` selects at `level`.
    #[inline]
    pub const fn index(&self, va: VirtAddr, level: Level) -> TableIndex {
        let i = level.index();
        TableIndex::truncate((va.as_u64() >> self.shifts[i]) & ((1 << self.bits[i]) - 1))
    }

    /// The size of the page a leaf at `level` maps (or the region one entry at `level` covers).
    #[inline]
    pub fn leaf_size(&self, level: Level) -> PageSize {
        self.sizes[level.index()]
    }

    /// The level whose leaves map pages of `size`, if this geometry supports that size.
    pub fn level_for(&self, size: PageSize) -> Option<Level> {
        let allowed: &[Level] = if self.x86 {
            &[Level::Pt, Level::Pd, Level::Pdpt]
        } else {
            &[Level::Pt]
        };
        allowed
            .iter()
            .copied()
            .find(|&l| l.number() <= self.levels && self.leaf_size(l) == size)
    }

    /// Checks that `va` can be translated: canonical for x86-64, within the width otherwise.
    pub fn check(&self, va: VirtAddr) -> Result<(), AddrError> {
        let ok = if self.x86 {
            va.is_canonical(self.va_bits)
        } else {
            self.va_bits >= 64 || va.as_u64() >> self.va_bits == 0
        };
        if ok {
            Ok(())
        } else {
            Err(AddrError::NonCanonical {
                addr: va.as_u64(),
                bits: self.va_bits,
            })
        }
    }

    /// The physical address of `va` in a page that starts at frame `pfn` (in base-page units)
    /// and has size `size`.
    #[inline]
    pub const fn phys(&self, pfn: Pfn, size: PageSize, va: VirtAddr) -> PhysAddr {
        PhysAddr::from_frame_shift(pfn, self.page_shift as u32, va.as_u64() & size.mask())
    }
}

/// One entry read during a walk: what `--explain` prints for each level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct WalkStep {
    /// Level of the table read.
    pub level: Level,
    /// Frame holding that table.
    pub table: Pfn,
    /// Index used.
    pub index: TableIndex,
    /// Physical address of the entry.
    pub entry_addr: PhysAddr,
    /// The entry as read (before A/D updates).
    #[serde(serialize_with = "ser_pte")]
    pub pte: Pte,
}

fn ser_pte<S: serde::Serializer>(p: &Pte, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format!("{:#018x}", p.raw()))
}

/// The leaf a successful walk found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Leaf {
    /// Level of the leaf entry (Pt for 4 KiB, Pd for 2 MiB, Pdpt for 1 GiB).
    pub level: Level,
    /// Page size mapped.
    pub size: PageSize,
    /// First frame of the page (base-page units).
    pub pfn: Pfn,
    /// Rights combined over every level (R/W and U/S ANDed, XD ORed), leaf's D and key.
    pub rights: Rights,
    /// G bit of the leaf.
    pub global: bool,
    /// Where the leaf entry lives, to set A and D.
    pub table: Pfn,
    /// Index of the leaf entry in `table`.
    pub index: TableIndex,
}

/// Why a walk stopped without a leaf.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error, Serialize)]
#[serde(tag = "walk_fault", rename_all = "snake_case")]
pub enum WalkFault {
    /// An entry on the way had P = 0.
    #[error("{} not present", .level.entry_name())]
    NotPresent {
        /// Level of the non-present entry.
        level: Level,
    },
    /// An entry had reserved bits set.
    #[error("reserved bit set in {} ({why})", .level.entry_name())]
    Reserved {
        /// Level of the bad entry.
        level: Level,
        /// Which reserved bits.
        #[serde(skip)]
        why: ReservedBits,
    },
}

/// Rights of an entry, for combining along a walk.
#[inline]
pub(crate) const fn entry_rights(p: Pte) -> Rights {
    let r = p.raw();
    Rights {
        writable: r & PteFlags::WRITABLE.bits() != 0,
        user: r & PteFlags::USER.bits() != 0,
        no_execute: r & PteFlags::NO_EXECUTE.bits() != 0,
        dirty: r & PteFlags::DIRTY.bits() != 0,
        pkey: p.pkey(),
    }
}

/// Rights of the first entry of a walk: everything allowed until an entry says otherwise.
pub const ALL_RIGHTS: Rights = Rights {
    writable: true,
    user: true,
    no_execute: false,
    dirty: false,
    pkey: 0,
};

#[inline]
pub(crate) const fn combine(acc: Rights, e: Rights) -> Rights {
    Rights {
        writable: acc.writable && e.writable,
        user: acc.user && e.user,
        no_execute: acc.no_execute || e.no_execute,
        dirty: e.dirty,
        pkey: e.pkey,
    }
}

/// Where a walk begins: the root, or the table a page-walk cache pointed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WalkFrom {
    /// Frame of the first table to read.
    pub table: Pfn,
    /// Its level.
    pub level: Level,
    /// Rights combined over the entries skipped ([`ALL_RIGHTS`] from the root).
    pub rights: Rights,
}

/// Walks from `from` (the root, or where a page-walk cache left off). `on_step` sees every entry
/// read, in order; the walk sets A in every non-leaf entry it uses (the leaf's A and D are set
/// by the MMU once the access is allowed). The outer error is the memory's: an entry that could
/// not be reached at all (never, for [`PhysMem`]); the inner one is the walk's own fault.
#[inline]
pub fn walk<M: TableMemory>(
    mem: &mut M,
    geom: &Geometry,
    maxphyaddr: u8,
    va: VirtAddr,
    from: WalkFrom,
    mut on_step: impl FnMut(&WalkStep),
) -> Result<Result<Leaf, WalkFault>, M::Error> {
    let WalkFrom {
        mut table,
        mut level,
        mut rights,
    } = from;
    loop {
        let index = geom.index(va, level);
        let pte = mem.read_entry(table, index)?;
        on_step(&WalkStep {
            level,
            table,
            index,
            entry_addr: PhysMem::entry_addr(table, index),
            pte,
        });
        if !pte.present() {
            return Ok(Err(WalkFault::NotPresent { level }));
        }
        if let Err(why) = pte.check_reserved(level, maxphyaddr) {
            return Ok(Err(WalkFault::Reserved { level, why }));
        }
        rights = combine(rights, entry_rights(pte));
        let leaf = match level.next_lower() {
            None => true,
            Some(_) => geom.x86 && pte.has(PteFlags::HUGE),
        };
        if leaf {
            let size = geom.leaf_size(level);
            let pfn = if level == Level::Pt {
                pte.frame()
            } else {
                pte.large_frame(size)
            };
            return Ok(Ok(Leaf {
                level,
                size,
                pfn,
                rights,
                global: pte.has(PteFlags::GLOBAL),
                table,
                index,
            }));
        }
        if !pte.has(PteFlags::ACCESSED) {
            mem.write_entry(table, index, pte.with(PteFlags::ACCESSED))?;
        }
        table = pte.frame();
        level = match level.next_lower() {
            Some(l) => l,
            None => return Ok(Err(WalkFault::NotPresent { level })),
        };
    }
}

/// Why a mapping change failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MapError {
    /// The address is not canonical / not within the address width.
    #[error(transparent)]
    Address(#[from] AddrError),
    /// The geometry has no leaf level for this page size.
    #[error("page size {0} is not supported by this page table")]
    Size(PageSize),
    /// The address is not aligned to the page size.
    #[error("address {va} is not aligned to {size}")]
    Misaligned {
        /// Address.
        va: VirtAddr,
        /// Page size.
        size: PageSize,
    },
    /// Something is already mapped there (a page, or a larger page covering it).
    #[error("address {0} is already mapped")]
    AlreadyMapped(VirtAddr),
    /// A 2 MiB or 1 GiB mapping would cover an existing table of smaller pages.
    #[error("a {size} page at {va} would replace a table of smaller pages")]
    CoversTable {
        /// Address.
        va: VirtAddr,
        /// Page size.
        size: PageSize,
    },
    /// Nothing mapped at the address.
    #[error("address {0} is not mapped")]
    NotMapped(VirtAddr),
    /// No frame for a new table.
    #[error(transparent)]
    OutOfMemory(#[from] OutOfFrames),
}

/// A translation the TLBs and page-walk caches may still hold after a mapping changed. Drop it
/// only after invalidating `page` (INVLPG or a shootdown) on every CPU that may cache it.
#[must_use = "a changed mapping must be invalidated in the TLBs that may hold it"]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flush {
    /// Address whose translation changed.
    pub va: VirtAddr,
    /// Size of the page it belonged to.
    pub size: PageSize,
    /// Whether table pages were freed (page-walk caches may hold pointers to them).
    pub tables_freed: bool,
}

/// What `unmap` removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unmapped {
    /// The leaf entry that was removed (its A and D bits tell whether the page was used/dirty).
    pub pte: Pte,
    /// The page's first frame.
    pub pfn: Pfn,
    /// Its size.
    pub size: PageSize,
    /// The invalidation obligation.
    pub flush: Flush,
}

/// The (table, index) pair used at each level of a lookup, PT first.
type Path = [(Pfn, TableIndex); 5];

/// A radix page table: a root frame plus the count of table pages per level.
#[derive(Debug, Clone)]
pub struct RadixTable {
    geom: Geometry,
    root: Pfn,
    pages: [u64; 5],
}

impl RadixTable {
    /// An empty table (one root page).
    pub fn new(geom: Geometry, mem: &mut PhysMem) -> Result<Self, OutOfFrames> {
        let root = mem.alloc_table()?;
        let mut pages = [0; 5];
        pages[geom.top().index()] = 1;
        Ok(RadixTable { geom, root, pages })
    }

    /// The root table's frame (what CR3 holds).
    pub fn root(&self) -> Pfn {
        self.root
    }

    /// Where a walk of this table starts: the root, with nothing restricted yet.
    pub fn from_root(&self) -> WalkFrom {
        WalkFrom {
            table: self.root,
            level: self.geom.top(),
            rights: ALL_RIGHTS,
        }
    }

    /// The geometry.
    pub fn geometry(&self) -> &Geometry {
        &self.geom
    }

    /// Table pages in use per level, `[0]` = leaf tables (PT).
    pub fn table_pages(&self) -> [u64; 5] {
        self.pages
    }

    /// Total table pages.
    pub fn total_table_pages(&self) -> u64 {
        self.pages.iter().sum()
    }

    /// Maps the page of `size` at `va` to frame `pfn` with leaf `flags` (P is added; PS is added
    /// for large pages). Missing tables are allocated.
    pub fn map(
        &mut self,
        mem: &mut PhysMem,
        va: VirtAddr,
        size: PageSize,
        pfn: Pfn,
        flags: PteFlags,
    ) -> Result<(), MapError> {
        self.geom.check(va)?;
        let target = self.geom.level_for(size).ok_or(MapError::Size(size))?;
        if va.page_offset(size) != 0 {
            return Err(MapError::Misaligned { va, size });
        }
        let mut table = self.root;
        let mut level = self.geom.top();
        while level != target {
            let idx = self.geom.index(va, level);
            let e = mem.read(table, idx);
            let next = level.next_lower().ok_or(MapError::Size(size))?;
            if e.present() {
                if e.is_leaf(level) {
                    return Err(MapError::AlreadyMapped(va));
                }
                table = e.frame();
            } else {
                let t = mem.alloc_table()?;
                self.pages[next.index()] += 1;
                let up = PteFlags::PRESENT | PteFlags::WRITABLE | PteFlags::USER;
                mem.write(table, idx, Pte::new(t, up));
                table = t;
            }
            level = next;
        }
        let idx = self.geom.index(va, level);
        let e = mem.read(table, idx);
        if e.present() {
            return Err(if e.is_leaf(level) {
                MapError::AlreadyMapped(va)
            } else {
                MapError::CoversTable { va, size }
            });
        }
        let mut f = flags | PteFlags::PRESENT;
        if level != Level::Pt {
            f |= PteFlags::HUGE;
        }
        mem.write(table, idx, Pte::new(pfn, f).with_pkey(0));
        Ok(())
    }

    /// Finds the leaf mapping `va` without touching A/D bits: the path of (table, index) pairs
    /// from the root, and the leaf entry.
    fn find(&self, mem: &PhysMem, va: VirtAddr) -> Option<(Path, Level, Pte)> {
        self.geom.check(va).ok()?;
        let mut path = [(Pfn(0), TableIndex::truncate(0)); 5];
        let mut table = self.root;
        let mut level = self.geom.top();
        loop {
            let idx = self.geom.index(va, level);
            path[level.index()] = (table, idx);
            let e = mem.read(table, idx);
            if !e.present() {
                return None;
            }
            if e.is_leaf(level) && (self.geom.x86 || level == Level::Pt) {
                return Some((path, level, e));
            }
            table = e.frame();
            level = level.next_lower()?;
        }
    }

    /// The leaf entry mapping `va` and the size of its page, read without side effects.
    pub fn lookup(&self, mem: &PhysMem, va: VirtAddr) -> Option<(Pte, PageSize)> {
        self.find(mem, va)
            .map(|(_, level, e)| (e, self.geom.leaf_size(level)))
    }

    /// Frees the tables on `path` that hold nothing, from `level` up (never the root), clearing
    /// the entries that pointed to them. Returns whether any was freed.
    fn free_empty_tables(&mut self, mem: &mut PhysMem, path: &Path, level: Level) -> bool {
        let mut freed = false;
        let mut l = level;
        while l != self.geom.top() && mem.used_entries(path[l.index()].0) == 0 {
            let Some(parent) = Level::from_number(l.number() + 1) else {
                break;
            };
            let (pt, pi) = path[parent.index()];
            mem.free_table(path[l.index()].0);
            self.pages[l.index()] -= 1;
            mem.write(pt, pi, Pte::EMPTY);
            freed = true;
            l = parent;
        }
        freed
    }

    /// Removes the page mapping `va` (of whatever size) and frees tables that became empty.
    pub fn unmap(&mut self, mem: &mut PhysMem, va: VirtAddr) -> Result<Unmapped, MapError> {
        let (path, level, pte) = self.find(mem, va).ok_or(MapError::NotMapped(va))?;
        let size = self.geom.leaf_size(level);
        let (t, i) = path[level.index()];
        mem.write(t, i, Pte::EMPTY);
        let tables_freed = self.free_empty_tables(mem, &path, level);
        let pfn = if level == Level::Pt {
            pte.frame()
        } else {
            pte.large_frame(size)
        };
        Ok(Unmapped {
            pte,
            pfn,
            size,
            flush: Flush {
                va: va.align_down(size),
                size,
                tables_freed,
            },
        })
    }

    /// The raw level-1 (4 KiB) entry for `va`, present or not, if the tables down to it exist
    /// and no large page covers `va`. Kernels keep swap entries in non-present PTEs.
    pub fn pte(&self, mem: &PhysMem, va: VirtAddr) -> Option<Pte> {
        self.geom.check(va).ok()?;
        let mut table = self.root;
        let mut level = self.geom.top();
        loop {
            let e = mem.read(table, self.geom.index(va, level));
            let Some(lower) = level.next_lower() else {
                return Some(e);
            };
            if !e.present() || e.is_leaf(level) {
                return None;
            }
            table = e.frame();
            level = lower;
        }
    }

    /// Writes the raw level-1 entry for `va` (allocating tables on the way; freeing them when
    /// the entry written is zero and they become empty). Returns the old entry and the flush
    /// obligation for it.
    pub fn set_pte(
        &mut self,
        mem: &mut PhysMem,
        va: VirtAddr,
        pte: Pte,
    ) -> Result<(Pte, Flush), MapError> {
        self.geom.check(va)?;
        let page = self.geom.page_size();
        let va = va.align_down(page);
        let mut table = self.root;
        let mut level = self.geom.top();
        let mut path: Path = [(Pfn(0), TableIndex::truncate(0)); 5];
        while let Some(lower) = level.next_lower() {
            let idx = self.geom.index(va, level);
            path[level.index()] = (table, idx);
            let e = mem.read(table, idx);
            if e.present() {
                if e.is_leaf(level) {
                    return Err(MapError::AlreadyMapped(va));
                }
                table = e.frame();
            } else {
                if pte.raw() == 0 {
                    return Ok((
                        Pte::EMPTY,
                        Flush {
                            va,
                            size: page,
                            tables_freed: false,
                        },
                    ));
                }
                let t = mem.alloc_table()?;
                self.pages[lower.index()] += 1;
                let up = PteFlags::PRESENT | PteFlags::WRITABLE | PteFlags::USER;
                mem.write(table, idx, Pte::new(t, up));
                table = t;
            }
            level = lower;
        }
        let idx = self.geom.index(va, Level::Pt);
        path[0] = (table, idx);
        let old = mem.read(table, idx);
        mem.write(table, idx, pte);
        let tables_freed = pte.raw() == 0 && self.free_empty_tables(mem, &path, Level::Pt);
        Ok((
            old,
            Flush {
                va,
                size: page,
                tables_freed,
            },
        ))
    }

    /// Replaces the permission bits (R/W, U/S, XD) of the leaf mapping `va`.
    pub fn protect(
        &mut self,
        mem: &mut PhysMem,
        va: VirtAddr,
        perms: PteFlags,
    ) -> Result<Flush, MapError> {
        let (path, level, pte) = self.find(mem, va).ok_or(MapError::NotMapped(va))?;
        let (t, i) = path[level.index()];
        mem.write(t, i, pte.with_permissions(perms));
        let size = self.geom.leaf_size(level);
        Ok(Flush {
            va: va.align_down(size),
            size,
            tables_freed: false,
        })
    }

    /// Calls `f(va, entry)` for every non-zero leaf entry (present pages of any size, and swap
    /// entries in page tables), in address order.
    pub fn for_each_leaf(&self, mem: &PhysMem, mut f: impl FnMut(VirtAddr, Pte, PageSize)) {
        fn rec(
            mem: &PhysMem,
            geom: &Geometry,
            table: Pfn,
            level: Level,
            base: u64,
            f: &mut dyn FnMut(VirtAddr, Pte, PageSize),
        ) {
            let shift = geom.shifts[level.index()];
            for i in 0..(1u16 << geom.bits(level)) {
                let Some(idx) = TableIndex::new(i) else { break };
                let e = mem.read(table, idx);
                if e.raw() == 0 {
                    continue;
                }
                let mut va = base | ((i as u64) << shift);
                if geom.x86 && va & (1 << 47) != 0 && geom.va_bits == 48 {
                    va |= 0xffff_0000_0000_0000;
                } else if geom.x86 && va & (1 << 56) != 0 && geom.va_bits == 57 {
                    va |= 0xff00_0000_0000_0000;
                }
                match level.next_lower() {
                    Some(lower) if e.present() && !(geom.x86 && e.has(PteFlags::HUGE)) => {
                        rec(mem, geom, e.frame(), lower, va, f)
                    }
                    _ => f(VirtAddr::new_unchecked(va), e, geom.leaf_size(level)),
                }
            }
        }
        rec(mem, &self.geom, self.root, self.geom.top(), 0, &mut f);
    }

    /// Frees every table page (the process exits). Data frames are the caller's.
    pub fn destroy(self, mem: &mut PhysMem) {
        fn free_rec(mem: &mut PhysMem, geom: &Geometry, table: Pfn, level: Level) {
            if let Some(lower) = level.next_lower() {
                for i in 0..(1u16 << geom.bits(level)) {
                    let Some(idx) = TableIndex::new(i) else { break };
                    let e = mem.read(table, idx);
                    if e.present() && !(geom.x86 && e.has(PteFlags::HUGE)) {
                        free_rec(mem, geom, e.frame(), lower);
                    }
                }
            }
            mem.free_table(table);
        }
        let top = self.geom.top();
        free_rec(mem, &self.geom, self.root, top);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A walk over physical memory, which reaches every entry.
    fn phys_walk(
        mem: &mut PhysMem,
        g: &Geometry,
        va: VirtAddr,
        from: WalkFrom,
        on_step: impl FnMut(&WalkStep),
    ) -> Result<Leaf, WalkFault> {
        walk(mem, g, 52, va, from, on_step).unwrap_or_else(|never| match never {})
    }

    /// Table memory reached through another translation, as a guest's is under nested paging:
    /// it logs each entry the walk touches, and one frame cannot be reached.
    struct Translated<'a> {
        mem: &'a mut PhysMem,
        log: Vec<(char, Pfn, usize)>,
        unreachable: Option<Pfn>,
    }

    impl TableMemory for Translated<'_> {
        type Error = Pfn;
        fn read_entry(&mut self, table: Pfn, index: TableIndex) -> Result<Pte, Pfn> {
            if Some(table) == self.unreachable {
                return Err(table);
            }
            self.log.push(('r', table, index.get()));
            Ok(self.mem.read(table, index))
        }
        fn write_entry(&mut self, table: Pfn, index: TableIndex, pte: Pte) -> Result<(), Pfn> {
            self.log.push(('w', table, index.get()));
            self.mem.write(table, index, pte);
            Ok(())
        }
    }

    #[test]
    fn a_walk_reaches_tables_only_through_its_table_memory() {
        let g = Geometry::x86(PagingMode::Level4);
        let mut mem = PhysMem::new(1 << 12);
        let mut pt = RadixTable::new(g, &mut mem).unwrap();
        let va = VirtAddr::new_unchecked(0x7f12_3456_7000);
        let f = mem.frames().alloc(0).unwrap();
        pt.map(&mut mem, va, PageSize::SIZE_4K, f, flags()).unwrap();
        let mut seen = Vec::new();
        let mut t = Translated {
            mem: &mut mem,
            log: Vec::new(),
            unreachable: None,
        };
        let leaf = walk(&mut t, &g, 52, va, pt.from_root(), |s| seen.push(s.table))
            .unwrap()
            .unwrap();
        assert_eq!(leaf.pfn, f);
        // Four reads, one per level from the root, and an A-bit write after each of the three
        // upper levels (the leaf's A and D are the MMU's to set).
        let reads: Vec<Pfn> = t.log.iter().filter(|e| e.0 == 'r').map(|e| e.1).collect();
        assert_eq!(reads, seen);
        assert_eq!(reads.len(), 4);
        assert_eq!(reads[0], pt.root());
        let kinds: String = t.log.iter().map(|e| e.0).collect();
        assert_eq!(kinds, "rwrwrwr");
        // A second walk finds A set: it reads and writes nothing else.
        t.log.clear();
        walk(&mut t, &g, 52, va, pt.from_root(), |_| {})
            .unwrap()
            .unwrap();
        assert_eq!(t.log.iter().filter(|e| e.0 == 'w').count(), 0);
        // An entry that cannot be reached stops the walk with the memory's error, not a fault.
        t.unreachable = Some(reads[2]);
        t.log.clear();
        assert_eq!(
            walk(&mut t, &g, 52, va, pt.from_root(), |_| {}).unwrap_err(),
            reads[2]
        );
        assert_eq!(t.log.len(), 2);
    }

    fn flags() -> PteFlags {
        PteFlags::WRITABLE | PteFlags::USER
    }

    #[test]
    fn one_page_per_2m_across_2g_counts_tables() {
        // From first principles: 2 GiB from a 1 GiB-aligned start spans 2 PDPT entries (2 PDs),
        // 1024 PD entries (1024 PTs), one PDPT and one PML4.
        let mut mem = PhysMem::new(1 << 24);
        let mut pt = RadixTable::new(Geometry::x86(PagingMode::Level4), &mut mem).unwrap();
        let start = 1u64 << 30;
        for i in 0..1024u64 {
            let va = VirtAddr::new_unchecked(start + i * (2 << 20) + 0x5000);
            let f = mem.frames().alloc(0).unwrap();
            pt.map(
                &mut mem,
                va.align_down(PageSize::SIZE_4K),
                PageSize::SIZE_4K,
                f,
                flags(),
            )
            .unwrap();
        }
        assert_eq!(pt.table_pages(), [1024, 2, 1, 1, 0]);
    }

    #[test]
    fn walk_reads_real_entries_and_huge_pages() {
        let mut mem = PhysMem::new(1 << 24);
        let g = Geometry::x86(PagingMode::Level5);
        let mut pt = RadixTable::new(g, &mut mem).unwrap();
        let va = VirtAddr::try_new(0x00ab_cdef_1234_5678, 57).unwrap();
        let big = mem.frames().alloc(9).unwrap();
        pt.map(
            &mut mem,
            va.align_down(PageSize::SIZE_2M),
            PageSize::SIZE_2M,
            big,
            flags(),
        )
        .unwrap();
        assert_eq!(pt.table_pages(), [0, 1, 1, 1, 1]);
        let mut steps = Vec::new();
        let leaf = phys_walk(&mut mem, &g, va, pt.from_root(), |s| steps.push(*s)).unwrap();
        assert_eq!(steps.len(), 4); // PML5E, PML4E, PDPTE, PDE (leaf)
        assert_eq!(leaf.level, Level::Pd);
        assert_eq!(leaf.size, PageSize::SIZE_2M);
        assert_eq!(
            g.phys(leaf.pfn, leaf.size, va).as_u64(),
            (big.0 << 12) + (va.as_u64() & 0x1f_ffff)
        );
        assert_eq!(steps[0].index.get() as u64, (va.as_u64() >> 48) & 0x1ff);
        // A was set on the non-leaf entries.
        assert!(mem
            .read(steps[0].table, steps[0].index)
            .has(PteFlags::ACCESSED));
        // Mapping a 4K page inside the 2M page is refused.
        let f = mem.frames().alloc(0).unwrap();
        assert_eq!(
            pt.map(
                &mut mem,
                va.align_down(PageSize::SIZE_4K),
                PageSize::SIZE_4K,
                f,
                flags()
            ),
            Err(MapError::AlreadyMapped(va.align_down(PageSize::SIZE_4K)))
        );
    }

    #[test]
    fn unmap_frees_empty_tables() {
        let mut mem = PhysMem::new(1 << 20);
        let g = Geometry::x86(PagingMode::Level4);
        let mut pt = RadixTable::new(g, &mut mem).unwrap();
        let a = VirtAddr::new_unchecked(0x7f00_0000_0000);
        let b = VirtAddr::new_unchecked(0x7f00_0000_1000);
        for va in [a, b] {
            let f = mem.frames().alloc(0).unwrap();
            pt.map(&mut mem, va, PageSize::SIZE_4K, f, flags()).unwrap();
        }
        let before = mem.frames_in_use();
        assert_eq!(pt.table_pages(), [1, 1, 1, 1, 0]);
        let u = pt.unmap(&mut mem, a).unwrap();
        assert!(!u.flush.tables_freed);
        assert_eq!(pt.table_pages(), [1, 1, 1, 1, 0]);
        let u = pt.unmap(&mut mem, b).unwrap();
        assert!(u.flush.tables_freed);
        assert_eq!(pt.table_pages(), [0, 0, 0, 1, 0]);
        assert_eq!(mem.frames_in_use(), before - 3);
        assert_eq!(pt.unmap(&mut mem, b), Err(MapError::NotMapped(b)));
        assert_eq!(
            phys_walk(&mut mem, &g, b, pt.from_root(), |_| {}),
            Err(WalkFault::NotPresent { level: Level::Pml4 })
        );
    }

    #[test]
    fn protect_changes_rights_only() {
        let mut mem = PhysMem::new(1 << 20);
        let g = Geometry::x86(PagingMode::Level4);
        let mut pt = RadixTable::new(g, &mut mem).unwrap();
        let va = VirtAddr::new_unchecked(0x40_0000);
        pt.map(&mut mem, va, PageSize::SIZE_4K, Pfn(77), flags())
            .unwrap();
        let _ = pt
            .protect(&mut mem, va, PteFlags::USER | PteFlags::NO_EXECUTE)
            .unwrap();
        let leaf = phys_walk(&mut mem, &g, va, pt.from_root(), |_| {}).unwrap();
        assert_eq!(leaf.pfn, Pfn(77));
        assert!(!leaf.rights.writable && leaf.rights.user && leaf.rights.no_execute);
    }

    #[test]
    fn teaching_geometry() {
        // OSTEP's two-level machine: 15-bit addresses, 32-byte pages, 5+5 index bits.
        let g = Geometry::teaching(15, PageSize::try_from_bytes(32).unwrap(), &[5, 5]).unwrap();
        assert_eq!(g.top(), Level::Pd);
        let va = VirtAddr::new_unchecked(0x611c);
        assert_eq!(g.index(va, Level::Pd).get(), 0x611c >> 10);
        assert_eq!(g.index(va, Level::Pt).get(), (0x611c >> 5) & 31);
        let mut mem = PhysMem::new(1 << 10);
        let mut pt = RadixTable::new(g, &mut mem).unwrap();
        pt.map(
            &mut mem,
            va.align_down(g.page_size()),
            g.page_size(),
            Pfn(0x13),
            flags(),
        )
        .unwrap();
        let leaf = phys_walk(&mut mem, &g, va, pt.from_root(), |_| {}).unwrap();
        assert_eq!(
            g.phys(leaf.pfn, leaf.size, va).as_u64(),
            (0x13 << 5) | (0x611c & 31)
        );
        assert!(g.check(VirtAddr::new_unchecked(1 << 15)).is_err());
        assert!(Geometry::teaching(16, PageSize::try_from_bytes(32).unwrap(), &[5, 5]).is_err());
        assert!(Geometry::teaching(25, PageSize::try_from_bytes(32).unwrap(), &[10, 10]).is_err());
    }
}
