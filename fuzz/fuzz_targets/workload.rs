//! Any text as a workload: an error naming a line, or a workload, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use vmsim_sim::workload::{Workload, WorkloadError};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Err(WorkloadError::Parse { line, .. }) = Workload::parse(text) {
            assert!(line >= 1 && line <= text.lines().count().max(1) + 1);
        }
    }
});
