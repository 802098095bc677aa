//! A hashed page table: a bucket array of chains keyed by virtual page number, each node holding
//! the entries of one page or, clustered, of a block of consecutive pages sharing one tag
//! (Talluri, Hill and Khalidi, "A New Page Table for 64-bit Address Spaces", SOSP 1995). Its size
//! follows the pages in use; clustering amortises the tag and link over a block, which pays off
//! when pages are used in runs, as they are in real address spaces.

use super::{pa, PagePerm, Translate, TranslateFault};
use crate::access::AccessKind;
use crate::addr::{PageSize, PhysAddr, VirtAddr};

/// Bytes of one bucket (a node pointer).
pub const BUCKET_BYTES: u64 = 8;
/// Bytes of a node's tag and link, besides its entries.
pub const NODE_HEADER_BYTES: u64 = 16;
/// Bytes of one entry (frame and bits).
pub const ENTRY_BYTES: u64 = 8;

/// The most pages a node may cluster. A cluster is rounded up to a power of two, which above
/// 2^63 does not exist (and a zero cluster once divided by zero); callers should refuse larger
/// clusters, [`HashedTable::new`] clamps them.
pub const MAX_CLUSTER: u64 = 1 << 12;

const NONE: u32 = u32::MAX;

#[derive(Debug, Clone, Copy)]
struct Node {
    /// `vpn / cluster`.
    tag: u64,
    next: u32,
}

/// The result of a lookup: the frame and permissions, if mapped, and the memory references the
/// search made (the bucket and every node visited).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lookup {
    /// Frame and permissions of the page.
    pub entry: Option<(u64, PagePerm)>,
    /// Memory references.
    pub refs: u32,
}

/// The table of one address space.
#[derive(Debug, Clone)]
pub struct HashedTable {
    page_size: PageSize,
    cluster: u64,
    buckets: Vec<u32>,
    nodes: Vec<Node>,
    /// `cluster` entries per node, node `i`'s at `i * cluster ..`.
    entries: Vec<Option<(u64, PagePerm)>>,
    /// Nodes whose entries all became empty, for reuse.
    free: Vec<u32>,
}

impl HashedTable {
    /// A table of `buckets` chains (rounded up to a power of two) whose nodes each hold
    /// `cluster` consecutive pages (1 for a plain hashed table; rounded up to a power of two, at
    /// most [`MAX_CLUSTER`]).
    pub fn new(buckets: usize, cluster: u64, page_size: PageSize) -> Self {
        HashedTable {
            page_size,
            cluster: cluster.clamp(1, MAX_CLUSTER).next_power_of_two(),
            buckets: vec![NONE; buckets.max(1).next_power_of_two()],
            nodes: Vec::new(),
            entries: Vec::new(),
            free: Vec::new(),
        }
    }

    /// Pages per node.
    pub fn cluster(&self) -> u64 {
        self.cluster
    }

    fn bucket(&self, tag: u64) -> usize {
        (tag.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 32) as usize & (self.buckets.len() - 1)
    }

    /// The node holding `tag`, with the references spent finding it.
    fn find(&self, tag: u64) -> (Option<u32>, u32) {
        let mut refs = 1;
        let mut n = self.buckets[self.bucket(tag)];
        while n != NONE {
            refs += 1;
            let node = self.nodes[n as usize];
            if node.tag == tag {
                return (Some(n), refs);
            }
            n = node.next;
        }
        (None, refs)
    }

    fn at(&self, node: u32, vpn: u64) -> usize {
        node as usize * self.cluster as usize + (vpn % self.cluster) as usize
    }

    /// Looks `vpn` up.
    pub fn lookup(&self, vpn: u64) -> Lookup {
        let (node, refs) = self.find(vpn / self.cluster);
        Lookup {
            entry: node.and_then(|n| self.entries[self.at(n, vpn)]),
            refs,
        }
    }

    /// Maps `vpn` to `frame` (replacing any previous mapping of `vpn`).
    pub fn map(&mut self, vpn: u64, frame: u64, perm: PagePerm) {
        let tag = vpn / self.cluster;
        let node = match self.find(tag).0 {
            Some(n) => n,
            None => {
                let b = self.bucket(tag);
                let node = Node {
                    tag,
                    next: self.buckets[b],
                };
                let n = match self.free.pop() {
                    Some(n) => {
                        self.nodes[n as usize] = node;
                        n
                    }
                    None => {
                        self.nodes.push(node);
                        self.entries
                            .resize(self.nodes.len() * self.cluster as usize, None);
                        (self.nodes.len() - 1) as u32
                    }
                };
                self.buckets[b] = n;
                n
            }
        };
        let i = self.at(node, vpn);
        self.entries[i] = Some((frame, perm));
    }

    /// Unmaps `vpn`; returns its frame. A node left empty leaves its chain.
    pub fn unmap(&mut self, vpn: u64) -> Option<u64> {
        let tag = vpn / self.cluster;
        let node = self.find(tag).0?;
        let i = self.at(node, vpn);
        let (frame, _) = self.entries[i].take()?;
        let c = self.cluster as usize;
        let start = node as usize * c;
        if self.entries[start..start + c].iter().all(Option::is_none) {
            let b = self.bucket(tag);
            let next = self.nodes[node as usize].next;
            if self.buckets[b] == node {
                self.buckets[b] = next;
            } else {
                let mut p = self.buckets[b];
                while self.nodes[p as usize].next != node {
                    p = self.nodes[p as usize].next;
                }
                self.nodes[p as usize].next = next;
            }
            self.free.push(node);
        }
        Some(frame)
    }

    /// Nodes in use.
    pub fn nodes(&self) -> usize {
        self.nodes.len() - self.free.len()
    }
}

impl Translate for HashedTable {
    fn name(&self) -> &'static str {
        "hashed"
    }

    fn translate(&self, va: VirtAddr, kind: AccessKind) -> Result<PhysAddr, TranslateFault> {
        let v = va.as_u64();
        let vpn = v >> self.page_size.shift();
        let (frame, perm) = self
            .lookup(vpn)
            .entry
            .ok_or(TranslateFault::InvalidPage { vpn })?;
        if !perm.allows(kind) {
            return Err(TranslateFault::PageProtection { vpn });
        }
        let base = frame
            .checked_shl(self.page_size.shift())
            .filter(|b| b >> self.page_size.shift() == frame)
            .ok_or(TranslateFault::OutOfRange { va: v })?;
        Ok(pa(base | (v & self.page_size.mask())))
    }

    fn overhead_bytes(&self) -> u64 {
        self.buckets.len() as u64 * BUCKET_BYTES
            + self.nodes() as u64 * (NODE_HEADER_BYTES + self.cluster * ENTRY_BYTES)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Clusters of 0 and of more than a power of two can hold once divided by zero.
    #[test]
    fn any_cluster_is_clamped() {
        for (asked, got) in [
            (0, 1),
            (3, 4),
            (u64::MAX, MAX_CLUSTER),
            (1 << 63, MAX_CLUSTER),
        ] {
            let mut t = HashedTable::new(1, asked, PageSize::SIZE_4K);
            assert_eq!(t.cluster(), got);
            t.map(5, 7, PagePerm::ALL);
            assert_eq!(t.lookup(5).entry.map(|e| e.0), Some(7));
        }
    }

    #[test]
    fn clustered_nodes_share_a_tag() {
        let mut t = HashedTable::new(4, 16, PageSize::SIZE_4K);
        for vpn in 0x100..0x110 {
            t.map(vpn, vpn - 0x100, PagePerm::ALL);
        }
        assert_eq!(t.nodes(), 1);
        t.map(0x110, 99, PagePerm::default());
        assert_eq!(t.nodes(), 2);
        assert_eq!(t.lookup(0x10f).entry.map(|e| e.0), Some(15));
        assert_eq!(
            t.overhead_bytes(),
            4 * BUCKET_BYTES + 2 * (NODE_HEADER_BYTES + 16 * ENTRY_BYTES)
        );
        let va = VirtAddr::new_unchecked(0x110_abc);
        assert_eq!(t.translate(va, AccessKind::Read).unwrap().as_u64(), 0x63abc);
        assert_eq!(
            t.translate(va, AccessKind::Write),
            Err(TranslateFault::PageProtection { vpn: 0x110 })
        );
        assert_eq!(t.unmap(0x110), Some(99));
        assert_eq!(t.nodes(), 1);
        assert_eq!(
            t.translate(va, AccessKind::Read),
            Err(TranslateFault::InvalidPage { vpn: 0x110 })
        );
        assert_eq!(t.unmap(0x110), None);
    }

    #[test]
    fn one_bucket_chains_everything() {
        let mut t = HashedTable::new(1, 1, PageSize::SIZE_4K);
        for vpn in [5u64, 6, 7] {
            t.map(vpn, vpn, PagePerm::ALL);
        }
        assert_eq!(t.lookup(7).refs, 2);
        assert_eq!(t.lookup(5).refs, 4);
        assert_eq!(t.unmap(6), Some(6));
        assert_eq!(t.lookup(5).refs, 3);
        assert_eq!(t.lookup(6).entry, None);
        // The freed node is reused.
        t.map(8, 8, PagePerm::ALL);
        assert_eq!(t.nodes(), 3);
        assert_eq!(t.lookup(8).entry, Some((8, PagePerm::ALL)));
    }
}
