//! One module per subcommand: its clap arguments and its `run`.
pub mod convert;
pub mod explain;
pub mod gen;
pub mod inspect;
pub mod mrc;
pub mod ostep;
pub mod pagetable;
pub mod policy;
pub mod presets;
pub mod probe;
pub mod record;
pub mod run;
pub mod thrash;
pub mod workload;
pub mod ws;
pub mod wss;
