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

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    proptest! {
        /// Arbitrary text, and text made of the parsers' own vocabulary, is an error or a
        /// value, never a panic.
        #[test]
        fn parsers_never_panic(
            raw in ".{0,300}",
            shaped in "([0-9a-f]{1,17}-[0-9a-f]{1,17} [rwxps-]{3,5} [0-9a-f]{1,9} [0-9a-f]{1,3}:[0-9a-f]{1,3} [0-9]{1,5} ?[/a-z\\[\\] ]{0,12}\n|(Rss|Pss|VmPTE|Pid|Name|VmFlags|Swap):[ \t]{0,3}[0-9a-z ]{0,8}\n){0,8}",
        ) {
            for t in [&raw, &shaped] {
                let _ = super::maps::parse("p", t);
                let _ = super::smaps::parse("p", t);
                let _ = super::status::parse("p", t);
                if let Ok(l) = crate::snapshot::SavedLayout::from_maps("p", t) {
                    let mut next = 0;
                    let m = l.space(|| { next += 1; next });
                    // Every user area becomes one VMA.
                    prop_assert_eq!(m.space.len() + m.skipped.len(), l.vmas.len());
                }
                let _ = crate::snapshot::SavedLayout::from_json("p", t);
            }
        }
    }
}
