//! Shadow paging, the way hypervisors virtualised memory before EPT and NPT (OSTEP's VMM
//! appendix; KVM's `mmu.c` before TDP): the processor walks tables the hypervisor keeps, mapping
//! guest-virtual straight to host-physical, and never sees the guest's own tables.
//!
//! The shadow tables mirror the guest's structure level by level and are built lazily: when the
//! walk finds a shadow entry empty (a hidden page fault, one VM exit), the hypervisor reads the
//! guest's entry in software and, if present, builds the shadow entry from it (a table of its
//! own, or a leaf whose frame is the host frame under the guest's). If the guest entry is not
//! present either, the fault is the guest's and goes to the guest kernel. The guest's tables are
//! write-protected: every write to a table that a shadow table mirrors exits (the write is
//! logged by [`PhysMem`] and replayed here before the next walk), and the shadow entries it
//! derived from are dropped, to be rebuilt on the next miss; fork and munmap write many entries
//! and so cost many exits. A and D bits the processor sets in shadow entries are copied into the
//! guest's (a first write to a clean page exits, as KVM's write-protected clean pages do).
//!
//! Where the guest maps a page larger than the host's, the shadow maps it in host-sized pieces.

use super::{Hypervisor, VmExit};
use crate::addr::{PageSize, Pfn, VirtAddr};
use crate::phys::memory::TableWrite;
use crate::phys::PhysMem;
use crate::pte::{Level, Pte, PteFlags, TableIndex};
use rustc_hash::FxHashMap;

/// Bits 51:12 of an entry.
const FRAME_BITS: u64 = 0x000f_ffff_ffff_f000;

/// What one shadow table mirrors.
#[derive(Debug, Clone, Copy)]
struct Mirror {
    /// The guest table at the same level, or (with `split`) the guest table holding the large
    /// leaf this shadow table maps in pieces.
    guest: Pfn,
    /// The shadow table's level.
    level: Level,
    /// First guest-virtual address the table covers.
    base: u64,
    /// Index in `guest` of the large leaf this table splits, and that leaf's level.
    split: Option<(TableIndex, Level)>,
}

/// The shadow tables of one VM: per guest root, a shadow root; what each shadow table mirrors;
/// and which shadow tables each guest table feeds, for trapped writes.
#[derive(Debug, Clone, Default)]
pub struct Shadow {
    roots: FxHashMap<Pfn, Pfn>,
    mirror: FxHashMap<Pfn, Mirror>,
    fed_by: FxHashMap<Pfn, Vec<Pfn>>,
    trapped: Vec<TableWrite>,
}

/// Bytes an entry at `level` covers.
const fn span(level: Level) -> u64 {
    1 << (12 + 9 * (level.number() as u32 - 1))
}

/// Index of `va` in a table at `level`.
fn index_of(va: VirtAddr, level: Level) -> TableIndex {
    TableIndex::truncate(va.as_u64() >> (12 + 9 * (level.number() as u32 - 1)))
}

/// `g` with its frame replaced by `pfn`.
fn refer(g: Pte, pfn: Pfn) -> Pte {
    Pte::from_raw(g.raw() & !FRAME_BITS | Pte::new(pfn, PteFlags::empty()).raw())
}

impl Hypervisor {
    /// A walk begins: first the guest's trapped page-table writes are applied, then a walk from
    /// the guest's root (CR3) is sent to that root's shadow, built empty on first use. A walk
    /// that a page-walk cache started lower already names a shadow table.
    pub(crate) fn shadow_begin(
        &mut self,
        mem: &mut PhysMem,
        va: VirtAddr,
        table: Pfn,
        level: Level,
    ) -> Pfn {
        self.walk_va = va;
        self.shadow_sync(mem);
        let Some(sh) = self.shadow.as_mut() else {
            return table;
        };
        if level != self.guest_top {
            return table;
        }
        if let Some(&root) = sh.roots.get(&table) {
            return root;
        }
        let Ok(root) = self.host.mem_mut().alloc_table() else {
            return table;
        };
        sh.roots.insert(table, root);
        sh.mirror.insert(
            root,
            Mirror {
                guest: table,
                level,
                base: 0,
                split: None,
            },
        );
        sh.fed_by.entry(table).or_default().push(root);
        root
    }

    /// Replays the guest's page-table writes since the last walk: each write to a table some
    /// shadow table mirrors is a VM exit, and the shadow entries it fed are dropped.
    fn shadow_sync(&mut self, mem: &mut PhysMem) {
        let Some(sh) = self.shadow.as_mut() else {
            return;
        };
        mem.take_table_writes(&mut sh.trapped);
        if sh.trapped.is_empty() {
            return;
        }
        let mut trapped = std::mem::take(&mut sh.trapped);
        for w in trapped.drain(..) {
            let (guest, index) = match w {
                TableWrite::Entry(t, i) => (t, Some(i)),
                TableWrite::Whole(t) => (t, None),
            };
            let Some(sh) = self.shadow.as_mut() else {
                return;
            };
            let Some(fed) = sh.fed_by.get(&guest) else {
                continue;
            };
            let fed = fed.clone();
            self.stats.guest_table_writes += 1;
            self.stats.vm_exits += 1;
            self.walk_exits += 1;
            for s in fed {
                self.shadow_drop(s, index);
            }
        }
        if let Some(sh) = self.shadow.as_mut() {
            sh.trapped = trapped;
        }
    }

    /// Drops the entries of shadow table `s` that guest entry `index` of its guest table fed
    /// (all of them for `None`, or when `s` splits a large leaf that `index` names).
    fn shadow_drop(&mut self, s: Pfn, index: Option<TableIndex>) {
        let Some(m) = self
            .shadow
            .as_ref()
            .and_then(|sh| sh.mirror.get(&s).copied())
        else {
            return;
        };
        let all = match (index, m.split) {
            (None, _) => true,
            (Some(i), Some((si, _))) => i == si,
            (Some(_), None) => false,
        };
        if all {
            for i in 0..512u16 {
                self.shadow_clear(s, TableIndex::truncate(i as u64));
            }
        } else if let Some(i) = index {
            self.shadow_clear(s, i);
        }
    }

    /// Clears one shadow entry, freeing the shadow tables below it.
    fn shadow_clear(&mut self, s: Pfn, i: TableIndex) {
        let host = self.host.mem_mut();
        let e = host.read(s, i);
        if !e.present() {
            return;
        }
        host.write(s, i, Pte::EMPTY);
        self.stats.shadow_syncs += 1;
        let level = self
            .shadow
            .as_ref()
            .and_then(|sh| sh.mirror.get(&s))
            .map_or(Level::Pt, |m| m.level);
        if !e.is_leaf(level) {
            self.shadow_free(e.frame());
        }
    }

    /// Frees shadow table `t` and everything below it.
    fn shadow_free(&mut self, t: Pfn) {
        for i in 0..512u16 {
            self.shadow_clear(t, TableIndex::truncate(i as u64));
        }
        if let Some(sh) = self.shadow.as_mut() {
            if let Some(m) = sh.mirror.remove(&t) {
                if let Some(v) = sh.fed_by.get_mut(&m.guest) {
                    v.retain(|&x| x != t);
                    if v.is_empty() {
                        sh.fed_by.remove(&m.guest);
                    }
                }
            }
        }
        self.host.mem_mut().free_table(t);
    }

    /// Entry `index` of shadow table `table`. An empty one is a hidden page fault, one VM
    /// exit: if the guest maps the address, the hypervisor builds the entry and the access
    /// re-executes ([`VmExit`]); if not, the fault is the guest's and the empty entry ends the
    /// walk.
    pub(crate) fn shadow_read(
        &mut self,
        mem: &mut PhysMem,
        table: Pfn,
        index: TableIndex,
    ) -> Result<Pte, VmExit> {
        let cur = self.host.mem_mut().read(table, index);
        if cur.present() {
            return Ok(cur);
        }
        let Some(m) = self
            .shadow
            .as_ref()
            .and_then(|sh| sh.mirror.get(&table).copied())
        else {
            return Ok(cur);
        };
        self.stats.vm_exits += 1;
        self.walk_exits += 1;
        // One exit builds the whole path down to the leaf, as KVM's fault handler does.
        let (mut t, mut i, mut m) = (table, index, m);
        let mut built_any = false;
        while let Some(e) = self.shadow_build(mem, t, i, m) {
            built_any = true;
            let Some(below) = m.level.next_lower() else {
                break;
            };
            if e.is_leaf(m.level) {
                break;
            }
            let Some(next) = self
                .shadow
                .as_ref()
                .and_then(|sh| sh.mirror.get(&e.frame()).copied())
            else {
                break;
            };
            (t, i, m) = (e.frame(), index_of(self.walk_va, below), next);
        }
        if built_any {
            Err(VmExit)
        } else {
            Ok(cur)
        }
    }

    /// Builds shadow entry `index` of `table` (which mirrors `m`) from the guest's entry;
    /// `None` when the guest does not map it.
    fn shadow_build(
        &mut self,
        mem: &mut PhysMem,
        table: Pfn,
        index: TableIndex,
        m: Mirror,
    ) -> Option<Pte> {
        let va = m.base + index.get() as u64 * span(m.level);
        let (g, g_level, g_index) = match m.split {
            None => (mem.read(m.guest, index), m.level, index),
            Some((gi, gl)) => (mem.read(m.guest, gi), gl, gi),
        };
        if !g.present() {
            // The guest's own fault: reflected into the guest.
            return None;
        }
        let below = m.level.next_lower();
        let built = if !g.is_leaf(g_level) {
            let below = below?;
            let child = self.shadow_table(g.frame(), below, va, None)?;
            refer(g, child)
        } else {
            let size = PageSize::from_shift_clamped(12 + 9 * (g_level.number() - 1));
            let base = if g_level == Level::Pt {
                g.frame()
            } else {
                g.large_frame(size)
            };
            let gpa = (base.0 << 12) + (va & size.mask());
            let host = match self.host.lookup(gpa) {
                Some(h) => Some(h),
                None if self.host.back(gpa) => self.host.lookup(gpa),
                None => None,
            };
            let (frame, host_size) = host?;
            if span(m.level) <= host_size.bytes() {
                let e = refer(g, Pfn(frame.0 & !((span(m.level) >> 12) - 1)));
                if m.level == Level::Pt {
                    e.without(PteFlags::HUGE)
                } else {
                    e.with(PteFlags::HUGE)
                }
            } else {
                let below = below?;
                let child = self.shadow_table(m.guest, below, va, Some((g_index, g_level)))?;
                refer(g, child).without(PteFlags::HUGE | PteFlags::DIRTY)
            }
        };
        self.host.mem_mut().write(table, index, built);
        self.stats.shadow_syncs += 1;
        Some(built)
    }

    /// A new shadow table at `level` for the region at `base`, fed by guest table `guest`.
    fn shadow_table(
        &mut self,
        guest: Pfn,
        level: Level,
        base: u64,
        split: Option<(TableIndex, Level)>,
    ) -> Option<Pfn> {
        let t = self.host.mem_mut().alloc_table().ok()?;
        let sh = self.shadow.as_mut()?;
        sh.mirror.insert(
            t,
            Mirror {
                guest,
                level,
                base,
                split,
            },
        );
        sh.fed_by.entry(guest).or_default().push(t);
        Some(t)
    }

    /// The processor sets A (or D) in a shadow entry: the hypervisor copies the bit into the
    /// guest's entry. Setting D is the exit taken by the first write to a clean page.
    pub(crate) fn shadow_write(
        &mut self,
        mem: &mut PhysMem,
        table: Pfn,
        index: TableIndex,
        pte: Pte,
    ) {
        let old = self.host.mem_mut().read(table, index);
        self.host.mem_mut().write(table, index, pte);
        let Some(m) = self
            .shadow
            .as_ref()
            .and_then(|sh| sh.mirror.get(&table).copied())
        else {
            return;
        };
        let (gt, gi) = match m.split {
            None => (m.guest, index),
            Some((gi, _)) => (m.guest, gi),
        };
        let g = mem.read(gt, gi);
        let mut add = PteFlags::empty();
        for f in [PteFlags::ACCESSED, PteFlags::DIRTY] {
            if pte.has(f) && !old.has(f) && !g.has(f) {
                add |= f;
            }
        }
        if add.is_empty() || !g.present() {
            return;
        }
        if add.contains(PteFlags::DIRTY) {
            self.stats.vm_exits += 1;
            self.walk_exits += 1;
        }
        mem.write_untrapped(gt, gi, g.with(add));
    }
}
