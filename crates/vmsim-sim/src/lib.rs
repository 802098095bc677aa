//! vmsim's simulation library: what "run a simulation" means, once, for every face of vmsim.
//!
//! A [`Simulation`] is a machine (CPUs, TLBs, page-walk caches, physical memory) with the kernel
//! model a [`KernelChoice`] names, held as an [`AnyMachine`] so that callers that cannot be
//! generic (the CLI's flag handling, Python bindings, a web handler) can own one; its replay
//! loop dispatches on the kernel once and then runs monomorphized. [`RunReport`] is the typed
//! report of a run, with its JSON (serde) and its text rendering; [`narrate`] tells one access's
//! events as the step-by-step story `--explain` prints, and [`Explainer`] records accesses on a
//! fresh machine into the document `vmsim explain --json` prints.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod any_machine;
pub mod builtin_trace;
pub mod error;
pub mod explain;
pub mod kernel_choice;
pub mod machine_choice;
pub mod machine_state;
pub mod narrate;
pub mod narrate_2d;
pub mod report;
pub mod simulation;
pub mod virt_report;
pub mod workload;

pub use any_machine::AnyMachine;
pub use error::SimError;
pub use explain::{ExplainedAccess, Explainer, Explanation};
pub use kernel_choice::{KernelChoice, KernelKind};
pub use report::RunReport;
pub use simulation::{ReplayOptions, Simulation, Watch};
pub use virt_report::VirtReport;
