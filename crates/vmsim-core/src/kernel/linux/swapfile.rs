//! The swap device, as mm/swapfile.c's `swap_map` with `get_swap_page`, `swap_duplicate` and
//! `swap_free`: numbered slots holding evicted anonymous pages, with per-slot reference counts
//! (a slot is shared by the processes that shared the page when it went out, as after fork),
//! and the index of the swap cache (slot → frame) that keeps a swapped-in page's slot until the
//! page is dirtied.

use rustc_hash::FxHashMap;
use std::collections::BTreeSet;

/// A slot number.
pub type Slot = u32;

#[derive(Debug, Clone, Copy, Default)]
struct SlotInfo {
    refs: u32,
    /// The content version written there (what a later swap-in must read back).
    content: u64,
}

/// A swap device of a fixed number of slots.
#[derive(Debug, Clone, Default)]
pub struct SwapDevice {
    slots: Vec<SlotInfo>,
    free: BTreeSet<Slot>,
    /// Slot → frame holding its page in memory (the swap cache).
    cache: FxHashMap<Slot, u64>,
}

impl SwapDevice {
    /// A device of `slots` slots.
    pub fn new(slots: u32) -> Self {
        SwapDevice {
            slots: vec![SlotInfo::default(); slots as usize],
            free: (0..slots).collect(),
            cache: FxHashMap::default(),
        }
    }

    /// Slots in all.
    pub fn capacity(&self) -> u32 {
        self.slots.len() as u32
    }

    /// Slots in use.
    pub fn used(&self) -> u32 {
        self.capacity() - self.free.len() as u32
    }

    /// Takes the lowest free slot with `refs` references, holding `content`.
    pub fn alloc(&mut self, refs: u32, content: u64) -> Option<Slot> {
        let s = self.free.pop_first()?;
        self.slots[s as usize] = SlotInfo { refs, content };
        Some(s)
    }

    /// Content stored in `s`.
    pub fn content(&self, s: Slot) -> u64 {
        self.slots[s as usize].content
    }

    /// Rewrites the content of `s` (a dirty page written back to its existing slot).
    pub fn write(&mut self, s: Slot, content: u64) {
        self.slots[s as usize].content = content;
    }

    /// One more reference (fork copies a swap entry).
    pub fn dup(&mut self, s: Slot) {
        self.slots[s as usize].refs += 1;
    }

    /// One reference fewer; frees the slot (and its cache entry) at zero. Returns whether it
    /// was freed.
    pub fn put(&mut self, s: Slot) -> bool {
        let i = &mut self.slots[s as usize];
        i.refs = i.refs.saturating_sub(1);
        if i.refs == 0 {
            self.free.insert(s);
            self.cache.remove(&s);
            true
        } else {
            false
        }
    }

    /// References to `s`.
    pub fn refs(&self, s: Slot) -> u32 {
        self.slots[s as usize].refs
    }

    /// The frame caching `s`, if any.
    pub fn cached(&self, s: Slot) -> Option<u64> {
        self.cache.get(&s).copied()
    }

    /// Records that frame `pfn` holds slot `s`'s page.
    pub fn cache_insert(&mut self, s: Slot, pfn: u64) {
        self.cache.insert(s, pfn);
    }

    /// Forgets the cached frame of `s`.
    pub fn cache_remove(&mut self, s: Slot) {
        self.cache.remove(&s);
    }
}
