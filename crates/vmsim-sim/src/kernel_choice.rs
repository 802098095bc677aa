//! Which kernel model runs under a machine, and the one rule for picking it when nobody says:
//! the Linux-like model where it can run (x86-64 with 4 KiB pages), demand-zero otherwise.
use crate::SimError;
use std::fmt;
use std::str::FromStr;
use vmsim_core::config::MachineConfig;
use vmsim_core::kernel::{LinuxConfig, LinuxKernel};

/// A kernel model, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KernelKind {
    /// VMAs, page cache, swap, reclaim, copy-on-write, THP, the OOM killer.
    Linux,
    /// Every page mapped zero-filled on first touch; nothing is ever reclaimed.
    DemandZero,
}

impl KernelKind {
    /// Every kernel model, in the order the CLI lists them.
    pub const ALL: [KernelKind; 2] = [KernelKind::Linux, KernelKind::DemandZero];

    /// The name flags and reports use.
    pub fn name(self) -> &'static str {
        match self {
            KernelKind::Linux => "linux",
            KernelKind::DemandZero => "demand-zero",
        }
    }

    /// The kernel a machine gets when none is named: Linux where it can map the machine's
    /// pages, demand-zero otherwise.
    pub fn default_for(cfg: &MachineConfig) -> KernelKind {
        if LinuxKernel::supports(cfg) {
            KernelKind::Linux
        } else {
            KernelKind::DemandZero
        }
    }
}

impl fmt::Display for KernelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is not a kernel model.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a kernel model (expected linux or demand-zero)")]
pub struct UnknownKernel(pub String);

impl FromStr for KernelKind {
    type Err = UnknownKernel;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        KernelKind::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| UnknownKernel(s.to_string()))
    }
}

/// A kernel model with its configuration: what a [`crate::Simulation`] is built with.
#[derive(Debug, Clone)]
pub enum KernelChoice {
    /// The Linux-like kernel, configured.
    Linux(LinuxConfig),
    /// The demand-zero kernel (it has nothing to configure).
    DemandZero,
}

impl KernelChoice {
    /// The kernel `kind` names (or, when `None`, the default for `cfg`), with `linux` as the
    /// Linux kernel's configuration. Refuses the Linux kernel where it cannot run.
    pub fn resolve(
        kind: Option<KernelKind>,
        cfg: &MachineConfig,
        linux: LinuxConfig,
    ) -> Result<KernelChoice, SimError> {
        match kind.unwrap_or_else(|| KernelKind::default_for(cfg)) {
            KernelKind::Linux if !LinuxKernel::supports(cfg) => Err(SimError::LinuxNeeds4K),
            KernelKind::Linux => Ok(KernelChoice::Linux(linux)),
            KernelKind::DemandZero => Ok(KernelChoice::DemandZero),
        }
    }

    /// Which model this is.
    pub fn kind(&self) -> KernelKind {
        match self {
            KernelChoice::Linux(_) => KernelKind::Linux,
            KernelChoice::DemandZero => KernelKind::DemandZero,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vmsim_core::PageSize;

    #[test]
    fn names_round_trip_and_unknown_names_are_refused() {
        for k in KernelKind::ALL {
            assert_eq!(k.name().parse::<KernelKind>(), Ok(k));
        }
        assert_eq!(
            "bsd".parse::<KernelKind>(),
            Err(UnknownKernel("bsd".into()))
        );
    }

    #[test]
    fn linux_by_default_on_4k_x86_and_refused_on_huge_pages() {
        let mut cfg = MachineConfig::preset("zen4").unwrap();
        assert_eq!(KernelKind::default_for(&cfg), KernelKind::Linux);
        cfg.page_size = PageSize::SIZE_2M;
        assert_eq!(KernelKind::default_for(&cfg), KernelKind::DemandZero);
        let asked = KernelChoice::resolve(Some(KernelKind::Linux), &cfg, LinuxConfig::default());
        assert!(matches!(asked, Err(SimError::LinuxNeeds4K)));
        let default = KernelChoice::resolve(None, &cfg, LinuxConfig::default()).unwrap();
        assert_eq!(default.kind(), KernelKind::DemandZero);
        let teaching = MachineConfig::preset("teaching").unwrap();
        assert_eq!(KernelKind::default_for(&teaching), KernelKind::DemandZero);
    }
}
