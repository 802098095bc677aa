//! `WebError`: what can go wrong while a report is made.
use thiserror::Error;

/// An error making a report.
#[derive(Debug, Error)]
pub enum WebError {
    /// The trace could not be read (its message names the file and the record or line).
    #[error(transparent)]
    Trace(#[from] vmsim_trace::TraceError),
    /// The report's data could not be serialised.
    #[error("cannot serialise the report's data: {0}")]
    Json(#[from] serde_json::Error),
    /// An option is out of range.
    #[error("{0}")]
    Options(&'static str),
}
