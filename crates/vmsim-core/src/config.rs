//! The machine description: CPUs, paging mode, page-size policy, TLB geometry, page-walk caches,
//! latencies and physical memory, as TOML, plus the built-in presets (each citing the public
//! source of its figures in the file itself).

use crate::addr::{PageSize, PagingMode};
use crate::mmu::MmuConfig;
use crate::pwc::PwcConfig;
use crate::radix::{Geometry, GeometryError};
use crate::tlb::TlbConfigError;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// How virtual addresses are translated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PagingConfig {
    /// x86-64 paging: `"4-level"` or `"5-level"`.
    X86(PagingMode),
    /// A textbook n-level table.
    Teaching {
        /// Virtual-address width.
        va_bits: u8,
        /// Page size.
        page_size: PageSize,
        /// Index bits per level, root first.
        level_bits: Vec<u8>,
    },
}

/// A whole machine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MachineConfig {
    /// Short name (the preset's name).
    pub name: String,
    /// One line describing it.
    #[serde(default)]
    pub description: String,
    /// Number of CPUs; a trace record's CPU number picks one (modulo this count).
    #[serde(default = "one", deserialize_with = "cpus")]
    pub cpus: u16,
    /// Paging mode or teaching geometry.
    #[serde(default = "four_level")]
    pub paging: PagingConfig,
    /// The page size the kernel maps on demand (the page-size policy: 4K, or 2M/1G to model a
    /// system that backs all memory with huge pages).
    #[serde(default = "base_page")]
    pub page_size: PageSize,
    /// Installed physical memory in bytes (suffixes K, M, G, T allowed in strings).
    #[serde(default = "default_ram", with = "bytes")]
    pub memory: u64,
    /// Seed for every random choice (TLB random replacement).
    #[serde(default)]
    pub seed: u64,
    /// The translation hardware of each CPU.
    #[serde(default)]
    pub mmu: MmuConfig,
    /// A hypervisor under the kernel (absent: none, the kernel runs on the machine).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub virt: Option<crate::hypervisor::VirtConfig>,
}

fn one() -> u16 {
    1
}

fn cpus<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u16, D::Error> {
    let n = u16::deserialize(d)?;
    if (1..=MAX_CPUS).contains(&n) {
        Ok(n)
    } else {
        Err(serde::de::Error::custom(format!(
            "cpus must be between 1 and {MAX_CPUS}, not {n}"
        )))
    }
}
fn four_level() -> PagingConfig {
    PagingConfig::X86(PagingMode::Level4)
}
fn base_page() -> PageSize {
    PageSize::SIZE_4K
}
fn default_ram() -> u64 {
    1 << 40
}

/// Byte counts written as integers or strings with binary suffixes (`"16G"`).
mod bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Repr {
        N(u64),
        S(String),
    }

    pub fn serialize<S: Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::format_bytes(*v))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        match Repr::deserialize(d)? {
            Repr::N(n) => Ok(n),
            Repr::S(s) => super::parse_bytes(&s).map_err(serde::de::Error::custom),
        }
    }
}

pub use crate::units::{format_bytes, parse_bytes};

/// A configuration that could not be used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConfigError {
    /// TOML syntax or a field of the wrong type; `line` is 1-based.
    #[error("line {line}: {message}")]
    Parse {
        /// Line of the error.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// No CPUs, or more than the model supports.
    #[error("cpus must be between 1 and {MAX_CPUS}, not {0}")]
    Cpus(u16),
    /// The kernel's page size is not one the paging mode can map.
    #[error("page_size {0} is not a leaf size of this paging mode")]
    PageSize(PageSize),
    /// Less memory than two pages.
    #[error("memory ({}) must hold at least two pages", format_bytes(*.0))]
    MemoryTooSmall(u64),
    /// A physical-address width x86-64 does not have.
    #[error("mmu.maxphyaddr {0} is outside 32..=52")]
    MaxPhyAddr(u8),
    /// Frames above 2^MAXPHYADDR: their numbers have no encoding in an entry.
    #[error(
        "memory ({}) is more than the {} that mmu.maxphyaddr = {maxphyaddr} can address",
        format_bytes(*.memory),
        format_bytes(1u64 << .maxphyaddr)
    )]
    MemoryAboveMaxPhyAddr {
        /// The memory asked for.
        memory: u64,
        /// The address width.
        maxphyaddr: u8,
    },
    /// A TLB level that is not hardware.
    #[error("mmu.{level}: {source}")]
    Tlb {
        /// `l1i`, `l1d` or `l2`.
        level: &'static str,
        /// What is wrong with it.
        #[source]
        source: TlbConfigError,
    },
    /// A teaching geometry that does not add up.
    #[error("paging: {0}")]
    Geometry(#[source] GeometryError),
    /// No preset of that name.
    #[error("unknown preset `{0}` (see `vmsim presets`)")]
    UnknownPreset(String),
    /// A `[virt]` table that does not describe a hypervisor vmsim models.
    #[error("{0}")]
    Invalid(String),
}

impl MachineConfig {
    /// Parses and validates a TOML description.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let cfg: MachineConfig = toml::from_str(text).map_err(|e| {
            let line = e.span().map_or(1, |s| {
                text[..s.start.min(text.len())].matches('\n').count() + 1
            });
            ConfigError::Parse {
                line,
                message: e.message().trim().replace('\n', " "),
            }
        })?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// The configuration as TOML that [`MachineConfig::from_toml`] accepts.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_default()
    }

    /// Checks what serde cannot: the geometry adds up, the page size is supported, TLB
    /// geometries are valid, there is at least one CPU and some memory.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(1..=MAX_CPUS).contains(&self.cpus) {
            return Err(ConfigError::Cpus(self.cpus));
        }
        let geom = self.geometry()?;
        if geom.level_for(self.page_size).is_none() {
            return Err(ConfigError::PageSize(self.page_size));
        }
        if self.memory < 2 * self.page_size.bytes() {
            return Err(ConfigError::MemoryTooSmall(self.memory));
        }
        if !(32..=52).contains(&self.mmu.maxphyaddr) {
            return Err(ConfigError::MaxPhyAddr(self.mmu.maxphyaddr));
        }
        // A frame above 2^MAXPHYADDR has no encoding in an entry's address field.
        if self.memory > 1u64 << self.mmu.maxphyaddr {
            return Err(ConfigError::MemoryAboveMaxPhyAddr {
                memory: self.memory,
                maxphyaddr: self.mmu.maxphyaddr,
            });
        }
        for (level, t) in [
            ("l1i", &self.mmu.l1i),
            ("l1d", &self.mmu.l1d),
            ("l2", &self.mmu.l2),
        ] {
            if let Some(t) = t {
                // Checked without building: a CPU builds its TLBs when it first runs.
                crate::tlb::Tlb::check(t).map_err(|source| ConfigError::Tlb { level, source })?;
            }
        }
        if let Some(v) = &self.virt {
            v.validate()?;
            if v.enabled() && !(geom.is_x86() && self.page_size == PageSize::SIZE_4K) {
                return Err(ConfigError::Invalid(
                    "virt needs an x86-64 paging mode and 4K guest pages (the guest kernel maps \
                     huge pages itself through THP)"
                        .to_string(),
                ));
            }
        }
        Ok(())
    }

    /// Turns off every paging-structure cache: the page-walk caches and, under a hypervisor,
    /// the nested TLB and the host's page-walk caches, so that a walk reads every entry.
    pub fn without_pwc(&mut self) {
        self.mmu.pwc = PwcConfig::default();
        if let Some(v) = &mut self.virt {
            v.nested_tlb = 0;
            v.host_pwc = Some(PwcConfig::default());
        }
    }

    /// The page-table geometry.
    pub fn geometry(&self) -> Result<Geometry, ConfigError> {
        match &self.paging {
            PagingConfig::X86(m) => Ok(Geometry::x86(*m)),
            PagingConfig::Teaching {
                va_bits,
                page_size,
                level_bits,
            } => {
                Geometry::teaching(*va_bits, *page_size, level_bits).map_err(ConfigError::Geometry)
            }
        }
    }

    /// A built-in preset by name.
    pub fn preset(name: &str) -> Result<Self, ConfigError> {
        let text = PRESETS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, t)| *t)
            .ok_or_else(|| ConfigError::UnknownPreset(name.to_string()))?;
        Self::from_toml(text)
    }
}

/// The built-in presets: name and TOML text (with the sources of their figures as comments).
pub const PRESETS: &[(&str, &str)] = &[
    ("zen4", include_str!("../presets/zen4.toml")),
    ("skylake", include_str!("../presets/skylake.toml")),
    ("teaching", include_str!("../presets/teaching.toml")),
];

/// The most CPUs a machine may have (each has its own TLBs and page-walk caches).
pub const MAX_CPUS: u16 = 256;

/// The preset `vmsim run` uses when none is named.
pub const DEFAULT_PRESET: &str = "zen4";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_parse_and_round_trip() {
        for (name, _) in PRESETS {
            let c = MachineConfig::preset(name).unwrap();
            assert_eq!(&c.name, name);
            let again = MachineConfig::from_toml(&c.to_toml()).unwrap();
            assert_eq!(c, again, "{name}");
        }
    }

    /// The line and message of a configuration that must fail to parse.
    fn parse_error(text: &str) -> (usize, String) {
        match MachineConfig::from_toml(text) {
            Err(ConfigError::Parse { line, message }) => (line, message),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn errors_name_the_line() {
        let bad = "name = \"x\"\ncpus = 1\n[mmu]\npcid = \"maybe\"\n";
        match MachineConfig::from_toml(bad) {
            Err(ConfigError::Parse { line, .. }) => assert_eq!(line, 4),
            other => panic!("{other:?}"),
        }
        let zero = "name = \"x\"\ncpus = 0\n[mmu]\n";
        assert!(matches!(
            MachineConfig::from_toml(zero),
            Err(ConfigError::Parse { line: 2, .. })
        ));
        let sets = "name = \"x\"\n[mmu.l1d]\narrays = [\n  { sets = 1, ways = 4, page_sizes = [\"4K\"], replacement = \"lru\" },\n  { sets = 6, ways = 4, page_sizes = [\"2M\"], replacement = \"lru\" },\n]\n";
        // toml reports the span of the whole `arrays` value: the line it starts on.
        let (line, message) = parse_error(sets);
        assert_eq!(line, 3, "{message}");
        assert!(
            message.contains("sets = 6 is not a power of two"),
            "{message}"
        );
        let pwc = "name = \"x\"\n[mmu.pwc]\npml4e = 4\npde = 4000000000\n";
        let (line, message) = parse_error(pwc);
        assert_eq!(line, 4, "{message}");
        assert!(
            message.contains("4000000000 entries is more than the 65536"),
            "{message}"
        );
        let big = "name = \"x\"\nmemory = \"1000000000G\"\n";
        match MachineConfig::from_toml(big) {
            Err(e @ ConfigError::MemoryAboveMaxPhyAddr { maxphyaddr: 52, .. }) => {
                assert!(e.to_string().contains("mmu.maxphyaddr = 52"), "{e}")
            }
            other => panic!("{other:?}"),
        }
        let narrow = "name = \"x\"\nmemory = \"8G\"\n[mmu]\nmaxphyaddr = 32\n";
        assert!(MachineConfig::from_toml(narrow).is_err());
        let exact = "name = \"x\"\nmemory = \"4G\"\n[mmu]\nmaxphyaddr = 32\n";
        assert!(MachineConfig::from_toml(exact).is_ok());
        let most = "name = \"x\"\n[mmu.pwc]\npde = 65536\n";
        assert_eq!(MachineConfig::from_toml(most).unwrap().mmu.pwc.pde, 65536);
        assert!(matches!(
            MachineConfig::preset("vax"),
            Err(ConfigError::UnknownPreset(_))
        ));
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_text_never_panics(s in "\\PC{0,200}", lines in proptest::collection::vec("[a-z_.]{1,12} = [0-9a-z\"\\[\\]{}, =]{0,20}", 0..8)) {
            let _ = MachineConfig::from_toml(&s);
            let _ = MachineConfig::from_toml(&lines.join("\n"));
        }
    }
}
