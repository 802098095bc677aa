//! The errors of reading the real system: a file that cannot be read, a line that does not
//! parse (named by file and line), or a facility this machine does not offer.
use std::path::PathBuf;
use thiserror::Error;

/// A failure reading or parsing a `/proc` or `/sys` file.
#[derive(Debug, Error)]
pub enum ProcError {
    /// The file could not be opened or read.
    #[error("{}: {error}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why (printed, not chained: the message is one line).
        error: std::io::Error,
    },
    /// A line that does not have the shape the kernel writes.
    #[error("{path}:{line}: {message}")]
    Malformed {
        /// The file (as named to the parser).
        path: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A file that parses but says something impossible (named by file and place).
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong, and where in the file.
        message: String,
    },
    /// A key every kernel since 4.x writes is absent.
    #[error("{path}: no `{key}` line")]
    Missing {
        /// The file.
        path: String,
        /// The key.
        key: &'static str,
    },
}

impl ProcError {
    /// A malformed-line error.
    pub(crate) fn malformed(path: &str, line: usize, message: impl Into<String>) -> Self {
        ProcError::Malformed {
            path: path.to_string(),
            line,
            message: message.into(),
        }
    }

    /// An I/O error on `path`.
    pub(crate) fn io(path: impl Into<PathBuf>, error: std::io::Error) -> Self {
        ProcError::Io {
            path: path.into(),
            error,
        }
    }
}
