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

/// A swap device of a fixed number of slots, sized by use: slots are handed out lowest first
/// (as `scan_swap_map` does), so every slot below the high-water mark has been used and every
/// slot above it is free. Only the used prefix is stored, so a device of 2^31 slots costs
/// nothing until pages go out.
#[derive(Debug, Clone, Default)]
pub struct SwapDevice {
    capacity: u32,
    /// Slots below the high-water mark (`slots.len()`): every slot ever handed out.
    slots: Vec<SlotInfo>,
    /// The free slots below the high-water mark.
    free: BTreeSet<Slot>,
    /// Slot → frame holding its page in memory (the swap cache).
    cache: FxHashMap<Slot, u64>,
}

impl SwapDevice {
    /// A device of `slots` slots; it allocates nothing until a slot is taken.
    pub fn new(slots: u32) -> Self {
        SwapDevice {
            capacity: slots,
            ..SwapDevice::default()
        }
    }

    /// Slots in all.
    pub fn capacity(&self) -> u32 {
        self.capacity
    }

    /// Slots in use.
    pub fn used(&self) -> u32 {
        (self.slots.len() - self.free.len()) as u32
    }

    /// Takes the lowest free slot with `refs` references, holding `content`.
    pub fn alloc(&mut self, refs: u32, content: u64) -> Option<Slot> {
        let info = SlotInfo { refs, content };
        if let Some(s) = self.free.pop_first() {
            self.slots[s as usize] = info;
            return Some(s);
        }
        let s = Slot::try_from(self.slots.len())
            .ok()
            .filter(|&s| s < self.capacity)?;
        self.slots.push(info);
        Some(s)
    }

    /// Content stored in `s` (0 for a slot never written).
    pub fn content(&self, s: Slot) -> u64 {
        self.slots.get(s as usize).map_or(0, |i| i.content)
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
        let Some(i) = self.slots.get_mut(s as usize) else {
            // Above the high-water mark: never handed out, already free.
            self.cache.remove(&s);
            return true;
        };
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
        self.slots.get(s as usize).map_or(0, |i| i.refs)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_huge_device_allocates_nothing_until_used() {
        let mut d = SwapDevice::new(u32::MAX);
        assert_eq!(d.slots.capacity(), 0);
        assert!(d.free.is_empty());
        assert_eq!((d.capacity(), d.used()), (u32::MAX, 0));
        assert_eq!(d.alloc(1, 7), Some(0));
        assert!(d.slots.capacity() < 16);
        assert_eq!(d.refs(1_000_000), 0);
    }

    #[test]
    fn slots_are_handed_out_lowest_first_and_reused() {
        let mut d = SwapDevice::new(4);
        let got: Vec<_> = (0..4).map(|i| d.alloc(1, i).unwrap()).collect();
        assert_eq!(got, [0, 1, 2, 3]);
        assert_eq!(d.alloc(1, 9), None);
        assert!(d.put(2));
        assert!(d.put(0));
        assert_eq!(d.used(), 2);
        assert_eq!(d.alloc(1, 10), Some(0));
        assert_eq!(d.alloc(1, 11), Some(2));
        assert_eq!((d.content(2), d.refs(2)), (11, 1));
        assert_eq!(d.alloc(1, 12), None);
        assert_eq!(d.used(), 4);
    }
}
