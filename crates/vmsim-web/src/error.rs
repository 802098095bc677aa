//! `WebError`: what can go wrong while a report is made or the explorer's server starts.
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
    /// The server could not listen.
    #[error("cannot listen on {addr}: {message}")]
    Bind {
        /// The address asked for.
        addr: std::net::SocketAddr,
        /// Why not.
        message: String,
    },
    /// An option is out of range.
    #[error("{0}")]
    Options(&'static str),
}
