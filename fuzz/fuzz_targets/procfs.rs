//! Any bytes, parsed as /proc/PID/maps, smaps and status and decoded as pagemap entries:
//! errors, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use vmsim_linux::procfs::{maps, pagemap::PageState, smaps, status};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = maps::parse("fuzz", &text);
    let _ = smaps::parse("fuzz", &text);
    let _ = status::parse("fuzz", &text);
    for c in data.chunks_exact(8) {
        let _ = PageState::decode(u64::from_le_bytes(c.try_into().unwrap())).has_pte();
    }
});
