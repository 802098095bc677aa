//! vmsim traces: the record every format decodes to, streaming readers and writers for each
//! format, and format detection.
//!
//! Formats:
//! - [`Format::Text`]: one access per line, see [`text`];
//! - [`Format::Lackey`]: valgrind `--tool=lackey --trace-mem=yes` output, see [`lackey`];
//! - [`Format::Vmt`]: vmsim's compact binary format, see [`vmt`];
//! - [`Format::Pages`]: one page number per line, see [`pages`];
//! - [`Format::Pgt`]: binary page numbers that decode at memory speed, see [`pgt`].
//!
//! [`synth`] generates synthetic page streams (scans, loops, uniform, Zipf, hot/cold, phases
//! and mixtures).
//!
//! Readers stream: memory use does not grow with the trace's length. Errors name the source and
//! the line (text formats) or record and byte offset (binary).
#![deny(missing_docs)]

mod binary;
pub mod error;
pub mod format;
pub mod lackey;
pub mod lines;
pub mod pages;
pub mod pgt;
pub mod reader;
pub mod record;
pub mod synth;
pub mod text;
pub mod vmt;
pub mod writer;

pub use error::{TraceError, TraceProblem};
pub use format::{Format, UnknownFormat};
pub use pages::PageRef;
pub use reader::{AddressCheck, AddressError, TraceReader};
pub use record::Record;
pub use writer::TraceWriter;
