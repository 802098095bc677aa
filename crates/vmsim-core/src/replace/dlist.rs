//! An arena of nodes threaded on several intrusive doubly linked lists, indexed by page through a
//! [`SlotIndex`]: the O(1) move-to-front, unlink and tail-pop that LRU, FIFO, SIEVE and ARC need,
//! with no allocation per access once the arena has grown to its capacity.

use super::slot_index::SlotIndex;

/// "No node".
pub(crate) const NIL: u32 = u32::MAX;

/// One page on one list.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Node {
    /// The page key.
    pub page: u64,
    prev: u32,
    next: u32,
    /// Which list the node is on.
    pub list: u8,
    /// Dirty bit (set by writes, read at eviction).
    pub dirty: bool,
    /// Reference / visited bit.
    pub referenced: bool,
    /// A small per-page counter (S3-FIFO's frequency).
    pub count: u8,
}

impl Node {
    /// The node as an eviction report.
    pub fn evicted(&self) -> super::Evicted {
        super::Evicted {
            page: self.page,
            dirty: self.dirty,
        }
    }
}

/// `L` lists over one arena; front = most recently inserted, back = oldest.
#[derive(Debug, Clone)]
pub(crate) struct Lists<const L: usize> {
    nodes: Vec<Node>,
    free: u32,
    head: [u32; L],
    tail: [u32; L],
    len: [usize; L],
    map: SlotIndex,
}

impl<const L: usize> Lists<L> {
    /// Empty lists with room for `cap` nodes reserved.
    pub fn with_capacity(cap: usize) -> Self {
        Lists {
            nodes: Vec::with_capacity(super::reserve(cap)),
            free: NIL,
            head: [NIL; L],
            tail: [NIL; L],
            len: [0; L],
            map: SlotIndex::with_capacity(cap),
        }
    }

    /// The node holding `page`, on any list.
    #[inline]
    pub fn find(&self, page: u64) -> Option<u32> {
        let nodes = &self.nodes;
        self.map.find(page, |i| nodes[i as usize].page)
    }

    /// The node at `idx`.
    #[inline]
    pub fn node(&self, idx: u32) -> &Node {
        &self.nodes[idx as usize]
    }

    /// The node at `idx`, mutably.
    #[inline]
    pub fn node_mut(&mut self, idx: u32) -> &mut Node {
        &mut self.nodes[idx as usize]
    }

    /// Number of nodes on `list`.
    #[inline]
    pub fn len(&self, list: usize) -> usize {
        self.len[list]
    }

    /// The oldest node of `list`.
    #[inline]
    pub fn back(&self, list: usize) -> Option<u32> {
        let t = self.tail[list];
        (t != NIL).then_some(t)
    }

    /// The newest node of `list`.
    #[inline]
    pub fn front(&self, list: usize) -> Option<u32> {
        let h = self.head[list];
        (h != NIL).then_some(h)
    }

    /// The next-newer neighbour of `idx` (towards the front).
    #[inline]
    pub fn newer(&self, idx: u32) -> Option<u32> {
        let p = self.nodes[idx as usize].prev;
        (p != NIL).then_some(p)
    }

    fn link_front(&mut self, idx: u32, list: usize) {
        let old = self.head[list];
        {
            let n = &mut self.nodes[idx as usize];
            n.prev = NIL;
            n.next = old;
            n.list = list as u8;
        }
        if old == NIL {
            self.tail[list] = idx;
        } else {
            self.nodes[old as usize].prev = idx;
        }
        self.head[list] = idx;
        self.len[list] += 1;
    }

    fn unlink(&mut self, idx: u32) {
        let Node {
            prev, next, list, ..
        } = self.nodes[idx as usize];
        let list = list as usize;
        if prev == NIL {
            self.head[list] = next;
        } else {
            self.nodes[prev as usize].next = next;
        }
        if next == NIL {
            self.tail[list] = prev;
        } else {
            self.nodes[next as usize].prev = prev;
        }
        self.len[list] -= 1;
    }

    /// Inserts `page` (not present) at the front of `list`.
    pub fn push_front(&mut self, list: usize, page: u64, dirty: bool, referenced: bool) -> u32 {
        let node = Node {
            page,
            prev: NIL,
            next: NIL,
            list: list as u8,
            dirty,
            referenced,
            count: 0,
        };
        let idx = if self.free != NIL {
            let idx = self.free;
            self.free = self.nodes[idx as usize].next;
            self.nodes[idx as usize] = node;
            idx
        } else {
            self.nodes.push(node);
            (self.nodes.len() - 1) as u32
        };
        self.link_front(idx, list);
        let nodes = &self.nodes;
        self.map.insert(page, idx, |i| nodes[i as usize].page);
        idx
    }

    /// Moves node `idx` to the front of `list` (possibly another list).
    #[inline]
    pub fn move_front(&mut self, idx: u32, list: usize) {
        self.unlink(idx);
        self.link_front(idx, list);
    }

    /// Removes node `idx` from its list and the index; returns its contents.
    pub fn remove(&mut self, idx: u32) -> Node {
        self.unlink(idx);
        let node = self.nodes[idx as usize];
        let nodes = &self.nodes;
        self.map.remove(node.page, |i| nodes[i as usize].page);
        self.nodes[idx as usize].next = self.free;
        self.free = idx;
        node
    }

    /// Pages of `list`, oldest first.
    pub fn pages_oldest_first(&self, list: usize, out: &mut Vec<u64>) {
        let mut i = self.tail[list];
        while i != NIL {
            out.push(self.nodes[i as usize].page);
            i = self.nodes[i as usize].prev;
        }
    }
}
