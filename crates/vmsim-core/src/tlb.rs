//! TEMPORARY: replaced by the TLB helper's module on merge.
/// Combined rights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Rights {
    /// W
    pub writable: bool,
    /// U
    pub user: bool,
    /// XD
    pub no_execute: bool,
    /// D
    pub dirty: bool,
    /// pkey
    pub pkey: u8,
}
