//! Any bytes as libCacheSim's oracleGeneral and oracleGeneralOpNS, as pages (sizes as pages
//! too) and as addresses: pages or an error, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use vmsim_core::PageSize;
use vmsim_trace::{Format, ReadOptions, Record, TraceReader};

fuzz_target!(|data: &[u8]| {
    let mut sized = ReadOptions::default();
    sized.keys.obj_size_pages = true;
    for f in [Format::OracleGeneral, Format::OracleGeneralOpNs] {
        for opts in [ReadOptions::default(), sized] {
            let input = std::io::Cursor::new(data.to_vec());
            let Ok(mut r) = TraceReader::from_reader_with("fuzz", input, Some(f), &opts) else {
                continue;
            };
            let mut buf = Vec::with_capacity(64);
            // Sizes as pages can stand for 2^20 pages a request: a bounded number of batches.
            for _ in 0..4096 {
                match r.read_pages(PageSize::SIZE_4K, &mut buf) {
                    Ok(n) if n > 0 => {}
                    _ => break,
                }
            }
        }
        let input = std::io::Cursor::new(data.to_vec());
        if let Ok(mut r) = TraceReader::from_reader("fuzz", input, Some(f)) {
            let mut buf: Vec<Record> = Vec::with_capacity(64);
            while let Ok(n) = r.read_batch(&mut buf) {
                if n == 0 {
                    break;
                }
            }
        }
    }
});
