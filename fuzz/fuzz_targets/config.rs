//! Any text as a machine description: an error or a valid machine, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use vmsim_core::config::MachineConfig;
use vmsim_core::machine::Machine;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(cfg) = MachineConfig::from_toml(text) {
            let _ = Machine::from_config(&cfg);
        }
    }
});
