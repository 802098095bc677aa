//! A multi-level page table stored in byte-addressed teaching memory, with entries of a few
//! bytes holding a valid bit and a frame number: the small machines of textbook exercises
//! (OSTEP ch. 20's 15-bit, 32-byte-page, two-level machine with one-byte entries). The x86-64
//! walker (`radix.rs`) reads 8-byte entries from simulated frames; this one reads raw memory,
//! so a student can look at the same bytes the walk reads.

use super::{pa, Translate, TranslateFault};
use crate::access::AccessKind;
use crate::addr::{PhysAddr, VirtAddr};
use serde::Serialize;

/// How an entry is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct EntryFormat {
    /// Bytes per entry (1 to 8, little-endian).
    pub bytes: u8,
    /// The valid bit.
    pub valid_bit: u8,
    /// Mask of the frame number (after no shift).
    pub pfn_mask: u64,
}

/// One entry read by a walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct ByteStep {
    /// Level (0 = the root).
    pub level: usize,
    /// Index into that table.
    pub index: u64,
    /// Physical address of the entry.
    pub addr: u64,
    /// Raw entry.
    pub value: u64,
    /// Valid bit.
    pub valid: bool,
    /// Frame number it holds.
    pub pfn: u64,
}

/// Deepest walk: a table with more levels faults at this depth.
pub const MAX_DEPTH: usize = 8;

/// The entries a walk read, root first, held inline so a walk allocates nothing; derefs to
/// the slice of entries read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Steps {
    buf: [ByteStep; MAX_DEPTH],
    len: usize,
}

impl std::ops::Deref for Steps {
    type Target = [ByteStep];

    fn deref(&self) -> &[ByteStep] {
        &self.buf[..self.len]
    }
}

/// The table and the memory it lives in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ByteRadix {
    /// Physical memory, byte by byte.
    pub memory: Vec<u8>,
    /// Frame of the root table (the page-directory base register).
    pub root: u64,
    /// log2 of the page size.
    pub page_shift: u32,
    /// Index bits per level, root first.
    pub level_bits: Vec<u32>,
    /// Entry layout.
    pub entry: EntryFormat,
}

impl ByteRadix {
    /// The entry at `addr`; `None` when it is not wholly inside memory.
    fn read(&self, addr: u64) -> Option<u64> {
        let start = usize::try_from(addr).ok()?;
        let end = start.checked_add(self.entry.bytes as usize)?;
        let bytes = self.memory.get(start..end)?;
        Some(bytes.iter().rev().fold(0u64, |v, &b| (v << 8) | b as u64))
    }

    /// Address bits: the index bits of every level plus the page offset (saturating, so a
    /// nonsensical geometry cannot overflow).
    pub fn va_bits(&self) -> u32 {
        self.level_bits
            .iter()
            .fold(self.page_shift, |a, &b| a.saturating_add(b))
    }

    /// Walks `va`: the entries read, and the physical address or the level whose entry was
    /// invalid.
    ///
    /// Arithmetic never overflows: an entry address outside memory reads as 0 (not valid).
    /// A table deeper than [`MAX_DEPTH`] levels faults at that depth.
    pub fn walk(&self, va: u64) -> (Steps, Result<u64, usize>) {
        let mut steps = Steps {
            buf: [ByteStep::default(); MAX_DEPTH],
            len: 0,
        };
        let mut table = self.root;
        let mut shift = self.va_bits();
        for (level, &bits) in self.level_bits.iter().enumerate() {
            if level == MAX_DEPTH {
                return (steps, Err(level));
            }
            shift = shift.saturating_sub(bits);
            let index = va.checked_shr(shift).unwrap_or(0) & low_mask(bits);
            let addr = table
                .checked_shl(self.page_shift)
                .unwrap_or(0)
                .wrapping_add(index.wrapping_mul(self.entry.bytes as u64));
            let value = self.read(addr).unwrap_or(0);
            let valid = value.checked_shr(self.entry.valid_bit as u32).unwrap_or(0) & 1 == 1;
            let pfn = value & self.entry.pfn_mask;
            steps.buf[level] = ByteStep {
                level,
                index,
                addr,
                value,
                valid,
                pfn,
            };
            steps.len = level + 1;
            if !valid {
                return (steps, Err(level));
            }
            table = pfn;
        }
        let off = va & low_mask(self.page_shift);
        let frame = table.checked_shl(self.page_shift).unwrap_or(0);
        (steps, Ok(frame | off))
    }
}

/// The low `bits` bits set.
fn low_mask(bits: u32) -> u64 {
    match 1u64.checked_shl(bits) {
        Some(v) => v - 1,
        None => u64::MAX,
    }
}

impl Translate for ByteRadix {
    fn name(&self) -> &'static str {
        "byte-radix"
    }

    fn translate(&self, va: VirtAddr, _kind: AccessKind) -> Result<PhysAddr, TranslateFault> {
        let v = va.as_u64();
        let width = self.va_bits();
        if width < 64 && v >> width != 0 {
            return Err(TranslateFault::OutOfRange { va: v });
        }
        let (steps, r) = self.walk(v);
        match r {
            Ok(p) => Ok(pa(p)),
            Err(depth) => Err(TranslateFault::InvalidEntry {
                depth,
                index: steps.last().map_or(0, |s| s.index),
            }),
        }
    }

    fn overhead_bytes(&self) -> u64 {
        low_mask(self.level_bits.first().copied().unwrap_or(0))
            .saturating_add(1)
            .saturating_mul(self.entry.bytes as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_level_one_byte_entries() {
        // OSTEP's machine: 32-byte pages, 5 + 5 index bits, entries 0x80 | pfn.
        let mut memory = vec![0u8; 128 * 32];
        memory[3 * 32 + 1] = 0x80 | 9; // PDE[1] -> PT in frame 9
        memory[9 * 32 + 2] = 0x80 | 20; // PTE[2] -> frame 20
        let t = ByteRadix {
            memory,
            root: 3,
            page_shift: 5,
            level_bits: vec![5, 5],
            entry: EntryFormat {
                bytes: 1,
                valid_bit: 7,
                pfn_mask: 0x7f,
            },
        };
        let va = (1 << 10) | (2 << 5) | 7;
        let (steps, r) = t.walk(va);
        assert_eq!(r, Ok(20 * 32 + 7));
        assert_eq!(steps[0].addr, 3 * 32 + 1);
        assert_eq!(steps[1].value, 0x80 | 20);
        assert_eq!(t.walk(2 << 10).1, Err(0));
        assert_eq!(t.walk((1 << 10) | (3 << 5)).1, Err(1));
        assert!(t
            .translate(VirtAddr::new_unchecked(1 << 15), AccessKind::Read)
            .is_err());
    }
}
