//! The minimal kernel: every process is one address space in which any page is private
//! anonymous memory, mapped on first touch to a fresh zero-filled frame (a minor fault) with
//! read, write and execute rights. Memory is never reclaimed; when frames run out the run stops.

use super::{Kernel, KernelError, Pid};
use crate::access::AccessKind;
use crate::addr::{PageSize, Pfn, VirtAddr};
use crate::event::{Fault, Resolution};
use crate::mmu::Mmu;
use crate::phys::PhysMem;
use crate::pte::PteFlags;
use crate::radix::{Geometry, MapError, RadixTable, WalkFault};
use crate::tlb::Pcid;
use rustc_hash::FxHashMap;

#[derive(Clone)]
struct Process {
    table: RadixTable,
    pcid: Pcid,
}

/// Demand-zero paging with unlimited reuse of nothing: see the module docs.
#[derive(Clone)]
pub struct DemandZeroKernel {
    geom: Geometry,
    page_size: PageSize,
    procs: FxHashMap<Pid, Process>,
}

impl DemandZeroKernel {
    /// A kernel whose tables have geometry `geom` and which maps pages of `page_size` (4 KiB,
    /// or 2 MiB / 1 GiB to model a system that backs everything with huge pages).
    pub fn new(geom: Geometry, page_size: PageSize) -> Self {
        DemandZeroKernel {
            geom,
            page_size,
            procs: FxHashMap::default(),
        }
    }

    /// The page table of `pid`, if it exists.
    pub fn table(&self, pid: Pid) -> Option<&RadixTable> {
        self.procs.get(&pid).map(|p| &p.table)
    }
}

impl Kernel for DemandZeroKernel {
    fn context(
        &mut self,
        mem: &mut PhysMem,
        pid: Pid,
        _cpu: usize,
    ) -> Result<(Pfn, Pcid), KernelError> {
        if let Some(p) = self.procs.get(&pid) {
            return Ok((p.table.root(), p.pcid));
        }
        // PCIDs 1..=4095 in order of first appearance; PCID 0 stays the kernel's.
        let n = self.procs.len() as u16;
        let pcid = Pcid::try_new(1 + n % 4095).unwrap_or(Pcid::ZERO);
        let table = RadixTable::new(self.geom, mem)?;
        let root = table.root();
        self.procs.insert(pid, Process { table, pcid });
        Ok((root, pcid))
    }

    fn handle_fault(
        &mut self,
        mem: &mut PhysMem,
        _cpus: &mut [Mmu],
        _cpu: usize,
        pid: Pid,
        va: VirtAddr,
        _kind: AccessKind,
        fault: Fault,
    ) -> Result<Resolution, KernelError> {
        match fault {
            Fault::Walk(WalkFault::NotPresent { .. }) => {}
            // Every page is readable, writable and executable here, so other faults are
            // accesses no process may make (non-canonical addresses).
            _ => return Ok(Resolution::Segv),
        }
        let Some(p) = self.procs.get_mut(&pid) else {
            return Ok(Resolution::Segv);
        };
        let size = self.page_size;
        let order = (size.shift().saturating_sub(self.geom.page_size().shift())) as u8;
        let pfn = mem.frames().alloc(order)?;
        let base = va.align_down(size);
        match p
            .table
            .map(mem, base, size, pfn, PteFlags::WRITABLE | PteFlags::USER)
        {
            Ok(()) => Ok(Resolution::DemandZero {
                va: base,
                pfn,
                size,
            }),
            Err(MapError::Address(_)) => {
                mem.frames().free(pfn, order);
                Ok(Resolution::Segv)
            }
            Err(e) => {
                mem.frames().free(pfn, order);
                Err(e.into())
            }
        }
    }

    fn table_pages(&self) -> [u64; 5] {
        super::sum_table_pages(self.procs.values().map(|p| &p.table))
    }

    fn processes(&self) -> usize {
        self.procs.len()
    }

    fn summary(&self, _mem: &PhysMem) -> super::KernelSummary {
        super::KernelSummary {
            name: "demand-zero",
            ..Default::default()
        }
    }
}
