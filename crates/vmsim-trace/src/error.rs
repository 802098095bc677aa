//! Trace errors: always name the source and where in it the problem is.
use std::fmt;
use thiserror::Error;

/// Where in a trace an error was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// Nowhere in particular (opening the file).
    None,
    /// A 1-based line of a text format.
    Line(u64),
    /// A 0-based record index and byte offset of a binary format.
    Record {
        /// Record index.
        index: u64,
        /// Byte offset of the record.
        offset: u64,
    },
}

/// A trace could not be read or written.
#[derive(Debug, Error)]
pub struct TraceError {
    /// The file name (or `<stdin>`, or the built-in trace's name).
    pub source_name: String,
    /// Where.
    pub location: Location,
    /// What is wrong.
    pub message: String,
}

impl TraceError {
    /// An error at `location` of `source_name`.
    pub fn new(source_name: &str, location: Location, message: impl Into<String>) -> Self {
        TraceError {
            source_name: source_name.to_string(),
            location,
            message: message.into(),
        }
    }

    /// An I/O failure (its message is kept; the error itself is not needed by callers).
    pub fn io(source_name: &str, location: Location, e: std::io::Error) -> Self {
        Self::new(source_name, location, e.to_string())
    }
}

impl fmt::Display for TraceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.location {
            Location::None => write!(f, "{}: {}", self.source_name, self.message),
            Location::Line(l) => write!(f, "{}:{l}: {}", self.source_name, self.message),
            Location::Record { index, offset } => write!(
                f,
                "{}: record {index} (byte {offset}): {}",
                self.source_name, self.message
            ),
        }
    }
}
