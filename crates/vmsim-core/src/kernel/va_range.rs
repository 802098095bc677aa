//! Checked address ranges for the system calls. A range from user input is made once, here,
//! with the page rounding and the overflow check that `munmap`, `mprotect`, `madvise`, a fixed
//! `mmap` and `brk` all need, so no call computes `start + len` rounded up on its own and no
//! length near 2^64 wraps into an empty or backwards range.

use super::vma::PAGE;
use thiserror::Error;

/// `[start, end)`, both page aligned, `start <= end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VaRange {
    start: u64,
    end: u64,
}

/// Why a range was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum RangeError {
    /// The start is not page aligned (Linux's `EINVAL`).
    #[error("invalid range {start:#x}..{end:#x}")]
    Unaligned {
        /// Start.
        start: u64,
        /// End, the length rounded up to pages.
        end: u64,
    },
    /// The length rounded up to pages runs past the last address.
    #[error("range {start:#x}+{len:#x} runs past the end of the address space")]
    Overflow {
        /// Start.
        start: u64,
        /// Length as given.
        len: u64,
    },
}

/// `len` rounded up to whole pages, or `None` past 2^64.
pub fn page_round_up(len: u64) -> Option<u64> {
    len.checked_next_multiple_of(PAGE)
}

impl VaRange {
    /// `[start, start + len)` with `len` rounded up to whole pages, as the system calls take a
    /// range: `start` must be page aligned and the rounded end must not pass 2^64. An empty
    /// range (`len` 0) is allowed; each call decides what it means.
    pub fn pages(start: u64, len: u64) -> Result<VaRange, RangeError> {
        let end = page_round_up(len)
            .and_then(|l| start.checked_add(l))
            .ok_or(RangeError::Overflow { start, len })?;
        if !start.is_multiple_of(PAGE) {
            return Err(RangeError::Unaligned { start, end });
        }
        Ok(VaRange { start, end })
    }

    /// First byte.
    pub fn start(&self) -> u64 {
        self.start
    }

    /// One past the last byte (page aligned).
    pub fn end(&self) -> u64 {
        self.end
    }

    /// Length in bytes, a whole number of pages.
    pub fn len(&self) -> u64 {
        self.end - self.start
    }

    /// Whether it holds no page.
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_round_up_to_pages_and_never_wrap() {
        let r = VaRange::pages(0x1000, 1).unwrap();
        assert_eq!((r.start(), r.end(), r.len()), (0x1000, 0x2000, 0x1000));
        assert!(VaRange::pages(0x1000, 0).unwrap().is_empty());
        assert_eq!(
            VaRange::pages(0x1000, u64::MAX),
            Err(RangeError::Overflow {
                start: 0x1000,
                len: u64::MAX
            })
        );
        assert!(VaRange::pages(0, u64::MAX).is_err(), "rounds to 2^64");
        assert!(VaRange::pages(u64::MAX - 0xfff, 0x1000).is_err());
        assert_eq!(
            VaRange::pages(0, u64::MAX - 0xfff).unwrap().end(),
            u64::MAX - 0xfff
        );
        assert_eq!(
            VaRange::pages(0x1001, 0x1000).unwrap_err().to_string(),
            "invalid range 0x1001..0x2001"
        );
    }
}
