//! Any bytes as ChampSim records, standard and CloudSuite: records or an error, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use vmsim_trace::{AddressCheck, Format, Record, TraceReader};

fuzz_target!(|data: &[u8]| {
    for f in [Format::ChampSim, Format::ChampSimCloudSuite] {
        let Ok(r) = TraceReader::from_reader("fuzz", std::io::Cursor::new(data.to_vec()), Some(f))
        else {
            continue;
        };
        let mut r = r.with_address_check(AddressCheck::Canonical(48));
        let mut buf: Vec<Record> = Vec::with_capacity(64);
        while let Ok(n) = r.read_batch(&mut buf) {
            if n == 0 {
                break;
            }
        }
    }
});
