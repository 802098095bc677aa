//! One suite for every software-visible translation mechanism behind `Translate`: addresses
//! inside translate to the expected place, those outside fault with the right cause, and no
//! address makes a mechanism panic.
use proptest::prelude::*;
use vmsim_core::translate::base_bounds::BaseBounds;
use vmsim_core::translate::byte_radix::{ByteRadix, EntryFormat};
use vmsim_core::translate::hashed::HashedTable;
use vmsim_core::translate::inverted::InvertedTable;
use vmsim_core::translate::linear::LinearTable;
use vmsim_core::translate::segmentation::{Segment, Segmentation, Selector};
use vmsim_core::translate::{PagePerm, Translate, TranslateFault};
use vmsim_core::{AccessKind, PageSize, VirtAddr};

fn t(m: &dyn Translate, va: u64, k: AccessKind) -> Result<u64, TranslateFault> {
    m.translate(VirtAddr::new_unchecked(va), k)
        .map(|p| p.as_u64())
}

#[test]
fn base_and_bounds() {
    let m = BaseBounds {
        base: 0x4000,
        bounds: 0x1000,
    };
    assert_eq!(t(&m, 0, AccessKind::Read), Ok(0x4000));
    assert_eq!(t(&m, 0xfff, AccessKind::Write), Ok(0x4fff));
    assert_eq!(
        t(&m, 0x1000, AccessKind::Read),
        Err(TranslateFault::OutOfBounds {
            va: 0x1000,
            bounds: 0x1000
        })
    );
    assert_eq!(m.name(), "base-bounds");
}

#[test]
fn segmentation_with_top_bits_and_protection() {
    // 16-bit addresses, 2 selector bits: code (r-x), heap (rw-), stack (rw-, grows down).
    let mut code = Segment::up(0x8000, 0x800);
    code.write = false;
    code.exec = true;
    let m = Segmentation {
        segments: vec![
            code,
            Segment::up(0x9000, 0x1000),
            Segment::up(0, 0),
            Segment::down(0x2_0000, 0x800),
        ],
        selector: Selector::TopBits {
            va_bits: 16,
            bits: 2,
        },
    };
    assert_eq!(t(&m, 0x0010, AccessKind::Fetch), Ok(0x8010));
    assert_eq!(
        t(&m, 0x0010, AccessKind::Write),
        Err(TranslateFault::SegmentProtection { segment: 0 })
    );
    assert_eq!(t(&m, 0x4fff, AccessKind::Write), Ok(0x9fff));
    assert!(matches!(
        t(&m, 0x5000, AccessKind::Read),
        Err(TranslateFault::SegmentViolation { segment: 1, .. })
    ));
    // Stack: 0xffff is offset -1 from the top.
    assert_eq!(t(&m, 0xffff, AccessKind::Write), Ok(0x1_ffff));
    assert_eq!(t(&m, 0xf800, AccessKind::Write), Ok(0x1_f800));
    assert!(matches!(
        t(&m, 0xf7ff, AccessKind::Read),
        Err(TranslateFault::SegmentViolation {
            segment: 3,
            offset: -2049,
            ..
        })
    ));
    assert_eq!(
        t(&m, 0x1_0000, AccessKind::Read),
        Err(TranslateFault::OutOfRange { va: 0x1_0000 })
    );
}

#[test]
fn segmentation_halves_split_odd_sizes_at_a_half() {
    let m = Segmentation {
        segments: vec![Segment::up(100, 7), Segment::down(300, 8)],
        selector: Selector::Halves { asize: 15 },
    };
    // 7 < 7.5: segment 0; 8 > 7.5: segment 1 at offset 8 - 15 = -7.
    assert_eq!(m.select(7).unwrap().segment, 0);
    assert_eq!(m.select(8).unwrap().offset, -7);
    assert_eq!(t(&m, 8, AccessKind::Read), Ok(293));
}

#[test]
fn linear_table() {
    let m = LinearTable {
        page_size: PageSize::try_from_bytes(1024).unwrap(),
        entries: vec![Some(5), None, Some(2)],
        entry_bytes: 4,
        mask_bits: Some(32),
    };
    assert_eq!(t(&m, 0x0123, AccessKind::Read), Ok(5 * 1024 + 0x123));
    assert_eq!(
        t(&m, 0x0400, AccessKind::Read),
        Err(TranslateFault::InvalidPage { vpn: 1 })
    );
    assert_eq!(
        t(&m, 0x0c00, AccessKind::Read),
        Err(TranslateFault::BeyondTable { vpn: 3, entries: 3 })
    );
    // The 32-bit mask wraps 2^32 + 5 to page 0.
    assert_eq!(t(&m, (1 << 32) + 5, AccessKind::Read), Ok(5 * 1024 + 5));
    assert_eq!(m.overhead_bytes(), 12);
}

/// OSTEP's two-level machine: 32-byte pages, 5 + 5 index bits, one-byte entries 0x80 | pfn.
fn byte_radix() -> ByteRadix {
    let mut memory = vec![0x7fu8; 8 * 32];
    memory[32 + 3] = 0x80 | 2; // PDE 3 -> page table in frame 2
    memory[2 * 32 + 7] = 0x80 | 5; // PTE 7 -> frame 5
    ByteRadix {
        memory,
        root: 1,
        page_shift: 5,
        level_bits: vec![5, 5],
        entry: EntryFormat {
            bytes: 1,
            valid_bit: 7,
            pfn_mask: 0x7f,
        },
    }
}

#[test]
fn byte_radix_faults_name_the_level_that_failed() {
    let m = byte_radix();
    let va = (3 << 10) | (7 << 5) | 9;
    assert_eq!(t(&m, va, AccessKind::Read), Ok(5 * 32 + 9));
    assert_eq!(t(&m, va, AccessKind::Write), Ok(5 * 32 + 9));
    // PDE 4 holds 0x7f: valid bit clear.
    assert_eq!(
        t(&m, 4 << 10, AccessKind::Read),
        Err(TranslateFault::InvalidEntry { depth: 0, index: 4 })
    );
    // PDE 3 is valid, PTE 8 of its table is not.
    assert_eq!(
        t(&m, (3 << 10) | (8 << 5), AccessKind::Read),
        Err(TranslateFault::InvalidEntry { depth: 1, index: 8 })
    );
    assert_eq!(
        t(&m, 1 << 15, AccessKind::Read),
        Err(TranslateFault::OutOfRange { va: 1 << 15 })
    );
    // The root table: 32 one-byte entries.
    assert_eq!(m.overhead_bytes(), 32);
}

proptest! {
    /// Whatever the memory holds and however the machine is shaped, a walk never panics, and a
    /// translation keeps the page offset.
    #[test]
    fn byte_radix_never_panics(memory in prop::collection::vec(any::<u8>(), 0..512),
                               root in any::<u64>(), page_shift in 0u32..70,
                               level_bits in prop::collection::vec(0u32..70, 0..11),
                               bytes in 1u8..9, valid_bit in 0u8..80, pfn_mask in any::<u64>(),
                               va in any::<u64>()) {
        let m = ByteRadix { memory, root, page_shift, level_bits,
                            entry: EntryFormat { bytes, valid_bit, pfn_mask } };
        let _ = m.overhead_bytes();
        if let Ok(p) = t(&m, va, AccessKind::Read) {
            if page_shift < 64 {
                let mask = (1u64 << page_shift) - 1;
                prop_assert_eq!(p & mask, va & mask);
            }
        }
    }

    #[test]
    fn byte_radix_walks_the_bytes_it_reports(va in 0u64..1 << 15, memory in prop::collection::vec(any::<u8>(), 8 * 32)) {
        let m = ByteRadix { memory, ..byte_radix() };
        let (steps, r) = m.walk(va);
        // Oracle: the walk written out for two levels of one-byte entries.
        let pde = m.memory[32 + (va >> 10) as usize];
        prop_assert_eq!(steps[0].value, pde as u64);
        if pde & 0x80 == 0 {
            prop_assert_eq!(r, Err(0));
        } else {
            let pte = m.memory.get(((pde & 0x7f) as usize) * 32 + ((va >> 5) & 31) as usize).copied().unwrap_or(0);
            prop_assert_eq!(steps[1].value, pte as u64);
            if pte & 0x80 == 0 {
                prop_assert_eq!(r, Err(1));
            } else {
                prop_assert_eq!(r, Ok(((pte & 0x7f) as u64) * 32 + (va & 31)));
            }
        }
    }

    #[test]
    fn no_address_panics_and_valid_ones_stay_in_range(va in any::<u64>(), base in 0u64..1 << 40, bounds in 0u64..1 << 20) {
        let bb = BaseBounds { base, bounds };
        match t(&bb, va, AccessKind::Read) {
            Ok(p) => prop_assert!(va < bounds && p == base + va),
            Err(_) => prop_assert!(va >= bounds),
        }
        let seg = Segmentation { segments: vec![Segment::up(base, bounds), Segment::down(base, bounds)], selector: Selector::Halves { asize: 1 << 21 } };
        let _ = t(&seg, va, AccessKind::Write);
        let lin = LinearTable { page_size: PageSize::SIZE_4K, entries: vec![Some(1); 16], entry_bytes: 8, mask_bits: None };
        if let Ok(p) = t(&lin, va, AccessKind::Read) {
            prop_assert_eq!(p, 4096 + (va & 0xfff));
        }
    }

    /// The linear, inverted and hashed (plain and clustered) tables, given the same mappings,
    /// give the same answer as a map for every address and access kind.
    #[test]
    fn page_tables_agree_with_a_map(
        maps in prop::collection::btree_map(0u64..64, (0u64..1000, any::<bool>(), any::<bool>()), 0..40),
        unmaps in prop::collection::vec(0u64..64, 0..10),
        probes in prop::collection::vec((0u64..70 * 4096, 0u8..3), 1..60),
    ) {
        let mut oracle = maps.clone();
        for v in &unmaps {
            oracle.remove(v);
        }
        let perm = |w: bool, x: bool| PagePerm { write: w, exec: x };
        let mut lin = LinearTable { page_size: PageSize::SIZE_4K, entries: vec![None; 64], entry_bytes: 8, mask_bits: None };
        for (&v, &(f, _, _)) in &oracle {
            lin.entries[v as usize] = Some(f);
        }
        // Frames are the page numbers' positions, so every mapping gets its own frame.
        let frames: Vec<(u64, u64, PagePerm)> = maps.iter().enumerate()
            .map(|(i, (&v, &(_, w, x)))| (v, i as u64, perm(w, x))).collect();
        let mut inv = InvertedTable::new(128, PageSize::SIZE_4K);
        inv.current = 3;
        let mut plain = HashedTable::new(8, 1, PageSize::SIZE_4K);
        let mut clustered = HashedTable::new(2, 8, PageSize::SIZE_4K);
        for &(v, f, p) in &frames {
            inv.map(3, v, f as u32, p).unwrap();
            // Another process's pages at the same numbers must not be found.
            inv.map(4, v, 64 + f as u32, PagePerm::ALL).unwrap();
            plain.map(v, f, p);
            clustered.map(v, f, p);
        }
        for v in &unmaps {
            inv.unmap(3, *v);
            plain.unmap(*v);
            clustered.unmap(*v);
        }
        for &(va, k) in &probes {
            let kind = [AccessKind::Read, AccessKind::Write, AccessKind::Fetch][k as usize];
            let vpn = va >> 12;
            let expect = match frames.iter().find(|e| e.0 == vpn).filter(|_| oracle.contains_key(&vpn)) {
                None => Err(TranslateFault::InvalidPage { vpn }),
                Some(&(_, f, p)) if p.allows(kind) => Ok(f * 4096 + (va & 0xfff)),
                Some(_) => Err(TranslateFault::PageProtection { vpn }),
            };
            prop_assert_eq!(t(&inv, va, kind), expect);
            prop_assert_eq!(t(&plain, va, kind), expect);
            prop_assert_eq!(t(&clustered, va, kind), expect);
            if vpn < 64 {
                // The linear table keeps no permissions: reads agree.
                let lin_expect = oracle.get(&vpn).map(|&(f, _, _)| f * 4096 + (va & 0xfff))
                    .ok_or(TranslateFault::InvalidPage { vpn });
                prop_assert_eq!(t(&lin, va, AccessKind::Read), lin_expect);
            }
        }
        prop_assert_eq!(plain.nodes(), oracle.len());
        prop_assert!(clustered.nodes() <= oracle.len().max(1));
        let _ = t(&inv, u64::MAX, AccessKind::Read);
        let _ = t(&clustered, u64::MAX, AccessKind::Write);
    }
}
