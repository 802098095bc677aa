//! Parsers of the `/proc/PID` files that describe a process's memory (proc(5),
//! Documentation/filesystems/proc.rst). Each takes the file's text and the name to put in
//! errors, so they are pure and fuzzable; reading the files is [`read`]'s job.
pub mod maps;
pub mod pagemap;
pub mod smaps;
pub mod status;

use crate::error::ProcError;
use std::path::Path;

/// Reads a whole `/proc` text file.
pub fn read(path: &Path) -> Result<String, ProcError> {
    std::fs::read_to_string(path).map_err(|e| ProcError::io(path, e))
}

/// Parses a hexadecimal field without `0x`, naming `what` on failure.
pub(crate) fn hex(s: &str, what: &str) -> Result<u64, String> {
    if s.is_empty() || s.len() > 16 {
        return Err(format!("bad {what} `{s}`"));
    }
    u64::from_str_radix(s, 16).map_err(|_| format!("bad {what} `{s}` (expected hex)"))
}
