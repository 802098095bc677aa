//! vmsim traces: the record every format decodes to, streaming readers and writers for each
//! format, and format detection.
//!
//! Formats:
//! - [`Format::Text`]: one access per line, see [`text`];
//! - [`Format::Lackey`]: valgrind `--tool=lackey --trace-mem=yes` output, see [`lackey`];
//! - [`Format::Vmt`]: vmsim's compact binary format, see [`vmt`];
//! - [`Format::Pages`]: one page number per line, see [`pages`];
//! - [`Format::Pgt`]: binary page numbers that decode at memory speed, see [`pgt`];
//! - [`Format::ChampSim`], [`Format::ChampSimCloudSuite`]: ChampSim's instruction traces, see
//!   [`champsim`];
//! - [`Format::OracleGeneral`], [`Format::OracleGeneralOpNs`], [`Format::Csv`],
//!   [`Format::Keys`]: libCacheSim's cache traces, read as pages, see [`oracle_general`],
//!   [`cachesim_csv`], [`key_text`] and [`objects`];
//! - [`Format::Perf`]: `perf script` samples with data addresses, see [`perf_script`].
//!
//! Any of them may be compressed with zstd, xz or gzip ([`compress`]).
//!
//! [`synth`] generates synthetic page streams (scans, loops, uniform, Zipf, hot/cold, phases
//! and mixtures).
//!
//! Readers stream: memory use does not grow with the trace's length. Errors name the source and
//! the line (text formats) or record and byte offset (binary).
#![deny(missing_docs)]

mod binary;
pub mod cachesim_csv;
pub mod champsim;
pub mod compress;
pub mod error;
pub mod format;
pub mod key_text;
pub mod lackey;
pub mod lines;
pub mod objects;
pub mod oracle_general;
pub mod pages;
pub mod perf_script;
pub mod pgt;
pub mod reader;
pub mod record;
pub mod synth;
pub mod text;
pub mod vmt;
pub mod writer;

pub use compress::Codec;
pub use error::{TraceError, TraceProblem};
pub use format::{Format, UnknownFormat};
pub use pages::PageRef;
pub use reader::{AddressCheck, AddressError, ReadOptions, TraceReader};
pub use record::Record;
pub use writer::TraceWriter;
