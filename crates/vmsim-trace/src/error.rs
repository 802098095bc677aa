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
#[derive(Debug)]
pub struct TraceError {
    /// The file name (or `<stdin>`, or the built-in trace's name).
    pub source_name: String,
    /// Where.
    pub location: Location,
    /// What is wrong.
    pub problem: TraceProblem,
}

/// What is wrong with a trace.
#[derive(Debug, Error)]
pub enum TraceProblem {
    /// Reading or writing failed.
    #[error("{0}")]
    Io(#[source] std::io::Error),
    /// The bytes are not a trace of its format, or hold an access no machine can make.
    #[error("{0}")]
    Malformed(String),
}

impl TraceError {
    /// Malformed content at `location` of `source_name`.
    pub fn new(source_name: &str, location: Location, message: impl Into<String>) -> Self {
        TraceError {
            source_name: source_name.to_string(),
            location,
            problem: TraceProblem::Malformed(message.into()),
        }
    }

    /// An I/O failure at `location` of `source_name`; the error stays reachable as `source()`.
    /// A decompression error names its place in the compressed file itself
    /// ([`crate::compress::CodecError`]), so it is given without a place in the decompressed
    /// trace.
    pub fn io(source_name: &str, location: Location, e: std::io::Error) -> Self {
        let codec = e
            .get_ref()
            .is_some_and(|inner| inner.is::<crate::compress::CodecError>());
        let location = if codec { Location::None } else { location };
        TraceError {
            source_name: source_name.to_string(),
            location,
            problem: TraceProblem::Io(e),
        }
    }

    /// The I/O error behind this one, if it is one (a closed pipe, a full disk).
    pub fn io_error(&self) -> Option<&std::io::Error> {
        match &self.problem {
            TraceProblem::Io(e) => Some(e),
            TraceProblem::Malformed(_) => None,
        }
    }
}

impl std::error::Error for TraceError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.io_error().map(|e| e as _)
    }
}

impl fmt::Display for TraceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (name, what) = (&self.source_name, &self.problem);
        match self.location {
            Location::None => write!(f, "{name}: {what}"),
            Location::Line(l) => write!(f, "{name}:{l}: {what}"),
            Location::Record { index, offset } => {
                write!(f, "{name}: record {index} (byte {offset}): {what}")
            }
        }
    }
}
