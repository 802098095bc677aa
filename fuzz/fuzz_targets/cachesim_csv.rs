//! Any text as a libCacheSim csv trace, with column options taken from the input's first
//! bytes: pages or an error naming a line, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use vmsim_core::PageSize;
use vmsim_trace::{Format, ReadOptions, TraceReader};

fuzz_target!(|data: &[u8]| {
    let Some((&[a, b, c, d, e], rest)) = data.split_first_chunk::<5>().map(|(h, r)| (h, r)) else {
        return;
    };
    let col = |x: u8| (x % 6 != 0).then_some(usize::from(x % 6));
    let mut opts = ReadOptions::default();
    opts.csv.obj_id_col = col(a);
    opts.csv.obj_size_col = col(b);
    opts.csv.op_col = col(c);
    opts.csv.time_col = col(d);
    opts.csv.has_header = e & 1 != 0;
    opts.csv.delimiter = if e & 2 != 0 { b'\t' } else { b',' };
    opts.keys.obj_id_is_num = e & 4 != 0;
    let input = std::io::Cursor::new(rest.to_vec());
    let Ok(mut r) = TraceReader::from_reader_with("fuzz", input, Some(Format::Csv), &opts) else {
        return;
    };
    let mut buf = Vec::with_capacity(64);
    while let Ok(n) = r.read_pages(PageSize::SIZE_4K, &mut buf) {
        if n == 0 {
            break;
        }
    }
});
