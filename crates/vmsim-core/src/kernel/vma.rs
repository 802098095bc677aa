//! Virtual memory areas (Linux's `vm_area_struct`): the ranges of an address space a process
//! may touch, with their protection and backing. A page fault is resolved by first finding the
//! VMA; `munmap` and `mprotect` split VMAs at the range's edges, as Linux does.

use crate::addr::VirtAddr;
use serde::Serialize;
use std::collections::BTreeMap;
use thiserror::Error;

/// Page size of VMA bookkeeping (VMAs are 4 KiB aligned).
pub const PAGE: u64 = 4096;

/// Access rights of a VMA (`PROT_READ`, `PROT_WRITE`, `PROT_EXEC`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Prot {
    /// Readable.
    pub read: bool,
    /// Writable.
    pub write: bool,
    /// Executable.
    pub exec: bool,
}

/// Text that is not three protection letters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("protection `{0}` is not of the form rwx, r--, rw-...")]
pub struct ProtError(pub String);

impl Prot {
    /// `rw-`.
    pub const RW: Prot = Prot {
        read: true,
        write: true,
        exec: false,
    };
    /// `r-x`.
    pub const RX: Prot = Prot {
        read: true,
        write: false,
        exec: true,
    };
    /// `r--`.
    pub const R: Prot = Prot {
        read: true,
        write: false,
        exec: false,
    };
    /// `rwx`: what the implicit memory of a trace without a memory map gets.
    pub const RWX: Prot = Prot {
        read: true,
        write: true,
        exec: true,
    };

    /// Parses the three letters [`Prot::letters`] writes (`r-x`, `rw-`, `---`...).
    pub fn from_letters(s: &str) -> Result<Prot, ProtError> {
        let b = s.as_bytes();
        if b.len() != 3
            || !matches!(b[0], b'r' | b'-')
            || !matches!(b[1], b'w' | b'-')
            || !matches!(b[2], b'x' | b'-')
        {
            return Err(ProtError(s.to_string()));
        }
        Ok(Prot {
            read: b[0] == b'r',
            write: b[1] == b'w',
            exec: b[2] == b'x',
        })
    }

    /// Every right `self` grants, `other` grants too.
    pub fn within(self, other: Prot) -> bool {
        (!self.read || other.read) && (!self.write || other.write) && (!self.exec || other.exec)
    }

    /// `rwx` letters as in `/proc/PID/maps`.
    pub fn letters(self) -> String {
        format!(
            "{}{}{}",
            if self.read { 'r' } else { '-' },
            if self.write { 'w' } else { '-' },
            if self.exec { 'x' } else { '-' }
        )
    }
}

/// A file, as the page cache names it.
pub type FileId = u32;

/// What backs a VMA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Backing {
    /// Anonymous memory: zero-filled on first touch, swapped when reclaimed.
    Anon,
    /// A file mapping starting at page `offset` of `file`.
    File {
        /// The file.
        file: FileId,
        /// Offset in pages of the VMA's first page.
        offset: u64,
    },
}

/// One VMA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Vma {
    /// First byte.
    pub start: u64,
    /// One past the last byte.
    pub end: u64,
    /// Access rights.
    pub prot: Prot,
    /// `MAP_SHARED` (writes reach the file or other mappers) rather than `MAP_PRIVATE`.
    pub shared: bool,
    /// Backing.
    pub backing: Backing,
    /// A stack: grows down on faults just below it.
    pub grows_down: bool,
    /// `madvise(MADV_HUGEPAGE)`: transparent huge pages allowed.
    pub huge: bool,
    /// A name for reports (`[heap]`, `[stack]`, a file name).
    pub name: &'static str,
}

impl Vma {
    /// An anonymous private VMA.
    pub fn anon(start: u64, end: u64, prot: Prot, name: &'static str) -> Self {
        Vma {
            start,
            end,
            prot,
            shared: false,
            backing: Backing::Anon,
            grows_down: false,
            huge: false,
            name,
        }
    }

    /// Whether `va` lies inside.
    pub fn contains(&self, va: u64) -> bool {
        self.start <= va && va < self.end
    }

    /// Pages it spans.
    pub fn pages(&self) -> u64 {
        (self.end - self.start) / PAGE
    }

    /// The file page backing virtual page `va`, for file mappings.
    pub fn file_page(&self, va: u64) -> Option<(FileId, u64)> {
        match self.backing {
            Backing::File { file, offset } => Some((file, offset + (va - self.start) / PAGE)),
            Backing::Anon => None,
        }
    }

    /// The part of `self` in `[lo, hi)`, with file offsets adjusted.
    fn slice(&self, lo: u64, hi: u64) -> Vma {
        let mut v = *self;
        v.start = lo.max(self.start);
        v.end = hi.min(self.end);
        if let Backing::File { file, offset } = self.backing {
            v.backing = Backing::File {
                file,
                offset: offset + (v.start - self.start) / PAGE,
            };
        }
        v
    }
}

/// Why a VMA operation was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum VmaError {
    /// Not page aligned, empty, or beyond the user address space.
    #[error("invalid range {start:#x}..{end:#x}")]
    BadRange {
        /// Start.
        start: u64,
        /// End.
        end: u64,
    },
    /// Overlaps an existing VMA (and `MAP_FIXED_NOREPLACE` semantics apply).
    #[error("range {start:#x}..{end:#x} overlaps an existing mapping")]
    Overlap {
        /// Start.
        start: u64,
        /// End.
        end: u64,
    },
    /// No gap large enough.
    #[error("no free range of {0} bytes")]
    NoSpace(u64),
}

/// The VMAs of one address space, by start address.
#[derive(Debug, Clone, Default)]
pub struct AddressSpace {
    vmas: BTreeMap<u64, Vma>,
}

impl AddressSpace {
    /// The VMA containing `va`.
    pub fn find(&self, va: VirtAddr) -> Option<&Vma> {
        let a = va.as_u64();
        self.vmas
            .range(..=a)
            .next_back()
            .map(|(_, v)| v)
            .filter(|v| v.contains(a))
    }

    /// The first VMA that starts above `va` (a stack that may grow down to it).
    pub fn next_above(&self, va: VirtAddr) -> Option<&Vma> {
        self.vmas
            .range(va.as_u64().saturating_add(1)..)
            .next()
            .map(|(_, v)| v)
    }

    /// The last VMA that ends at or below `va`.
    pub fn prev_below(&self, va: VirtAddr) -> Option<&Vma> {
        self.vmas
            .range(..va.as_u64())
            .next_back()
            .map(|(_, v)| v)
            .filter(|v| v.end <= va.as_u64())
    }

    /// All VMAs in address order.
    pub fn iter(&self) -> impl Iterator<Item = &Vma> {
        self.vmas.values()
    }

    /// Number of VMAs.
    pub fn len(&self) -> usize {
        self.vmas.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.vmas.is_empty()
    }

    /// Adds `v`, which must not overlap anything.
    pub fn insert(&mut self, v: Vma) -> Result<(), VmaError> {
        if v.start >= v.end || !v.start.is_multiple_of(PAGE) || !v.end.is_multiple_of(PAGE) {
            return Err(VmaError::BadRange {
                start: v.start,
                end: v.end,
            });
        }
        if self.overlaps(v.start, v.end) {
            return Err(VmaError::Overlap {
                start: v.start,
                end: v.end,
            });
        }
        self.vmas.insert(v.start, v);
        Ok(())
    }

    /// Whether anything lies in `[start, end)`.
    pub fn overlaps(&self, start: u64, end: u64) -> bool {
        self.vmas
            .range(..end)
            .next_back()
            .is_some_and(|(_, v)| v.end > start)
    }

    /// Removes `[start, end)` from every VMA, splitting those that straddle an edge; returns
    /// the removed pieces.
    pub fn remove_range(&mut self, start: u64, end: u64) -> Vec<Vma> {
        let hit: Vec<Vma> = self
            .vmas
            .range(..end)
            .map(|(_, v)| *v)
            .filter(|v| v.end > start)
            .collect();
        let mut removed = Vec::new();
        for v in hit {
            self.vmas.remove(&v.start);
            if v.start < start {
                let left = v.slice(v.start, start);
                self.vmas.insert(left.start, left);
            }
            if v.end > end {
                let right = v.slice(end, v.end);
                self.vmas.insert(right.start, right);
            }
            removed.push(v.slice(start, end));
        }
        removed
    }

    /// Applies `f` to the parts of VMAs inside `[start, end)`, splitting at the edges; returns
    /// the changed pieces.
    pub fn modify_range(&mut self, start: u64, end: u64, f: impl Fn(&mut Vma)) -> Vec<Vma> {
        let mut pieces = self.remove_range(start, end);
        for p in &mut pieces {
            f(p);
            self.vmas.insert(p.start, *p);
        }
        pieces
    }

    /// Grows the VMA starting at `start` down to `new_start` (stack growth).
    pub fn grow_down(&mut self, start: u64, new_start: u64) {
        if let Some(mut v) = self.vmas.remove(&start) {
            v.start = new_start;
            self.vmas.insert(new_start, v);
        }
    }

    /// Moves the end of the VMA starting at `start` (brk).
    pub fn set_end(&mut self, start: u64, end: u64) {
        if let Some(v) = self.vmas.get_mut(&start) {
            v.end = end;
        }
    }

    /// The highest free gap of `len` bytes that ends at or below `top` and starts at or above
    /// `bottom` (the top-down mmap layout).
    pub fn find_gap_below(&self, top: u64, bottom: u64, len: u64) -> Result<u64, VmaError> {
        let mut hi = top;
        for v in self.vmas.range(..top).rev().map(|(_, v)| v) {
            if v.end <= hi && hi - v.end >= len {
                return Ok(hi - len);
            }
            hi = hi.min(v.start);
            if hi < bottom + len {
                break;
            }
        }
        if hi >= bottom + len {
            Ok(hi - len)
        } else {
            Err(VmaError::NoSpace(len))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn munmap_of_the_middle_splits_in_two() {
        let mut a = AddressSpace::default();
        a.insert(Vma::anon(0x10000, 0x20000, Prot::RW, "x"))
            .unwrap();
        let gone = a.remove_range(0x14000, 0x18000);
        assert_eq!(gone.len(), 1);
        assert_eq!((gone[0].start, gone[0].end), (0x14000, 0x18000));
        let v: Vec<(u64, u64)> = a.iter().map(|v| (v.start, v.end)).collect();
        assert_eq!(v, vec![(0x10000, 0x14000), (0x18000, 0x20000)]);
        assert!(a.find(VirtAddr::new_unchecked(0x15000)).is_none());
        assert!(a.find(VirtAddr::new_unchecked(0x18000)).is_some());
    }

    #[test]
    fn mprotect_splits_and_file_offsets_follow() {
        let mut a = AddressSpace::default();
        let mut f = Vma::anon(0x40000, 0x48000, Prot::R, "f");
        f.backing = Backing::File {
            file: 3,
            offset: 10,
        };
        a.insert(f).unwrap();
        a.modify_range(0x42000, 0x44000, |v| v.prot = Prot::RW);
        assert_eq!(a.len(), 3);
        let mid = a.find(VirtAddr::new_unchecked(0x43000)).unwrap();
        assert_eq!(mid.prot, Prot::RW);
        assert_eq!(
            mid.backing,
            Backing::File {
                file: 3,
                offset: 12
            }
        );
        assert_eq!(mid.file_page(0x43000), Some((3, 13)));
        assert!(a.insert(Vma::anon(0x47000, 0x49000, Prot::R, "o")).is_err());
    }

    #[test]
    fn top_down_gaps() {
        let mut a = AddressSpace::default();
        a.insert(Vma::anon(0x9000, 0xa000, Prot::R, "a")).unwrap();
        assert_eq!(a.find_gap_below(0xa000, 0x1000, 0x1000), Ok(0x8000));
        a.insert(Vma::anon(0x6000, 0x9000, Prot::R, "b")).unwrap();
        assert_eq!(a.find_gap_below(0xa000, 0x1000, 0x2000), Ok(0x4000));
        assert!(a.find_gap_below(0xa000, 0x5000, 0x2000).is_err());
    }
}
