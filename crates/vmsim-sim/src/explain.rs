//! Accesses explained: one fresh machine with its default kernel, each access recorded event
//! by event. The shape [`Explanation`] serialises to is what `vmsim explain --json` prints and
//! what the web explorer's API answers, so both faces build it here.
use crate::{AnyMachine, KernelChoice, SimError};
use serde::Serialize;
use vmsim_core::config::MachineConfig;
use vmsim_core::event::{Event, Recorder};
use vmsim_core::kernel::{LinuxConfig, Pid};
use vmsim_core::radix::Geometry;
use vmsim_core::{AccessKind, VirtAddr};

/// One access and the events it produced, in order.
#[derive(Debug, Clone, Serialize)]
pub struct ExplainedAccess {
    /// What the machine reported, step by step.
    pub events: Vec<Event>,
    /// Read, write or fetch.
    pub kind: AccessKind,
    /// The virtual address as given.
    pub va: u64,
}

/// A machine's name and the accesses explained on it: `vmsim explain --json`'s document.
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    /// The accesses, in the order they ran.
    pub accesses: Vec<ExplainedAccess>,
    /// The machine's name (a preset's name, or the `name` of a pasted configuration).
    pub machine: String,
}

/// A machine whose accesses are explained: the configuration it was built from and the machine,
/// running the kernel `KernelChoice::resolve` picks by default for it (the Linux-like one, or
/// demand-zero where the Linux model cannot map the machine's pages).
pub struct Explainer {
    cfg: MachineConfig,
    machine: AnyMachine,
}

impl Explainer {
    /// A fresh machine as `cfg` describes it.
    pub fn new(cfg: MachineConfig) -> Result<Explainer, SimError> {
        let kernel = KernelChoice::resolve(None, &cfg, LinuxConfig::default())?;
        let machine = AnyMachine::new(&cfg, kernel)?;
        Ok(Explainer { cfg, machine })
    }

    /// One access of one byte by `pid` on CPU 0, recorded. The address is taken as given: a
    /// non-canonical one faults in the MMU, as it would on the processor.
    pub fn access(
        &mut self,
        pid: Pid,
        va: u64,
        kind: AccessKind,
    ) -> Result<ExplainedAccess, SimError> {
        let mut rec = Recorder::default();
        self.machine
            .access(0, pid, VirtAddr::new_unchecked(va), kind, 1, &mut rec)?;
        Ok(ExplainedAccess {
            events: rec.events,
            kind,
            va,
        })
    }

    /// The step-by-step story of `access` ([`crate::narrate::render`]).
    pub fn narrate(&self, access: &ExplainedAccess) -> String {
        let mut text = String::new();
        crate::narrate::render(self.geometry(), &access.events, &mut text);
        text
    }

    /// The paging geometry of the machine.
    pub fn geometry(&self) -> &Geometry {
        self.machine.geometry()
    }

    /// The configuration the machine was built from.
    pub fn config(&self) -> &MachineConfig {
        &self.cfg
    }

    /// The machine, to look inside.
    pub fn machine(&self) -> &AnyMachine {
        &self.machine
    }

    /// The document of `accesses` on this machine.
    pub fn explanation(&self, accesses: Vec<ExplainedAccess>) -> Explanation {
        Explanation {
            accesses,
            machine: self.cfg.name.clone(),
        }
    }
}

/// An access kind by name: `r`/`read`, `w`/`write`, `x`/`fetch`, in any case.
pub fn parse_kind(s: &str) -> Option<AccessKind> {
    match s.trim().to_ascii_lowercase().as_str() {
        "r" | "read" => Some(AccessKind::Read),
        "w" | "write" => Some(AccessKind::Write),
        "x" | "fetch" => Some(AccessKind::Fetch),
        _ => None,
    }
}

/// Parses an address with an optional kind, as `vmsim explain` takes them: `w:0x1000`,
/// `x:4096`, `0x1000`.
pub fn parse_access(s: &str) -> Result<(Option<AccessKind>, u64), String> {
    let (kind, addr) = match s.split_once(':') {
        Some((k, a)) => match parse_kind(k) {
            Some(kind) => (Some(kind), a),
            None => {
                return Err(format!(
                    "`{k}` is not an access kind (use r:, w: or x: before the address)"
                ))
            }
        },
        None => (None, s),
    };
    Ok((kind, parse_addr(addr)?))
}

/// Parses `0x`-prefixed hex or decimal (underscores allowed).
pub fn parse_addr(s: &str) -> Result<u64, String> {
    let t = s.trim().replace('_', "");
    let r = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16),
        None => t.parse(),
    };
    r.map_err(|_| format!("`{s}` is not an address (use 0x-prefixed hex or decimal)"))
}
