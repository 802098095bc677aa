//! Where a page walk reads and writes table entries. The walker sees memory only through
//! [`TableMemory`], so the same walk runs over the machine's physical memory ([`PhysMem`], which
//! never fails) and over memory that is itself translated: a guest's tables live in
//! guest-physical memory, and under nested paging every entry the guest walk reads is reached
//! by a host walk, which may fault (an EPT violation) before the guest entry is read.
use crate::addr::{PageSize, Pfn, VirtAddr};
use crate::event::Observer;
use crate::phys::PhysMem;
use crate::pte::{Level, Pte, TableIndex};
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

    /// A walk for `va` begins at `table`, an entry of `level` (the root from CR3, or where a
    /// page-walk cache left off); returns the table to read instead, which differs only where
    /// the processor walks other tables than the guest's (shadow paging).
    #[inline]
    fn begin_walk(&mut self, _va: VirtAddr, table: Pfn, _level: Level) -> Pfn {
        table
    }

    /// Whether this memory narrates the entries the walk reads itself (in [`end_walk`]), so the
    /// MMU must not.
    ///
    /// [`end_walk`]: TableMemory::end_walk
    #[inline]
    fn narrates_reads(&self) -> bool {
        false
    }

    /// Where the page a walk ended at lies in the memory that TLBs cache: the leaf's own frame
    /// and size natively; under nested paging the host frame, and the smaller of the guest's
    /// and the host's page sizes. `write` when the access writes.
    #[inline]
    fn leaf_frame(
        &mut self,
        _va: VirtAddr,
        pfn: Pfn,
        size: PageSize,
        _write: bool,
    ) -> Result<(Pfn, PageSize), Self::Error> {
        Ok((pfn, size))
    }

    /// The walk is over: hands what it kept to `obs` and returns the entries read and VM exits
    /// taken beyond the ones the MMU counted itself, for its cycles.
    #[inline]
    fn end_walk<O: Observer>(&mut self, _obs: &mut O) -> (u64, u64) {
        (0, 0)
    }
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

/// A borrowed table memory is one too, so callers that keep theirs pass `&mut mem`.
impl<M: TableMemory> TableMemory for &mut M {
    type Error = M::Error;

    #[inline]
    fn read_entry(&mut self, table: Pfn, index: TableIndex) -> Result<Pte, M::Error> {
        (**self).read_entry(table, index)
    }

    #[inline]
    fn write_entry(&mut self, table: Pfn, index: TableIndex, pte: Pte) -> Result<(), M::Error> {
        (**self).write_entry(table, index, pte)
    }

    #[inline]
    fn begin_walk(&mut self, va: VirtAddr, table: Pfn, level: Level) -> Pfn {
        (**self).begin_walk(va, table, level)
    }

    #[inline]
    fn narrates_reads(&self) -> bool {
        (**self).narrates_reads()
    }

    #[inline]
    fn leaf_frame(
        &mut self,
        va: VirtAddr,
        pfn: Pfn,
        size: PageSize,
        write: bool,
    ) -> Result<(Pfn, PageSize), M::Error> {
        (**self).leaf_frame(va, pfn, size, write)
    }

    #[inline]
    fn end_walk<O: Observer>(&mut self, obs: &mut O) -> (u64, u64) {
        (**self).end_walk(obs)
    }
}
