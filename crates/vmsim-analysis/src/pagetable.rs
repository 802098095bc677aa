//! Page-table organisations side by side for one address space: how much memory each takes and
//! how many memory references a translation costs (a TLB miss, no page-walk caches), so the
//! time-space trade-off is measured rather than asserted.
//!
//! - linear: one entry per virtual page of the whole address space, one reference;
//! - radix: a table per populated index prefix at each level, one reference per level (counted
//!   from the set of pages for any width, page size and level split);
//! - inverted: one entry per physical frame plus a hash anchor table, built for real
//!   ([`InvertedTable`]); references = anchor + chain entries visited;
//! - hashed, plain and clustered: built for real ([`HashedTable`]) with as many buckets as
//!   nodes (rounded up to a power of two); references = bucket + nodes visited.
//!
//! Reference counts are averaged over the trace's references, as if each one missed the TLB.

use serde::Serialize;
use thiserror::Error;
use vmsim_core::translate::hashed::{HashedTable, MAX_CLUSTER};
use vmsim_core::translate::inverted::InvertedTable;
use vmsim_core::translate::{PagePerm, Translate};
use vmsim_core::PageSize;

/// The shape of the virtual address space and its tables.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Layout {
    /// Virtual address bits.
    pub va_bits: u8,
    /// Page size.
    pub page_size: PageSize,
    /// Index bits per radix level, root first.
    pub levels: Vec<u8>,
    /// Bytes per linear/radix entry.
    pub pte_bytes: u64,
}

/// A layout or space that cannot be compared.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LayoutError {
    /// The level bits and the page offset do not add up to the address width.
    #[error("{index} index bits + {offset} offset bits != {va_bits}-bit addresses")]
    Width {
        /// Sum of the level bits.
        index: u32,
        /// Page offset bits.
        offset: u32,
        /// Address width.
        va_bits: u8,
    },
    /// A level has no index bits, or too many to count.
    #[error("a radix level needs 1 to 32 index bits")]
    LevelBits,
    /// A page lies beyond the address width.
    #[error("page {vpn:#x} lies beyond {va_bits}-bit addresses")]
    PageBeyond {
        /// The page.
        vpn: u64,
        /// Address width.
        va_bits: u8,
    },
    /// The clustered table's pages per node is not a power of two from 1 to [`MAX_CLUSTER`].
    #[error("a cluster of {0} pages: it must be a power of two from 1 to {MAX_CLUSTER}")]
    Cluster(u64),
    /// The clustered table would hold more entries than [`MAX_ENTRIES`] (sparse pages in large
    /// clusters), more memory than building it is worth.
    #[error("the clustered table would hold {0} entries (at most {MAX_ENTRIES})")]
    TooManyEntries(u128),
    /// More pages than physical frames for the inverted table.
    #[error("{pages} pages do not fit in {frames} physical frames")]
    TooFewFrames {
        /// Pages in use.
        pages: usize,
        /// Frames.
        frames: u32,
    },
}

impl Layout {
    /// x86-64 4-level paging: 48-bit addresses, 4 KiB pages, 9 bits per level, 8-byte entries.
    pub fn x86_64() -> Self {
        Layout {
            va_bits: 48,
            page_size: PageSize::SIZE_4K,
            levels: vec![9; 4],
            pte_bytes: 8,
        }
    }

    fn check(&self) -> Result<(), LayoutError> {
        if self.levels.iter().any(|&b| b == 0 || b > 32) {
            return Err(LayoutError::LevelBits);
        }
        let index: u32 = self.levels.iter().map(|&b| u32::from(b)).sum();
        if index + self.page_size.shift() != u32::from(self.va_bits) {
            return Err(LayoutError::Width {
                index,
                offset: self.page_size.shift(),
                va_bits: self.va_bits,
            });
        }
        Ok(())
    }
}

/// The most entries the clustered hashed table is built with (16 bytes each in memory).
pub const MAX_ENTRIES: u128 = 1 << 26;

/// One organisation's figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Organisation {
    /// `linear`, `radix`, `inverted`, `hashed` or `clustered`.
    pub name: &'static str,
    /// Table memory in bytes.
    pub bytes: u128,
    /// Average memory references per translation.
    pub refs_per_translation: f64,
    /// How the figure is made up.
    pub detail: String,
}

/// Compares the organisations for `pages`: (virtual page number, references) pairs, each page
/// once. The inverted table gets `frames` physical frames; the clustered hashed table
/// `cluster` pages per node.
pub fn compare(
    pages: &[(u64, u64)],
    layout: &Layout,
    frames: u32,
    cluster: u64,
) -> Result<Vec<Organisation>, LayoutError> {
    layout.check()?;
    let vpn_bits = u32::from(layout.va_bits) - layout.page_size.shift();
    if let Some(&(vpn, _)) = pages
        .iter()
        .find(|&&(v, _)| vpn_bits < 64 && v >> vpn_bits != 0)
    {
        return Err(LayoutError::PageBeyond {
            vpn,
            va_bits: layout.va_bits,
        });
    }
    if !cluster.is_power_of_two() || cluster > MAX_CLUSTER {
        return Err(LayoutError::Cluster(cluster));
    }
    if pages.len() > frames as usize {
        return Err(LayoutError::TooFewFrames {
            pages: pages.len(),
            frames,
        });
    }
    let total_refs: u64 = pages.iter().map(|p| p.1).sum::<u64>().max(1);
    let mean = |cost: &dyn Fn(u64) -> u32| -> f64 {
        pages
            .iter()
            .map(|&(v, n)| f64::from(cost(v)) * n as f64)
            .sum::<f64>()
            / total_refs as f64
    };

    let linear = Organisation {
        name: "linear",
        bytes: (1u128 << vpn_bits) * u128::from(layout.pte_bytes),
        refs_per_translation: 1.0,
        detail: format!(
            "2^{vpn_bits} entries of {} bytes, used or not",
            layout.pte_bytes
        ),
    };

    // Tables at each level: one per distinct prefix of the bits above that level's index.
    let mut below: u32 = layout.levels.iter().map(|&b| u32::from(b)).sum();
    let mut tables = Vec::with_capacity(layout.levels.len());
    let mut radix_bytes: u128 = 0;
    let mut sorted: Vec<u64> = pages.iter().map(|p| p.0).collect();
    sorted.sort_unstable();
    for &bits in &layout.levels {
        below -= u32::from(bits);
        let shift = below + u32::from(bits);
        let mut n: u64 = 0;
        let mut last = None;
        for &v in &sorted {
            let prefix = if shift >= 64 { 0 } else { v >> shift };
            if last != Some(prefix) {
                n += 1;
                last = Some(prefix);
            }
        }
        let n = n.max(1);
        tables.push(n);
        radix_bytes += u128::from(n) * (1u128 << bits) * u128::from(layout.pte_bytes);
    }
    let radix = Organisation {
        name: "radix",
        bytes: radix_bytes,
        refs_per_translation: layout.levels.len() as f64,
        detail: format!(
            "tables per level from the root: {}",
            tables
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };

    let mut inv = InvertedTable::new(frames, layout.page_size);
    for (i, &(v, _)) in pages.iter().enumerate() {
        inv.map(0, v, i as u32, PagePerm::ALL)
            .expect("distinct pages, one frame each");
    }
    let inverted = Organisation {
        name: "inverted",
        bytes: u128::from(inv.overhead_bytes()),
        refs_per_translation: mean(&|v| inv.lookup(0, v).refs),
        detail: format!("{frames} frame entries and a hash anchor table"),
    };

    let nodes = |cluster: u64| {
        let mut tags: Vec<u64> = sorted.iter().map(|v| v / cluster).collect();
        tags.dedup();
        tags.len()
    };
    let clustered_nodes = nodes(cluster);
    let entries = clustered_nodes as u128 * u128::from(cluster);
    if entries > MAX_ENTRIES {
        return Err(LayoutError::TooManyEntries(entries));
    }
    let hashed = |name: &'static str, cluster: u64, nodes: usize| {
        let mut t = HashedTable::new(nodes, cluster, layout.page_size);
        for (i, &(v, _)) in pages.iter().enumerate() {
            t.map(v, i as u64, PagePerm::ALL);
        }
        Organisation {
            name,
            bytes: u128::from(t.overhead_bytes()),
            refs_per_translation: mean(&|v| t.lookup(v).refs),
            detail: format!("{} nodes of {} page(s)", t.nodes(), t.cluster()),
        }
    };
    Ok(vec![
        linear,
        radix,
        inverted,
        hashed("hashed", 1, pages.len()),
        hashed("clustered", cluster, clustered_nodes),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sparse_space() {
        // Code, heap and stack: three runs of pages far apart in a 48-bit space.
        let mut pages: Vec<(u64, u64)> = (0x400..0x410).map(|v| (v, 1)).collect();
        pages.extend((0x2000..0x2100).map(|v| (v, 1)));
        pages.extend((0x7_ffff_fff0..0x7_ffff_fff8u64).map(|v| (v, 1)));
        let r = compare(&pages, &Layout::x86_64(), 1024, 16).unwrap();
        let by = |n: &str| r.iter().find(|o| o.name == n).unwrap().clone();
        assert_eq!(by("linear").bytes, 512 << 30);
        // Root, two PDPTs, two PDs and three page tables (0x400-0x40f and 0x2000-0x20ff
        // share the first PD but not their page tables).
        assert_eq!(by("radix").bytes, 8 * 4096);
        assert_eq!(
            by("radix").detail,
            "tables per level from the root: 1, 2, 2, 3"
        );
        assert_eq!(by("radix").refs_per_translation, 4.0);
        assert_eq!(by("inverted").bytes, 1024 * 4 + 1024 * 16);
        assert!(by("inverted").refs_per_translation >= 2.0);
        assert!(by("hashed").refs_per_translation >= 2.0);
        assert_eq!(
            by("clustered").bytes,
            32 * 8 + 18 * (16 + 16 * 8),
            "{}",
            by("clustered").detail
        );
    }

    #[test]
    fn bad_layouts() {
        let mut l = Layout::x86_64();
        l.levels = vec![9, 9, 9];
        assert!(matches!(
            compare(&[], &l, 1, 1),
            Err(LayoutError::Width { .. })
        ));
        assert!(matches!(
            compare(&[(1 << 36, 1)], &Layout::x86_64(), 4, 1),
            Err(LayoutError::PageBeyond { .. })
        ));
        assert!(matches!(
            compare(&[(1, 1), (2, 1)], &Layout::x86_64(), 1, 1),
            Err(LayoutError::TooFewFrames { .. })
        ));
        // A cluster that is not a power of two once ran rounded up; u64::MAX divided by zero.
        for c in [0, 3, MAX_CLUSTER * 2, u64::MAX] {
            assert_eq!(
                compare(&[(1, 1)], &Layout::x86_64(), 4, c),
                Err(LayoutError::Cluster(c))
            );
        }
        // Sparse pages in the largest clusters: one node each, 4096 entries a node.
        let sparse: Vec<(u64, u64)> = (0..20_000u64).map(|i| (i * MAX_CLUSTER, 1)).collect();
        assert!(matches!(
            compare(&sparse, &Layout::x86_64(), 1 << 15, MAX_CLUSTER),
            Err(LayoutError::TooManyEntries(e)) if e == 20_000 * u128::from(MAX_CLUSTER)
        ));
    }
}
