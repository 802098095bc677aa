//! Any bytes, read as every trace format (and as detected): never a panic, never a hang.
#![no_main]
use libfuzzer_sys::fuzz_target;
use vmsim_trace::{Format, Record, TraceReader};

fuzz_target!(|data: &[u8]| {
    for f in [None, Some(Format::Text), Some(Format::Lackey), Some(Format::Vmt)] {
        let Ok(mut r) = TraceReader::from_reader("fuzz", std::io::Cursor::new(data.to_vec()), f)
        else {
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
