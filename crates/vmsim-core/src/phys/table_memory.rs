//! Where a page walk reads and writes table entries. The walker sees memory only through
//! [`TableMemory`], so the same walk runs over the machine's physical memory ([`PhysMem`], which
//! never fails) and over memory that is itself translated: a guest's tables live in
//! guest-physical memory, and under nested paging every entry the guest walk reads is reached
//! by a host walk, which may fault (an EPT violation) before the guest entry is read.
use crate::addr::Pfn;
use crate::phys::PhysMem;
use crate::pte::{Pte, TableIndex};
use std::convert::Infallible;

/// Memory holding page tables, as a page walk reaches it.
pub trait TableMemory {
    /// Why an entry could not be reached (for memory reached through another translation);
    /// [`Infallible`] where every frame is directly addressable.
    type Error;

    /// Entry `index` of the table in frame `table`.
    fn read_entry(&mut self, table: Pfn, index: TableIndex) -> Result<Pte, Self::Error>;

    /// Stores `pte` as entry `index` of the table in frame `table` (the walk's A-bit updates).
    fn write_entry(&mut self, table: Pfn, index: TableIndex, pte: Pte) -> Result<(), Self::Error>;
}

impl TableMemory for PhysMem {
    type Error = Infallible;

    #[inline]
    fn read_entry(&mut self, table: Pfn, index: TableIndex) -> Result<Pte, Infallible> {
        Ok(self.read(table, index))
    }

    #[inline]
    fn write_entry(&mut self, table: Pfn, index: TableIndex, pte: Pte) -> Result<(), Infallible> {
        self.write(table, index, pte);
        Ok(())
    }
}
