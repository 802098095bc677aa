//! The built-in trace: what a run replays when it is given none, so that the CLI's `vmsim run`
//! and Python's `vmsim.run()` replay the same accesses (see `crates/vmsim-cli/data/README.md`
//! for the program it records).
use vmsim_trace::{Format, TraceError, TraceReader};

/// The built-in trace's bytes (vmt format).
pub const BYTES: &[u8] = include_bytes!("../../vmsim-cli/data/default.vmt");
/// How the built-in trace is named in reports.
pub const NAME: &str = "built-in:default.vmt";

/// A reader of the built-in trace (`format` as the caller was asked for, detected if `None`).
pub fn open(format: Option<Format>) -> Result<TraceReader, TraceError> {
    TraceReader::from_reader(NAME, std::io::Cursor::new(BYTES), format)
}
