//! One CPU's translation path, in the five steps every OS course draws: L1 TLB → L2 TLB → page
//! walk (page-walk caches skip upper levels) → permission check and A/D update → TLB fill, or a
//! fault for the kernel. Statistics are counted here; explanations come from the event stream.

use crate::access::{AccessKind, Privilege};
use crate::addr::{PageSize, PhysAddr, VirtAddr};
use crate::event::{Event, Fault, Observer, TlbLevel};
use crate::phys::TableMemory;
use crate::protection::{self, Permits, ProtectionFault, ProtectionFeatures};
use crate::pte::{Level, Pte, PteFlags};
use crate::pwc::{Pwc, PwcConfig};
use crate::tlb::{Invpcid, Pcid, Rights, Tlb, TlbConfig, TlbConfigError, TlbEntry};
use crate::translate::radix::{self, Geometry, Leaf};
use serde::{Deserialize, Serialize};

/// Cycles charged per translation event: a simple additive model of translation cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Latency {
    /// An L1 TLB lookup (usually hidden in the load pipeline: 0 or 1).
    pub l1_hit: u32,
    /// An L2 TLB lookup after an L1 miss.
    pub l2_hit: u32,
    /// Probing the page-walk caches at the start of a walk.
    pub pwc_probe: u32,
    /// Each paging-structure entry read from the memory hierarchy during a walk.
    pub walk_ref: u32,
    /// Delivering a page fault and returning (kernel entry/exit plus the handler's fixed cost).
    pub fault: u32,
}

impl Default for Latency {
    fn default() -> Self {
        Latency {
            l1_hit: 1,
            l2_hit: 7,
            pwc_probe: 1,
            walk_ref: 20,
            fault: 1000,
        }
    }
}

/// One CPU's translation hardware, as configured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MmuConfig {
    /// L1 instruction TLB (absent: fetches go to the L2 TLB).
    #[serde(default)]
    pub l1i: Option<TlbConfig>,
    /// L1 data TLB.
    #[serde(default)]
    pub l1d: Option<TlbConfig>,
    /// Unified L2 TLB (STLB).
    #[serde(default)]
    pub l2: Option<TlbConfig>,
    /// Page-walk caches.
    #[serde(default)]
    pub pwc: PwcConfig,
    /// CR0.WP, CR4.SMEP/SMAP/PKE.
    #[serde(default)]
    pub protection: ProtectionFeatures,
    /// CR4.PCIDE: TLB entries are tagged by PCID and CR3 writes need not flush.
    #[serde(default = "yes")]
    pub pcid: bool,
    /// CR4.PGE: global pages survive CR3 writes.
    #[serde(default = "yes")]
    pub global_pages: bool,
    /// MAXPHYADDR: physical-address width (reserved-bit checks).
    #[serde(default = "maxphy")]
    pub maxphyaddr: u8,
    /// Cycle costs.
    #[serde(default)]
    pub latency: Latency,
}

impl Default for MmuConfig {
    /// No TLBs and no page-walk caches: every access walks. PCIDs and global pages on.
    fn default() -> Self {
        MmuConfig {
            l1i: None,
            l1d: None,
            l2: None,
            pwc: PwcConfig::default(),
            protection: ProtectionFeatures::default(),
            pcid: true,
            global_pages: true,
            maxphyaddr: 52,
            latency: Latency::default(),
        }
    }
}

fn yes() -> bool {
    true
}
fn maxphy() -> u8 {
    52
}

/// Hits and misses of one TLB, per page size (4K, 2M, 1G, other).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct TlbStats {
    /// Hits by page size.
    pub hits: [u64; 4],
    /// Misses, attributed to the page size the translation turned out to have (index 3 when
    /// the access faulted before a size was known).
    pub misses: [u64; 4],
}

impl TlbStats {
    /// Total hits.
    pub fn total_hits(&self) -> u64 {
        self.hits.iter().sum()
    }
    /// Total misses.
    pub fn total_misses(&self) -> u64 {
        self.misses.iter().sum()
    }
}

/// Counters of one CPU.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CpuStats {
    /// Translations requested (retries after a fault count again, as on hardware).
    pub translations: u64,
    /// Per TLB level (L1i, L1d, L2).
    pub tlb: [TlbStats; 3],
    /// Page walks started.
    pub walks: u64,
    /// Entries read by walks, per level (PT first).
    pub walk_refs: [u64; 5],
    /// Page-walk-cache hits, per level of the cached entry (PD = PDE cache).
    pub pwc_hits: [u64; 5],
    /// Walks that found nothing in any page-walk cache.
    pub pwc_misses: u64,
    /// Writes that hit a TLB entry with D clear and re-walked to set it.
    pub dirty_assists: u64,
    /// Non-canonical addresses.
    pub faults_non_canonical: u64,
    /// Not-present faults, per level of the missing entry.
    pub faults_not_present: [u64; 5],
    /// Reserved-bit faults.
    pub faults_reserved: u64,
    /// Protection faults.
    pub faults_protection: u64,
    /// CR3 writes.
    pub cr3_writes: u64,
    /// INVLPG / INVPCID / shootdown invalidations executed.
    pub invalidations: u64,
    /// TLB entries removed by invalidations and flushes.
    pub entries_flushed: u64,
    /// Modelled translation cycles.
    pub cycles: u64,
}

impl CpuStats {
    /// Adds `o` into `self`.
    pub fn add(&mut self, o: &CpuStats) {
        fn add_arr<const N: usize>(a: &mut [u64; N], b: &[u64; N]) {
            for (x, y) in a.iter_mut().zip(b) {
                *x += y;
            }
        }
        self.translations += o.translations;
        for (a, b) in self.tlb.iter_mut().zip(&o.tlb) {
            add_arr(&mut a.hits, &b.hits);
            add_arr(&mut a.misses, &b.misses);
        }
        self.walks += o.walks;
        add_arr(&mut self.walk_refs, &o.walk_refs);
        add_arr(&mut self.pwc_hits, &o.pwc_hits);
        self.pwc_misses += o.pwc_misses;
        self.dirty_assists += o.dirty_assists;
        self.faults_non_canonical += o.faults_non_canonical;
        add_arr(&mut self.faults_not_present, &o.faults_not_present);
        self.faults_reserved += o.faults_reserved;
        self.faults_protection += o.faults_protection;
        self.cr3_writes += o.cr3_writes;
        self.invalidations += o.invalidations;
        self.entries_flushed += o.entries_flushed;
        self.cycles += o.cycles;
    }

    /// All faults.
    pub fn faults(&self) -> u64 {
        self.faults_non_canonical
            + self.faults_not_present.iter().sum::<u64>()
            + self.faults_reserved
            + self.faults_protection
    }

    /// All walk memory references.
    pub fn walk_memory_refs(&self) -> u64 {
        self.walk_refs.iter().sum()
    }
}

/// A completed translation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Translation {
    /// The physical address.
    pub pa: PhysAddr,
    /// Size of the page it lies in.
    pub size: PageSize,
}

/// One CPU's MMU: its TLBs, page-walk caches, CR3 and counters.
#[derive(Debug, Clone)]
pub struct Mmu {
    id: u16,
    geom: Geometry,
    /// Empty until the CPU first loads CR3 (see [`Mmu::new`]).
    tlbs: [Option<Tlb>; 3],
    /// Without caches until the CPU first loads CR3.
    pwc: Pwc,
    /// Whether the TLBs and page-walk caches have been built.
    powered: bool,
    seed: u64,
    cfg: MmuConfig,
    cr3: Option<(crate::addr::Pfn, Pcid)>,
    privilege: Privilege,
    pkru: u32,
    /// [`protection::check`] tabulated for the current privilege and PKRU.
    permits: Permits,
    stats: CpuStats,
}

impl Mmu {
    /// A CPU numbered `id` with `cfg`, translating addresses of geometry `geom`. TLBs that pick
    /// victims at random are seeded from `seed` and `id`. The TLB configurations are checked
    /// here, but the TLBs and page-walk caches are built when the CPU first loads CR3: a
    /// machine of many CPUs with large TLBs costs memory only for the CPUs a run uses.
    pub fn new(
        id: u16,
        geom: Geometry,
        cfg: &MmuConfig,
        seed: u64,
    ) -> Result<Self, TlbConfigError> {
        for c in [&cfg.l1i, &cfg.l1d, &cfg.l2].into_iter().flatten() {
            Tlb::check(c)?;
        }
        Ok(Mmu {
            id,
            geom,
            tlbs: [None, None, None],
            pwc: Pwc::new(&PwcConfig::default()),
            powered: false,
            seed,
            cfg: cfg.clone(),
            cr3: None,
            privilege: Privilege::User,
            pkru: 0,
            permits: Permits::new(Privilege::User, cfg.protection, 0),
            stats: CpuStats::default(),
        })
    }

    /// Builds the TLBs and page-walk caches the first time the CPU runs.
    fn power_on(&mut self) {
        if self.powered {
            return;
        }
        self.powered = true;
        let (id, seed) = (self.id as u64, self.seed);
        let cfgs = [&self.cfg.l1i, &self.cfg.l1d, &self.cfg.l2];
        for (k, (slot, c)) in self.tlbs.iter_mut().zip(cfgs).enumerate() {
            // Checked in `new`: building cannot fail.
            *slot = c
                .as_ref()
                .and_then(|c| Tlb::new(c, seed ^ (id << 8) ^ (k as u64 + 1)).ok());
        }
        self.pwc = Pwc::new(&self.cfg.pwc);
    }

    /// This CPU's number.
    pub fn id(&self) -> u16 {
        self.id
    }

    /// Counters so far.
    pub fn stats(&self) -> &CpuStats {
        &self.stats
    }

    /// The TLB at `level`, if configured and the CPU has run (loaded CR3).
    pub fn tlb(&self, level: TlbLevel) -> Option<&Tlb> {
        self.tlbs[level.index()].as_ref()
    }

    /// The configuration.
    pub fn config(&self) -> &MmuConfig {
        &self.cfg
    }

    /// The loaded root table and PCID.
    pub fn cr3(&self) -> Option<(crate::addr::Pfn, Pcid)> {
        self.cr3
    }

    /// Sets the privilege of following accesses (user by default).
    pub fn set_privilege(&mut self, p: Privilege) {
        self.privilege = p;
        self.permits = Permits::new(p, self.cfg.protection, self.pkru);
    }

    /// Sets PKRU (two bits per key: access-disable, write-disable).
    pub fn set_pkru(&mut self, pkru: u32) {
        self.pkru = pkru;
        self.permits = Permits::new(self.privilege, self.cfg.protection, pkru);
    }

    /// MOV to CR3 (SDM §4.10.4.1). Without PCIDs every non-global entry is flushed and the
    /// PCID is forced to 0. With PCIDs, `no_flush` (bit 63 of the source) keeps the new PCID's
    /// entries; otherwise the new PCID's non-global entries and page-walk-cache entries go.
    pub fn write_cr3(&mut self, root: crate::addr::Pfn, pcid: Pcid, no_flush: bool) {
        self.power_on();
        self.stats.cr3_writes += 1;
        let mut removed = 0;
        if self.cfg.pcid {
            self.cr3 = Some((root, pcid));
            if !no_flush {
                for t in self.tlbs.iter_mut().flatten() {
                    removed += t.invpcid(Invpcid::Context(pcid));
                }
                self.pwc.invalidate_pcid(pcid);
            }
        } else {
            self.cr3 = Some((root, Pcid::ZERO));
            for t in self.tlbs.iter_mut().flatten() {
                removed += t.invpcid(if self.cfg.global_pages {
                    Invpcid::AllNonGlobal
                } else {
                    Invpcid::All
                });
            }
            self.pwc.invalidate_all();
        }
        self.stats.entries_flushed += removed as u64;
    }

    #[inline]
    fn current_pcid(&self) -> Pcid {
        self.cr3.map_or(Pcid::ZERO, |(_, p)| p)
    }

    /// INVLPG: this page for the current PCID, global entries for it, and every page-walk-cache
    /// entry of the current PCID (SDM §4.10.4.1).
    pub fn invlpg(&mut self, va: VirtAddr) {
        let pcid = self.current_pcid();
        self.stats.invalidations += 1;
        let mut removed = 0;
        for t in self.tlbs.iter_mut().flatten() {
            removed += t.invlpg(va, pcid);
        }
        self.pwc.invalidate_pcid(pcid);
        self.stats.entries_flushed += removed as u64;
    }

    /// INVPCID: the TLB entries `inv` names, and the page-walk-cache entries of its PCID (of
    /// every PCID for types 2 and 3).
    pub fn invpcid(&mut self, inv: Invpcid) {
        self.stats.invalidations += 1;
        let mut removed = 0;
        for t in self.tlbs.iter_mut().flatten() {
            removed += t.invpcid(inv);
        }
        match inv {
            Invpcid::Page { pcid, .. } | Invpcid::Context(pcid) => self.pwc.invalidate_pcid(pcid),
            Invpcid::All | Invpcid::AllNonGlobal => self.pwc.invalidate_all(),
        }
        self.stats.entries_flushed += removed as u64;
    }

    /// Every entry of every TLB and page-walk cache, global or not.
    pub fn flush_all(&mut self) {
        let mut removed = 0;
        for t in self.tlbs.iter_mut().flatten() {
            removed += t.invpcid(Invpcid::All);
        }
        self.pwc.invalidate_all();
        self.stats.entries_flushed += removed as u64;
    }

    /// Translates `va` for an access of `kind` through the current CR3. On a fault nothing is
    /// filled; the kernel resolves it and the caller retries, as the processor re-executes the
    /// faulting instruction.
    ///
    /// Without an observer the L1 hit is inlined into the caller, and an L1 miss goes straight
    /// on to the L2 TLB out of line; everything else (narrated accesses, non-canonical
    /// addresses, permission faults, dirty assists) takes [`Mmu::translate_general`].
    #[inline(always)]
    pub fn translate<M: TableMemory, O: Observer>(
        &mut self,
        mem: M,
        va: VirtAddr,
        kind: AccessKind,
        obs: &mut O,
    ) -> Result<Translation, Fault> {
        if !O::ENABLED {
            match self.l1_fast(va, kind) {
                Fast::Hit(t) => return Ok(t),
                Fast::Missed(pcid) => {
                    self.stats.translations += 1;
                    let cycles = self.cfg.latency.l1_hit as u64;
                    return self.l1_missed(mem, va, kind, pcid, cycles, obs);
                }
                Fast::Other => {}
            }
        }
        self.translate_general(mem, va, kind, obs)
    }

    /// The L1 TLB step when nothing unusual happens: a hit that the rights allow and that
    /// needs no dirty assist is completed and counted exactly as [`Mmu::translate_general`]
    /// would; a miss is reported with nothing counted; anything else is left to the general
    /// path, which finds the same entry again through the last-hit shortcut (no state changes).
    ///
    /// The canonical check waits for a miss: entries come only from walks of canonical
    /// addresses under this CPU's fixed geometry, and a VPN keeps every bit above the page
    /// offset, so no non-canonical address can hit.
    #[inline(always)]
    fn l1_fast(&mut self, va: VirtAddr, kind: AccessKind) -> Fast {
        let pcid = self.current_pcid();
        let l1 = TlbLevel::l1_for(kind);
        let geom = &self.geom;
        let missed = || match geom.check(va) {
            Ok(()) => Fast::Missed(pcid),
            Err(_) => Fast::Other,
        };
        let Some(tlb) = self.tlbs[l1.index()].as_mut() else {
            return missed();
        };
        let Some(e) = tlb.find_entry(va, pcid) else {
            return missed();
        };
        debug_assert!(self.geom.check(va).is_ok());
        let (rights, pfn, size) = (e.rights, e.pfn, e.size);
        if !self.permits.allows(rights, kind) || kind == AccessKind::Write && !rights.dirty {
            return Fast::Other;
        }
        let s = &mut self.stats;
        s.translations += 1;
        s.tlb[l1.index()].hits[size.x86_index()] += 1;
        s.cycles += self.cfg.latency.l1_hit as u64;
        Fast::Hit(Translation {
            pa: self.geom.phys(pfn, size, va),
            size,
        })
    }

    /// Every step, with events for an observer.
    #[inline(never)]
    fn translate_general<M: TableMemory, O: Observer>(
        &mut self,
        mut mem: M,
        va: VirtAddr,
        kind: AccessKind,
        obs: &mut O,
    ) -> Result<Translation, Fault> {
        self.stats.translations += 1;
        let cycles = self.cfg.latency.l1_hit as u64;
        if self.geom.check(va).is_err() {
            // A #GP, not a page fault: no fault latency is charged.
            self.stats.faults_non_canonical += 1;
            if O::ENABLED {
                obs.event(&Event::Fault(Fault::NonCanonical));
            }
            self.stats.cycles += cycles;
            return Err(Fault::NonCanonical);
        }
        let pcid = self.current_pcid();
        let l1 = TlbLevel::l1_for(kind);
        // Step 1: the L1 TLB.
        if let Some(e) = self.probe(l1, va, pcid, obs) {
            if let Some(done) = self.use_entry(e, va, kind, &[false; 3], cycles, obs) {
                return done;
            }
            return self.walk_and_count(&mut mem, va, kind, pcid, &[false; 3], cycles, obs);
        }
        self.l1_missed(mem, va, kind, pcid, cycles, obs)
    }

    /// Step 2 and on, after an L1 miss: the L2 TLB, then the walk.
    #[inline(never)]
    fn l1_missed<M: TableMemory, O: Observer>(
        &mut self,
        mut mem: M,
        va: VirtAddr,
        kind: AccessKind,
        pcid: Pcid,
        mut cycles: u64,
        obs: &mut O,
    ) -> Result<Translation, Fault> {
        let l1 = TlbLevel::l1_for(kind);
        let mut missed = [false; 3];
        missed[l1.index()] = self.tlbs[l1.index()].is_some();
        if self.tlbs[TlbLevel::L2.index()].is_some() {
            cycles += self.cfg.latency.l2_hit as u64;
        }
        if let Some(e) = self.probe(TlbLevel::L2, va, pcid, obs) {
            self.fill(l1, e, obs);
            if let Some(done) = self.use_entry(e, va, kind, &missed, cycles, obs) {
                return done;
            }
        } else {
            missed[TlbLevel::L2.index()] = self.tlbs[TlbLevel::L2.index()].is_some();
        }
        self.walk_and_count(&mut mem, va, kind, pcid, &missed, cycles, obs)
    }

    /// Completes an access with a TLB entry: the permission check, then the physical address;
    /// `None` when the access is a write through a clean entry, which walks again to set D.
    #[inline(always)]
    fn use_entry<O: Observer>(
        &mut self,
        e: TlbEntry,
        va: VirtAddr,
        kind: AccessKind,
        missed: &[bool; 3],
        cycles: u64,
        obs: &mut O,
    ) -> Option<Result<Translation, Fault>> {
        if let Err(cause) = self.permit(e.rights, kind) {
            self.count_misses(missed, e.size.x86_index());
            let level = level_of(e.size);
            return Some(self.fail(Fault::Protection { level, cause }, cycles, obs));
        }
        if kind == AccessKind::Write && !e.rights.dirty {
            self.stats.dirty_assists += 1;
            if O::ENABLED {
                obs.event(&Event::DirtyAssist);
            }
            return None;
        }
        self.count_misses(missed, e.size.x86_index());
        Some(Ok(self.done(va, e.pfn, e.size, cycles, obs)))
    }

    /// Steps 3 and 4, the walk, and the misses counted by the size it found.
    #[inline(never)]
    #[allow(clippy::too_many_arguments)]
    fn walk_and_count<M: TableMemory, O: Observer>(
        &mut self,
        mem: &mut M,
        va: VirtAddr,
        kind: AccessKind,
        pcid: Pcid,
        missed: &[bool; 3],
        mut cycles: u64,
        obs: &mut O,
    ) -> Result<Translation, Fault> {
        match self.walk(mem, va, kind, pcid, &mut cycles, obs) {
            Ok(leaf) => {
                self.count_misses(missed, leaf.size.x86_index());
                Ok(self.done(va, leaf.pfn, leaf.size, cycles, obs))
            }
            Err(f) => {
                self.count_misses(missed, UNKNOWN_SIZE);
                self.fail(f, cycles, obs)
            }
        }
    }

    /// A successful translation: its cost is counted and its physical address formed.
    #[inline]
    fn done<O: Observer>(
        &mut self,
        va: VirtAddr,
        pfn: crate::addr::Pfn,
        size: PageSize,
        cycles: u64,
        obs: &mut O,
    ) -> Translation {
        self.stats.cycles += cycles;
        let pa = self.geom.phys(pfn, size, va);
        if O::ENABLED {
            obs.event(&Event::Done { pa, size, cycles });
        }
        Translation { pa, size }
    }

    fn fail<O: Observer>(
        &mut self,
        f: Fault,
        cycles: u64,
        obs: &mut O,
    ) -> Result<Translation, Fault> {
        match f {
            Fault::NonCanonical => self.stats.faults_non_canonical += 1,
            Fault::Walk(radix::WalkFault::NotPresent { level }) => {
                self.stats.faults_not_present[level.index()] += 1
            }
            Fault::Walk(radix::WalkFault::Reserved { .. }) => self.stats.faults_reserved += 1,
            Fault::Protection { .. } => self.stats.faults_protection += 1,
        }
        self.stats.cycles += cycles + self.cfg.latency.fault as u64;
        if O::ENABLED {
            obs.event(&Event::Fault(f));
        }
        Err(f)
    }

    /// The permission check: the table's answer when it has one, else the rules.
    #[inline(always)]
    fn permit(&self, rights: Rights, kind: AccessKind) -> Result<(), ProtectionFault> {
        if self.permits.allows(rights, kind) {
            return Ok(());
        }
        protection::check(rights, kind, self.privilege, self.cfg.protection, self.pkru)
    }

    #[inline]
    fn count_misses(&mut self, missed: &[bool; 3], i: usize) {
        if *missed == [false; 3] {
            return;
        }
        for (s, &m) in self.stats.tlb.iter_mut().zip(missed) {
            if m {
                s.misses[i] += 1;
            }
        }
    }

    #[inline(always)]
    fn probe<O: Observer>(
        &mut self,
        level: TlbLevel,
        va: VirtAddr,
        pcid: Pcid,
        obs: &mut O,
    ) -> Option<TlbEntry> {
        let tlb = self.tlbs[level.index()].as_mut()?;
        let found = tlb.find(va, pcid);
        if O::ENABLED {
            let at = found.map(|f| {
                let h = tlb.hit(f);
                (h.array, h.entry.size, h.set)
            });
            for (array, size, set) in tlb.probes(va) {
                obs.event(&Event::TlbProbe {
                    tlb: level,
                    array,
                    size,
                    set,
                    hit: at == Some((array, size, set)),
                });
            }
            obs.event(&Event::TlbLookup {
                tlb: level,
                hit: at.is_some(),
            });
        }
        let e = *tlb.entry(found?);
        self.stats.tlb[level.index()].hits[e.size.x86_index()] += 1;
        Some(e)
    }

    #[inline(always)]
    fn fill<O: Observer>(&mut self, level: TlbLevel, e: TlbEntry, obs: &mut O) {
        if let Some(t) = self.tlbs[level.index()].as_mut() {
            if t.holds(e.size) {
                let evicted = t.fill_evicts(e);
                if O::ENABLED {
                    obs.event(&Event::TlbFill {
                        tlb: level,
                        size: e.size,
                        evicted,
                    });
                }
            }
        }
    }

    /// Walks the table for `va`, using and filling the page-walk caches; on success sets A (and
    /// D for writes) in the leaf and fills the TLBs.
    fn walk<M: TableMemory, O: Observer>(
        &mut self,
        mem: &mut M,
        va: VirtAddr,
        kind: AccessKind,
        pcid: Pcid,
        cycles: &mut u64,
        obs: &mut O,
    ) -> Result<Leaf, Fault> {
        loop {
            // An error is a VM exit the hypervisor resolved (an EPT violation, a shadow miss):
            // the access re-executes and walks again.
            if let Ok(r) = self.walk_once(mem, va, kind, pcid, cycles, obs) {
                return r;
            }
        }
    }

    /// One attempt of [`Mmu::walk`]; `Err` when the walk's memory exited to a hypervisor.
    fn walk_once<M: TableMemory, O: Observer>(
        &mut self,
        mem: &mut M,
        va: VirtAddr,
        kind: AccessKind,
        pcid: Pcid,
        cycles: &mut u64,
        obs: &mut O,
    ) -> Result<Result<Leaf, Fault>, M::Error> {
        let Some((root, _)) = self.cr3 else {
            return Ok(Err(Fault::Walk(radix::WalkFault::NotPresent {
                level: self.geom.top(),
            })));
        };
        self.stats.walks += 1;
        let top = self.geom.top();
        let (mut table, mut level, mut rights) = (root, top, radix::ALL_RIGHTS);
        if self.pwc.is_enabled() {
            *cycles += self.cfg.latency.pwc_probe as u64;
            let hit = self.pwc.lookup(va, pcid, top);
            if O::ENABLED {
                for l in [Level::Pd, Level::Pdpt, Level::Pml4, Level::Pml5] {
                    if l > top || !self.pwc.has_cache(l) {
                        continue;
                    }
                    let h = hit.as_ref().is_some_and(|h| h.level == l);
                    obs.event(&Event::PwcProbe { level: l, hit: h });
                    if h {
                        break;
                    }
                }
            }
            match hit {
                Some(h) => {
                    self.stats.pwc_hits[h.level.index()] += 1;
                    table = h.next_table;
                    rights = h.rights;
                    level = h.level.next_lower().unwrap_or(Level::Pt);
                }
                None => self.stats.pwc_misses += 1,
            }
        }
        // Under shadow paging the processor walks the hypervisor's table instead of CR3's.
        let table = mem.begin_walk(va, table, level);
        if O::ENABLED {
            obs.event(&Event::WalkStart { level, table });
        }
        let narrate = O::ENABLED && !mem.narrates_reads();
        // The entries read, by level (zero = not read: a zero entry is not present either).
        let mut read = [Pte::EMPTY; 5];
        let stats = &mut self.stats;
        let maxphy = self.cfg.maxphyaddr;
        let lat = self.cfg.latency.walk_ref as u64;
        let from = radix::WalkFrom {
            table,
            level,
            rights,
        };
        let walked = radix::walk(mem, &self.geom, maxphy, va, from, |s| {
            stats.walk_refs[s.level.index()] += 1;
            *cycles += lat;
            read[s.level.index()] = s.pte;
            if narrate {
                obs.event(&Event::WalkRead(*s));
            }
        });
        let r = match walked {
            Ok(r) => r,
            Err(exit) => {
                self.end_walk(mem, cycles, obs);
                return Err(exit);
            }
        };
        // Upper-level entries that were used are cached even if the walk then faulted.
        let mut acc = rights;
        for l in (Level::Pd.number()..=level.number()).rev() {
            let Some(lv) = Level::from_number(l) else {
                continue;
            };
            let pte = read[lv.index()];
            if !pte.present() || pte.is_leaf(lv) && self.geom.is_x86() {
                break;
            }
            acc = radix::combine(acc, radix::entry_rights(pte));
            self.pwc.fill(lv, va, pcid, pte.frame(), acc);
        }
        let leaf = match r {
            Ok(leaf) => leaf,
            Err(f) => {
                self.end_walk(mem, cycles, obs);
                return Ok(Err(Fault::Walk(f)));
            }
        };
        if let Err(cause) = self.permit(leaf.rights, kind) {
            self.end_walk(mem, cycles, obs);
            return Ok(Err(Fault::Protection {
                level: leaf.level,
                cause,
            }));
        }
        // Under nested paging the TLB caches the host page (gVA→hPA), found by a host walk of
        // the page's guest-physical address, which may exit too.
        let (pfn, size) = match mem.leaf_frame(va, leaf.pfn, leaf.size, kind == AccessKind::Write) {
            Ok(f) => f,
            Err(exit) => {
                self.end_walk(mem, cycles, obs);
                return Err(exit);
            }
        };
        // Step 4: the processor sets A, and D on a write, in the leaf (as the walk read it:
        // the walk itself sets A only in the upper levels, and D nowhere).
        let pte = read[leaf.level.index()];
        let mut set = PteFlags::ACCESSED;
        if kind == AccessKind::Write {
            set |= PteFlags::DIRTY;
        }
        if !pte.has(set) {
            // Only a hypervisor's memory can refuse, after the walk: it cannot here.
            let _ = mem.write_entry(leaf.table, leaf.index, pte.with(set));
        }
        let leaf = Leaf { pfn, size, ..leaf };
        self.end_walk(mem, cycles, obs);
        let entry = TlbEntry {
            vpn: va.vpn(leaf.size),
            size: leaf.size,
            pcid,
            global: leaf.global && self.cfg.global_pages,
            pfn: leaf.pfn,
            rights: Rights {
                dirty: pte.has(PteFlags::DIRTY) || kind == AccessKind::Write,
                ..leaf.rights
            },
        };
        // Step 5: fill the TLBs.
        self.fill(TlbLevel::L2, entry, obs);
        self.fill(TlbLevel::l1_for(kind), entry, obs);
        Ok(Ok(leaf))
    }
}

impl Mmu {
    /// The walk's memory hands over what it kept for the observer and the cost of the reads
    /// and VM exits the MMU did not see (the host dimension of a nested walk).
    #[inline]
    fn end_walk<M: TableMemory, O: Observer>(
        &mut self,
        mem: &mut M,
        cycles: &mut u64,
        obs: &mut O,
    ) {
        let (refs, exits) = mem.end_walk(obs);
        let lat = &self.cfg.latency;
        *cycles += refs * lat.walk_ref as u64 + exits * lat.fault as u64;
    }

    /// Drops every page-walk-cache entry (a hypervisor changed the tables the caches point
    /// into behind the guest's back).
    pub fn flush_pwc(&mut self) {
        self.pwc.invalidate_all();
    }
}

/// What [`Mmu::l1_fast`] found.
enum Fast {
    /// Translated and counted.
    Hit(Translation),
    /// The L1 TLB (if any) missed for this PCID; nothing counted yet.
    Missed(Pcid),
    /// Anything else: the general path handles it.
    Other,
}

/// Index of the per-size counters used when a miss ended in a fault (size unknown).
const UNKNOWN_SIZE: usize = 3;

/// The level whose leaves map `size` on x86-64.
fn level_of(size: PageSize) -> Level {
    if size == PageSize::SIZE_1G {
        Level::Pdpt
    } else if size == PageSize::SIZE_2M {
        Level::Pd
    } else {
        Level::Pt
    }
}
