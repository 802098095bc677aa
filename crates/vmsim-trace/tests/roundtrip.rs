//! Every format against the others: lossless round trips, detection, and garbage that must give
//! errors (or records) but never a panic or an endless loop.
use proptest::prelude::*;
use std::io::Cursor;
use vmsim_core::{AccessKind, VirtAddr};
use vmsim_trace::{Format, Record, TraceReader, TraceWriter};

fn record() -> impl Strategy<Value = Record> {
    (
        prop_oneof![Just(1u32), any::<u32>()],
        prop_oneof![Just(0u16), any::<u16>()],
        prop_oneof![
            Just(AccessKind::Read),
            Just(AccessKind::Write),
            Just(AccessKind::Fetch)
        ],
        prop_oneof![
            any::<u64>(),
            0u64..1 << 20,
            (0x7ff0_0000_0000u64..0x7fff_ffff_ffff)
        ],
        prop_oneof![1u32..16, 1u32..=u32::MAX],
    )
        // Readers refuse an access that runs past the top of the address space.
        .prop_map(|(pid, cpu, kind, addr, size)| Record {
            pid,
            cpu,
            kind,
            addr: VirtAddr::new_unchecked(addr.min(u64::MAX - (u64::from(size) - 1))),
            size,
        })
}

fn write(records: &[Record], f: Format) -> Vec<u8> {
    let mut w = TraceWriter::new(Vec::new(), f).unwrap();
    for r in records {
        w.write(r).unwrap();
    }
    w.finish().unwrap()
}

fn read(bytes: Vec<u8>, f: Option<Format>) -> Result<Vec<Record>, String> {
    let r = TraceReader::from_reader("t", Cursor::new(bytes), f)
        .map_err(|e| e.to_string())?
        .allow_empty();
    r.collect::<Result<Vec<_>, _>>().map_err(|e| e.to_string())
}

proptest! {
    #[test]
    fn vmt_and_text_round_trip(records in prop::collection::vec(record(), 0..300)) {
        let vmt = write(&records, Format::Vmt);
        prop_assert_eq!(&read(vmt.clone(), None).unwrap(), &records);
        let text = write(&records, Format::Text);
        prop_assert_eq!(&read(text.clone(), Some(Format::Text)).unwrap(), &records);
        // text -> vmt -> text is byte-identical.
        let again = write(&read(vmt, None).unwrap(), Format::Text);
        prop_assert_eq!(again, text);
    }

    #[test]
    fn lackey_round_trips_kind_address_and_size(records in prop::collection::vec(record(), 1..100)) {
        let plain: Vec<Record> = records.iter().map(|r| Record { pid: 1, cpu: 0, ..*r }).collect();
        let bytes = write(&plain, Format::Lackey);
        prop_assert_eq!(read(bytes, None).unwrap(), plain);
    }

    #[test]
    fn garbage_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..2000), f in 0usize..4) {
        let fmt = [None, Some(Format::Text), Some(Format::Lackey), Some(Format::Vmt)][f];
        let mut b = bytes.clone();
        if fmt == Some(Format::Vmt) {
            let mut v = vmsim_trace::vmt::MAGIC.to_vec();
            v.extend_from_slice(&b);
            b = v;
        }
        if let Ok(recs) = read(b, fmt) {
            // Each byte (or line) makes at most two records.
            prop_assert!(recs.len() <= 2 * bytes.len() + 2);
        }
    }
}

#[test]
fn vmt_is_compact_on_a_sequential_stream() {
    let recs: Vec<Record> = (0..10_000u64)
        .map(|i| Record {
            size: 8,
            ..Record::new(AccessKind::Read, 0x7fff_0000_0000 + i * 8)
        })
        .collect();
    let b = write(&recs, Format::Vmt);
    // Magic; the first record: tag + a 7-byte delta from 0; then tag + one-byte delta each.
    assert_eq!(b.len(), 8 + (1 + 7) + 2 * 9_999);
}

#[test]
fn truncated_vmt_is_an_error_with_record_and_offset() {
    let recs = vec![
        Record {
            size: 100,
            ..Record::new(AccessKind::Write, 0x1234_5678)
        };
        3
    ];
    let mut b = write(&recs, Format::Vmt);
    b.pop();
    let e = read(b, None).unwrap_err();
    assert!(e.contains("t: record 2 (byte"), "{e}");
    assert!(e.contains("cut short"), "{e}");
    assert!(read(b"VMSIMTR".to_vec(), Some(Format::Vmt)).is_err());
}

#[test]
fn errors_name_the_line() {
    let e = read(b"R 0x10\n\n# c\nW 0x20 8\nR 0xzz\n".to_vec(), None).unwrap_err();
    assert!(e.starts_with("t:5: "), "{e}");
    let e = read(b"==1== hello\nI  0401ab70,3\n L 10,zz\n".to_vec(), None).unwrap_err();
    assert!(e.starts_with("t:3: bad size"), "{e}");
}

#[test]
fn detection() {
    assert_eq!(Format::detect(b"VMSIMTR1\x00"), Format::Vmt);
    assert_eq!(
        Format::detect(b"==12== Lackey\nI  0401ab70,3\n"),
        Format::Lackey
    );
    assert_eq!(Format::detect(b"0x1000\n"), Format::Text);
    assert_eq!(Format::detect(b""), Format::Text);
}

/// A trace many read buffers long, so records straddle every refill, with every record shape
/// the decoder has a path for: short and 10-byte address deltas, big sizes, context changes.
#[test]
fn long_vmt_round_trips_across_buffer_refills() {
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let recs: Vec<Record> = (0..300_000u32)
        .map(|i| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let kind = [AccessKind::Read, AccessKind::Write, AccessKind::Fetch][(x % 3) as usize];
            let addr = match i % 7 {
                0 => x,
                1 | 2 => 0x7fff_0000_0000 + (x >> 40),
                _ => 0x40_0000 + (x >> 50),
            };
            Record {
                pid: 1 + u32::from(i % 1000 == 0),
                cpu: (i % 5000 == 0) as u16,
                kind,
                addr: VirtAddr::new_unchecked(addr),
                size: if i % 11 == 0 { 4096 + i } else { 1 + i % 15 },
            }
        })
        .collect();
    let b = write(&recs, Format::Vmt);
    assert!(b.len() > 4 * (1 << 16), "{} bytes", b.len());
    assert_eq!(read(b, None).unwrap(), recs);
}
