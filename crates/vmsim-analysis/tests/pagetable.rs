//! The counted radix figure equals the table pages the real x86-64 radix table allocates, and the
//! inverted and hashed figures come from tables that translate every page.
use proptest::prelude::*;
use vmsim_analysis::pagetable::{compare, Layout};
use vmsim_core::phys::memory::PhysMem;
use vmsim_core::pte::PteFlags;
use vmsim_core::translate::radix::{Geometry, RadixTable};
use vmsim_core::{PageSize, PagingMode, Pfn, VirtAddr};

proptest! {
    #[test]
    fn counted_radix_equals_the_real_table(
        runs in prop::collection::vec((0u64..1 << 35, 1u64..600), 1..6),
    ) {
        let mut pages: Vec<u64> = runs
            .iter()
            .flat_map(|&(start, len)| start..(start + len).min(1 << 35))
            .collect();
        pages.sort_unstable();
        pages.dedup();
        let mut mem = PhysMem::new(1 << 16);
        let mut pt = RadixTable::new(Geometry::x86(PagingMode::Level4), &mut mem).unwrap();
        for (i, &v) in pages.iter().enumerate() {
            let va = VirtAddr::new_unchecked(v << 12);
            pt.map(&mut mem, va, PageSize::SIZE_4K, Pfn(1 << 20 | i as u64), PteFlags::WRITABLE)
                .unwrap();
        }
        let weighted: Vec<(u64, u64)> = pages.iter().map(|&v| (v, 1)).collect();
        let r = compare(&weighted, &Layout::x86_64(), pages.len() as u32, 16).unwrap();
        prop_assert_eq!(r[1].name, "radix");
        prop_assert_eq!(r[1].bytes, u128::from(pt.total_table_pages()) * 4096);
        for o in &r[2..] {
            prop_assert!(o.refs_per_translation >= 2.0, "{}: {}", o.name, o.refs_per_translation);
        }
    }
}
