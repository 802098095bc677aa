//! Simulated physical memory: which frames exist and are free ([`frames`]), and the contents of
//! the frames that hold page tables ([`memory`]), so a walk reads the same bits hardware would.

pub mod frames;
pub mod memory;

pub use frames::{FrameAllocator, OutOfFrames};
pub use memory::PhysMem;
