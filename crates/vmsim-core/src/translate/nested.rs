//! The two-dimensional walk of nested paging (Intel EPT; AMD NPT has the same shape). The MMU
//! walks the guest's radix table as it walks a native one ([`super::radix::walk`]), but the
//! guest's tables live in guest-physical memory: before each guest entry is read, its
//! guest-physical address goes through the host dimension (nested TLB, host page-walk caches,
//! EPT walk: [`HostCaches::translate`]), and so does the final guest-physical page. With no
//! caches, an n-level guest on an m-level host reads n·m + n + m entries: 24 for 4-on-4, 35 for
//! 5-on-5 (Bhargava et al., ASPLOS 2008). The order is the hardware's: for each guest level from
//! the top, the host walk of that level's table, then the guest entry; last, the host walk of
//! the data page.
//!
//! [`GuestMemory`] is the seam: the [`TableMemory`] through which the MMU reaches the tables
//! CR3 names. Without a hypervisor it is the machine's memory read directly (one predictable
//! branch per entry, none on a TLB hit); under nested paging it adds the host dimension; under
//! shadow paging it hands the walk the shadow tables instead ([`crate::hypervisor::shadow`]).

use crate::addr::{PageSize, Pfn, PhysAddr, VirtAddr};
use crate::event::{Event, Observer};
use crate::hypervisor::{Hypervisor, VirtMode, VmExit};
use crate::phys::{PhysMem, TableMemory};
use crate::pte::{Level, Pte, TableIndex};
use serde::Serialize;

/// Which dimension of a nested walk read an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "dimension", rename_all = "snake_case")]
pub enum Dimension {
    /// An entry of the guest's own table (at a guest-physical address).
    Guest,
    /// An EPT entry, read to translate the guest-physical address of the guest table at
    /// `guest_level` (`None`: of the data page the guest walk ended at).
    Host {
        /// The guest level whose table address this host walk translates.
        guest_level: Option<Level>,
    },
}

/// One entry a two-dimensional walk read: `vmsim explain --json` prints it as a `walk_read`
/// event with its `dimension`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct NestedRead {
    /// Guest or host, and for host reads the guest level they serve.
    #[serde(flatten)]
    pub dimension: Dimension,
    /// Level of the table read (a guest level, or an EPT level).
    pub level: Level,
    /// Frame of that table: guest-physical for guest reads, host-physical for host reads.
    pub table: Pfn,
    /// Index used.
    pub index: TableIndex,
    /// Address of the entry, in the same space as `table`.
    pub entry_addr: PhysAddr,
    /// Host-physical address of the entry (for guest reads, where the host placed it).
    pub host_addr: PhysAddr,
    /// The entry as read.
    #[serde(serialize_with = "hex")]
    pub entry: u64,
}

fn pa(a: u64) -> PhysAddr {
    PhysAddr::from_frame(Pfn(a >> 12), PageSize::SIZE_4K, a & 0xfff)
}

fn hex<S: serde::Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format!("{v:#018x}"))
}

/// The tables CR3 names, as the MMU reaches them: the machine's memory natively, guest-physical
/// memory under a hypervisor. Built for one translation; holds nothing of its own.
pub struct GuestMemory<'a> {
    mem: &'a mut PhysMem,
    hv: Option<&'a mut Hypervisor>,
    cpu: usize,
    record: bool,
}

impl<'a> GuestMemory<'a> {
    /// The memory of CPU `cpu`'s walks; `record` keeps the reads for an observer.
    #[inline(always)]
    pub fn new(
        mem: &'a mut PhysMem,
        hv: Option<&'a mut Hypervisor>,
        cpu: usize,
        record: bool,
    ) -> Self {
        GuestMemory {
            mem,
            hv,
            cpu,
            record,
        }
    }
}

impl TableMemory for GuestMemory<'_> {
    type Error = VmExit;

    #[inline]
    fn read_entry(&mut self, table: Pfn, index: TableIndex) -> Result<Pte, VmExit> {
        match self.hv.as_deref_mut() {
            None => Ok(self.mem.read(table, index)),
            Some(hv) => hv.read_entry(self.mem, self.cpu, self.record, table, index),
        }
    }

    #[inline]
    fn write_entry(&mut self, table: Pfn, index: TableIndex, pte: Pte) -> Result<(), VmExit> {
        match self.hv.as_deref_mut() {
            None => self.mem.write(table, index, pte),
            Some(hv) => hv.write_entry(self.mem, table, index, pte),
        }
        Ok(())
    }

    #[inline]
    fn begin_walk(&mut self, va: VirtAddr, table: Pfn, level: Level) -> Pfn {
        match self.hv.as_deref_mut() {
            None => table,
            Some(hv) => hv.begin_walk(self.mem, va, table, level),
        }
    }

    #[inline]
    fn narrates_reads(&self) -> bool {
        self.hv
            .as_deref()
            .is_some_and(|h| h.mode() == VirtMode::Nested)
    }

    #[inline]
    fn leaf_frame(
        &mut self,
        va: VirtAddr,
        pfn: Pfn,
        size: PageSize,
        write: bool,
    ) -> Result<(Pfn, PageSize), VmExit> {
        match self.hv.as_deref_mut() {
            Some(hv) if hv.mode() == VirtMode::Nested => {
                hv.nested_leaf(self.cpu, self.record, va, pfn, size, write)
            }
            _ => Ok((pfn, size)),
        }
    }

    #[inline]
    fn end_walk<O: Observer>(&mut self, obs: &mut O) -> (u64, u64) {
        match self.hv.as_deref_mut() {
            None => (0, 0),
            Some(hv) => hv.end_walk(obs),
        }
    }
}

impl Hypervisor {
    /// Entry `index` of the table in `table` as the walk reads it.
    fn read_entry(
        &mut self,
        mem: &mut PhysMem,
        cpu: usize,
        record: bool,
        table: Pfn,
        index: TableIndex,
    ) -> Result<Pte, VmExit> {
        if self.mode() == VirtMode::Shadow {
            return self.shadow_read(mem, table, index);
        }
        let level = self.guest_level.unwrap_or(Level::Pt);
        self.guest_level = level.next_lower();
        let gpa = PhysMem::entry_addr(table, index).as_u64();
        // With EPT A/D on, the processor's accesses to guest paging structures count as
        // writes for the EPT (SDM Vol. 3C §29.3.5).
        let write = self.cfg.ept_ad;
        let host = self.host_translate(cpu, record, Some(level), gpa, write)?;
        let pte = mem.read(table, index);
        if record {
            let host_addr = host.map_or(pa(0), |(f, _)| pa(f.0 << 12 | gpa & 0xfff));
            self.reads.push(NestedRead {
                dimension: Dimension::Guest,
                level,
                table,
                index,
                entry_addr: pa(gpa),
                host_addr,
                entry: pte.raw(),
            });
        }
        Ok(pte)
    }

    fn write_entry(&mut self, mem: &mut PhysMem, table: Pfn, index: TableIndex, pte: Pte) {
        if self.mode() == VirtMode::Shadow {
            self.shadow_write(mem, table, index, pte);
        } else {
            mem.write(table, index, pte);
        }
    }

    fn begin_walk(&mut self, mem: &mut PhysMem, va: VirtAddr, table: Pfn, level: Level) -> Pfn {
        self.guest_level = Some(level);
        if self.mode() == VirtMode::Shadow {
            return self.shadow_begin(mem, va, table, level);
        }
        table
    }

    /// The host page under the guest's page at `pfn` of `size` for `va`: the TLB entry's frame
    /// and the smaller of the two page sizes.
    fn nested_leaf(
        &mut self,
        cpu: usize,
        record: bool,
        va: VirtAddr,
        pfn: Pfn,
        size: PageSize,
        write: bool,
    ) -> Result<(Pfn, PageSize), VmExit> {
        let gpa = pfn.0 << 12 | va.as_u64() & size.mask();
        Ok(match self.host_translate(cpu, record, None, gpa, write)? {
            Some((frame, host_size)) => {
                let combined = if host_size.bytes() < size.bytes() {
                    host_size
                } else {
                    size
                };
                let mask = (combined.bytes() >> 12) - 1;
                (Pfn(frame.0 & !mask), combined)
            }
            // A guest frame the host cannot back: the guest kernel never hands one out.
            None => (pfn, size),
        })
    }

    /// The host dimension for one guest-physical address.
    fn host_translate(
        &mut self,
        cpu: usize,
        record: bool,
        guest_level: Option<Level>,
        gpa: u64,
        write: bool,
    ) -> Result<Option<(Pfn, PageSize)>, VmExit> {
        let c = cpu.min(self.caches.len().saturating_sub(1));
        let exits = self.stats.vm_exits;
        let refs = self.stats.host_walk_refs;
        let reads = &mut self.reads;
        let out = self.caches[c].translate(&mut self.host, &mut self.stats, gpa, write, |r| {
            if record {
                reads.push(NestedRead {
                    dimension: Dimension::Host { guest_level },
                    level: r.level,
                    table: r.entry_addr.pfn(),
                    index: TableIndex::truncate((r.entry_addr.as_u64() & 0xfff) >> 3),
                    entry_addr: r.entry_addr,
                    host_addr: r.entry_addr,
                    entry: r.entry.raw(),
                });
            }
        });
        self.walk_host_refs += self.stats.host_walk_refs - refs;
        self.walk_exits += self.stats.vm_exits - exits;
        out
    }

    fn end_walk<O: Observer>(&mut self, obs: &mut O) -> (u64, u64) {
        if O::ENABLED {
            for r in &self.reads {
                obs.event(&Event::NestedWalkRead(*r));
            }
        }
        self.reads.clear();
        self.guest_level = None;
        let out = (self.walk_host_refs, self.walk_exits);
        self.walk_host_refs = 0;
        self.walk_exits = 0;
        out
    }
}
