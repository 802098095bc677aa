//! One memory access as traces carry it.
use vmsim_core::{AccessKind, VirtAddr};

/// A memory access: who made it, what kind, where, and how many bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Record {
    /// Process id (1 when the trace does not say).
    pub pid: u32,
    /// CPU the access ran on (0 when the trace does not say).
    pub cpu: u16,
    /// Read, write or instruction fetch.
    pub kind: AccessKind,
    /// Virtual address of the first byte (not checked for canonical form: the MMU does that).
    pub addr: VirtAddr,
    /// Bytes accessed (at least 1); an access that crosses a page boundary touches both pages.
    pub size: u32,
}

impl Record {
    /// Process id used when a trace names none.
    pub const DEFAULT_PID: u32 = 1;

    /// A one-byte access by the default process on CPU 0.
    pub const fn new(kind: AccessKind, addr: u64) -> Self {
        Record {
            pid: Self::DEFAULT_PID,
            cpu: 0,
            kind,
            addr: VirtAddr::new_unchecked(addr),
            size: 1,
        }
    }
}
