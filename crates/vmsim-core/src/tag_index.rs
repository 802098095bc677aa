//! A fixed-capacity hash index from a key (a 64-bit tag plus a 32-bit context) to the slot that
//! holds it, for the wide caches on the per-access path (fully associative TLB arrays,
//! page-walk caches). Slots are the cache's own entry numbers, so the index is keyed both ways:
//! a lookup hashes the key to a bucket and follows that bucket's chain of slots; a removal
//! names the slot and unlinks it through its back link, with no search at all. A cache that
//! evicts on every fill (a full fully associative TLB on a walk-heavy trace) pays one unlink
//! and one push per fill. One multiply hashes a key; there are at least twice as many buckets
//! as slots, so a chain is short. Everything is sized once: nothing ever allocates.

/// The `back` of a vacant slot.
const VACANT: u32 = u32::MAX;

/// Keys → slot numbers `0..slots`, each slot holding at most one key and each key at most one
/// slot.
///
/// Chains live in one array of links: cells `0..buckets` are the buckets' heads, cell
/// `buckets + s` is the link after slot `s`. Each slot remembers the cell that points at it
/// (`back`), so unlinking writes that cell whether it is a head or another slot's link: no
/// branch on where the slot sits in its chain, a branch a random workload mispredicts. The end
/// of a chain is the number `slots`, a spare slot whose `back` absorbs the writes meant for a
/// successor that does not exist.
#[derive(Debug, Clone)]
pub(crate) struct TagIndex {
    links: Vec<u32>,
    back: Vec<u32>,
    keys: Vec<(u64, u32)>,
    buckets: usize,
    /// `64 - log2(buckets)`: the hash is the top bits of the product.
    shift: u32,
}

impl TagIndex {
    /// An empty index over slots `0..slots`.
    pub(crate) fn new(slots: usize) -> Self {
        assert!(slots < VACANT as usize, "too many slots for a tag index");
        let buckets = (slots.max(1) * 2).next_power_of_two().max(8);
        let end = slots as u32;
        TagIndex {
            links: vec![end; buckets + slots + 1],
            back: vec![VACANT; slots + 1],
            keys: vec![(0, 0); slots],
            buckets,
            shift: 64 - buckets.trailing_zeros(),
        }
    }

    /// The end-of-chain mark (the spare slot).
    #[inline]
    fn end(&self) -> u32 {
        self.keys.len() as u32
    }

    /// Fibonacci hashing: the multiply mixes low tag bits (consecutive pages) into the top bits.
    #[inline]
    fn bucket(&self, tag: u64, ctx: u32) -> usize {
        let k = tag ^ (u64::from(ctx)).rotate_right(20);
        (k.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> self.shift) as usize
    }

    /// The slot holding the key.
    #[inline]
    pub(crate) fn get(&self, tag: u64, ctx: u32) -> Option<u32> {
        let end = self.end();
        let mut s = self.links[self.bucket(tag, ctx)];
        while s != end {
            if self.keys[s as usize] == (tag, ctx) {
                return Some(s);
            }
            s = self.links[self.buckets + s as usize];
        }
        None
    }

    /// Puts the key in `slot`. The caller guarantees that `slot` is vacant and that no other
    /// slot holds the key.
    #[inline]
    pub(crate) fn insert(&mut self, tag: u64, ctx: u32, slot: u32) {
        debug_assert!(self.back[slot as usize] == VACANT);
        debug_assert!(self.get(tag, ctx).is_none());
        let b = self.bucket(tag, ctx);
        let first = self.links[b];
        let cell = self.buckets + slot as usize;
        self.links[cell] = first;
        self.back[first as usize] = cell as u32;
        self.links[b] = slot;
        self.back[slot as usize] = b as u32;
        self.keys[slot as usize] = (tag, ctx);
    }

    /// Empties `slot` (nothing happens if it is vacant).
    #[inline]
    pub(crate) fn remove(&mut self, slot: u32) {
        let from = self.back[slot as usize];
        if from == VACANT {
            return;
        }
        let next = self.links[self.buckets + slot as usize];
        self.links[from as usize] = next;
        self.back[next as usize] = from;
        self.back[slot as usize] = VACANT;
    }

    /// Empties every slot.
    pub(crate) fn clear(&mut self) {
        let end = self.end();
        self.links.fill(end);
        self.back.fill(VACANT);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    #[test]
    fn chains_survive_removals_anywhere_in_them() {
        // One bucket's worth of keys (a tiny index: many share a bucket), removed from the
        // middle, the head and the tail of their chains.
        let mut ix = TagIndex::new(4);
        for t in 0..4u64 {
            ix.insert(t << 40, 0, t as u32);
        }
        for gone in [1u32, 3, 0] {
            ix.remove(gone);
            assert_eq!(ix.get(u64::from(gone) << 40, 0), None);
        }
        assert_eq!(ix.get(2 << 40, 0), Some(2));
        ix.remove(0); // vacant: nothing happens
        ix.insert(5, 7, 1);
        assert_eq!(ix.get(5, 7), Some(1));
        assert_eq!(ix.get(5, 8), None);
        ix.clear();
        assert_eq!(ix.get(5, 7), None);
        assert_eq!(ix.get(2 << 40, 0), None);
        ix.insert(5, 7, 1);
        assert_eq!(ix.get(5, 7), Some(1));
    }

    proptest! {
        /// The index answers exactly like a pair of hash maps (key → slot, slot → key) under
        /// any mix of fills of vacant slots, evictions and clears.
        #[test]
        fn matches_a_hash_map(
            slots in 1usize..40,
            ops in prop::collection::vec((0u64..64, 0u32..3, 0u8..8, 0u32..40), 1..600),
        ) {
            let mut ix = TagIndex::new(slots);
            let mut by_key: HashMap<(u64, u32), u32> = HashMap::new();
            let mut by_slot: HashMap<u32, (u64, u32)> = HashMap::new();
            for (t, c, op, s) in ops {
                // Spread tags over high and low bits so both collide and differ.
                let tag = t.rotate_right((t % 7) as u32 * 9);
                let slot = s % slots as u32;
                match op {
                    0 => {
                        ix.clear();
                        by_key.clear();
                        by_slot.clear();
                    }
                    1..=3 => {
                        if let Some(k) = by_slot.remove(&slot) {
                            by_key.remove(&k);
                        }
                        ix.remove(slot);
                    }
                    _ => {
                        if !by_slot.contains_key(&slot) && !by_key.contains_key(&(tag, c)) {
                            ix.insert(tag, c, slot);
                            by_key.insert((tag, c), slot);
                            by_slot.insert(slot, (tag, c));
                        }
                    }
                }
                for (&(t, c), &s) in &by_key {
                    prop_assert_eq!(ix.get(t, c), Some(s));
                }
                prop_assert_eq!(ix.get(tag, c), by_key.get(&(tag, c)).copied());
            }
        }
    }
}
