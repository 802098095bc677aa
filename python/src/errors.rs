//! Failures as Python exceptions of the `vmsim.errors` hierarchy, worded as the CLI words them
//! (one line: the error and its causes, `vmsim_sim::error::one_line`).
use pyo3::prelude::*;
use vmsim_sim::machine_choice::ChoiceError;
use vmsim_sim::SimError;

/// The exception classes of `vmsim/errors.py`, by name.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// Arguments that cannot be (the CLI's exit code 2).
    Usage,
    /// A trace that cannot be read.
    Trace,
    /// A machine description that is not a machine.
    Config,
    /// The simulated machine could not go on.
    Simulation,
    /// A Python policy broke its contract.
    Policy,
}

impl Kind {
    fn class(self) -> &'static str {
        match self {
            Kind::Usage => "UsageError",
            Kind::Trace => "TraceError",
            Kind::Config => "ConfigError",
            Kind::Simulation => "SimulationError",
            Kind::Policy => "PolicyError",
        }
    }
}

/// A failure to be raised in Python: which class, and its one-line message.
#[derive(Debug)]
pub struct Failure {
    kind: Kind,
    message: String,
}

impl Failure {
    /// A failure of `kind` saying `message`.
    pub fn new(kind: Kind, message: impl Into<String>) -> Failure {
        Failure {
            kind,
            message: message.into(),
        }
    }

    /// A usage failure saying `message`.
    pub fn usage(message: impl Into<String>) -> Failure {
        Failure::new(Kind::Usage, message)
    }

    /// `e` and its causes as one line, raised as `kind`.
    pub fn of(kind: Kind, e: &(dyn std::error::Error + 'static)) -> Failure {
        let chain = std::iter::successors(Some(e), |c| c.source());
        Failure::new(kind, vmsim_sim::error::one_line(chain))
    }
}

impl From<SimError> for Failure {
    fn from(e: SimError) -> Failure {
        let kind = match &e {
            SimError::Config(_) => Kind::Config,
            SimError::Trace(_) | SimError::Record(..) => Kind::Trace,
            SimError::Machine(_) => Kind::Simulation,
            SimError::LinuxNeeds4K => Kind::Usage,
        };
        Failure::of(kind, &e)
    }
}

impl From<vmsim_trace::TraceError> for Failure {
    fn from(e: vmsim_trace::TraceError) -> Failure {
        Failure::of(Kind::Trace, &e)
    }
}

impl From<ChoiceError> for Failure {
    fn from(e: ChoiceError) -> Failure {
        let kind = if e.is_usage() {
            Kind::Usage
        } else {
            Kind::Config
        };
        Failure::of(kind, &e)
    }
}

impl From<Failure> for PyErr {
    fn from(f: Failure) -> PyErr {
        Python::with_gil(|py| {
            match py
                .import("vmsim.errors")
                .and_then(|m| m.getattr(f.kind.class()))
            {
                Ok(class) => PyErr::from_type(class.downcast_into().expect("a class"), f.message),
                Err(e) => e,
            }
        })
    }
}
