//! A linear (one-level) page table: an array indexed by virtual page number, each entry a
//! frame number or invalid (OSTEP ch. 18). Its size is the whole address space's page count
//! times the entry size, used or not, which is what makes it infeasible for 64-bit spaces.

use super::{pa, Translate, TranslateFault};
use crate::access::AccessKind;
use crate::addr::{PageSize, PhysAddr, VirtAddr};
use serde::Serialize;

/// The table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LinearTable {
    /// Page size.
    pub page_size: PageSize,
    /// One entry per virtual page: the frame, or `None` when invalid.
    pub entries: Vec<Option<u64>>,
    /// Bytes per entry, for the overhead figure.
    pub entry_bytes: u64,
    /// Addresses are first masked to this many bits (OSTEP's simulator masks to 32).
    pub mask_bits: Option<u8>,
}

impl LinearTable {
    /// The virtual page number of `va` (after masking).
    pub fn vpn(&self, va: u64) -> u64 {
        let v = match self.mask_bits {
            Some(b) if b < 64 => va & ((1u64 << b) - 1),
            _ => va,
        };
        v >> self.page_size.shift()
    }
}

impl Translate for LinearTable {
    fn name(&self) -> &'static str {
        "linear"
    }

    fn translate(&self, va: VirtAddr, _kind: AccessKind) -> Result<PhysAddr, TranslateFault> {
        let v = va.as_u64();
        let vpn = self.vpn(v);
        match self.entries.get(vpn as usize) {
            None => Err(TranslateFault::BeyondTable {
                vpn,
                entries: self.entries.len() as u64,
            }),
            Some(None) => Err(TranslateFault::InvalidPage { vpn }),
            Some(Some(pfn)) => Ok(pa(
                (pfn << self.page_size.shift()) + (v & self.page_size.mask())
            )),
        }
    }

    fn overhead_bytes(&self) -> u64 {
        self.entries.len() as u64 * self.entry_bytes
    }
}
