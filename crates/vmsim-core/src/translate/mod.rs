//! Translation mechanisms, one file each, from base and bounds to the x86-64 radix table.
//! The software-visible ones share [`Translate`], so one conformance suite checks them all.

pub mod base_bounds;
pub mod byte_radix;
pub mod hashed;
pub mod inverted;
pub mod linear;
pub mod nested;
pub mod radix;
pub mod segmentation;

use crate::access::AccessKind;
use crate::addr::{PhysAddr, VirtAddr};
use serde::Serialize;
use thiserror::Error;

/// Why a mechanism refused an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TranslateFault {
    /// Base and bounds: the address is at or beyond the bounds register.
    #[error("address {va:#x} is not below the bounds {bounds:#x}")]
    OutOfBounds {
        /// Address.
        va: u64,
        /// Bounds (limit) register.
        bounds: u64,
    },
    /// Segmentation: the offset lies outside its segment.
    #[error("segmentation violation: offset {offset} outside segment {segment} of size {size}")]
    SegmentViolation {
        /// Segment selected.
        segment: usize,
        /// Offset into it (negative for a segment that grows down).
        offset: i64,
        /// Its size.
        size: u64,
    },
    /// Segmentation: the segment does not allow this kind of access.
    #[error("protection fault: segment {segment} does not allow this access")]
    SegmentProtection {
        /// Segment.
        segment: usize,
    },
    /// Page tables: the entry for this page is not valid.
    #[error("page {vpn} is not valid")]
    InvalidPage {
        /// Virtual page number.
        vpn: u64,
    },
    /// Multi-level tables: the entry read at walk depth `depth` (0 = the root table) is not
    /// valid.
    #[error("the entry {index} read at depth {depth} of the walk is not valid")]
    InvalidEntry {
        /// Walk depth of the table holding the entry (0 = root).
        depth: usize,
        /// Index of the entry in its table.
        index: u64,
    },
    /// Page tables: the page's entry does not allow this kind of access.
    #[error("protection fault: page {vpn} does not allow this access")]
    PageProtection {
        /// Virtual page number.
        vpn: u64,
    },
    /// Page tables: the page number is past the end of the table.
    #[error("page {vpn} is beyond the {entries}-entry page table")]
    BeyondTable {
        /// Virtual page number.
        vpn: u64,
        /// Entries in the table.
        entries: u64,
    },
    /// The address does not fit the address space.
    #[error("address {va:#x} is outside the address space")]
    OutOfRange {
        /// Address.
        va: u64,
    },
}

/// An address-translation mechanism that software sets up and hardware consults.
///
/// Contract: `translate` is a pure function of the mechanism's state and its arguments; it
/// returns the physical address for an allowed access and a [`TranslateFault`] naming the
/// cause otherwise. Implementations never panic on any address.
pub trait Translate {
    /// The mechanism's name (`base-bounds`, `segmentation`, `linear`, ...).
    fn name(&self) -> &'static str;
    /// Translates `va` for an access of `kind`.
    fn translate(&self, va: VirtAddr, kind: AccessKind) -> Result<PhysAddr, TranslateFault>;
    /// Memory the mechanism's own structures occupy (registers count as 0).
    fn overhead_bytes(&self) -> u64;
}

/// What a page's entry allows beyond reading, in the tables that keep it per page (inverted
/// and hashed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct PagePerm {
    /// Stores allowed.
    pub write: bool,
    /// Instruction fetches allowed.
    pub exec: bool,
}

impl PagePerm {
    /// Read, write and execute.
    pub const ALL: PagePerm = PagePerm {
        write: true,
        exec: true,
    };

    /// Whether an access of `kind` is allowed.
    pub fn allows(self, kind: AccessKind) -> bool {
        match kind {
            AccessKind::Read => true,
            AccessKind::Write => self.write,
            AccessKind::Fetch => self.exec,
        }
    }
}

/// A physical address from a raw value; teaching mechanisms have no MAXPHYADDR.
pub(crate) fn pa(v: u64) -> PhysAddr {
    PhysAddr::from_frame_shift(crate::addr::Pfn(0), 0, v)
}
