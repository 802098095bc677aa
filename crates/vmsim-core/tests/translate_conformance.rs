//! One suite for every software-visible translation mechanism behind `Translate`: addresses
//! inside translate to the expected place, those outside fault with the right cause, and no
//! address makes a mechanism panic.
use proptest::prelude::*;
use vmsim_core::translate::base_bounds::BaseBounds;
use vmsim_core::translate::linear::LinearTable;
use vmsim_core::translate::segmentation::{Segment, Segmentation, Selector};
use vmsim_core::translate::{Translate, TranslateFault};
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

proptest! {
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
}
