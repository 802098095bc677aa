//! Whole-trace analyses of page reference streams: miss-ratio curves for every memory size in
//! one pass (Mattson's stack algorithms, SHARDS sampling) and Denning's working sets.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod mrc;
pub mod ws;
