//! A fixed-capacity open-addressed hash index from a key (a 64-bit tag plus a 32-bit context)
//! to a slot number, for the wide caches on the per-access path (fully associative TLB arrays,
//! page-walk caches). One multiply hashes a key, collisions probe linearly, and removal shifts
//! the following entries back (Knuth, TAOCP vol. 3, §6.4, Algorithm R), so no tombstones ever
//! lengthen a probe. The table is sized once for the most keys it will hold, at most half full,
//! so inserting never allocates.

/// Marks an empty cell.
const EMPTY: u32 = u32::MAX;

#[derive(Debug, Clone, Copy)]
struct Cell {
    tag: u64,
    ctx: u32,
    slot: u32,
}

const FREE: Cell = Cell {
    tag: 0,
    ctx: 0,
    slot: EMPTY,
};

/// Keys → slot numbers (each below `u32::MAX`), holding at most the capacity it was built for.
#[derive(Debug, Clone)]
pub(crate) struct TagIndex {
    cells: Vec<Cell>,
    /// `cells.len() - 1` (the length is a power of two).
    mask: usize,
    /// `64 - log2(cells.len())`: the hash is the top bits of the product.
    shift: u32,
}

impl TagIndex {
    /// An empty index for at most `keys` keys.
    pub(crate) fn new(keys: usize) -> Self {
        let n = (keys.max(1) * 2).next_power_of_two().max(8);
        TagIndex {
            cells: vec![FREE; n],
            mask: n - 1,
            shift: 64 - n.trailing_zeros(),
        }
    }

    /// Fibonacci hashing: the multiply mixes low tag bits (consecutive pages) into the top bits.
    #[inline]
    fn home(&self, tag: u64, ctx: u32) -> usize {
        let k = tag ^ (u64::from(ctx)).rotate_right(20);
        (k.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> self.shift) as usize
    }

    /// The cell holding the key, or the empty cell where it would go.
    #[inline]
    fn position(&self, tag: u64, ctx: u32) -> usize {
        let mut i = self.home(tag, ctx);
        loop {
            let c = &self.cells[i];
            if c.slot == EMPTY || (c.tag == tag && c.ctx == ctx) {
                return i;
            }
            i = (i + 1) & self.mask;
        }
    }

    /// The slot of the key.
    #[inline]
    pub(crate) fn get(&self, tag: u64, ctx: u32) -> Option<u32> {
        let c = &self.cells[self.position(tag, ctx)];
        (c.slot != EMPTY).then_some(c.slot)
    }

    /// Maps the key to `slot`, replacing its previous slot. The caller keeps the number of keys
    /// within the capacity given to [`TagIndex::new`].
    #[inline]
    pub(crate) fn insert(&mut self, tag: u64, ctx: u32, slot: u32) {
        debug_assert!(slot != EMPTY);
        let i = self.position(tag, ctx);
        self.cells[i] = Cell { tag, ctx, slot };
    }

    /// Removes the key if present.
    #[inline]
    pub(crate) fn remove(&mut self, tag: u64, ctx: u32) {
        let mut hole = self.position(tag, ctx);
        if self.cells[hole].slot == EMPTY {
            return;
        }
        // Close the hole: move back every later key of the run whose home does not lie
        // (cyclically) after the hole, so each key stays reachable from its home.
        let mut j = hole;
        loop {
            j = (j + 1) & self.mask;
            let c = self.cells[j];
            if c.slot == EMPTY {
                break;
            }
            let home = self.home(c.tag, c.ctx);
            // Distance from home to j vs from hole to j: move if the hole is between them.
            if (j.wrapping_sub(home) & self.mask) >= (j.wrapping_sub(hole) & self.mask) {
                self.cells[hole] = c;
                hole = j;
            }
        }
        self.cells[hole] = FREE;
    }

    /// Removes every key.
    pub(crate) fn clear(&mut self) {
        self.cells.fill(FREE);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    #[test]
    fn colliding_keys_survive_removals() {
        // A tiny table: many keys share homes, so removal must shift runs back correctly.
        let mut ix = TagIndex::new(4);
        for t in 0..4u64 {
            ix.insert(t << 40, 0, t as u32);
        }
        ix.remove(1 << 40, 0);
        assert_eq!(ix.get(1 << 40, 0), None);
        for t in [0u64, 2, 3] {
            assert_eq!(ix.get(t << 40, 0), Some(t as u32));
        }
        ix.insert(5, 7, 9);
        assert_eq!(ix.get(5, 7), Some(9));
        assert_eq!(ix.get(5, 8), None);
        ix.clear();
        assert_eq!(ix.get(5, 7), None);
    }

    proptest! {
        /// The index answers exactly like a `HashMap` under any mix of inserts, overwrites and
        /// removals that stays within its capacity.
        #[test]
        fn matches_a_hash_map(
            cap in 1usize..40,
            ops in prop::collection::vec((0u64..64, 0u32..3, any::<bool>(), 0u32..1000), 1..600),
        ) {
            let mut ix = TagIndex::new(cap);
            let mut model: HashMap<(u64, u32), u32> = HashMap::new();
            for (t, c, ins, slot) in ops {
                // Spread tags over high and low bits so both collide and differ.
                let tag = t.rotate_right((t % 7) as u32 * 9);
                if ins && (model.len() < cap || model.contains_key(&(tag, c))) {
                    ix.insert(tag, c, slot);
                    model.insert((tag, c), slot);
                } else {
                    ix.remove(tag, c);
                    model.remove(&(tag, c));
                }
                for (&(t, c), &s) in &model {
                    prop_assert_eq!(ix.get(t, c), Some(s));
                }
                prop_assert_eq!(ix.get(tag, c), model.get(&(tag, c)).copied());
            }
        }
    }
}
