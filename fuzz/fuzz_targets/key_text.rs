//! Any text as a libCacheSim txt trace (`keys`), ids as numbers and as hashed strings: pages or
//! an error naming a line, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use vmsim_trace::{Format, ReadOptions, Record, TraceReader};

fuzz_target!(|data: &[u8]| {
    for num in [true, false] {
        let mut opts = ReadOptions::default();
        opts.keys.obj_id_is_num = num;
        let input = std::io::Cursor::new(data.to_vec());
        let Ok(mut r) = TraceReader::from_reader_with("fuzz", input, Some(Format::Keys), &opts)
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
