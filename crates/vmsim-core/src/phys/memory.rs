//! The contents of page-table frames. Only frames that hold tables carry contents (data pages are
//! not simulated byte by byte); each holds real 512-entry `u64` arrays that walks read and the
//! processor writes A/D bits into.

use super::buddy::{Buddy, OutOfFrames, MAX_ORDER};
use crate::addr::{Pfn, PhysAddr};
use crate::pte::{Pte, TableIndex};

const ENTRIES: usize = 512;
const NO_SLOT: u32 = u32::MAX;

/// Physical memory: the frame allocator plus the contents of every page-table frame.
#[derive(Debug, Clone)]
pub struct PhysMem {
    frames: Buddy,
    /// Frame number → slot in `tables` (dense: one `u32` per frame ever handed out).
    slot_of: Vec<u32>,
    /// Table contents, 512 entries per slot.
    tables: Vec<u64>,
    /// Non-zero entries per slot (present pages, tables, or swap entries), so tables that hold
    /// nothing can be freed on unmap.
    present: Vec<u16>,
    free_slots: Vec<u32>,
    /// Table writes since the log was last taken, while a hypervisor write-protects this
    /// memory's tables (shadow paging); `None`, as natively, logs nothing.
    log: Option<Vec<TableWrite>>,
}

/// A change to a table that a write-protecting hypervisor traps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableWrite {
    /// One entry was written.
    Entry(Pfn, TableIndex),
    /// The frame became a table or stopped being one: all its entries changed.
    Whole(Pfn),
}

impl PhysMem {
    /// Physical memory of `frames` frames (frame 0 is reserved, as on real machines, so a zero
    /// frame number in an entry never names a page).
    pub fn new(frames: u64) -> Self {
        PhysMem {
            frames: Buddy::new(1, frames.saturating_sub(1), MAX_ORDER),
            slot_of: Vec::new(),
            tables: Vec::new(),
            present: Vec::new(),
            free_slots: Vec::new(),
            log: None,
        }
    }

    /// Starts (or stops) logging table changes, as a hypervisor write-protecting the tables.
    pub fn log_table_writes(&mut self, on: bool) {
        self.log = on.then(Vec::new);
    }

    /// The table changes logged since the last call, oldest first (none when not logging).
    pub fn take_table_writes(&mut self, into: &mut Vec<TableWrite>) {
        if let Some(l) = &mut self.log {
            into.append(l);
        }
    }

    /// The frame allocator (for data pages).
    pub fn frames(&mut self) -> &mut Buddy {
        &mut self.frames
    }

    /// The frame allocator, read-only.
    pub fn buddy(&self) -> &Buddy {
        &self.frames
    }

    /// Frames in use, data and tables.
    pub fn frames_in_use(&self) -> u64 {
        self.frames.in_use()
    }

    /// Allocates a zeroed frame to hold a page table.
    pub fn alloc_table(&mut self) -> Result<Pfn, OutOfFrames> {
        let pfn = self.frames.alloc(0)?;
        let slot = match self.free_slots.pop() {
            Some(s) => {
                let base = s as usize * ENTRIES;
                self.tables[base..base + ENTRIES].fill(0);
                self.present[s as usize] = 0;
                s
            }
            None => {
                self.tables.resize(self.tables.len() + ENTRIES, 0);
                self.present.push(0);
                (self.present.len() - 1) as u32
            }
        };
        let i = pfn.0 as usize;
        if self.slot_of.len() <= i {
            self.slot_of.resize(i + 1, NO_SLOT);
        }
        self.slot_of[i] = slot;
        if let Some(l) = &mut self.log {
            l.push(TableWrite::Whole(pfn));
        }
        Ok(pfn)
    }

    /// Frees a table frame. Its entries are forgotten.
    pub fn free_table(&mut self, pfn: Pfn) {
        if let Some(slot) = self.slot(pfn) {
            self.slot_of[pfn.0 as usize] = NO_SLOT;
            self.free_slots.push(slot as u32);
            self.frames.free(pfn, 0);
            if let Some(l) = &mut self.log {
                l.push(TableWrite::Whole(pfn));
            }
        }
    }

    /// Whether `pfn` holds a page table.
    pub fn is_table(&self, pfn: Pfn) -> bool {
        self.slot(pfn).is_some()
    }

    #[inline]
    fn slot(&self, pfn: Pfn) -> Option<usize> {
        match self.slot_of.get(pfn.0 as usize) {
            Some(&s) if s != NO_SLOT => Some(s as usize),
            _ => None,
        }
    }

    /// The physical address of entry `idx` of the table in `table`.
    pub const fn entry_addr(table: Pfn, idx: TableIndex) -> PhysAddr {
        PhysAddr::from_frame(table, crate::addr::PageSize::SIZE_4K, idx.get() as u64 * 8)
    }

    /// Reads entry `idx` of table `table`. A frame that holds no table reads as zero (not
    /// present), like memory the model does not simulate.
    #[inline]
    pub fn read(&self, table: Pfn, idx: TableIndex) -> Pte {
        match self.slot(table) {
            Some(s) => Pte::from_raw(self.tables[s * ENTRIES + idx.get()]),
            None => Pte::EMPTY,
        }
    }

    /// Writes entry `idx` of table `table`, keeping the count of non-zero entries. Writes to
    /// frames that hold no table are ignored.
    #[inline]
    pub fn write(&mut self, table: Pfn, idx: TableIndex, pte: Pte) {
        if let Some(l) = &mut self.log {
            l.push(TableWrite::Entry(table, idx));
        }
        self.write_untrapped(table, idx, pte);
    }

    /// [`PhysMem::write`] by the hypervisor itself, which its own write protection does not
    /// trap (shadow paging's updates of the guest's A and D bits).
    #[inline]
    pub fn write_untrapped(&mut self, table: Pfn, idx: TableIndex, pte: Pte) {
        if let Some(s) = self.slot(table) {
            let cell = &mut self.tables[s * ENTRIES + idx.get()];
            let was = *cell != 0;
            *cell = pte.raw();
            match (was, pte.raw() != 0) {
                (false, true) => self.present[s] += 1,
                (true, false) => self.present[s] -= 1,
                _ => {}
            }
        }
    }

    /// Number of non-zero entries in table `table`.
    pub fn used_entries(&self, table: Pfn) -> u16 {
        self.slot(table).map_or(0, |s| self.present[s])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pte::PteFlags;

    #[test]
    fn tables_hold_entries_and_counts() {
        let mut m = PhysMem::new(1 << 10);
        let t = m.alloc_table().unwrap();
        let i = TableIndex::new(7).unwrap();
        assert_eq!(m.read(t, i), Pte::EMPTY);
        m.write(t, i, Pte::new(Pfn(9), PteFlags::PRESENT));
        assert_eq!(m.read(t, i).frame(), Pfn(9));
        assert_eq!(m.used_entries(t), 1);
        m.write(
            t,
            i,
            Pte::new(Pfn(9), PteFlags::PRESENT | PteFlags::ACCESSED),
        );
        assert_eq!(m.used_entries(t), 1);
        m.write(t, i, Pte::EMPTY);
        assert_eq!(m.used_entries(t), 0);
        assert_eq!(PhysMem::entry_addr(t, i).as_u64(), (t.0 << 12) + 56);
        m.free_table(t);
        assert!(!m.is_table(t));
        let u = m.alloc_table().unwrap();
        assert_eq!(m.read(u, i), Pte::EMPTY);
    }
}
