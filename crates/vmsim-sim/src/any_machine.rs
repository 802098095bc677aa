//! A machine with either kernel model, as one type: what a caller holds when it cannot be
//! generic over the kernel (flags chosen at run time, a Python object, a web session). Work
//! that runs per access dispatches once, outside its loop, through [`with_machine!`].
use crate::{KernelChoice, RunReport, SimError};
use vmsim_core::access::AccessKind;
use vmsim_core::config::MachineConfig;
use vmsim_core::event::Observer;
use vmsim_core::kernel::{DemandZeroKernel, LinuxKernel, Pid};
use vmsim_core::machine::{AccessOutcome, Machine, MachineError};
use vmsim_core::radix::Geometry;
use vmsim_core::VirtAddr;

/// A machine running one of the kernel models. A simulation holds one, so the size difference
/// between the variants costs nothing; boxing would cost an indirection on every call.
#[allow(clippy::large_enum_variant)]
#[derive(Clone)]
pub enum AnyMachine {
    /// The Linux-like kernel.
    Linux(Machine<LinuxKernel>),
    /// The demand-zero kernel.
    DemandZero(Machine<DemandZeroKernel>),
}

/// Runs `$body` with `$m` bound to the concrete machine inside `$any` (a `&AnyMachine` or a
/// `&mut AnyMachine`), monomorphized once per kernel model.
#[macro_export]
macro_rules! with_machine {
    ($any:expr, $m:ident => $body:expr) => {
        match $any {
            $crate::AnyMachine::Linux($m) => $body,
            $crate::AnyMachine::DemandZero($m) => $body,
        }
    };
}

impl AnyMachine {
    /// The machine `cfg` describes, running the kernel `kernel` chooses.
    pub fn new(cfg: &MachineConfig, kernel: KernelChoice) -> Result<AnyMachine, SimError> {
        Ok(match kernel {
            KernelChoice::Linux(linux) => AnyMachine::Linux(Machine::linux(cfg, linux)?),
            KernelChoice::DemandZero => AnyMachine::DemandZero(Machine::from_config(cfg)?),
        })
    }

    /// The paging geometry of every CPU.
    pub fn geometry(&self) -> &Geometry {
        with_machine!(self, m => m.geometry())
    }

    /// One access by `pid` on CPU `cpu`, reported to `obs` (see [`Machine::access`]).
    pub fn access<O: Observer>(
        &mut self,
        cpu: u16,
        pid: Pid,
        va: VirtAddr,
        kind: AccessKind,
        size: u32,
        obs: &mut O,
    ) -> Result<AccessOutcome, MachineError> {
        with_machine!(self, m => m.access(cpu, pid, va, kind, size, obs))
    }

    /// The Linux-like machine, if that is the kernel running.
    pub fn linux_mut(&mut self) -> Option<&mut Machine<LinuxKernel>> {
        match self {
            AnyMachine::Linux(m) => Some(m),
            AnyMachine::DemandZero(_) => None,
        }
    }

    /// The report of what the machine has done so far, under `cfg`'s name, for trace `trace`.
    pub fn report(&self, cfg: &MachineConfig, trace: &str) -> RunReport {
        with_machine!(self, m => RunReport::new(m, cfg, trace))
    }
}
