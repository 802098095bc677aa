//! Segmentation (OSTEP ch. 16): the address space is cut into segments, each with its own base,
//! size, growth direction and protection. Which segment an address uses is chosen explicitly
//! by its top bits, or, in OSTEP's two-segment homework, by which half of the address space it
//! falls in; a segment that grows down (the stack) is addressed by negative offsets from its top.

use super::{pa, Translate, TranslateFault};
use crate::access::AccessKind;
use crate::addr::{PhysAddr, VirtAddr};
use crate::kernel::vma::Prot;
use serde::Serialize;

/// One segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Segment {
    /// For a segment growing up, the physical address of its first byte; growing down, one
    /// past its highest byte.
    pub base: u64,
    /// Its size in bytes.
    pub size: u64,
    /// Grows towards lower addresses (offsets are negative from `base`).
    pub grows_down: bool,
    /// Readable.
    pub read: bool,
    /// Writable.
    pub write: bool,
    /// Executable.
    pub exec: bool,
}

impl Segment {
    /// A read-write segment growing up.
    pub const fn up(base: u64, size: u64) -> Self {
        Segment {
            base,
            size,
            grows_down: false,
            read: true,
            write: true,
            exec: false,
        }
    }

    /// A read-write segment growing down from `top`.
    pub const fn down(top: u64, size: u64) -> Self {
        Segment {
            base: top,
            size,
            grows_down: true,
            read: true,
            write: true,
            exec: false,
        }
    }

    /// Its protection bits.
    pub fn prot(&self) -> Prot {
        Prot {
            read: self.read,
            write: self.write,
            exec: self.exec,
        }
    }

    /// Sets its protection bits (what the OS writes into the protection register).
    pub fn set_prot(&mut self, p: Prot) {
        self.read = p.read;
        self.write = p.write;
        self.exec = p.exec;
    }

    /// The lowest physical address the segment occupies.
    pub fn physical_start(&self) -> u64 {
        if self.grows_down {
            self.base - self.size
        } else {
            self.base
        }
    }

    /// Puts the segment's `size` bytes at physical `start`: what the OS writes into the base
    /// (and size) register when it allocates or moves the segment.
    pub fn place(&mut self, start: u64, size: u64) {
        self.size = size;
        self.base = if self.grows_down { start + size } else { start };
    }
}

/// How an address picks its segment and its offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Selector {
    /// The top `bits` of an `va_bits`-bit address number the segment; the rest is the offset.
    /// A segment growing down gets `offset - 2^(va_bits - bits)`.
    TopBits {
        /// Address width.
        va_bits: u8,
        /// Selector bits.
        bits: u8,
    },
    /// OSTEP's two segments: addresses in the upper half of an `asize`-byte space (compared
    /// with true division, so an odd size splits at a half) use segment 1 with the negative
    /// offset `va - asize`; the rest use segment 0.
    Halves {
        /// Address-space size.
        asize: u64,
    },
}

/// A segment table and a selection rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Segmentation {
    /// The segments.
    pub segments: Vec<Segment>,
    /// How addresses select them.
    pub selector: Selector,
}

/// The outcome of a translation, with the intermediate values explanations show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SegmentedAddress {
    /// Segment used.
    pub segment: usize,
    /// Offset within it (negative for a segment growing down).
    pub offset: i64,
}

impl Segmentation {
    /// The segment and offset `va` selects, or `None` when the address is outside the space.
    pub fn select(&self, va: u64) -> Option<SegmentedAddress> {
        match self.selector {
            Selector::TopBits { va_bits, bits } => {
                if va_bits < 64 && va >> va_bits != 0 {
                    return None;
                }
                let shift = va_bits - bits;
                let segment = (va >> shift) as usize;
                let off = va & ((1u64 << shift) - 1);
                let down = self.segments.get(segment)?.grows_down;
                let offset = if down {
                    off as i64 - (1i64 << shift)
                } else {
                    off as i64
                };
                Some(SegmentedAddress { segment, offset })
            }
            Selector::Halves { asize } => {
                if va >= asize {
                    return None;
                }
                // va >= asize / 2 in true division, i.e. 2 va >= asize.
                if (va as u128) * 2 >= asize as u128 {
                    Some(SegmentedAddress {
                        segment: 1,
                        offset: va as i64 - asize as i64,
                    })
                } else {
                    Some(SegmentedAddress {
                        segment: 0,
                        offset: va as i64,
                    })
                }
            }
        }
    }
}

impl Translate for Segmentation {
    fn name(&self) -> &'static str {
        "segmentation"
    }

    fn translate(&self, va: VirtAddr, kind: AccessKind) -> Result<PhysAddr, TranslateFault> {
        let v = va.as_u64();
        let s = self.select(v).ok_or(TranslateFault::OutOfRange { va: v })?;
        let seg = self.segments[s.segment];
        let allowed = match kind {
            AccessKind::Read => seg.read,
            AccessKind::Write => seg.write,
            AccessKind::Fetch => seg.exec,
        };
        let inside = if seg.grows_down {
            s.offset < 0 && s.offset.unsigned_abs() <= seg.size
        } else {
            s.offset >= 0 && (s.offset as u64) < seg.size
        };
        if !inside {
            return Err(TranslateFault::SegmentViolation {
                segment: s.segment,
                offset: s.offset,
                size: seg.size,
            });
        }
        if !allowed {
            return Err(TranslateFault::SegmentProtection { segment: s.segment });
        }
        Ok(pa(seg.base.wrapping_add_signed(s.offset)))
    }

    fn overhead_bytes(&self) -> u64 {
        0
    }
}
