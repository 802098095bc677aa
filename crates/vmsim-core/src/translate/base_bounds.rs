//! Base and bounds (dynamic relocation): every address is checked against the bounds register
//! and, if below it, added to the base register (OSTEP ch. 15). One pair per process; the OS
//! saves and restores them on a context switch. The whole address space is one piece of physical
//! memory, so the unused middle between heap and stack is allocated, and copied when the OS moves
//! the process: internal fragmentation.

use super::{pa, Translate, TranslateFault};
use crate::access::AccessKind;
use crate::addr::{PhysAddr, VirtAddr};
use serde::Serialize;

/// The two registers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BaseBounds {
    /// Physical address of the process's address 0.
    pub base: u64,
    /// Size of the address space the process may use (the limit).
    pub bounds: u64,
}

impl BaseBounds {
    /// Registers the OS saves into the process structure (and restores) on a context switch.
    pub const REGISTERS: u64 = 2;
}

/// What a process uses of its base-and-bounds address space: code and heap from address 0 up,
/// the stack down from the top.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Layout {
    /// Address-space size (the bounds).
    pub size: u64,
    /// Code bytes.
    pub code: u64,
    /// Heap bytes (with any static data).
    pub heap: u64,
    /// Stack bytes.
    pub stack: u64,
}

impl Layout {
    /// Bytes in use.
    pub fn used(&self) -> u64 {
        self.code + self.heap + self.stack
    }

    /// The unused middle: allocated, copied on a move, never touched (internal fragmentation).
    pub fn internal_fragmentation(&self) -> u64 {
        self.size.saturating_sub(self.used())
    }
}

impl Translate for BaseBounds {
    fn name(&self) -> &'static str {
        "base-bounds"
    }

    fn translate(&self, va: VirtAddr, _kind: AccessKind) -> Result<PhysAddr, TranslateFault> {
        let v = va.as_u64();
        if v < self.bounds {
            Ok(pa(self.base.wrapping_add(v)))
        } else {
            Err(TranslateFault::OutOfBounds {
                va: v,
                bounds: self.bounds,
            })
        }
    }

    fn overhead_bytes(&self) -> u64 {
        0
    }
}
