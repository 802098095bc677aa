//! What an access is: its kind (read, write, instruction fetch) and the privilege it runs at.
//! Permission checks, dirty bits and the split between instruction and data TLBs all key on it.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The kind of a memory access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum AccessKind {
    /// A data load.
    #[default]
    Read,
    /// A data store: needs R/W, sets D.
    Write,
    /// An instruction fetch: goes through the instruction TLB, faults on XD pages.
    Fetch,
}

impl AccessKind {
    /// One-letter code used by traces and explanations: `R`, `W`, `X`.
    pub const fn letter(self) -> char {
        match self {
            AccessKind::Read => 'R',
            AccessKind::Write => 'W',
            AccessKind::Fetch => 'X',
        }
    }

    /// Dense index for per-kind arrays.
    pub const fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for AccessKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AccessKind::Read => "read",
            AccessKind::Write => "write",
            AccessKind::Fetch => "fetch",
        })
    }
}

/// The privilege level of an access (CPL 3 is user, 0..2 supervisor; SDM Vol. 3A §4.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Privilege {
    /// CPL 3.
    #[default]
    User,
    /// CPL 0..2.
    Supervisor,
}
