//! An indexed binary min-heap over the slots of a policy's own arena: the smallest key in O(1),
//! and push, pop, re-key and removal of any slot in O(log n), with no allocation once the arena
//! has stopped growing. LRU-K and the counter policies (NFU, aging) order their pages with it.

/// "Not in the heap".
const NIL: u32 = u32::MAX;

/// Slots `0..` with a key each; the heap holds some of them.
#[derive(Debug, Clone)]
pub(crate) struct IndexedHeap<K> {
    /// Slots in heap order.
    heap: Vec<u32>,
    /// Per slot: its position in `heap`, or [`NIL`].
    pos: Vec<u32>,
    /// Per slot: its key (meaningful while it is in the heap).
    key: Vec<K>,
}

impl<K: Ord + Copy + Default> IndexedHeap<K> {
    /// An empty heap with room for slots `0..cap` reserved.
    pub fn with_capacity(cap: usize) -> Self {
        IndexedHeap {
            heap: Vec::with_capacity(super::reserve(cap)),
            pos: Vec::with_capacity(super::reserve(cap)),
            key: Vec::with_capacity(super::reserve(cap)),
        }
    }

    /// Slots in the heap.
    #[inline]
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// The slots in the heap, in heap (not sorted) order.
    pub fn slots(&self) -> &[u32] {
        &self.heap
    }

    /// The key of `slot`.
    #[inline]
    pub fn key(&self, slot: u32) -> K {
        self.key[slot as usize]
    }

    /// Whether `slot` is in the heap.
    #[inline]
    pub fn contains(&self, slot: u32) -> bool {
        self.pos.get(slot as usize).is_some_and(|&p| p != NIL)
    }

    /// The slot with the smallest key.
    #[inline]
    pub fn peek(&self) -> Option<u32> {
        self.heap.first().copied()
    }

    /// Adds `slot` (not in the heap) with `key`.
    pub fn push(&mut self, slot: u32, key: K) {
        let s = slot as usize;
        if s >= self.pos.len() {
            self.pos.resize(s + 1, NIL);
            self.key.resize(s + 1, K::default());
        }
        debug_assert_eq!(self.pos[s], NIL, "slot pushed twice");
        self.key[s] = key;
        self.pos[s] = self.heap.len() as u32;
        self.heap.push(slot);
        self.up(self.heap.len() - 1);
    }

    /// Changes the key of `slot` (in the heap).
    pub fn set(&mut self, slot: u32, key: K) {
        let old = self.key[slot as usize];
        self.key[slot as usize] = key;
        let at = self.pos[slot as usize] as usize;
        if key < old {
            self.up(at);
        } else {
            self.down(at);
        }
    }

    /// Removes and returns the slot with the smallest key.
    pub fn pop(&mut self) -> Option<u32> {
        let top = self.peek()?;
        self.remove(top);
        Some(top)
    }

    /// Removes `slot`; returns whether it was in the heap.
    pub fn remove(&mut self, slot: u32) -> bool {
        if !self.contains(slot) {
            return false;
        }
        let at = self.pos[slot as usize] as usize;
        let last = self.heap.len() - 1;
        self.swap(at, last);
        self.heap.pop();
        self.pos[slot as usize] = NIL;
        if at < self.heap.len() {
            // The slot moved into `at` may belong above or below it.
            self.up(at);
            self.down(at);
        }
        true
    }

    /// Changes every key in the heap with `f` and restores heap order in O(n).
    pub fn rekey_all(&mut self, mut f: impl FnMut(u32, &mut K)) {
        for &s in &self.heap {
            f(s, &mut self.key[s as usize]);
        }
        for at in (0..self.heap.len() / 2).rev() {
            self.down(at);
        }
    }

    fn less(&self, a: usize, b: usize) -> bool {
        self.key[self.heap[a] as usize] < self.key[self.heap[b] as usize]
    }

    fn swap(&mut self, a: usize, b: usize) {
        self.heap.swap(a, b);
        self.pos[self.heap[a] as usize] = a as u32;
        self.pos[self.heap[b] as usize] = b as u32;
    }

    fn up(&mut self, mut at: usize) {
        while at > 0 {
            let parent = (at - 1) / 2;
            if !self.less(at, parent) {
                break;
            }
            self.swap(at, parent);
            at = parent;
        }
    }

    fn down(&mut self, mut at: usize) {
        let n = self.heap.len();
        loop {
            let (l, r) = (2 * at + 1, 2 * at + 2);
            let mut min = at;
            if l < n && self.less(l, min) {
                min = l;
            }
            if r < n && self.less(r, min) {
                min = r;
            }
            if min == at {
                break;
            }
            self.swap(at, min);
            at = min;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::IndexedHeap;

    #[test]
    fn pops_in_key_order_after_updates_and_removals() {
        let mut h = IndexedHeap::with_capacity(8);
        for (slot, key) in [(0u32, 50u64), (1, 10), (2, 40), (3, 30), (4, 20), (5, 60)] {
            h.push(slot, key);
        }
        h.set(5, 5); // now smallest
        h.set(1, 45); // moves down
        assert!(h.remove(3));
        assert!(!h.remove(3));
        h.rekey_all(|s, k| {
            if s == 2 {
                *k = 1;
            }
        });
        let mut order = Vec::new();
        while let Some(s) = h.pop() {
            order.push(s);
        }
        assert_eq!(order, [2, 5, 4, 1, 0]);
        assert_eq!(h.len(), 0);
    }
}
