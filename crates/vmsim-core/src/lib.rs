//! The vmsim model: everything on the path of a memory access, pure and deterministic.
//!
//! No I/O, no command line, no `unsafe`. The map of the code is `ARCHITECTURE.md` at the repository root.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod access;
pub mod addr;
pub mod alloc;
pub mod config;
pub mod event;
mod hit_filter;
pub mod hypervisor;
pub mod kernel;
pub mod machine;
pub mod memapi;
pub mod mmu;
pub mod phys;
pub mod protection;
pub mod pte;
pub mod pwc;
pub mod replace;
mod tag_index;
pub mod tlb;
pub mod translate;
pub mod units;

pub use access::{AccessKind, Privilege};
pub use addr::{AddrError, PageSize, PagingMode, Pfn, PhysAddr, VirtAddr, Vpn};
pub use pte::{Level, Pte, PteFlags, TableIndex};
pub use translate::radix;
