//! The real system: a live process's virtual memory read from `/proc` (areas, pages, the page
//! tables vmsim's radix model needs next to the kernel's own count), real programs' memory
//! traces recorded under valgrind, and this machine's TLB measured.
//!
//! The only crate of the workspace that touches the operating system. Its `unsafe` lives in
//! [`sys`], in small wrappers that state why each call is sound. Linux only: elsewhere the
//! crate compiles to nothing and the commands say they need Linux.
#![deny(missing_docs)]
#![cfg(target_os = "linux")]

pub mod aslr;
pub mod caches;
#[cfg(target_arch = "x86_64")]
pub mod cpuid;
pub mod error;
pub mod faultcost;
pub mod faults;
pub mod inspect;
pub mod layout;
pub mod procfs;
pub mod record;
pub mod snapshot;
pub mod sys;
pub mod tables;
pub mod tlbprobe;
pub mod tool;
pub mod wss;

pub use error::ProcError;
