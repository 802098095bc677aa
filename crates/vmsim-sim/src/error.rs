//! Why a simulation could not be built or could not go on.
use thiserror::Error;
use vmsim_core::config::ConfigError;
use vmsim_core::machine::MachineError;
use vmsim_trace::TraceError;

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
    /// The Linux-like kernel was asked for on a machine whose pages it cannot map.
    #[error(
        "the linux kernel model maps x86-64 4K pages only: the demand-zero kernel runs 2M and \
         1G pages and teaching machines"
    )]
    LinuxNeeds4K,
}
