//! A page → slot index that stores only 4-byte slot numbers: the page itself is read from the
//! caller's slot array when the table compares or rehashes. Half the size of a map holding
//! `(u64, u32)` pairs, so a policy stays well under 64 bytes per resident page and more of
//! the index stays in cache.

use hashbrown::HashTable;
use std::hash::Hasher;

#[inline]
fn hash(page: u64) -> u64 {
    let mut h = rustc_hash::FxHasher::default();
    h.write_u64(page);
    h.finish()
}

/// The index; `page_of(slot)` must give the page stored in `slot` for every slot it holds.
#[derive(Debug, Clone, Default)]
pub(crate) struct SlotIndex {
    table: HashTable<u32>,
}

impl SlotIndex {
    /// An empty index with room for `n` slots.
    pub fn with_capacity(n: usize) -> Self {
        SlotIndex {
            table: HashTable::with_capacity(super::reserve(n)),
        }
    }

    /// Slots indexed.
    #[inline]
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// The slot holding `page`.
    #[inline]
    pub fn find(&self, page: u64, page_of: impl Fn(u32) -> u64) -> Option<u32> {
        self.table
            .find(hash(page), |&s| page_of(s) == page)
            .copied()
    }

    /// Indexes `slot`, which holds `page` (not indexed yet).
    #[inline]
    pub fn insert(&mut self, page: u64, slot: u32, page_of: impl Fn(u32) -> u64) {
        self.table
            .insert_unique(hash(page), slot, |&s| hash(page_of(s)));
    }

    /// Drops `page` from the index; returns its slot.
    #[inline]
    pub fn remove(&mut self, page: u64, page_of: impl Fn(u32) -> u64) -> Option<u32> {
        self.table
            .find_entry(hash(page), |&s| page_of(s) == page)
            .ok()
            .map(|e| e.remove().0)
    }
}
