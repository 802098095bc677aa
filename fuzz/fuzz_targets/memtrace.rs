//! Any text as a memory-API trace: an error, or a trace the checker replays, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use vmsim_core::memapi::memcheck::check;
use vmsim_core::memapi::memtrace::parse;
use vmsim_core::memapi::process_heap::HeapConfig;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(trace) = parse(text) {
            let _ = check(&trace, HeapConfig::default());
        }
    }
});
