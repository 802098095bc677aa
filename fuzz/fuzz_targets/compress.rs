//! Any bytes behind each codec's magic, decoded as a detected trace: records or an error that
//! names the compressed byte, never a panic or a hang.
#![no_main]
use libfuzzer_sys::fuzz_target;
use vmsim_trace::{Record, TraceReader};

const MAGICS: [&[u8]; 3] = [&[0x28, 0xb5, 0x2f, 0xfd], &[0xfd, b'7', b'z', b'X', b'Z', 0], &[0x1f, 0x8b]];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let mut input = MAGICS[usize::from(pick) % 3].to_vec();
    input.extend_from_slice(rest);
    let Ok(mut r) = TraceReader::from_reader("fuzz", std::io::Cursor::new(input), None) else {
        return;
    };
    let mut buf: Vec<Record> = Vec::with_capacity(64);
    // A small input can decompress to a large output: a bounded number of batches.
    for _ in 0..10_000 {
        match r.read_batch(&mut buf) {
            Ok(n) if n > 0 => {}
            _ => break,
        }
    }
});
