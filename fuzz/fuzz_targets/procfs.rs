//! Any bytes, parsed as /proc/PID/maps, smaps and status, as a saved layout (snapshot JSON or
//! maps text, then turned into VMAs) and decoded as pagemap entries: errors, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use vmsim_linux::procfs::{maps, pagemap::PageState, smaps, status};
use vmsim_linux::snapshot::SavedLayout;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = maps::parse("fuzz", &text);
    let _ = smaps::parse("fuzz", &text);
    let _ = status::parse("fuzz", &text);
    for layout in [
        SavedLayout::from_json("fuzz", &text),
        SavedLayout::from_maps("fuzz", &text),
    ]
    .into_iter()
    .flatten()
    {
        let mut next = 0;
        let _ = layout.space(|| {
            next += 1;
            next
        });
    }
    for c in data.chunks_exact(8) {
        let _ = PageState::decode(u64::from_le_bytes(c.try_into().unwrap())).has_pte();
    }
});
