//! Why a simulation could not be built or could not go on.
use thiserror::Error;
use vmsim_core::config::ConfigError;
use vmsim_core::machine::MachineError;
use vmsim_trace::{AddressError, TraceError};

/// A simulation failed.
#[derive(Debug, Error)]
pub enum SimError {
    /// The machine description is not a machine.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The machine could not go on (the kernel gave up, or a fault stayed unresolved).
    #[error(transparent)]
    Machine(#[from] MachineError),
    /// The trace could not be read.
    #[error(transparent)]
    Trace(#[from] TraceError),
    /// A record handed over in memory (not read from a trace) cannot be addressed.
    #[error("record {0}: {1}")]
    Record(u64, AddressError),
    /// The Linux-like kernel was asked for on a machine whose pages it cannot map.
    #[error(
        "the linux kernel model maps x86-64 4K pages only: the demand-zero kernel runs 2M and \
         1G pages and teaching machines"
    )]
    LinuxNeeds4K,
}

/// An error and its causes as one line, joined by ": ". A cause whose text the message already
/// ends with is not repeated: library errors both say their cause and expose it as `source()`.
/// Every face words a failure this way (the CLI after `vmsim: `, Python in its exception).
pub fn one_line<'a, E: std::error::Error + ?Sized + 'a>(
    chain: impl IntoIterator<Item = &'a E>,
) -> String {
    let mut msg = String::new();
    for cause in chain {
        let text = cause.to_string();
        if msg.is_empty() {
            msg = text;
        } else if !msg.ends_with(&text) {
            msg.push_str(": ");
            msg.push_str(&text);
        }
    }
    msg
}
