//! Any text as `perf script` samples, named and detected: records or an error naming a line,
//! never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use vmsim_trace::{Format, Record, TraceReader};

fuzz_target!(|data: &[u8]| {
    for f in [Some(Format::Perf), None] {
        let input = std::io::Cursor::new(data.to_vec());
        let Ok(mut r) = TraceReader::from_reader("fuzz", input, f) else {
            continue;
        };
        let mut buf: Vec<Record> = Vec::with_capacity(64);
        while let Ok(n) = r.read_batch(&mut buf) {
            if n == 0 {
                break;
            }
        }
    }
});
