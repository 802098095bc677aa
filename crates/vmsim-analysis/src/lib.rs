//! Whole-trace analyses of page reference streams: miss-ratio curves for every memory size in
//! one pass (Mattson's stack algorithms, SHARDS sampling), Denning's working sets, and the
//! page-table organisations an address space would need.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod mrc;
pub mod mrc_report;
pub mod opt_curve;
pub mod opt_log;
pub mod pagetable;
pub mod policy_grid;
pub mod ws;
pub mod ws_report;
