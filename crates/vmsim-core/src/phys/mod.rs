//! Simulated physical memory: which frames are free ([`buddy`], Linux's binary buddy allocator)
//! and the contents of the frames that hold page tables ([`memory`]), so a walk reads the same
//! bits hardware would.

pub mod buddy;
pub mod memory;
pub mod table_memory;

pub use buddy::{Buddy, OutOfFrames};
pub use memory::PhysMem;
pub use table_memory::TableMemory;
