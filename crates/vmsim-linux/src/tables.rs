//! The page tables a process's mapped pages need, counted by building vmsim's radix model
//! ([`vmsim_core::radix::RadixTable`]) from the pages pagemap reports, and held against the
//! kernel's `VmPTE`.
//!
//! Linux counts in `VmPTE` (mm_pgtables_bytes, mm/memory.c) every PTE, PMD and PUD table page;
//! the top level (PGD) is not counted. An anonymous transparent huge page is mapped by a PMD
//! entry, but the kernel sets a PTE table aside for it (`pgtable_trans_huge_deposit`,
//! mm/huge_memory.c) so that splitting it never fails, and counts that table too; the model
//! maps such a page as a 2 MiB leaf and reports the deposited tables separately. The kernel
//! frees a table only when munmap removes the whole range it covers (free_pgtables), so after
//! MADV_DONTNEED or a partial unmap it may hold empty tables that no page needs: the model is
//! then a lower bound.
use serde::Serialize;
use vmsim_core::phys::PhysMem;
use vmsim_core::radix::{Geometry, MapError, RadixTable};
use vmsim_core::{PageSize, PagingMode, Pfn, PteFlags, VirtAddr};

/// A page the model maps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Leaf {
    /// Its first address.
    pub va: u64,
    /// 4 KiB or 2 MiB.
    pub size: PageSize,
    /// Frame, when known.
    pub pfn: Option<u64>,
    /// An anonymous huge page, for which the kernel deposits a PTE table.
    pub deposits_pte: bool,
}

/// Table pages per level (Linux's names: PUD = PDPT, PMD = PD, PTE = PT).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct TablePages {
    /// Root (PGD / PML4): not in `VmPTE`.
    pub pgd: u64,
    /// Page-upper-directory pages.
    pub pud: u64,
    /// Page-middle-directory pages.
    pub pmd: u64,
    /// Page-table (leaf table) pages.
    pub pte: u64,
    /// PTE tables the kernel deposits for anonymous PMD-mapped huge pages.
    pub thp_deposit: u64,
}

impl TablePages {
    /// The pages `VmPTE` counts: PTE (with deposits), PMD and PUD.
    pub fn vmpte_pages(&self) -> u64 {
        self.pte + self.thp_deposit + self.pmd + self.pud
    }
}

/// How the model compares with the kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Agreement {
    /// The model needs exactly the tables the kernel holds.
    Exact,
    /// The kernel holds `extra_pages` table pages that no mapped page needs (kept after memory
    /// was freed): the model is a lower bound.
    LowerBound {
        /// Kernel pages minus model pages.
        extra_pages: u64,
    },
    /// The model needs more than the kernel holds: the process changed while it was read.
    ModelAbove {
        /// Model pages minus kernel pages.
        extra_pages: u64,
    },
    /// The pages could not be read (pagemap unreadable), so no model was built.
    NotModelled,
}

impl Agreement {
    /// Compares model pages with `VmPTE` in KiB.
    pub fn of(model_pages: u64, vmpte_kib: u64) -> Self {
        let kernel = vmpte_kib / 4;
        match model_pages.cmp(&kernel) {
            std::cmp::Ordering::Equal => Agreement::Exact,
            std::cmp::Ordering::Less => Agreement::LowerBound {
                extra_pages: kernel - model_pages,
            },
            std::cmp::Ordering::Greater => Agreement::ModelAbove {
                extra_pages: model_pages - kernel,
            },
        }
    }
}

/// Builds the 4-level radix tree (5-level if a page lies above 47 bits) holding `leaves`
/// and counts its table pages. Leaves must not overlap.
pub fn model_tables(leaves: &[Leaf]) -> Result<TablePages, MapError> {
    let mode = if leaves.iter().any(|l| l.va >> 47 != 0) {
        PagingMode::Level5
    } else {
        PagingMode::Level4
    };
    // Each leaf adds at most one table per level below the root.
    let frames = 16 + 4 * leaves.len() as u64;
    let mut mem = PhysMem::new(frames);
    let mut t = RadixTable::new(Geometry::x86(mode), &mut mem)?;
    let mut deposits = 0;
    for l in leaves {
        let va = VirtAddr::new_unchecked(l.va);
        let flags = PteFlags::USER | PteFlags::WRITABLE;
        t.map(&mut mem, va, l.size, Pfn(l.pfn.unwrap_or(0)), flags)?;
        deposits += u64::from(l.deposits_pte);
    }
    let p = t.table_pages();
    let top = mode.levels() as usize - 1;
    Ok(TablePages {
        pgd: p[top],
        pud: p[2],
        pmd: p[1],
        pte: p[0],
        thp_deposit: deposits,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    fn small(va: u64) -> Leaf {
        Leaf {
            va,
            size: PageSize::SIZE_4K,
            pfn: None,
            deposits_pte: false,
        }
    }

    #[test]
    fn hand_counted_layouts() {
        // Two pages in one 2 MiB region, one in the next GiB, one in another 512 GiB region.
        let v = [0x40_0000, 0x40_1000, 0x4000_0000, 0x7f00_0000_0000].map(small);
        let t = model_tables(&v).unwrap();
        assert_eq!((t.pgd, t.pud, t.pmd, t.pte), (1, 2, 3, 3));
        assert_eq!(t.vmpte_pages(), 8);
        // A THP: a PMD leaf, no PTE table, but a deposited one.
        let huge = Leaf {
            va: 0x60_0000,
            size: PageSize::SIZE_2M,
            pfn: Some(512),
            deposits_pte: true,
        };
        let t = model_tables(&[huge, small(0x40_0000)]).unwrap();
        assert_eq!((t.pud, t.pmd, t.pte, t.thp_deposit), (1, 1, 1, 1));
        assert_eq!(Agreement::of(t.vmpte_pages(), 16), Agreement::Exact);
        assert_eq!(
            Agreement::of(4, 24),
            Agreement::LowerBound { extra_pages: 2 }
        );
        assert_eq!(
            Agreement::of(4, 12),
            Agreement::ModelAbove { extra_pages: 1 }
        );
    }

    proptest! {
        /// The tree's table counts equal the distinct prefixes of the page numbers.
        #[test]
        fn counts_are_distinct_prefixes(pages in proptest::collection::btree_set(0u64..(1 << 35), 1..200)) {
            let leaves: Vec<Leaf> = pages.iter().map(|&p| small(p << 12)).collect();
            let t = model_tables(&leaves).unwrap();
            let distinct = |shift: u32| pages.iter().map(|p| p >> shift).collect::<BTreeSet<_>>().len() as u64;
            prop_assert_eq!(t.pte, distinct(9));
            prop_assert_eq!(t.pmd, distinct(18));
            prop_assert_eq!(t.pud, distinct(27));
            prop_assert_eq!(t.pgd, 1);
        }
    }
}
