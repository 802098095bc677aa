//! A whole machine: CPUs (each an [`Mmu`]), physical memory and a kernel. It takes accesses as
//! a trace gives them (CPU, process, kind, address, size), switches address spaces when a CPU
//! runs another process, splits accesses that straddle pages, and loops fault → kernel → retry.

use crate::access::AccessKind;
use crate::addr::VirtAddr;
use crate::config::{ConfigError, MachineConfig};
use crate::event::{Event, Fault, Observer, Resolution};
use crate::hypervisor::{Hypervisor, VirtMode};
use crate::kernel::{DemandZeroKernel, Kernel, KernelError, LinuxConfig, LinuxKernel, Pid};
use crate::mmu::{CpuStats, Mmu, Translation};
use crate::phys::PhysMem;
use crate::radix::Geometry;
use crate::translate::nested::GuestMemory;
use serde::Serialize;
use thiserror::Error;

/// How often (in accesses) the kernel's background work runs.
const BACKGROUND_EVERY: u64 = 4096;

/// Machine-level counters (per-CPU hardware counters live in [`CpuStats`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MachineStats {
    /// Trace records replayed.
    pub records: u64,
    /// Page-sized accesses (a record that straddles a page boundary counts once per page).
    pub accesses: u64,
    /// Accesses by kind: read, write, fetch.
    pub by_kind: [u64; 3],
    /// Faults resolved by mapping a zero-filled page (minor faults).
    pub demand_zero: u64,
    /// Accesses refused (the process would receive SIGSEGV).
    pub segv: u64,
    /// Records of processes the OOM killer had ended, not replayed.
    pub dropped: u64,
    /// Processes the OOM killer ended, in order.
    pub oom_kills: Vec<OomKill>,
    /// Context switches (a CPU began running another process).
    pub context_switches: u64,
    /// Major faults (read from swap or a file).
    pub major_faults: u64,
    /// Windows of [`WINDOW`] accesses replayed.
    pub windows: u64,
    /// Windows in which more than [`THRASHING_RATE`] of accesses took a major fault.
    pub thrashing_windows: u64,
    /// Free memory in KiB at the end of each window (at most [`MAX_SAMPLES`] samples, evenly
    /// thinned when a run is longer).
    pub free_kib_over_time: Vec<u64>,
    #[serde(skip)]
    window_major: u64,
    #[serde(skip)]
    sample_every: u64,
}

/// Accesses per statistics window.
pub const WINDOW: u64 = 65536;
/// Major faults per access above which a window counts as thrashing.
pub const THRASHING_RATE: f64 = 0.01;
/// Most free-memory samples kept.
pub const MAX_SAMPLES: usize = 512;

/// The run cannot go on.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MachineError {
    /// The kernel gave up.
    #[error(transparent)]
    Kernel(#[from] KernelError),
    /// The kernel said it resolved a fault, but the retry faulted again in the same way.
    #[error("fault at {va} was not resolved: {fault}")]
    Unresolved {
        /// Address.
        va: VirtAddr,
        /// The repeated fault.
        fault: Fault,
    },
}

/// What happened to one access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessOutcome {
    /// Translated (the last page's translation, for straddling accesses).
    Done(Translation),
    /// Refused: the process would be sent SIGSEGV; the simulation goes on.
    Segv(Fault),
    /// Not replayed: the process was ended by the OOM killer before this record.
    Dropped,
}

/// A process the OOM killer ended, and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct OomKill {
    /// The process.
    pub pid: Pid,
    /// Records replayed when it was killed (the record during which it happened included).
    pub record: u64,
}

/// A machine running kernel `K`. Cloning copies CPUs, physical memory and the kernel's state
/// (when `K` is `Clone`), so a viewer can keep a point of a run and go on from it twice.
#[derive(Clone)]
pub struct Machine<K: Kernel = DemandZeroKernel> {
    cpus: Vec<Mmu>,
    mem: PhysMem,
    kernel: K,
    geom: Geometry,
    /// Process each CPU runs.
    running: Vec<Option<Pid>>,
    /// Per CPU, which process last used each PCID there (to know when a CR3 write may keep
    /// the TLB's entries: the PCID still names the same address space).
    pcid_owner: Vec<Vec<Option<Pid>>>,
    stats: MachineStats,
    /// The hypervisor under the kernel, when the configuration names one: the kernel is then
    /// a guest and `mem` is guest-physical memory.
    virt: Option<Box<Hypervisor>>,
}

impl Machine<LinuxKernel> {
    /// A machine described by `cfg` running the Linux-like kernel configured by `linux`.
    pub fn linux(cfg: &MachineConfig, linux: LinuxConfig) -> Result<Self, ConfigError> {
        let geom = cfg.geometry()?;
        let frames = cfg.memory >> geom.page_size().shift();
        Self::with_kernel(cfg, LinuxKernel::new(geom, linux, frames))
    }
}

impl Machine<DemandZeroKernel> {
    /// A machine described by `cfg` running the demand-zero kernel.
    pub fn from_config(cfg: &MachineConfig) -> Result<Self, ConfigError> {
        let geom = cfg.geometry()?;
        let kernel = DemandZeroKernel::new(geom, cfg.page_size);
        Self::with_kernel(cfg, kernel)
    }
}

impl<K: Kernel> Machine<K> {
    /// A machine described by `cfg` running `kernel`.
    pub fn with_kernel(cfg: &MachineConfig, kernel: K) -> Result<Self, ConfigError> {
        cfg.validate()?;
        let geom = cfg.geometry()?;
        let frames = cfg.memory >> geom.page_size().shift();
        let cpus = (0..cfg.cpus)
            .map(|i| Mmu::new(i, geom, &cfg.mmu, cfg.seed))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|source| ConfigError::Tlb {
                level: "tlb",
                source,
            })?;
        let virt = cfg
            .virt
            .as_ref()
            .filter(|v| v.enabled())
            .map(|v| Box::new(Hypervisor::new(v, frames, geom.top(), cfg.cpus, &cfg.mmu)));
        let mut mem = PhysMem::new(frames);
        // Shadow paging write-protects the guest's tables: their writes are logged to exit.
        mem.log_table_writes(virt.as_ref().is_some_and(|v| v.mode() == VirtMode::Shadow));
        Ok(Machine {
            virt,
            running: vec![None; cpus.len()],
            pcid_owner: vec![vec![None; 4096]; cpus.len()],
            cpus,
            mem,
            kernel,
            geom,
            stats: MachineStats::default(),
        })
    }

    /// Machine-level counters.
    pub fn stats(&self) -> &MachineStats {
        &self.stats
    }

    /// The CPUs.
    pub fn cpus(&self) -> &[Mmu] {
        &self.cpus
    }

    /// Physical memory.
    pub fn mem(&self) -> &PhysMem {
        &self.mem
    }

    /// The hypervisor, when the kernel runs as a guest.
    pub fn hypervisor(&self) -> Option<&Hypervisor> {
        self.virt.as_deref()
    }

    /// The kernel.
    pub fn kernel(&self) -> &K {
        &self.kernel
    }

    /// The kernel, physical memory and CPUs at once, for the kernel's calls made from outside
    /// the trace. Callers outside vmsim-core use `Machine::syscall`; vmsim-core's integration
    /// tests use this for the kernel's test hooks (`store`, `load`, `add_vma`).
    #[doc(hidden)]
    pub fn parts(&mut self) -> (&mut K, &mut PhysMem, &mut [Mmu]) {
        (&mut self.kernel, &mut self.mem, &mut self.cpus)
    }

    /// Forgets which process each CPU runs (after an exit), so the next access switches.
    pub fn deschedule(&mut self, pid: Pid) {
        for r in &mut self.running {
            if *r == Some(pid) {
                *r = None;
            }
        }
    }

    /// The page-table geometry.
    pub fn geometry(&self) -> &Geometry {
        &self.geom
    }

    /// Hardware counters summed over CPUs.
    pub fn total(&self) -> CpuStats {
        let mut t = CpuStats::default();
        for c in &self.cpus {
            t.add(c.stats());
        }
        t
    }

    /// Takes note of the processes the OOM killer ended since the last look: when, and that
    /// no CPU runs them any more.
    fn note_oom_kills(&mut self) {
        let killed = self.kernel.oom_killed();
        if killed.len() == self.stats.oom_kills.len() {
            return;
        }
        for &pid in &killed[self.stats.oom_kills.len()..] {
            self.stats.oom_kills.push(OomKill {
                pid,
                record: self.stats.records,
            });
            for r in self.running.iter_mut().filter(|r| **r == Some(pid)) {
                *r = None;
            }
        }
    }

    fn end_window(&mut self) {
        let s = &mut self.stats;
        s.windows += 1;
        if s.window_major as f64 > THRASHING_RATE * WINDOW as f64 {
            s.thrashing_windows += 1;
        }
        s.window_major = 0;
        if s.sample_every == 0 {
            s.sample_every = 1;
        }
        if s.windows.is_multiple_of(s.sample_every) {
            s.free_kib_over_time
                .push(self.mem.buddy().free_frames() * self.geom.page_size().bytes() / 1024);
            if s.free_kib_over_time.len() >= MAX_SAMPLES {
                // Keep every other sample and sample half as often from now on.
                let kept: Vec<u64> = s.free_kib_over_time.iter().copied().step_by(2).collect();
                s.free_kib_over_time = kept;
                s.sample_every *= 2;
            }
        }
    }

    /// Makes CPU `cpu` run `pid`, writing CR3 if it ran something else. With PCIDs the write
    /// keeps the TLB's entries when the PCID last named the same process on this CPU.
    pub fn switch_to(&mut self, cpu: usize, pid: Pid) -> Result<(), MachineError> {
        if self.running[cpu] == Some(pid) {
            return Ok(());
        }
        let (root, pcid) = self.kernel.context(&mut self.mem, pid, cpu)?;
        let owner = &mut self.pcid_owner[cpu][pcid.get() as usize];
        let keep = *owner == Some(pid);
        *owner = Some(pid);
        if self.running[cpu].is_some() {
            self.stats.context_switches += 1;
        }
        self.running[cpu] = Some(pid);
        self.cpus[cpu].write_cr3(root, pcid, keep);
        Ok(())
    }

    /// Replays one access of `size` bytes (at least one) by `pid` on `cpu` (modulo the number
    /// of CPUs). Every page the access touches is translated in order. Always inlined: as a
    /// call from a replay loop its prologue and epilogue cost about 30 instructions an access.
    #[inline(always)]
    pub fn access<O: Observer>(
        &mut self,
        cpu: u16,
        pid: Pid,
        va: VirtAddr,
        kind: AccessKind,
        size: u32,
        obs: &mut O,
    ) -> Result<AccessOutcome, MachineError> {
        // Trace CPU numbers are almost always in range: skip the division then.
        let n = self.cpus.len();
        let c = if (cpu as usize) < n {
            cpu as usize
        } else {
            cpu as usize % n
        };
        if self.running[c] != Some(pid) {
            // A killed process runs no more (the kernel keeps its pid dead): its later records
            // are dropped, not replayed as a stream of SIGSEGVs.
            if self.stats.oom_kills.iter().any(|k| k.pid == pid) {
                self.stats.records += 1;
                self.stats.dropped += 1;
                return Ok(AccessOutcome::Dropped);
            }
            self.switch_to(c, pid)?;
        }
        self.stats.records += 1;
        let page = self.geom.page_size();
        if va.page_offset(page) + size.max(1) as u64 <= page.bytes() {
            return self.access_page(c, pid, va, kind, obs);
        }
        let last = va.wrapping_add(size.max(1) as u64 - 1);
        let mut at = va;
        let mut out;
        loop {
            out = self.access_page(c, pid, at, kind, obs)?;
            if at.vpn(page) == last.vpn(page) {
                break;
            }
            at = at.align_down(page).wrapping_add(page.bytes());
        }
        Ok(out)
    }

    /// [`Machine::access`] for replay loops that keep only errors. Moving the whole outcome
    /// out (with `?` or `unwrap`) copies it through the stack in pieces the hit path wrote
    /// separately, a store-forwarding stall that cost 15% of a hit-dominated replay.
    #[inline(always)]
    pub fn replay_access<O: Observer>(
        &mut self,
        cpu: u16,
        pid: Pid,
        va: VirtAddr,
        kind: AccessKind,
        size: u32,
        obs: &mut O,
    ) -> Result<(), MachineError> {
        match self.access(cpu, pid, va, kind, size, obs) {
            Ok(_) => Ok(()),
            Err(e) => Err(e),
        }
    }

    #[inline(always)]
    fn access_page<O: Observer>(
        &mut self,
        c: usize,
        pid: Pid,
        va: VirtAddr,
        kind: AccessKind,
        obs: &mut O,
    ) -> Result<AccessOutcome, MachineError> {
        self.stats.accesses += 1;
        self.stats.by_kind[kind.index()] += 1;
        if O::ENABLED {
            obs.event(&Event::Access {
                cpu: c as u16,
                pid,
                va,
                kind,
            });
        }
        // Passed by value: a TLB hit never reads it, so nothing of it is built on that path.
        let mem = GuestMemory::new(&mut self.mem, self.virt.as_deref_mut(), c, O::ENABLED);
        match self.cpus[c].translate(mem, va, kind, obs) {
            Ok(t) => Ok(AccessOutcome::Done(self.completed(t, obs))),
            Err(f) => self.resolve(c, pid, va, kind, f, obs),
        }
    }

    /// Bookkeeping after a successful translation: the kernel's access hook, and every
    /// [`BACKGROUND_EVERY`] accesses its background work and the statistics window.
    #[inline]
    fn completed<O: Observer>(&mut self, t: Translation, obs: &mut O) -> Translation {
        if self.kernel.tracks_accesses() {
            self.kernel.accessed(t.pa);
        }
        if self.stats.accesses.is_multiple_of(BACKGROUND_EVERY) {
            self.periodic(obs);
        }
        t
    }

    #[cold]
    #[inline(never)]
    fn periodic<O: Observer>(&mut self, obs: &mut O) {
        if O::ENABLED {
            self.kernel.trace_events(true);
        }
        self.kernel.background(&mut self.mem, &mut self.cpus);
        if O::ENABLED {
            self.kernel.take_events(obs);
            self.kernel.trace_events(false);
        }
        self.note_oom_kills();
        if self.stats.accesses.is_multiple_of(WINDOW) {
            self.end_window();
        }
    }

    /// The fault path: the kernel resolves `first` and the access is retried until it
    /// translates, is refused, or faults the same way twice.
    #[cold]
    #[inline(never)]
    fn resolve<O: Observer>(
        &mut self,
        c: usize,
        pid: Pid,
        va: VirtAddr,
        kind: AccessKind,
        first: Fault,
        obs: &mut O,
    ) -> Result<AccessOutcome, MachineError> {
        let mut f = first;
        let mut last_fault = None;
        loop {
            if last_fault == Some(f) {
                return Err(MachineError::Unresolved { va, fault: f });
            }
            last_fault = Some(f);
            if O::ENABLED {
                self.kernel.trace_events(true);
            }
            let r = self
                .kernel
                .handle_fault(&mut self.mem, &mut self.cpus, c, pid, va, kind, f);
            if O::ENABLED {
                // What the kernel did on the way (reclaim, evictions, shootdowns, OOM kills)
                // comes before how it resolved the fault.
                self.kernel.take_events(obs);
                self.kernel.trace_events(false);
            }
            let r = r?;
            if O::ENABLED {
                obs.event(&Event::Resolved(r));
            }
            match r {
                Resolution::DemandZero { .. } => self.stats.demand_zero += 1,
                Resolution::SwapIn { .. } | Resolution::FileRead { .. } => {
                    self.stats.major_faults += 1;
                    self.stats.window_major += 1;
                }
                Resolution::Segv | Resolution::OomKilled => {
                    self.note_oom_kills();
                    self.stats.segv += 1;
                    return Ok(AccessOutcome::Segv(f));
                }
                _ => {}
            }
            self.note_oom_kills();
            let mem = GuestMemory::new(&mut self.mem, self.virt.as_deref_mut(), c, O::ENABLED);
            match self.cpus[c].translate(mem, va, kind, obs) {
                Ok(t) => return Ok(AccessOutcome::Done(self.completed(t, obs))),
                Err(next) => f = next,
            }
        }
    }

    /// Page-table pages in use per level, PT first, over all processes.
    pub fn table_pages(&self) -> [u64; 5] {
        self.kernel.table_pages()
    }
}
