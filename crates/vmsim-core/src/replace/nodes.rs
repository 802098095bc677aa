//! Resident pages as slots in arrays, doubly linked in an order the policy keeps, with a hash
//! map from page to slot: O(1) lookup, move-to-front, unlink and reuse, no allocation once all
//! slots exist. Shared by FIFO and LRU.

use rustc_hash::FxHashMap;

const NIL: u32 = u32::MAX;

/// Slots linked from the most recent (head) to the oldest (tail).
#[derive(Debug, Clone, Default)]
pub(crate) struct Nodes {
    page: Vec<u64>,
    dirty: Vec<bool>,
    prev: Vec<u32>,
    next: Vec<u32>,
    head: u32,
    tail: u32,
    pub(crate) index: FxHashMap<u64, u32>,
}

impl Nodes {
    pub(crate) fn with_capacity(n: usize) -> Self {
        let mut index = FxHashMap::default();
        index.reserve(n);
        Nodes {
            page: Vec::with_capacity(n),
            dirty: Vec::with_capacity(n),
            prev: Vec::with_capacity(n),
            next: Vec::with_capacity(n),
            head: NIL,
            tail: NIL,
            index,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.index.len()
    }

    fn unlink(&mut self, s: u32) {
        let (p, n) = (self.prev[s as usize], self.next[s as usize]);
        if p == NIL {
            self.head = n
        } else {
            self.next[p as usize] = n
        }
        if n == NIL {
            self.tail = p
        } else {
            self.prev[n as usize] = p
        }
    }

    fn push_front(&mut self, s: u32) {
        self.prev[s as usize] = NIL;
        self.next[s as usize] = self.head;
        if self.head != NIL {
            self.prev[self.head as usize] = s;
        }
        self.head = s;
        if self.tail == NIL {
            self.tail = s;
        }
    }

    /// Marks `slot` written if `write`.
    pub(crate) fn touch_dirty(&mut self, slot: u32, write: bool) {
        self.dirty[slot as usize] |= write;
    }

    /// Moves `slot` to the front.
    pub(crate) fn to_front(&mut self, slot: u32) {
        if self.head != slot {
            self.unlink(slot);
            self.push_front(slot);
        }
    }

    /// Inserts `page` at the front, reusing the slot of `evict_tail`'s victim when full.
    /// Returns the victim (page, dirty).
    pub(crate) fn insert(
        &mut self,
        page: u64,
        write: bool,
        capacity: usize,
    ) -> Option<(u64, bool)> {
        let mut victim = None;
        let slot = if self.len() >= capacity {
            let t = self.tail;
            self.unlink(t);
            let old = self.page[t as usize];
            self.index.remove(&old);
            victim = Some((old, self.dirty[t as usize]));
            self.page[t as usize] = page;
            self.dirty[t as usize] = write;
            t
        } else {
            self.page.push(page);
            self.dirty.push(write);
            self.prev.push(NIL);
            self.next.push(NIL);
            (self.page.len() - 1) as u32
        };
        self.push_front(slot);
        self.index.insert(page, slot);
        victim
    }
}
