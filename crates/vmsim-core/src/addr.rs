//! Address vocabulary: virtual and physical addresses, page numbers, page sizes and paging modes.
//!
//! Addresses are newtypes so that a physical address can never be passed where a virtual one is
//! expected; input enters through `try_` constructors that report the bad value in hex.
//! Geometry (page size, paging mode) is runtime data from which masks and shifts are derived.

use serde::{Deserialize, Serialize};
use std::fmt;
use thiserror::Error;

/// Why an address was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum AddrError {
    /// Bits above the implemented virtual-address width are not a sign extension of the top bit
    /// (Intel SDM Vol. 3A §3.3.7.1).
    #[error("virtual address {addr:#x} is not canonical for {bits}-bit addresses")]
    NonCanonical {
        /// The rejected address.
        addr: u64,
        /// Implemented virtual-address width.
        bits: u8,
    },
    /// A physical address at or above 2^MAXPHYADDR.
    #[error("physical address {addr:#x} exceeds MAXPHYADDR ({bits} bits)")]
    PhysTooWide {
        /// The rejected address.
        addr: u64,
        /// MAXPHYADDR.
        bits: u8,
    },
    /// A page size that is not a power of two or outside 2^0..=2^40.
    #[error("a page size of {0} bytes is not a power of two between 1 byte and 1 TiB")]
    BadPageSize(u64),
}

/// x86-64 paging mode: how many bits of a virtual address are translated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum PagingMode {
    /// 4-level paging, 48-bit virtual addresses (PML4 root).
    #[default]
    #[serde(rename = "4-level", alias = "4")]
    Level4,
    /// 5-level paging (CR4.LA57), 57-bit virtual addresses (PML5 root).
    #[serde(rename = "5-level", alias = "5")]
    Level5,
}

impl PagingMode {
    /// Implemented virtual-address width in bits.
    pub const fn va_bits(self) -> u8 {
        match self {
            PagingMode::Level4 => 48,
            PagingMode::Level5 => 57,
        }
    }

    /// Number of page-table levels walked for a 4 KiB page.
    pub const fn levels(self) -> u8 {
        match self {
            PagingMode::Level4 => 4,
            PagingMode::Level5 => 5,
        }
    }
}

/// A virtual address. Canonical for the width it was checked against, or a raw teaching address.
#[repr(transparent)]
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
pub struct VirtAddr(#[serde(with = "hex")] u64);

impl VirtAddr {
    /// Accepts `addr` only if it is canonical for a `bits`-wide address space
    /// (bits 63..bits-1 all equal).
    pub fn try_new(addr: u64, bits: u8) -> Result<Self, AddrError> {
        if is_canonical(addr, bits) {
            Ok(VirtAddr(addr))
        } else {
            Err(AddrError::NonCanonical { addr, bits })
        }
    }

    /// Wraps a raw value without a canonical check. The MMU checks canonical form itself on
    /// every access (and faults), so traces may carry any value.
    pub const fn new_unchecked(addr: u64) -> Self {
        VirtAddr(addr)
    }

    /// The raw 64-bit value.
    pub const fn as_u64(self) -> u64 {
        self.0
    }

    /// Whether the address is canonical for a `bits`-wide space.
    pub const fn is_canonical(self, bits: u8) -> bool {
        is_canonical(self.0, bits)
    }

    /// The virtual page number of this address for `size`.
    pub const fn vpn(self, size: PageSize) -> Vpn {
        Vpn(self.0 >> size.shift())
    }

    /// Offset of this address within its page of `size`.
    pub const fn page_offset(self, size: PageSize) -> u64 {
        self.0 & size.mask()
    }

    /// Adds `n`, wrapping at 2^64 (addresses wrap on real hardware; the canonical check catches
    /// the result).
    pub const fn wrapping_add(self, n: u64) -> Self {
        VirtAddr(self.0.wrapping_add(n))
    }

    /// The address rounded down to a multiple of `size`.
    pub const fn align_down(self, size: PageSize) -> Self {
        VirtAddr(self.0 & !size.mask())
    }
}

const fn is_canonical(addr: u64, bits: u8) -> bool {
    if bits >= 64 {
        return true;
    }
    let shift = 64 - bits as u32;
    (((addr << shift) as i64) >> shift) as u64 == addr
}

/// A physical address below 2^MAXPHYADDR.
#[repr(transparent)]
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
pub struct PhysAddr(#[serde(with = "hex")] u64);

impl PhysAddr {
    /// Accepts `addr` if it fits in `maxphyaddr` bits.
    pub fn try_new(addr: u64, maxphyaddr: u8) -> Result<Self, AddrError> {
        if maxphyaddr >= 64 || addr >> maxphyaddr == 0 {
            Ok(PhysAddr(addr))
        } else {
            Err(AddrError::PhysTooWide {
                addr,
                bits: maxphyaddr,
            })
        }
    }

    /// The raw value.
    pub const fn as_u64(self) -> u64 {
        self.0
    }

    /// The physical address of byte `offset` in frame `pfn` of `size`.
    pub const fn from_frame(pfn: Pfn, size: PageSize, offset: u64) -> Self {
        PhysAddr((pfn.0 << size.shift()) | (offset & size.mask()))
    }

    /// The address of byte `offset` of a page starting at frame `pfn`, where frames are
    /// 2^`shift` bytes (x86-64 frames are 4 KiB; teaching machines number frames in their own
    /// page size, even within a large page).
    pub const fn from_frame_shift(pfn: Pfn, shift: u32, offset: u64) -> Self {
        PhysAddr((pfn.0 << shift).wrapping_add(offset))
    }

    /// The 4 KiB frame holding this address.
    pub const fn pfn(self) -> Pfn {
        Pfn(self.0 >> 12)
    }
}

/// A virtual page number (address shifted right by the page-size shift).
#[repr(transparent)]
#[derive(
    Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize, Debug,
)]
pub struct Vpn(#[serde(with = "hex")] pub u64);

impl Vpn {
    /// First address of this page.
    pub const fn base(self, size: PageSize) -> VirtAddr {
        VirtAddr(self.0 << size.shift())
    }
}

/// A physical frame number, always in units of 4 KiB for x86-64 (teaching machines use their
/// own page size). A 2 MiB frame is named by its first 4 KiB frame.
#[repr(transparent)]
#[derive(
    Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize, Debug,
)]
pub struct Pfn(#[serde(with = "hex")] pub u64);

impl Pfn {
    /// The physical address of the frame's first byte for frames of `size`.
    pub const fn base(self, size: PageSize) -> PhysAddr {
        PhysAddr(self.0 << size.shift())
    }
}

/// A page size: a power of two, stored as its shift. x86-64 uses 4 KiB, 2 MiB and 1 GiB;
/// teaching machines use others (OSTEP's 32-byte pages, for instance).
#[repr(transparent)]
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "PageSizeRepr", into = "String")]
pub struct PageSize(u8);

/// How a page size is written in configuration files: `"4K"`, `"2M"`, `"1G"`, `"32B"` or a
/// plain byte count.
#[derive(Deserialize)]
#[serde(untagged)]
enum PageSizeRepr {
    Bytes(u64),
    Text(String),
}

impl TryFrom<PageSizeRepr> for PageSize {
    type Error = String;
    fn try_from(r: PageSizeRepr) -> Result<Self, String> {
        match r {
            PageSizeRepr::Bytes(b) => PageSize::try_from_bytes(b).map_err(|e| e.to_string()),
            PageSizeRepr::Text(t) => t.parse(),
        }
    }
}

impl std::str::FromStr for PageSize {
    type Err = String;
    /// Parses `4K`, `4KiB`, `2M`, `1G`, `32B` or a byte count.
    fn from_str(s: &str) -> Result<Self, String> {
        let b = crate::units::parse_bytes(s).map_err(|e| format!("page size: {e}"))?;
        PageSize::try_from_bytes(b).map_err(|e| e.to_string())
    }
}

impl PageSize {
    /// 4 KiB, the x86-64 base page.
    pub const SIZE_4K: PageSize = PageSize(12);
    /// 2 MiB, mapped by a PDE with PS=1.
    pub const SIZE_2M: PageSize = PageSize(21);
    /// 1 GiB, mapped by a PDPTE with PS=1.
    pub const SIZE_1G: PageSize = PageSize(30);

    /// A page size of `bytes`, which must be a power of two from 1 byte (OSTEP's smallest
    /// homework pages) to 1 TiB.
    pub fn try_from_bytes(bytes: u64) -> Result<Self, AddrError> {
        if bytes.is_power_of_two() && bytes <= 1 << 40 {
            Ok(PageSize(bytes.trailing_zeros() as u8))
        } else {
            Err(AddrError::BadPageSize(bytes))
        }
    }

    /// A page size of 2^`shift` bytes.
    pub fn try_from_shift(shift: u8) -> Result<Self, AddrError> {
        if shift <= 40 {
            Ok(PageSize(shift))
        } else {
            Err(AddrError::BadPageSize(
                1u64.checked_shl(shift as u32).unwrap_or(0),
            ))
        }
    }

    /// A page size of 2^`shift` bytes, `shift` clamped to at most 40 (for derived geometry
    /// tables).
    pub const fn from_shift_clamped(shift: u8) -> Self {
        PageSize(if shift > 40 { 40 } else { shift })
    }

    /// log2 of the size.
    pub const fn shift(self) -> u32 {
        self.0 as u32
    }

    /// Size in bytes.
    pub const fn bytes(self) -> u64 {
        1 << self.0
    }

    /// Mask of the offset bits.
    pub const fn mask(self) -> u64 {
        self.bytes() - 1
    }

    /// The x86-64 sizes, smallest first.
    pub const X86: [PageSize; 3] = [Self::SIZE_4K, Self::SIZE_2M, Self::SIZE_1G];

    /// Dense index for per-size arrays of statistics: 4K → 0, 2M → 1, 1G → 2, others → 3.
    /// A table load rather than a chain of compares: every hit counts by size.
    pub const fn x86_index(self) -> usize {
        const BY_SHIFT: [u8; 64] = {
            let mut t = [3u8; 64];
            t[12] = 0;
            t[21] = 1;
            t[30] = 2;
            t
        };
        BY_SHIFT[self.0 as usize & 63] as usize
    }

    /// Short name: `4K`, `2M`, `1G`, or the byte count with a unit.
    pub fn name(self) -> String {
        let b = self.bytes();
        if b >= 1 << 30 && b.is_multiple_of(1 << 30) {
            format!("{}G", b >> 30)
        } else if b >= 1 << 20 && b.is_multiple_of(1 << 20) {
            format!("{}M", b >> 20)
        } else if b >= 1 << 10 && b.is_multiple_of(1 << 10) {
            format!("{}K", b >> 10)
        } else {
            format!("{b}B")
        }
    }
}

impl From<PageSize> for String {
    fn from(p: PageSize) -> String {
        p.name()
    }
}

impl fmt::Debug for PageSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PageSize({})", self.name())
    }
}

impl fmt::Display for PageSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

macro_rules! hex_fmt {
    ($($t:ty),*) => {$(
        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($t), "({:#x})"), self.0)
            }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{:#x}", self.0)
            }
        }
        impl fmt::LowerHex for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::LowerHex::fmt(&self.0, f)
            }
        }
    )*};
}
hex_fmt!(VirtAddr, PhysAddr);

/// Addresses, page and frame numbers in JSON: `"0x..."` strings, since JSON readers hold
/// numbers as doubles and would round a 64-bit address (jq shows `0xfffffffffff123` as
/// `...130`). Reading also takes a plain integer, as earlier files wrote them.
mod hex {
    use serde::de::{self, Visitor};
    use serde::{Deserializer, Serializer};
    use std::fmt;

    pub fn serialize<S: Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("{v:#x}"))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        struct Hex;
        impl Visitor<'_> for Hex {
            type Value = u64;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a 0x-prefixed hex string or an unsigned integer")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<u64, E> {
                Ok(v)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<u64, E> {
                let digits = v
                    .strip_prefix("0x")
                    .or_else(|| v.strip_prefix("0X"))
                    .ok_or_else(|| E::custom(format!("`{v}` is not 0x-prefixed hex")))?;
                u64::from_str_radix(digits, 16)
                    .map_err(|_| E::custom(format!("`{v}` is not a 64-bit hex number")))
            }
        }
        d.deserialize_any(Hex)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_48_and_57() {
        assert!(VirtAddr::try_new(0x0000_7fff_ffff_f000, 48).is_ok());
        assert!(VirtAddr::try_new(0xffff_8000_0000_0000, 48).is_ok());
        assert_eq!(
            VirtAddr::try_new(0x0000_8000_0000_0000, 48),
            Err(AddrError::NonCanonical {
                addr: 0x0000_8000_0000_0000,
                bits: 48
            })
        );
        // The same address is canonical under LA57.
        assert!(VirtAddr::try_new(0x0000_8000_0000_0000, 57).is_ok());
        assert!(VirtAddr::try_new(0x0100_0000_0000_0000, 57).is_err());
        assert!(VirtAddr::try_new(0xff00_0000_0000_0000, 57).is_ok());
    }

    #[test]
    fn phys_width() {
        assert!(PhysAddr::try_new((1 << 52) - 1, 52).is_ok());
        assert!(PhysAddr::try_new(1 << 52, 52).is_err());
        assert!(PhysAddr::try_new(1 << 40, 39).is_err());
    }

    #[test]
    fn page_sizes() {
        assert_eq!(PageSize::try_from_bytes(4096), Ok(PageSize::SIZE_4K));
        assert_eq!(PageSize::try_from_bytes(32).unwrap().shift(), 5);
        assert!(PageSize::try_from_bytes(3000).is_err());
        assert!(PageSize::try_from_bytes(0).is_err());
        assert_eq!(PageSize::SIZE_2M.name(), "2M");
        assert_eq!("2M".parse(), Ok(PageSize::SIZE_2M));
        assert_eq!("4KiB".parse(), Ok(PageSize::SIZE_4K));
        assert_eq!("32".parse::<PageSize>().unwrap().bytes(), 32);
        assert!("3K".parse::<PageSize>().is_err());
        assert!("K".parse::<PageSize>().is_err());
        let v = VirtAddr::new_unchecked(0x20_1234);
        assert_eq!(v.vpn(PageSize::SIZE_4K), Vpn(0x201));
        assert_eq!(v.page_offset(PageSize::SIZE_2M), 0x1234);
        assert_eq!(v.align_down(PageSize::SIZE_2M).as_u64(), 0x20_0000);
    }
}
