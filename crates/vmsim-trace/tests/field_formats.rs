//! The formats of other tools (ChampSim, libCacheSim, perf) and compressed traces, through the
//! same reader every command uses: lossless round trips wherever the target holds the source,
//! detection from content and names, and garbage that gives errors, never a panic.
use proptest::prelude::*;
use std::io::{Cursor, Write};
use vmsim_core::{AccessKind, PageSize};
use vmsim_trace::compress::Compressor;
use vmsim_trace::objects::Object;
use vmsim_trace::oracle_general::{self, Layout};
use vmsim_trace::{Codec, Format, PageRef, ReadOptions, Record, TraceReader, TraceWriter};

fn write(records: &[Record], f: Format, codec: Option<Codec>) -> Vec<u8> {
    let mut w = TraceWriter::compressed(Vec::new(), f, codec).unwrap();
    for r in records {
        w.write(r).unwrap();
    }
    w.finish().unwrap()
}

fn read(bytes: Vec<u8>, f: Option<Format>) -> Result<Vec<Record>, String> {
    let r = TraceReader::from_reader("t", Cursor::new(bytes), f).map_err(|e| e.to_string())?;
    r.allow_empty()
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())
}

fn pages(bytes: Vec<u8>, f: Option<Format>, opts: &ReadOptions) -> Result<Vec<PageRef>, String> {
    let mut r = TraceReader::from_reader_with("t", Cursor::new(bytes), f, opts)
        .map_err(|e| e.to_string())?
        .allow_empty();
    let (mut all, mut buf) = (Vec::new(), Vec::with_capacity(97));
    while r
        .read_pages(PageSize::SIZE_4K, &mut buf)
        .map_err(|e| e.to_string())?
        > 0
    {
        all.extend_from_slice(&buf);
    }
    Ok(all)
}

/// What ChampSim holds: one-byte accesses of nonzero canonical addresses by process 1.
fn champsim_record() -> impl Strategy<Value = Record> {
    (0usize..3, 1u64..1 << 47).prop_map(|(k, a)| {
        Record::new(
            [AccessKind::Fetch, AccessKind::Read, AccessKind::Write][k],
            a,
        )
    })
}

fn codec() -> impl Strategy<Value = Option<Codec>> {
    prop_oneof![
        Just(None),
        Just(Some(Codec::Zstd)),
        Just(Some(Codec::Xz)),
        Just(Some(Codec::Gzip))
    ]
}

/// A ChampSim record whose ip holds a newline byte before its first zero byte is still
/// ChampSim, not a line of text (the codec sniffer's first few bytes used to decide it).
#[test]
fn champsim_with_a_newline_in_its_first_bytes_is_detected() {
    let records = vec![Record::new(AccessKind::Fetch, 0xa01_0101_0101)];
    let champ = write(&records, Format::ChampSim, None);
    assert_eq!(read(champ, None).unwrap(), records);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// vmt -> ChampSim -> vmt keeps every record ChampSim can hold, compressed or not, and the
    /// ChampSim bytes are detected without a name.
    #[test]
    fn vmt_champsim_vmt(records in prop::collection::vec(champsim_record(), 1..300), c in codec()) {
        let vmt = write(&records, Format::Vmt, None);
        let champ = write(&read(vmt.clone(), None).unwrap(), Format::ChampSim, c);
        let back = read(champ.clone(), None).unwrap();
        prop_assert_eq!(&back, &records);
        prop_assert_eq!(write(&back, Format::Vmt, None), vmt);
        prop_assert_eq!(read(champ, Some(Format::ChampSim)).unwrap(), records);
    }

    /// Every format vmsim writes survives every codec byte for byte.
    #[test]
    fn compression_is_transparent(
        records in prop::collection::vec(champsim_record(), 1..200),
        f in prop_oneof![Just(Format::Text), Just(Format::Vmt), Just(Format::Lackey),
                         Just(Format::Pgt), Just(Format::ChampSimCloudSuite)],
        c in codec(),
    ) {
        let plain = write(&records, f, None);
        let packed = write(&records, f, c);
        let fmt = Some(f);
        prop_assert_eq!(read(packed, fmt).unwrap(), read(plain, fmt).unwrap());
    }

    /// pgt -> oracleGeneralOpNS keeps pages and writes (read back as pages).
    #[test]
    fn oracle_general_holds_pages(refs in prop::collection::vec((any::<u64>(), any::<bool>()), 1..300)) {
        let mut plain = Vec::new();
        let mut opns = Vec::new();
        for (i, &(page, write)) in refs.iter().enumerate() {
            let o = Object { key: page, size: 4096, write };
            oracle_general::write_record(&mut plain, Layout::Plain, i as u32, o, -1).unwrap();
            oracle_general::write_record(&mut opns, Layout::OpNs, i as u32, o, -1).unwrap();
        }
        let opts = ReadOptions::default();
        let read_only: Vec<PageRef> = refs.iter().map(|&(p, _)| (p, false)).collect();
        prop_assert_eq!(pages(plain, Some(Format::OracleGeneral), &opts).unwrap(), read_only);
        prop_assert_eq!(pages(opns, Some(Format::OracleGeneralOpNs), &opts).unwrap(), refs);
    }

    /// Bytes of any kind, named as any new format or compressed: records or an error.
    #[test]
    fn garbage_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..3000), f in 0usize..9, c in codec()) {
        let fmt = [None, Some(Format::ChampSim), Some(Format::ChampSimCloudSuite),
                   Some(Format::OracleGeneral), Some(Format::OracleGeneralOpNs), Some(Format::Csv),
                   Some(Format::Keys), Some(Format::Perf), Some(Format::Text)][f];
        let mut input = Compressor::new(Vec::new(), c).unwrap();
        input.write_all(&bytes).unwrap();
        let input = input.finish().unwrap();
        let _ = read(input.clone(), fmt);
        let opts = ReadOptions { csv: vmsim_trace::cachesim_csv::CsvOptions { obj_id_col: Some(2), ..Default::default() }, ..Default::default() };
        let _ = pages(input, fmt, &opts);
    }
}

#[test]
fn detection_from_content() {
    let recs: Vec<Record> = (1..200u64)
        .flat_map(|i| {
            [
                Record::new(AccessKind::Fetch, 0x400000 + i * 4),
                Record::new(AccessKind::Read, 0x7f0000 + i * 64),
            ]
        })
        .collect();
    let champ = write(&recs, Format::ChampSim, Some(Codec::Xz));
    let r = TraceReader::from_reader("t", Cursor::new(champ), None).unwrap();
    assert_eq!(r.format(), Format::ChampSim);
    let mut og = Vec::new();
    for i in 0..300u32 {
        let o = Object {
            key: u64::from(i % 17),
            size: 100,
            write: false,
        };
        let next = if i + 17 < 300 { i64::from(i) + 17 } else { -1 };
        oracle_general::write_record(&mut og, Layout::Plain, i / 3, o, next).unwrap();
    }
    let r = TraceReader::from_reader("t", Cursor::new(og), None).unwrap();
    assert_eq!(r.format(), Format::OracleGeneral);
    let perf = "# ========\n# captured on: x\n      ls 7  10.000001:  1 page-faults:  7f0000001000 f (x)\n";
    let r = TraceReader::from_reader("t", Cursor::new(perf.as_bytes().to_vec()), None).unwrap();
    assert_eq!(r.format(), Format::Perf);
    assert_eq!(
        Format::from_file_name("600.perlbench_s-210B.champsimtrace.xz"),
        (Some(Format::ChampSim), Some(Codec::Xz))
    );
    assert_eq!(
        Format::from_file_name("cluster52.oracleGeneral.zst"),
        (Some(Format::OracleGeneral), Some(Codec::Zstd))
    );
    assert_eq!(
        Format::from_file_name("meta.oracleGeneralOpNS.bin"),
        (Some(Format::OracleGeneralOpNs), None)
    );
    assert_eq!(
        Format::from_file_name("a.csv.gz"),
        (Some(Format::Csv), Some(Codec::Gzip))
    );
}

#[test]
fn cut_compressed_input_names_the_compressed_byte() {
    let recs: Vec<Record> = (1..50_000u64)
        .map(|i| {
            Record::new(
                AccessKind::Read,
                i.wrapping_mul(0x9e37_79b9) & 0x7fff_ffff_f000,
            )
        })
        .collect();
    for c in Codec::ALL {
        let z = write(&recs, Format::Vmt, Some(c));
        let cut = z[..z.len() * 2 / 3].to_vec();
        let e = read(cut, None).unwrap_err();
        assert!(
            e.starts_with(&format!("t: {c} data stops decoding at compressed byte ")),
            "{e}"
        );
    }
}
