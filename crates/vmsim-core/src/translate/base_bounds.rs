//! Base and bounds (dynamic relocation): every address is checked against the bounds register
//! and, if below it, added to the base register (OSTEP ch. 15). One pair per process; the OS
//! saves and restores them on a context switch.

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
