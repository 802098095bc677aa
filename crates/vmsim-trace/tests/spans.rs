//! An access covers every byte from its address to its address plus its size less one: the
//! readers check all of them (not only the first), refuse an access that wraps past 2^64, and
//! the page view gives every page the access touches, as the machine replays it.
use proptest::prelude::*;
use std::io::Cursor;
use vmsim_core::{AccessKind, PageSize};
use vmsim_trace::{AddressCheck, Format, Record, TraceReader, TraceWriter};

fn reader(bytes: Vec<u8>, f: Format) -> TraceReader {
    TraceReader::from_reader("t", Cursor::new(bytes), Some(f)).unwrap()
}

fn records(text: &str, check: AddressCheck) -> Result<Vec<Record>, String> {
    reader(text.as_bytes().to_vec(), Format::Text)
        .with_address_check(check)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())
}

fn pages(bytes: Vec<u8>, f: Format, cap: usize) -> Result<Vec<(u64, bool)>, String> {
    let mut r = reader(bytes, f);
    let mut buf = Vec::with_capacity(cap);
    let mut all = Vec::new();
    while r
        .read_pages(PageSize::SIZE_4K, &mut buf)
        .map_err(|e| e.to_string())?
        > 0
    {
        assert!(buf.len() <= buf.capacity().max(4));
        all.extend_from_slice(&buf);
    }
    Ok(all)
}

#[test]
fn an_access_that_wraps_past_the_top_is_refused_on_its_line() {
    for check in [AddressCheck::Any, AddressCheck::Canonical(48)] {
        let e = records("R 0x1000\nR 0xffffffffffffffff 2\n", check).unwrap_err();
        assert!(e.starts_with("t:2: "), "{e}");
        assert!(
            e.contains("past the end of the 64-bit address space"),
            "{e}"
        );
    }
    // The last byte of the address space is fine.
    assert!(records("R 0xffffffffffffffff 1\n", AddressCheck::Any).is_ok());
    assert!(records("R 0xfffffffffffffff0 16\n", AddressCheck::Any).is_ok());
}

#[test]
fn an_access_that_runs_into_the_canonical_hole_is_refused() {
    let e = records("R 0x7fffffffffff 4294967295\n", AddressCheck::Canonical(48)).unwrap_err();
    assert!(e.starts_with("t:1: "), "{e}");
    assert!(e.contains("last canonical address"), "{e}");
    // Ending on the last canonical byte is fine; one more is not.
    assert!(records("R 0x7ffffffffff0 16\n", AddressCheck::Canonical(48)).is_ok());
    assert!(records("R 0x7ffffffffff0 17\n", AddressCheck::Canonical(48)).is_err());
    let e = records("R 0xf0 32\n", AddressCheck::Width(8)).unwrap_err();
    assert!(e.contains("runs past the end of 8-bit"), "{e}");
}

#[test]
fn vmt_checks_the_last_byte_too() {
    let r = Record {
        size: 32,
        ..Record::new(AccessKind::Read, 0x7fff_ffff_fff0)
    };
    let mut w = TraceWriter::new(Vec::new(), Format::Vmt).unwrap();
    w.write(&r).unwrap();
    let bytes = w.finish().unwrap();
    let e = reader(bytes, Format::Vmt)
        .with_address_check(AddressCheck::Canonical(48))
        .collect::<Result<Vec<_>, _>>()
        .unwrap_err()
        .to_string();
    assert!(e.contains("record 0"), "{e}");
}

#[test]
fn a_long_access_gives_every_page_it_touches() {
    // 4 GiB less a byte from the last canonical page: 2^20 + 1 pages, as `run` replays it.
    let all = pages(
        b"R 0x7fffffffffff 4294967295\n".to_vec(),
        Format::Text,
        1 << 14,
    )
    .unwrap();
    assert_eq!(all.len(), (1 << 20) + 1);
    assert!(all.windows(2).all(|w| w[1].0 == w[0].0 + 1));
    assert_eq!(all[0].0, 0x7_ffff_ffff);
}

proptest! {
    /// Whatever the batch size, the page view is the pages of each access in order.
    #[test]
    fn page_view_is_every_page_of_every_access(
        accesses in prop::collection::vec(
            (0u64..1 << 40, prop_oneof![1u32..64, 1u32..20_000], any::<bool>()), 1..40),
        cap in 1usize..40,
    ) {
        let mut want = Vec::new();
        let mut text = String::new();
        for &(a, size, w) in &accesses {
            text.push_str(&format!("{} {a:#x} {size}\n", if w { "W" } else { "R" }));
            let last = a + u64::from(size) - 1;
            want.extend(((a >> 12)..=(last >> 12)).map(|p| (p, w)));
        }
        prop_assert_eq!(pages(text.clone().into_bytes(), Format::Text, cap).unwrap(), want.clone());
        // The page-number formats keep the same pages.
        let recs = records(&text, AddressCheck::Any).unwrap();
        for f in [Format::Pages, Format::Pgt] {
            let mut w = TraceWriter::new(Vec::new(), f).unwrap();
            recs.iter().for_each(|r| w.write(r).unwrap());
            prop_assert_eq!(pages(w.finish().unwrap(), f, cap).unwrap(), want.clone());
        }
    }
}

#[test]
fn a_trace_without_accesses_is_an_error_unless_allowed() {
    for (bytes, f) in [
        (b"".to_vec(), Format::Text),
        (b"# only a comment\n\n".to_vec(), Format::Text),
        (b"".to_vec(), Format::Lackey),
        (b"".to_vec(), Format::Pages),
        (
            TraceWriter::new(Vec::new(), Format::Vmt)
                .unwrap()
                .finish()
                .unwrap(),
            Format::Vmt,
        ),
        (
            TraceWriter::new(Vec::new(), Format::Pgt)
                .unwrap()
                .finish()
                .unwrap(),
            Format::Pgt,
        ),
    ] {
        let e = reader(bytes.clone(), f)
            .collect::<Result<Vec<_>, _>>()
            .unwrap_err()
            .to_string();
        assert_eq!(e, "t: the trace holds no accesses", "{f:?}");
        let e = pages(bytes.clone(), f, 16).unwrap_err();
        assert_eq!(e, "t: the trace holds no accesses", "{f:?}");
        let none = reader(bytes, f)
            .allow_empty()
            .collect::<Result<Vec<_>, _>>();
        assert!(none.unwrap().is_empty(), "{f:?}");
    }
}
