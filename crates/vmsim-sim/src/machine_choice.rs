//! Which machine to simulate: a preset or a configuration file, with overrides of its page
//! size, CPU count and paging mode. The CLI's machine flags and Python's keyword arguments both
//! end up here, so a machine is named, loaded and validated the same way in every face.
use std::path::PathBuf;
use thiserror::Error;
use vmsim_core::config::{ConfigError, MachineConfig, PagingConfig, DEFAULT_PRESET};
use vmsim_core::{PageSize, PagingMode};

/// A machine as the caller names it.
#[derive(Debug, Clone, Default)]
pub struct MachineChoice {
    /// A built-in description by name (the default preset when neither this nor `config`).
    pub preset: Option<String>,
    /// A description in TOML (wins over `preset`).
    pub config: Option<PathBuf>,
    /// The page size the kernel maps on first touch.
    pub page_size: Option<PageSize>,
    /// The number of CPUs.
    pub cpus: Option<u16>,
    /// The x86-64 paging mode.
    pub paging: Option<PagingMode>,
}

/// The machine could not be loaded.
#[derive(Debug, Error)]
pub enum ChoiceError {
    /// The configuration file could not be read.
    #[error("cannot read {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The configuration file is not TOML of a machine (the line is 1-based).
    #[error("{}:{line}: {message}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// The line.
        line: usize,
        /// What is wrong there.
        message: String,
    },
    /// The configuration file describes no machine.
    #[error("{}: {error}", path.display())]
    Config {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        error: ConfigError,
    },
    /// No preset of that name (a usage error).
    #[error("{0}")]
    UnknownPreset(ConfigError),
    /// The overrides make it no machine (a usage error).
    #[error("invalid machine: {0}")]
    Invalid(ConfigError),
    /// The built-in default failed to load.
    #[error(transparent)]
    Default(ConfigError),
}

impl ChoiceError {
    /// Whether the caller asked for something that cannot be (as opposed to a file's fault).
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            ChoiceError::UnknownPreset(_) | ChoiceError::Invalid(_)
        )
    }
}

impl MachineChoice {
    /// Loads and validates the machine description.
    pub fn load(&self) -> Result<MachineConfig, ChoiceError> {
        let mut cfg = match (&self.config, &self.preset) {
            (Some(path), _) => {
                let text = std::fs::read_to_string(path).map_err(|source| ChoiceError::Read {
                    path: path.clone(),
                    source,
                })?;
                MachineConfig::from_toml(&text).map_err(|e| match e {
                    ConfigError::Parse { line, message } => ChoiceError::Parse {
                        path: path.clone(),
                        line,
                        message,
                    },
                    error => ChoiceError::Config {
                        path: path.clone(),
                        error,
                    },
                })?
            }
            (None, Some(name)) => {
                MachineConfig::preset(name).map_err(ChoiceError::UnknownPreset)?
            }
            (None, None) => MachineConfig::preset(DEFAULT_PRESET).map_err(ChoiceError::Default)?,
        };
        if let Some(p) = self.page_size {
            cfg.page_size = p;
        }
        if let Some(m) = self.paging {
            cfg.paging = PagingConfig::X86(m);
        }
        if let Some(n) = self.cpus {
            cfg.cpus = n;
        }
        cfg.validate().map_err(ChoiceError::Invalid)?;
        Ok(cfg)
    }
}
