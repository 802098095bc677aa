//! Free-space management: allocators that carve variable-sized blocks out of a range, and what
//! their choices cost in fragmentation and search (OSTEP ch. 17).

pub mod freelist;
pub mod memcheck;
pub mod memtrace;
pub mod process_heap;

pub use freelist::{Fit, FreeList, FreeListError, ListOrder};
