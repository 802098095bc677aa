//! Translation mechanisms, one file each.

pub mod radix;
