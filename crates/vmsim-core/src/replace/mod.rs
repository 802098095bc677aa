//! Page replacement: which resident page to evict when memory is full.
//!
//! [`list`] is the slow, obvious reference: resident pages kept in a list in the order the
//! textbook draws them, with the classic policies (FIFO, LRU, MRU, OPT and its opposite,
//! random, CLOCK with multi-bit counters) exactly as OSTEP's `paging-policy.py` applies them.
//! It answers the OSTEP homework and serves as the oracle that fast policies are tested
//! against.

pub mod list;

pub use list::{ListCache, ListPolicy, ListStep};
