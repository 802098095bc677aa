//! `/proc/PID/pagemap` and `/proc/kpageflags`: one little-endian `u64` per virtual page (per
//! physical frame for kpageflags), read at offset `page number × 8`
//! (Documentation/admin-guide/mm/pagemap.rst).
//!
//! A pagemap entry: bit 63 present, 62 swapped, 61 file page or shared anonymous, 57 write-
//! protected by userfaultfd, 56 exclusively mapped, 55 soft-dirty; bits 0-54 the frame number
//! when present (zero without CAP_SYS_ADMIN, since Linux 4.2), or swap type (bits 0-4) and
//! offset (5-54) when swapped.
use crate::error::ProcError;
use serde::Serialize;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// One decoded pagemap entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum PageState {
    /// No page and no swap entry (never touched, or dropped).
    None,
    /// Resident.
    Present {
        /// Frame number; `None` when the kernel hides it (reader without CAP_SYS_ADMIN).
        pfn: Option<u64>,
        /// Soft-dirty: written since the last `clear_refs` 4.
        soft_dirty: bool,
        /// Mapped by this process only.
        exclusive: bool,
        /// A file page or shared anonymous page.
        file_or_shared: bool,
    },
    /// In swap (or a migration entry).
    Swapped {
        /// Swap area index.
        swap_type: u8,
        /// Slot within it.
        offset: u64,
        /// Soft-dirty.
        soft_dirty: bool,
    },
}

const PRESENT: u64 = 1 << 63;
const SWAPPED: u64 = 1 << 62;
const FILE_SHARED: u64 = 1 << 61;
const EXCLUSIVE: u64 = 1 << 56;
const SOFT_DIRTY: u64 = 1 << 55;
const PFN_MASK: u64 = (1 << 55) - 1;

impl PageState {
    /// Decodes a raw entry. Every bit pattern decodes (present wins over swapped).
    pub fn decode(raw: u64) -> Self {
        let soft_dirty = raw & SOFT_DIRTY != 0;
        if raw & PRESENT != 0 {
            let pfn = raw & PFN_MASK;
            PageState::Present {
                pfn: (pfn != 0).then_some(pfn),
                soft_dirty,
                exclusive: raw & EXCLUSIVE != 0,
                file_or_shared: raw & FILE_SHARED != 0,
            }
        } else if raw & SWAPPED != 0 {
            PageState::Swapped {
                swap_type: (raw & 0x1f) as u8,
                offset: (raw & PFN_MASK) >> 5,
                soft_dirty,
            }
        } else {
            PageState::None
        }
    }

    /// Whether the page table holds an entry for the page (present or swapped): what makes
    /// the kernel keep a PTE table.
    pub fn has_pte(&self) -> bool {
        !matches!(self, PageState::None)
    }
}

/// Flags of `/proc/kpageflags` that vmsim reads (include/uapi/linux/kernel-page-flags.h).
pub mod kpf {
    /// First page of a compound page.
    pub const COMPOUND_HEAD: u64 = 1 << 15;
    /// hugetlbfs page.
    pub const HUGE: u64 = 1 << 17;
    /// Part of a transparent huge page.
    pub const THP: u64 = 1 << 22;
    /// The (huge) zero page.
    pub const ZERO_PAGE: u64 = 1 << 24;
}

/// Entries per read: 512 KiB of pagemap, 256 MiB of address space.
const CHUNK: usize = 65536;

/// An open table of `u64`s indexed by page (pagemap) or frame (kpageflags).
#[derive(Debug)]
pub struct U64Table {
    file: File,
    path: PathBuf,
}

impl U64Table {
    /// Opens `path`.
    pub fn open(path: &Path) -> Result<Self, ProcError> {
        let file = File::open(path).map_err(|e| ProcError::io(path, e))?;
        Ok(U64Table {
            file,
            path: path.to_path_buf(),
        })
    }

    /// Reads entries `first .. first + count`, calling `f(index, raw)` for each. A short read
    /// (the end of kpageflags) stops early.
    pub fn for_each(
        &self,
        first: u64,
        count: u64,
        mut f: impl FnMut(u64, u64),
    ) -> Result<(), ProcError> {
        let mut buf = vec![0u8; CHUNK.min(count as usize) * 8];
        let mut at = first;
        let end = first.saturating_add(count);
        while at < end {
            let n = ((end - at) as usize).min(CHUNK);
            let bytes = &mut buf[..n * 8];
            let off = at.checked_mul(8).ok_or_else(|| {
                ProcError::io(&self.path, std::io::ErrorKind::InvalidInput.into())
            })?;
            let got =
                read_full_at(&self.file, bytes, off).map_err(|e| ProcError::io(&self.path, e))?;
            for (i, c) in bytes[..got - got % 8].chunks_exact(8).enumerate() {
                let raw = u64::from_le_bytes(c.try_into().expect("8-byte chunk"));
                f(at + i as u64, raw);
            }
            if got < n * 8 {
                break;
            }
            at += n as u64;
        }
        Ok(())
    }

    /// One entry (`None` past the end of the file).
    pub fn get(&self, index: u64) -> Result<Option<u64>, ProcError> {
        let mut out = None;
        self.for_each(index, 1, |_, raw| out = Some(raw))?;
        Ok(out)
    }
}

/// Reads until `buf` is full or the file ends; returns the bytes read.
fn read_full_at(file: &File, buf: &mut [u8], mut off: u64) -> std::io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        match file.read_at(&mut buf[done..], off) {
            Ok(0) => break,
            Ok(n) => {
                done += n;
                off += n as u64;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn decodes_present_swapped_and_none() {
        assert_eq!(PageState::decode(0), PageState::None);
        let p = PageState::decode(PRESENT | EXCLUSIVE | SOFT_DIRTY | 0x1234);
        assert_eq!(
            p,
            PageState::Present {
                pfn: Some(0x1234),
                soft_dirty: true,
                exclusive: true,
                file_or_shared: false
            }
        );
        // Unprivileged readers see present pages with a zero frame number.
        assert!(matches!(
            PageState::decode(PRESENT | FILE_SHARED),
            PageState::Present {
                pfn: None,
                file_or_shared: true,
                ..
            }
        ));
        assert_eq!(
            PageState::decode(SWAPPED | (77 << 5) | 3),
            PageState::Swapped {
                swap_type: 3,
                offset: 77,
                soft_dirty: false
            }
        );
        assert!(!PageState::decode(SOFT_DIRTY).has_pte());
    }

    proptest! {
        #[test]
        fn decode_agrees_with_the_bits(raw in any::<u64>()) {
            let s = PageState::decode(raw);
            prop_assert_eq!(s.has_pte(), raw >> 62 != 0);
            if let PageState::Present { pfn, .. } = s {
                prop_assert_eq!(pfn.unwrap_or(0), raw & PFN_MASK);
            }
        }
    }

    #[test]
    fn reads_own_pagemap_of_a_touched_page() {
        if !cfg!(target_os = "linux") {
            return;
        }
        let v = vec![1u8; 3 * 4096];
        let page = (v.as_ptr() as u64).div_ceil(4096);
        let t = U64Table::open(Path::new("/proc/self/pagemap")).unwrap();
        let raw = t.get(page).unwrap().unwrap();
        assert!(matches!(PageState::decode(raw), PageState::Present { .. }));
    }
}
