//! OSTEP-compatible homework mode: the memory-virtualization simulators of the OSTEP textbook
//! (relocation, segmentation, paging), regenerating exactly the problem each command line
//! generates (same Python random stream, same option parsing, same quirks) and solving it with
//! vmsim's own mechanisms, with a derivation for every answer.
#![deny(missing_docs)]

/// `convert(text)` or return the Python exception the simulator would raise.
macro_rules! converted {
    ($e:expr) => {
        match $crate::args::convert($e) {
            Ok(v) => v,
            Err(e) => return $crate::Case::fail(e.code(), vec![], vec![]),
        }
    };
}

pub mod args;
pub mod linear_size;
pub mod linear_translate;
pub mod malloc;
pub mod multilevel;
pub mod paging_policy;
pub mod py;
pub mod pyrandom;
pub mod relocation;
pub mod script;
pub mod segmentation;

use serde::Serialize;
use serde_json::Value;
use std::path::Path;

/// One run of a simulator, in the shape of `golden/ostep/SCHEMA.md`.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Case {
    /// The generated problem (null on error).
    pub problem: Option<Value>,
    /// Answers, one per question (those computed before an error, on error).
    pub answers: Option<Vec<Value>>,
    /// Whole-run results (paging-policy only).
    pub summary: Option<Value>,
    /// Error code, or null.
    pub error: Option<String>,
    /// Human-readable derivation of each answer, in order (not part of the JSON).
    #[serde(skip)]
    pub explain: Vec<String>,
}

impl Case {
    /// A failed run with the answers computed before the failure.
    pub fn fail(code: &str, answers: Vec<Value>, explain: Vec<String>) -> Self {
        Case {
            problem: None,
            answers: Some(answers),
            summary: None,
            error: Some(code.to_string()),
            explain,
        }
    }
}

/// The simulators this crate knows, by the names SCHEMA.md uses.
pub const SIMULATORS: &[&str] = &[
    "relocation",
    "segmentation",
    "paging-linear-translate",
    "paging-linear-size",
    "paging-policy",
    "paging-multilevel-translate",
    "malloc",
];

/// Runs simulator `sim` on `args` (without `-c`); `dir` is where relative input files are
/// read. `None` for an unknown simulator.
pub fn run(sim: &str, args: &[String], dir: &Path) -> Option<Case> {
    Some(match sim {
        "relocation" => relocation::run(args),
        "segmentation" => segmentation::run(args),
        "paging-linear-translate" => linear_translate::run(args),
        "paging-linear-size" => linear_size::run(args),
        "paging-policy" => paging_policy::run(args, dir),
        "paging-multilevel-translate" => multilevel::run(args),
        "malloc" => malloc::run(args),
        _ => return None,
    })
}

/// The usage-error case every simulator produces for a command line optparse rejects.
pub(crate) fn usage(msg: String) -> Case {
    Case::fail("usage_error", Vec::new(), vec![msg])
}
