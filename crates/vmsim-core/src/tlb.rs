//! Translation lookaside buffers (Intel SDM Vol. 3A §4.10.2; AMD APM Vol. 2 §5.5): one TLB level
//! is one or more set-associative arrays, each holding some page sizes, with entries tagged by
//! PCID (ASID) and a global bit, and LRU, tree pseudo-LRU or seeded random replacement.
//!
//! Fully associative arrays are `sets = 1`. Arrays with many ways keep a hash index from tag to
//! slot ([`TagIndex`]) so a lookup costs the same whatever the associativity; small sets are
//! scanned.

use crate::addr::{PageSize, Pfn, VirtAddr, Vpn};
use crate::hit_filter::{Hint, HitFilter};
use crate::tag_index::TagIndex;
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// A 12-bit process-context identifier (CR3 bits 11:0 with CR4.PCIDE = 1), or an AMD ASID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord, Serialize)]
pub struct Pcid(u16);

impl Pcid {
    /// PCID 0: the only one used when PCIDs are disabled.
    pub const ZERO: Pcid = Pcid(0);

    /// `Some` if `v` fits in 12 bits.
    pub const fn try_new(v: u16) -> Option<Pcid> {
        if v < 4096 {
            Some(Pcid(v))
        } else {
            None
        }
    }

    /// The value.
    pub const fn get(self) -> u16 {
        self.0
    }
}

/// The rights a translation grants: R/W and U/S ANDed over every level of the walk, XD ORed,
/// plus the leaf's dirty bit and protection key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Rights {
    /// Writes allowed.
    pub writable: bool,
    /// User-mode accesses allowed.
    pub user: bool,
    /// Instruction fetches forbidden.
    pub no_execute: bool,
    /// The leaf's D bit was set when the translation was cached.
    pub dirty: bool,
    /// The leaf's protection key.
    pub pkey: u8,
}

/// A cached translation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TlbEntry {
    /// Virtual page number in units of `size`.
    pub vpn: Vpn,
    /// Page size.
    pub size: PageSize,
    /// PCID it was cached under (ignored on lookup when `global`).
    pub pcid: Pcid,
    /// Global translation (G bit with CR4.PGE): matches any PCID and survives CR3 writes.
    pub global: bool,
    /// First 4 KiB frame of the page (teaching machines: frame in their page size).
    pub pfn: Pfn,
    /// Rights.
    pub rights: Rights,
}

/// How a set chooses a victim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Replacement {
    /// Exact least recently used.
    Lru,
    /// Tree pseudo-LRU, as most hardware TLBs implement it.
    Plru,
    /// Uniformly random among the set's ways (seeded).
    Random,
}

/// One set-associative array of a TLB level. Deserialising checks the geometry, so a bad value
/// in a configuration file is reported at its line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, try_from = "RawArrayConfig")]
pub struct TlbArrayConfig {
    /// Number of sets (a power of two; 1 = fully associative).
    pub sets: u32,
    /// Ways per set.
    pub ways: u32,
    /// Page sizes this array caches.
    pub page_sizes: Vec<PageSize>,
    /// Replacement policy.
    pub replacement: Replacement,
}

/// [`TlbArrayConfig`] as written, before its checks.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawArrayConfig {
    sets: u32,
    ways: u32,
    page_sizes: Vec<PageSize>,
    replacement: Replacement,
}

impl TryFrom<RawArrayConfig> for TlbArrayConfig {
    type Error = ArrayError;
    fn try_from(r: RawArrayConfig) -> Result<Self, ArrayError> {
        let c = TlbArrayConfig {
            sets: r.sets,
            ways: r.ways,
            page_sizes: r.page_sizes,
            replacement: r.replacement,
        };
        // The position in the list is the line's business (serde names it): say what is wrong.
        c.check()?;
        Ok(c)
    }
}

impl TlbArrayConfig {
    /// Whether this is an array vmsim can simulate.
    pub fn check(&self) -> Result<(), ArrayError> {
        if self.ways == 0 {
            return Err(ArrayError::ZeroWays);
        }
        if !self.sets.is_power_of_two() {
            return Err(ArrayError::SetsNotPowerOfTwo { sets: self.sets });
        }
        let entries = self.sets as u64 * self.ways as u64;
        if entries > 1 << 20 {
            return Err(ArrayError::TooLarge { entries });
        }
        if self.page_sizes.is_empty() {
            return Err(ArrayError::NoPageSizes);
        }
        Ok(())
    }
}

/// One TLB level: its arrays.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlbConfig {
    /// The arrays, probed in order.
    pub arrays: Vec<TlbArrayConfig>,
}

/// A TLB description that does not describe hardware.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TlbConfigError {
    /// One array is not one vmsim can simulate.
    #[error("array {array}: {problem}")]
    Array {
        /// Its index in the level's list.
        array: usize,
        /// What is wrong with it.
        #[source]
        problem: ArrayError,
    },
    /// A page size cached by two arrays of one level.
    #[error("page size {0} is listed in two arrays of one TLB level")]
    DuplicateSize(PageSize),
    /// No arrays.
    #[error("a TLB level needs at least one array")]
    NoArrays,
}

/// What is wrong with one TLB array's geometry.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ArrayError {
    /// Sets must be a power of two (the index is low VPN bits).
    #[error("sets = {sets} is not a power of two")]
    SetsNotPowerOfTwo {
        /// The value.
        sets: u32,
    },
    /// Zero ways.
    #[error("ways must be at least 1")]
    ZeroWays,
    /// Too many entries to simulate.
    #[error("{entries} entries is more than the 2^20 supported")]
    TooLarge {
        /// sets × ways.
        entries: u64,
    },
    /// No page sizes.
    #[error("page_sizes is empty")]
    NoPageSizes,
}

/// Where a hit was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TlbHit {
    /// The entry.
    pub entry: TlbEntry,
    /// Array index.
    pub array: u8,
    /// Set index.
    pub set: u32,
    /// Way within the set.
    pub way: u16,
}

/// The outcome of a lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlbLookup {
    /// Found.
    Hit(TlbHit),
    /// Not found.
    Miss,
}

/// One invalidation and what it names: the four INVPCID types (SDM Vol. 2A, INVPCID), each
/// carrying only the operands it reads, so no caller passes a dummy address or PCID. CR3 writes
/// and the kernel's shootdowns are expressed with them too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invpcid {
    /// Type 0 (individual address): `va`'s page for `pcid`; global entries need not be, and here
    /// are not, removed.
    Page {
        /// The context.
        pcid: Pcid,
        /// Any address in the page.
        va: VirtAddr,
    },
    /// Type 1 (single context): every non-global entry of one PCID.
    Context(Pcid),
    /// Type 2 (all contexts, including globals): everything.
    All,
    /// Type 3 (all contexts, except globals): every non-global entry of every PCID.
    AllNonGlobal,
}

/// PCID tag stored for global entries in the hash index, so one probe finds them.
const GLOBAL_TAG: u16 = u16::MAX;
/// Sets with more ways than this keep a hash index.
const SCAN_WAYS: u32 = 16;

/// What an invalid slot holds (its tag, [`NO_TAG`], is what marks it invalid).
const EMPTY: TlbEntry = TlbEntry {
    vpn: Vpn(0),
    size: PageSize::SIZE_4K,
    pcid: Pcid::ZERO,
    global: false,
    pfn: Pfn(0),
    rights: Rights {
        writable: false,
        user: false,
        no_execute: false,
        dirty: false,
        pkey: 0,
    },
};

/// Where a lookup found its entry: an array of the level (bits 24..32) and a slot in it (bits
/// 0..24; arrays have at most 2^20 entries). One word, so an `Option` of it comes back in
/// registers and the hit path copies out only the fields it uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SlotRef(u32);

impl SlotRef {
    #[inline]
    fn new(array: usize, slot: usize) -> Self {
        debug_assert!(array < 256 && slot < 1 << 24);
        SlotRef((array as u32) << 24 | slot as u32)
    }

    #[inline]
    fn array(self) -> usize {
        (self.0 >> 24) as usize
    }

    #[inline]
    fn slot(self) -> usize {
        (self.0 & 0xff_ffff) as usize
    }
}

/// No PCID is this wide (they have 12 bits): marks an empty [`LastMiss`].
const NO_PCID: u16 = u16::MAX;

/// The last lookup of a level that missed ([`Tlb::fill`]).
#[derive(Debug, Clone, Copy)]
struct LastMiss {
    /// The PCID looked up; [`NO_PCID`] when there is none.
    pcid: u16,
    va: VirtAddr,
}

const NO_LAST_MISS: LastMiss = LastMiss {
    pcid: NO_PCID,
    va: VirtAddr::new_unchecked(0),
};

#[derive(Debug, Clone)]
struct Array {
    sets: u32,
    ways: u32,
    /// The page sizes held, smallest first: the order lookups probe them in.
    sizes: Vec<PageSize>,
    repl: Replacement,
    slots: Vec<TlbEntry>,
    /// Each slot's (VPN, size) tag, [`NO_TAG`] when the slot is invalid: what a scan reads,
    /// densely, and the only record of validity.
    tags: Vec<u64>,
    /// LRU: a doubly linked recency list per set, through slot indices: the newer and older
    /// neighbour of each slot, and the most and least recent slot of each set. O(1) touch and
    /// victim choice at any associativity; each pair sits together so a touch reads few lines.
    links: Vec<Link>,
    ends: Vec<Ends>,
    /// Tree-PLRU: one bit per internal node, per set (`tree_ways - 1` nodes).
    tree: Vec<u64>,
    tree_ways: u32,
    /// (VPN, [`Array::index_ctx`]) → slot, for wide sets.
    index: Option<TagIndex>,
    /// Valid global entries of an indexed array (scanned arrays do not count them): when zero,
    /// lookups skip the probe for a global tag.
    globals: u32,
    /// Valid entries per set: a full set needs no search for a free way.
    used: Vec<u32>,
    /// Valid entries per page size, by shift.
    per_size: [u32; 41],
    /// Bit `s` set when `per_size[s] > 0`: a lookup probes only sizes some entry has, and
    /// reads each size straight from the bit.
    present: u64,
}

impl Array {
    fn new(c: &TlbArrayConfig) -> Self {
        let n = (c.sets * c.ways) as usize;
        let tree_ways = c.ways.next_power_of_two();
        let lru = c.replacement == Replacement::Lru;
        Array {
            sets: c.sets,
            ways: c.ways,
            sizes: {
                let mut s = c.page_sizes.clone();
                s.sort();
                s
            },
            repl: c.replacement,
            slots: vec![EMPTY; n],
            tags: vec![NO_TAG; n],
            links: if lru {
                (0..n as u32)
                    .map(|i| Link {
                        newer: if i % c.ways == 0 { NIL } else { i - 1 },
                        older: if i % c.ways == c.ways - 1 { NIL } else { i + 1 },
                    })
                    .collect()
            } else {
                Vec::new()
            },
            ends: if lru {
                (0..c.sets)
                    .map(|s| Ends {
                        mru: s * c.ways,
                        lru: s * c.ways + c.ways - 1,
                    })
                    .collect()
            } else {
                Vec::new()
            },
            tree: if c.replacement == Replacement::Plru {
                vec![0; c.sets as usize * tree_ways.max(2) as usize]
            } else {
                Vec::new()
            },
            tree_ways,
            index: (c.ways > SCAN_WAYS).then(|| TagIndex::new(n)),
            globals: 0,
            used: vec![0; c.sets as usize],
            per_size: [0; 41],
            present: 0,
        }
    }

    #[inline]
    fn set_of(&self, vpn: Vpn) -> u32 {
        (vpn.0 & (self.sets as u64 - 1)) as u32
    }

    #[inline]
    fn find(&self, vpn: Vpn, size: PageSize, pcid: Pcid) -> Option<usize> {
        match &self.index {
            Some(ix) => {
                let s = size.shift() as u8;
                match ix.get(vpn.0, key_ctx(s, pcid.0)) {
                    Some(i) => Some(i as usize),
                    None if self.globals > 0 => {
                        ix.get(vpn.0, key_ctx(s, GLOBAL_TAG)).map(|i| i as usize)
                    }
                    None => None,
                }
            }
            None => {
                let base = (self.set_of(vpn) * self.ways) as usize;
                let want = tag(vpn, size);
                self.tags[base..base + self.ways as usize]
                    .iter()
                    .enumerate()
                    .filter(|&(_, &t)| t == want)
                    .map(|(w, _)| base + w)
                    .find(|&i| {
                        let e = &self.slots[i];
                        e.global || e.pcid == pcid
                    })
            }
        }
    }

    /// Whether `slot` holds an entry.
    #[inline]
    fn valid(&self, slot: usize) -> bool {
        self.tags[slot] != NO_TAG
    }

    /// Finds an entry with exactly this tag (same PCID, or both global).
    fn find_exact(&self, e: &TlbEntry) -> Option<usize> {
        if let Some(ix) = &self.index {
            return ix.get(e.vpn.0, Self::index_ctx(e)).map(|i| i as usize);
        }
        let base = (self.set_of(e.vpn) * self.ways) as usize;
        let want = tag(e.vpn, e.size);
        (base..base + self.ways as usize).find(|&i| {
            let s = &self.slots[i];
            self.tags[i] == want && s.global == e.global && (e.global || s.pcid == e.pcid)
        })
    }

    /// Makes `slot` (in `set`) the most recent.
    #[inline(always)]
    fn touch(&mut self, slot: usize, set: usize) {
        match self.repl {
            Replacement::Lru => {
                let s = slot as u32;
                let head = self.ends[set].mru;
                if head == s {
                    return;
                }
                // Unlink (s is not the most recent, so it has a newer neighbour).
                let Link { newer: n, older: o } = self.links[slot];
                self.links[n as usize].older = o;
                if o == NIL {
                    self.ends[set].lru = n;
                } else {
                    self.links[o as usize].newer = n;
                }
                // Push in front.
                self.links[slot] = Link {
                    newer: NIL,
                    older: head,
                };
                self.links[head as usize].newer = s;
                self.ends[set].mru = s;
            }
            Replacement::Plru => self.touch_plru(slot, set),
            Replacement::Random => {}
        }
    }

    /// Tree-PLRU touch: every node on the path to the way points away from it.
    fn touch_plru(&mut self, slot: usize, set: usize) {
        let way = (slot - set * self.ways as usize) as u32;
        let base = set * self.tree_ways.max(2) as usize;
        let mut node = 1usize;
        let mut span = self.tree_ways;
        let mut lo = 0u32;
        while span > 1 {
            span /= 2;
            let right = way >= lo + span;
            // bit = 1 means "the victim is on the right".
            self.tree[base + node] = u64::from(!right);
            if right {
                lo += span;
                node = 2 * node + 1;
            } else {
                node *= 2;
            }
        }
    }

    /// The slot a fill of `set` uses: a free way if there is one, else the policy's victim.
    #[inline(always)]
    fn victim(&self, set: u32, rng: &mut Xoshiro256PlusPlus) -> usize {
        // The steady state of an LRU set, inline; everything else out of line.
        if self.repl == Replacement::Lru && self.used[set as usize] == self.ways {
            return self.ends[set as usize].lru as usize;
        }
        self.victim_search(set, rng)
    }

    #[inline(never)]
    fn victim_search(&self, set: u32, rng: &mut Xoshiro256PlusPlus) -> usize {
        let base = (set * self.ways) as usize;
        let ways = self.ways as usize;
        if self.used[set as usize] < self.ways {
            if let Some(w) = self.tags[base..base + ways]
                .iter()
                .position(|&t| t == NO_TAG)
            {
                return base + w;
            }
        }
        match self.repl {
            Replacement::Lru => self.ends[set as usize].lru as usize,
            Replacement::Random => base + rng.gen_range(0..ways),
            Replacement::Plru => {
                let tbase = set as usize * self.tree_ways.max(2) as usize;
                let mut node = 1usize;
                let mut span = self.tree_ways;
                let mut lo = 0u32;
                while span > 1 {
                    span /= 2;
                    let mut right = self.tree[tbase + node] == 1;
                    // Padded trees (ways not a power of two): never descend into missing ways.
                    if right && lo + span >= self.ways {
                        right = false;
                    }
                    if right {
                        lo += span;
                        node = 2 * node + 1;
                    } else {
                        node *= 2;
                    }
                }
                base + lo.min(self.ways - 1) as usize
            }
        }
    }

    /// The hash-index context of an entry (its tag is the VPN).
    fn index_ctx(e: &TlbEntry) -> u32 {
        key_ctx(
            e.size.shift() as u8,
            if e.global { GLOBAL_TAG } else { e.pcid.0 },
        )
    }

    fn remove(&mut self, slot: usize) {
        if !self.valid(slot) {
            return;
        }
        let e = self.slots[slot];
        if let Some(ix) = &mut self.index {
            ix.remove(slot as u32);
            self.globals -= u32::from(e.global);
        }
        let set = self.set_of(e.vpn) as usize;
        self.used[set] -= 1;
        self.count_size(e.size, false);
        self.tags[slot] = NO_TAG;
    }

    /// One more (`add`) or one fewer valid entry of `size`, keeping `present` in step.
    #[inline]
    fn count_size(&mut self, size: PageSize, add: bool) {
        let i = size.shift();
        let n = &mut self.per_size[i as usize];
        if add {
            *n += 1;
            self.present |= 1 << i;
        } else {
            *n -= 1;
            if *n == 0 {
                self.present &= !(1 << i);
            }
        }
    }

    /// Puts `e` in `slot` of `set` (the set `e` maps to) and makes it the most recent. One pass
    /// over the bookkeeping, touching only the counters that change (a fill in a full set
    /// leaves the set's count alone): on a walk-heavy replay this is 2% fewer instructions than
    /// `remove` followed by an install.
    /// The old entry's size comes from its tag, which the set's scan has just read; the slot
    /// itself, a likely cache miss in a big array, is read only by indexed arrays (its key).
    #[inline(always)]
    fn replace(&mut self, slot: usize, set: usize, e: TlbEntry) {
        let old_tag = self.tags[slot];
        if old_tag != NO_TAG {
            if let Some(ix) = &mut self.index {
                ix.remove(slot as u32);
                self.globals -= u32::from(self.slots[slot].global);
            }
            let old_size = tag_size(old_tag);
            if old_size != e.size {
                self.count_size(old_size, false);
                self.count_size(e.size, true);
            }
        } else {
            self.used[set] += 1;
            self.count_size(e.size, true);
        }
        self.slots[slot] = e;
        self.tags[slot] = tag(e.vpn, e.size);
        if let Some(ix) = &mut self.index {
            ix.insert(e.vpn.0, Self::index_ctx(&e), slot as u32);
            self.globals += u32::from(e.global);
        }
        self.touch(slot, set);
    }

    fn remove_where(&mut self, mut f: impl FnMut(&TlbEntry) -> bool) -> usize {
        let mut n = 0;
        for i in 0..self.slots.len() {
            if self.valid(i) && f(&self.slots[i]) {
                self.remove(i);
                n += 1;
            }
        }
        n
    }
}

/// One TLB level.
#[derive(Debug, Clone)]
pub struct Tlb {
    arrays: Vec<Array>,
    /// Array that caches each page size (by shift), for fills.
    by_shift: [u8; 41],
    rng: Xoshiro256PlusPlus,
    /// The address and PCID of the last lookup that missed, until the next fill or
    /// invalidation (hits add nothing): a fill for that page needs no search for an entry to
    /// replace, because the lookup proved there is none.
    last_miss: LastMiss,
    /// Recent hits, until the next fill or invalidation: a lookup of a page hit since answers
    /// without a search. The last hit among them needs not even a replacement update (its
    /// entry is already its set's most recent, and a PLRU touch is idempotent): programs touch
    /// one page many times in a row.
    hits: HitFilter,
}

const NONE: u8 = u8::MAX;
/// The scan tag of an invalid slot (no VPN shifted left by 6 reaches it with a valid shift).
const NO_TAG: u64 = u64::MAX;

/// The scan tag: VPN and page-size shift.
#[inline]
fn tag(vpn: Vpn, size: PageSize) -> u64 {
    (vpn.0 << 6) | size.shift() as u64
}

/// The page size in a valid slot's scan tag.
#[inline]
fn tag_size(t: u64) -> PageSize {
    PageSize::from_shift_clamped((t & 63) as u8)
}

/// End of a recency list.
const NIL: u32 = u32::MAX;

/// A slot's neighbours in its set's recency list ([`NIL`] at the ends).
#[derive(Debug, Clone, Copy)]
struct Link {
    newer: u32,
    older: u32,
}

/// A set's most and least recently used slots.
#[derive(Debug, Clone, Copy)]
struct Ends {
    mru: u32,
    lru: u32,
}

/// The hash-index context of an entry beside its VPN: page-size shift and PCID (or
/// [`GLOBAL_TAG`]).
#[inline]
fn key_ctx(shift: u8, pcid: u16) -> u32 {
    (u32::from(shift) << 16) | u32::from(pcid)
}

impl Tlb {
    /// Whether `cfg` describes a TLB, without building one (nothing is allocated).
    pub fn check(cfg: &TlbConfig) -> Result<(), TlbConfigError> {
        Self::array_of_size(cfg).map(|_| ())
    }

    /// Which array holds each page size, by shift ([`NONE`] where none does), once every array
    /// of `cfg` is checked and no size is held twice.
    fn array_of_size(cfg: &TlbConfig) -> Result<[u8; 41], TlbConfigError> {
        if cfg.arrays.is_empty() {
            return Err(TlbConfigError::NoArrays);
        }
        let mut by_shift = [NONE; 41];
        for (i, a) in cfg.arrays.iter().enumerate() {
            a.check()
                .map_err(|problem| TlbConfigError::Array { array: i, problem })?;
            for s in &a.page_sizes {
                let slot = &mut by_shift[s.shift() as usize];
                if *slot != NONE {
                    return Err(TlbConfigError::DuplicateSize(*s));
                }
                *slot = i as u8;
            }
        }
        Ok(by_shift)
    }

    /// Builds a TLB level; random replacement draws from a generator seeded with `seed`.
    pub fn new(cfg: &TlbConfig, seed: u64) -> Result<Tlb, TlbConfigError> {
        let by_shift = Self::array_of_size(cfg)?;
        // Checked above: every array holds at least one size.
        let grain = cfg
            .arrays
            .iter()
            .flat_map(|a| &a.page_sizes)
            .map(|s| s.shift())
            .min()
            .unwrap_or(0);
        Ok(Tlb {
            arrays: cfg.arrays.iter().map(Array::new).collect(),
            by_shift,
            rng: Xoshiro256PlusPlus::seed_from_u64(seed),
            last_miss: NO_LAST_MISS,
            hits: HitFilter::new(
                grain,
                cfg.arrays.iter().any(|a| a.ways > SCAN_WAYS),
                HitFilter::blank(SlotRef(0), EMPTY),
            ),
        })
    }

    /// Looks `va` up for `pcid` (global entries match any PCID), updating replacement state.
    #[inline]
    pub fn lookup(&mut self, va: VirtAddr, pcid: Pcid) -> TlbLookup {
        match self.find(va, pcid) {
            Some(at) => TlbLookup::Hit(self.hit(at)),
            None => TlbLookup::Miss,
        }
    }

    /// [`Tlb::lookup`] that says only where the entry is ([`Tlb::entry`] reads it): the
    /// per-access path.
    #[inline(always)]
    pub(crate) fn find(&mut self, va: VirtAddr, pcid: Pcid) -> Option<SlotRef> {
        // The last hit's test is one branch on all its comparisons: on the levels this serves
        // (L2, and L1 under an observer) whether the PCID still matches depends on whether the
        // level's last lookup hit, which a scattered trace makes random.
        let i = match self.hits.last(va, pcid) {
            Some(i) => i,
            None => self.find_past_last(va, pcid)?,
        };
        Some(self.hits.hint(i).at)
    }

    /// [`Tlb::find`] that returns the entry found: the L1 hit path, which needs nothing else
    /// and so reads the hint's copy instead of indexing array and slot. Inlined into the
    /// caller up to the search.
    #[inline(always)]
    pub(crate) fn find_entry(&mut self, va: VirtAddr, pcid: Pcid) -> Option<&TlbEntry> {
        let i = match self.hits.last(va, pcid) {
            Some(i) => i,
            None => self.find_past_last(va, pcid)?,
        };
        Some(&self.hits.hint(i).entry)
    }

    /// A lookup that is not a repeat of the last hit: a hint of this epoch, with the
    /// replacement update the search would make, or the search itself. Returns the hint of
    /// the hit, now the last one.
    #[inline(always)]
    fn find_past_last(&mut self, va: VirtAddr, pcid: Pcid) -> Option<usize> {
        match self.hits.get(va, pcid) {
            Some(i) => {
                let Hint { at, set, .. } = *self.hits.hint(i);
                self.arrays[at.array()].touch(at.slot(), set as usize);
                Some(i)
            }
            None => self.search(va, pcid),
        }
    }

    /// The entry at `at`, which a lookup just returned.
    #[inline]
    pub(crate) fn entry(&self, at: SlotRef) -> &TlbEntry {
        &self.arrays[at.array()].slots[at.slot()]
    }

    /// Everything about the hit at `at`: entry, array, set and way.
    pub(crate) fn hit(&self, at: SlotRef) -> TlbHit {
        let a = &self.arrays[at.array()];
        let slot = at.slot();
        let entry = a.slots[slot];
        let set = a.set_of(entry.vpn);
        TlbHit {
            entry,
            array: at.array() as u8,
            set,
            way: (slot - (set * a.ways) as usize) as u16,
        }
    }

    /// The lookup proper: every array, every page size it holds entries of. A hit is recorded
    /// as the last one; returns its hint.
    #[inline(never)]
    fn search(&mut self, va: VirtAddr, pcid: Pcid) -> Option<usize> {
        for (ai, a) in self.arrays.iter_mut().enumerate() {
            let mut sizes = a.present;
            while sizes != 0 {
                let size = PageSize::from_shift_clamped(sizes.trailing_zeros() as u8);
                sizes &= sizes - 1;
                let vpn = va.vpn(size);
                if let Some(slot) = a.find(vpn, size, pcid) {
                    let set = a.set_of(vpn);
                    a.touch(slot, set as usize);
                    let at = SlotRef::new(ai, slot);
                    return Some(self.hits.record(va, pcid, at, set, a.slots[slot]));
                }
            }
        }
        self.last_miss = LastMiss { pcid: pcid.0, va };
        None
    }

    /// The (array, page size, set) triples a lookup of `va` probes, in order.
    pub(crate) fn probes(&self, va: VirtAddr) -> impl Iterator<Item = (u8, PageSize, u32)> + '_ {
        self.arrays.iter().enumerate().flat_map(move |(ai, a)| {
            a.sizes
                .iter()
                .map(move |&s| (ai as u8, s, a.set_of(va.vpn(s))))
        })
    }

    /// Whether some array caches pages of `size`.
    pub(crate) fn holds(&self, size: PageSize) -> bool {
        self.by_shift
            .get(size.shift() as usize)
            .is_some_and(|&a| a != NONE)
    }

    /// Installs `e` in the array for its page size, replacing an entry with the same tag or
    /// evicting a victim; returns the evicted valid entry. Does nothing if no array holds the
    /// size (hardware would cache a smaller fragment; callers check [`Tlb::holds`]).
    pub fn fill(&mut self, e: TlbEntry) -> Option<TlbEntry> {
        self.fill_with(e, |old| *old)
    }

    /// [`Tlb::fill`] that only says whether a valid entry was evicted: the victim's slot, a
    /// likely cache miss in a big array, is not read for it.
    #[inline(always)]
    pub(crate) fn fill_evicts(&mut self, e: TlbEntry) -> bool {
        self.fill_with(e, |_| ()).is_some()
    }

    /// The fill itself; `evicted` sees the valid entry a victim held before it is overwritten.
    #[inline(always)]
    fn fill_with<R>(&mut self, e: TlbEntry, evicted: impl FnOnce(&TlbEntry) -> R) -> Option<R> {
        let ai = *self.by_shift.get(e.size.shift() as usize)?;
        if ai == NONE {
            return None;
        }
        // Forgetting the last miss only clears its PCID, which no lookup's PCID equals.
        self.hits.forget();
        let m = self.last_miss;
        self.last_miss.pcid = NO_PCID;
        let proven_absent =
            m.pcid != NO_PCID && m.va.vpn(e.size) == e.vpn && (e.global || m.pcid == e.pcid.0);
        let a = &mut self.arrays[ai as usize];
        let set = a.set_of(e.vpn);
        if !proven_absent {
            if let Some(slot) = a.find_exact(&e) {
                a.replace(slot, set as usize, e);
                return None;
            }
        }
        let slot = a.victim(set, &mut self.rng);
        let old = a.valid(slot).then(|| evicted(&a.slots[slot]));
        a.replace(slot, set as usize, e);
        old
    }

    /// INVLPG: removes the entries for `va`'s page tagged with `current`, and global entries
    /// for it, at every page size (SDM §4.10.4.1). Returns how many were removed.
    pub fn invlpg(&mut self, va: VirtAddr, current: Pcid) -> usize {
        self.last_miss = NO_LAST_MISS;
        self.hits.forget();
        self.arrays
            .iter_mut()
            .map(|a| a.remove_where(|e| e.vpn == va.vpn(e.size) && (e.global || e.pcid == current)))
            .sum()
    }

    /// INVPCID: removes the entries `inv` names. Returns how many were removed.
    pub fn invpcid(&mut self, inv: Invpcid) -> usize {
        self.last_miss = NO_LAST_MISS;
        self.hits.forget();
        self.arrays
            .iter_mut()
            .map(|a| match inv {
                Invpcid::Page { pcid, va } => {
                    a.remove_where(|e| !e.global && e.pcid == pcid && e.vpn == va.vpn(e.size))
                }
                Invpcid::Context(pcid) => a.remove_where(|e| !e.global && e.pcid == pcid),
                Invpcid::All => a.remove_where(|_| true),
                Invpcid::AllNonGlobal => a.remove_where(|e| !e.global),
            })
            .sum()
    }

    /// Total entries.
    pub fn capacity(&self) -> usize {
        self.arrays.iter().map(|a| a.slots.len()).sum()
    }

    /// Valid entries.
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// Whether no entry is valid.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The valid entries.
    pub fn iter(&self) -> impl Iterator<Item = &TlbEntry> {
        self.arrays.iter().flat_map(|a| {
            a.slots
                .iter()
                .zip(&a.tags)
                .filter(|(_, &t)| t != NO_TAG)
                .map(|(e, _)| e)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn cfg(sets: u32, ways: u32, repl: Replacement) -> TlbConfig {
        TlbConfig {
            arrays: vec![TlbArrayConfig {
                sets,
                ways,
                page_sizes: vec![PageSize::SIZE_4K],
                replacement: repl,
            }],
        }
    }

    fn entry(page: u64, pcid: u16, global: bool) -> TlbEntry {
        TlbEntry {
            vpn: Vpn(page),
            size: PageSize::SIZE_4K,
            pcid: Pcid(pcid),
            global,
            pfn: Pfn(page + 1000),
            rights: Rights::default(),
        }
    }

    fn va(page: u64) -> VirtAddr {
        VirtAddr::new_unchecked(page << 12)
    }

    /// Accesses `pages` cyclically `rounds` times, filling on a miss; returns the hits.
    fn sweep(t: &mut Tlb, pages: u64, rounds: u64) -> u64 {
        let mut hits = 0;
        for _ in 0..rounds {
            for p in 0..pages {
                match t.lookup(va(p), Pcid(1)) {
                    TlbLookup::Hit(_) => hits += 1,
                    TlbLookup::Miss => {
                        t.fill(entry(p, 1, false));
                    }
                }
            }
        }
        hits
    }

    #[test]
    fn lru_cyclic_sweeps() {
        for ways in [64, 72] {
            let mut t = Tlb::new(&cfg(1, ways, Replacement::Lru), 0).unwrap();
            assert_eq!(sweep(&mut t, ways as u64 + 1, 10), 0, "{ways}");
            let mut t = Tlb::new(&cfg(1, ways, Replacement::Lru), 0).unwrap();
            assert_eq!(sweep(&mut t, ways as u64, 10), 9 * ways as u64);
        }
        // Set-associative: 16 sets x 4 ways holds 64 consecutive pages exactly.
        let mut t = Tlb::new(&cfg(16, 4, Replacement::Plru), 0).unwrap();
        assert_eq!(sweep(&mut t, 64, 3), 2 * 64);
        assert_eq!(t.len(), 64);
    }

    #[test]
    fn plru_evicts_the_way_the_tree_points_to() {
        let mut t = Tlb::new(&cfg(1, 4, Replacement::Plru), 0).unwrap();
        for p in 0..4 {
            t.fill(entry(p, 1, false));
        }
        // Fills touch 0..3, then hits touch 0, 1, 2. Exact LRU would evict 3, but touching 2
        // turned the root towards the left pair, whose node (last set by touching 1) points
        // at 0: tree-PLRU evicts 0.
        for p in [0, 1, 2] {
            assert!(matches!(t.lookup(va(p), Pcid(1)), TlbLookup::Hit(_)));
        }
        let ev = t.fill(entry(9, 1, false)).unwrap();
        assert_eq!(ev.vpn, Vpn(0));
        // Now 9 sits in way 0 and the tree points away from it: touching 3 leaves 1 or 2.
        assert!(matches!(t.lookup(va(3), Pcid(1)), TlbLookup::Hit(_)));
        let ev = t.fill(entry(10, 1, false)).unwrap();
        assert_eq!(ev.vpn, Vpn(1));
        // 12-way PLRU (padded tree) never picks a missing way.
        let mut t = Tlb::new(&cfg(1, 12, Replacement::Plru), 0).unwrap();
        assert_eq!(sweep(&mut t, 12, 5), 4 * 12);
        for p in 100..200 {
            t.fill(entry(p, 1, false));
        }
        assert_eq!(t.len(), 12);
    }

    #[test]
    fn random_is_seeded() {
        let run = |seed| {
            let mut t = Tlb::new(&cfg(1, 8, Replacement::Random), seed).unwrap();
            let h = sweep(&mut t, 12, 50);
            let mut v: Vec<u64> = t.iter().map(|e| e.vpn.0).collect();
            v.sort();
            (h, v)
        };
        assert_eq!(run(1), run(1));
        assert!(run(1).0 > 0);
    }

    #[test]
    fn pcids_and_globals() {
        let mut t = Tlb::new(&cfg(1, 16, Replacement::Lru), 0).unwrap();
        t.fill(entry(1, 1, false));
        t.fill(entry(2, 1, true));
        t.fill(entry(1, 2, false));
        assert!(matches!(t.lookup(va(1), Pcid(3)), TlbLookup::Miss));
        assert!(matches!(t.lookup(va(2), Pcid(3)), TlbLookup::Hit(_)));
        match t.lookup(va(1), Pcid(2)) {
            TlbLookup::Hit(h) => assert_eq!(h.entry.pcid, Pcid(2)),
            TlbLookup::Miss => panic!(),
        }
        // CR3 write for PCID 1: its non-global entry goes, the global one stays.
        assert_eq!(t.invpcid(Invpcid::Context(Pcid(1))), 1);
        assert!(matches!(t.lookup(va(1), Pcid(1)), TlbLookup::Miss));
        assert!(matches!(t.lookup(va(2), Pcid(1)), TlbLookup::Hit(_)));
        assert!(matches!(t.lookup(va(1), Pcid(2)), TlbLookup::Hit(_)));
        // INVLPG under PCID 3 removes the global entry for that page but not PCID 2's page 1.
        assert_eq!(t.invlpg(va(2), Pcid(3)), 1);
        assert_eq!(t.invlpg(va(1), Pcid(3)), 0);
        assert_eq!(t.invlpg(va(1), Pcid(2)), 1);
        assert!(t.is_empty());
        t.fill(entry(5, 1, true));
        t.fill(entry(6, 1, false));
        assert_eq!(t.invpcid(Invpcid::AllNonGlobal), 1);
        assert_eq!(t.invpcid(Invpcid::All), 1);
    }

    #[test]
    fn multi_size_arrays() {
        let c = TlbConfig {
            arrays: vec![
                TlbArrayConfig {
                    sets: 16,
                    ways: 4,
                    page_sizes: vec![PageSize::SIZE_4K],
                    replacement: Replacement::Lru,
                },
                TlbArrayConfig {
                    sets: 8,
                    ways: 4,
                    page_sizes: vec![PageSize::SIZE_2M],
                    replacement: Replacement::Lru,
                },
            ],
        };
        let mut t = Tlb::new(&c, 0).unwrap();
        assert!(t.holds(PageSize::SIZE_2M) && !t.holds(PageSize::SIZE_1G));
        let big = TlbEntry {
            vpn: Vpn(3),
            size: PageSize::SIZE_2M,
            ..entry(0, 1, false)
        };
        t.fill(big);
        match t.lookup(VirtAddr::new_unchecked((3 << 21) + 0x1234), Pcid(1)) {
            TlbLookup::Hit(h) => {
                assert_eq!(h.array, 1);
                assert_eq!(h.set, 3);
            }
            TlbLookup::Miss => panic!(),
        }
        assert_eq!(t.probes(va(0)).count(), 2);
        assert!(t
            .fill(TlbEntry {
                size: PageSize::SIZE_1G,
                ..big
            })
            .is_none());
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn config_errors() {
        assert_eq!(
            Tlb::new(&cfg(3, 4, Replacement::Lru), 0).unwrap_err(),
            TlbConfigError::Array {
                array: 0,
                problem: ArrayError::SetsNotPowerOfTwo { sets: 3 }
            }
        );
        assert_eq!(
            Tlb::new(&cfg(4, 0, Replacement::Lru), 0).unwrap_err(),
            TlbConfigError::Array {
                array: 0,
                problem: ArrayError::ZeroWays
            }
        );
        let mut c = cfg(4, 4, Replacement::Lru);
        c.arrays.push(c.arrays[0].clone());
        assert_eq!(
            Tlb::new(&c, 0).unwrap_err(),
            TlbConfigError::DuplicateSize(PageSize::SIZE_4K)
        );
    }

    /// An oracle entry: (page, pcid, global, frame).
    type Cached = (u64, u16, bool, u64);

    /// Fills `t` with the entry `x` and checks the eviction against `list` (most recent last):
    /// an entry with the same tag is replaced in place, else a full list loses its oldest.
    fn fill_checked(
        t: &mut Tlb,
        list: &mut Vec<Cached>,
        ways: usize,
        x: Cached,
    ) -> Result<(), TestCaseError> {
        let (page, pcid, global, frame) = x;
        let mut e = entry(page, pcid, global);
        e.pfn = Pfn(frame);
        let ev = t.fill(e);
        let same = |&(p, c, g, _): &Cached| p == page && g == global && (global || c == pcid);
        if let Some(i) = list.iter().position(same) {
            list.remove(i);
            prop_assert!(ev.is_none());
        } else if list.len() == ways {
            let oldest = list.remove(0);
            let got = ev.map(|e| (e.vpn.0, e.pcid.0, e.global, e.pfn.0));
            prop_assert_eq!(got, Some(oldest));
        } else {
            prop_assert!(ev.is_none());
        }
        list.push(x);
        Ok(())
    }

    proptest! {
        /// Wide arrays (more ways than [`SCAN_WAYS`], so looked up through the tag index)
        /// behave like a list ordered by recency, with global entries, PCIDs, refills of
        /// cached pages and every kind of invalidation.
        #[test]
        fn wide_lru_matches_a_list(
            ops in prop::collection::vec((0u64..48, 0u16..3, 0u8..10), 1..500),
            ways in 17u32..40,
        ) {
            let mut t = Tlb::new(&cfg(1, ways, Replacement::Lru), 0).unwrap();
            // Oracle: (page, pcid, global, frame), most recent last.
            let mut list: Vec<Cached> = Vec::new();
            let mut gen = 0u64;
            for (page, pcid, op) in ops {
                match op {
                    0 => {
                        let n = t.invlpg(va(page), Pcid(pcid));
                        let before = list.len();
                        list.retain(|&(p, c, g, _)| !(p == page && (g || c == pcid)));
                        prop_assert_eq!(n, before - list.len());
                    }
                    1 => {
                        let n = t.invpcid(Invpcid::Context(Pcid(pcid)));
                        let before = list.len();
                        list.retain(|&(_, c, g, _)| g || c != pcid);
                        prop_assert_eq!(n, before - list.len());
                    }
                    2 if page % 8 == 0 => {
                        prop_assert_eq!(t.invpcid(Invpcid::All), list.len());
                        list.clear();
                    }
                    2 | 3 => {
                        // A fill whether or not the page is cached: a cached entry with the
                        // same tag is replaced in place and becomes the most recent.
                        gen += 1;
                        fill_checked(&mut t, &mut list, ways as usize, (page, pcid, op == 2, gen))?;
                    }
                    _ => {
                        // With both a PCID's own entry and a global one for the page, either
                        // may answer (SDM §4.10.2.4 leaves it open); the one used becomes the
                        // most recent.
                        let matches = |&(p, c, g, _): &(u64, u16, bool, u64)| p == page && (g || c == pcid);
                        let any = list.iter().position(matches);
                        match (t.lookup(va(page), Pcid(pcid)), any) {
                            (TlbLookup::Hit(h), Some(_)) => {
                                let got = (h.entry.pcid.0, h.entry.global, h.entry.pfn.0);
                                let i = list
                                    .iter()
                                    .position(|x| matches(x) && (x.1, x.2, x.3) == got);
                                let Some(i) = i else {
                                    return Err(TestCaseError::fail(format!("{got:?} is not cached")));
                                };
                                let x = list.remove(i);
                                list.push(x);
                            }
                            (TlbLookup::Miss, None) => {
                                gen += 1;
                                fill_checked(&mut t, &mut list, ways as usize, (page, pcid, false, gen))?;
                            }
                            (got, want) => {
                                return Err(TestCaseError::fail(format!("{got:?} vs oracle {want:?}")));
                            }
                        }
                    }
                }
                prop_assert_eq!(t.len(), list.len());
            }
        }

        /// A fully associative LRU TLB behaves exactly like a list ordered by recency.
        #[test]
        fn fully_associative_lru_matches_a_list(
            ops in prop::collection::vec((0u64..40, 0u16..3, prop::bool::weighted(0.1)), 1..400),
            ways in 1u32..24,
        ) {
            let mut t = Tlb::new(&cfg(1, ways, Replacement::Lru), 0).unwrap();
            // Oracle: (page, pcid) most recent last.
            let mut list: Vec<(u64, u16)> = Vec::new();
            for (page, pcid, inval) in ops {
                if inval {
                    let n = t.invlpg(va(page), Pcid(pcid));
                    let before = list.len();
                    list.retain(|&(p, c)| !(p == page && c == pcid));
                    prop_assert_eq!(n, before - list.len());
                    continue;
                }
                let got = t.lookup(va(page), Pcid(pcid));
                match list.iter().position(|&x| x == (page, pcid)) {
                    Some(i) => {
                        let TlbLookup::Hit(h) = got else { return Err(TestCaseError::fail("expected hit")) };
                        prop_assert_eq!(h.entry.pfn, Pfn(page + 1000));
                        prop_assert_eq!(h.entry.pcid, Pcid(pcid));
                        let x = list.remove(i);
                        list.push(x);
                    }
                    None => {
                        prop_assert!(matches!(got, TlbLookup::Miss));
                        let ev = t.fill(entry(page, pcid, false));
                        if list.len() == ways as usize {
                            let (p, c) = list.remove(0);
                            prop_assert_eq!(ev.map(|e| (e.vpn.0, e.pcid.0)), Some((p, c)));
                        } else {
                            prop_assert!(ev.is_none());
                        }
                        list.push((page, pcid));
                    }
                }
            }
        }

        /// The shortcuts are invisible: a TLB that forgets its hits before every lookup (and so
        /// always searches) finds the same entries in the same ways and evicts the same
        /// victims, for every policy.
        #[test]
        fn hit_shortcuts_change_nothing(
            ops in prop::collection::vec((0u64..12, 0u16..2, 0u8..8), 1..300),
            sets in prop::sample::select(vec![1u32, 2, 4]),
            ways in 1u32..9,
            repl in prop::sample::select(vec![Replacement::Lru, Replacement::Plru, Replacement::Random]),
        ) {
            let mut fast = Tlb::new(&cfg(sets, ways, repl), 5).unwrap();
            let mut slow = fast.clone();
            for (page, pcid, op) in ops {
                match op {
                    0 => {
                        prop_assert_eq!(fast.invlpg(va(page), Pcid(pcid)), slow.invlpg(va(page), Pcid(pcid)));
                    }
                    1 => {
                        let e = entry(page, pcid, page % 5 == 0);
                        prop_assert_eq!(fast.fill(e), slow.fill(e));
                    }
                    7 => {
                        // The hit path's lookup: the last hit's copy is the entry itself.
                        slow.hits.forget();
                        let f = fast.find_entry(va(page), Pcid(pcid)).copied();
                        let s = match slow.lookup(va(page), Pcid(pcid)) {
                            TlbLookup::Hit(h) => Some(h.entry),
                            TlbLookup::Miss => None,
                        };
                        prop_assert_eq!(f, s);
                    }
                    _ => {
                        slow.hits.forget();
                        let (f, s) = (fast.lookup(va(page), Pcid(pcid)), slow.lookup(va(page), Pcid(pcid)));
                        prop_assert_eq!(f, s);
                        if f == TlbLookup::Miss {
                            let e = entry(page, pcid, false);
                            prop_assert_eq!(fast.fill(e), slow.fill(e));
                        }
                    }
                }
            }
        }

        /// Any geometry and policy: a hit is never stale, never another PCID's non-global
        /// entry, and never survives an invalidation that covered it.
        #[test]
        fn never_stale(
            ops in prop::collection::vec((0u64..64, 0u16..3, 0u8..6), 1..400),
            sets in prop::sample::select(vec![1u32, 2, 4, 16]),
            ways in 1u32..13,
            repl in prop::sample::select(vec![Replacement::Lru, Replacement::Plru, Replacement::Random]),
        ) {
            let mut t = Tlb::new(&cfg(sets, ways, repl), 9).unwrap();
            // What may be cached: (page, pcid) -> frame; globals under pcid u16::MAX.
            let mut valid: std::collections::HashMap<(u64, u16), u64> = Default::default();
            let mut gen = 0u64;
            for (page, pcid, op) in ops {
                match op {
                    0 | 1 => {
                        match t.lookup(va(page), Pcid(pcid)) {
                            TlbLookup::Hit(h) => {
                                let key = if h.entry.global { (page, u16::MAX) } else { (page, pcid) };
                                prop_assert_eq!(valid.get(&key).copied(), Some(h.entry.pfn.0));
                            }
                            TlbLookup::Miss => {
                                gen += 1;
                                let mut e = entry(page, pcid, false);
                                e.pfn = Pfn(gen);
                                t.fill(e);
                                valid.insert((page, pcid), gen);
                            }
                        }
                    }
                    2 => {
                        gen += 1;
                        let mut e = entry(page, pcid, true);
                        e.pfn = Pfn(gen);
                        // A global mapping replaces per-PCID ones for the page in the oracle.
                        t.invpcid(Invpcid::All);
                        valid.clear();
                        t.fill(e);
                        valid.insert((page, u16::MAX), gen);
                    }
                    3 => {
                        t.invlpg(va(page), Pcid(pcid));
                        valid.remove(&(page, pcid));
                        valid.remove(&(page, u16::MAX));
                    }
                    4 => {
                        t.invpcid(Invpcid::Context(Pcid(pcid)));
                        valid.retain(|&(_, c), _| c != pcid);
                    }
                    _ => {
                        t.invpcid(Invpcid::Page {
                            pcid: Pcid(pcid),
                            va: va(page),
                        });
                        valid.remove(&(page, pcid));
                    }
                }
                prop_assert!(t.len() <= (sets * ways) as usize);
            }
        }

        /// The hit filter against the structure it was added to, a TLB with only the last-hit
        /// shortcut: multi-size, multi-array and fully associative levels, global and
        /// per-PCID entries, pages of two sizes covering one address, every policy and every
        /// invalidation. Lookups return the same slot, fills evict the same victims, and the
        /// arrays end in the same state.
        #[test]
        fn hit_filter_matches_the_last_hit_alone(
            ops in prop::collection::vec((0u64..80, 0u16..3, 0u8..12, any::<bool>()), 1..400),
            layout in 0u8..3,
            ways in 1u32..80,
            repl in prop::sample::select(vec![Replacement::Lru, Replacement::Plru, Replacement::Random]),
        ) {
            let small = PageSize::SIZE_4K;
            let big = PageSize::SIZE_2M;
            let arrays = match layout {
                // One fully associative array of both sizes (zen4's L1 data TLB).
                0 => vec![TlbArrayConfig { sets: 1, ways, page_sizes: vec![small, big], replacement: repl }],
                // One set-associative array of both sizes (the L2 TLB).
                1 => vec![TlbArrayConfig { sets: 4, ways: ways % 13 + 1, page_sizes: vec![small, big], replacement: repl }],
                // One array per size.
                _ => vec![
                    TlbArrayConfig { sets: 2, ways: ways % 9 + 1, page_sizes: vec![small], replacement: repl },
                    TlbArrayConfig { sets: 1, ways, page_sizes: vec![big], replacement: repl },
                ],
            };
            let mut fast = Tlb::new(&TlbConfig { arrays }, 3).unwrap();
            let mut slow = fast.clone();
            // Pages 0..80 of 4 KiB lie in 2 MiB pages 0..2 when scaled by 8 pages: both sizes
            // can cover one address.
            let at = |page: u64| VirtAddr::new_unchecked(page << 15 | (page & 7) << 9);
            for (page, pcid, op, global) in ops {
                let v = at(page);
                match op {
                    0 => prop_assert_eq!(fast.invlpg(v, Pcid(pcid)), slow.invlpg(v, Pcid(pcid))),
                    1 => {
                        let inv = match page % 4 {
                            0 => Invpcid::Context(Pcid(pcid)),
                            1 => Invpcid::Page { pcid: Pcid(pcid), va: v },
                            2 => Invpcid::AllNonGlobal,
                            _ => Invpcid::All,
                        };
                        prop_assert_eq!(fast.invpcid(inv), slow.invpcid(inv));
                    }
                    2 | 3 => {
                        let size = if op == 2 { big } else { small };
                        let e = TlbEntry {
                            vpn: v.vpn(size),
                            size,
                            global,
                            ..entry(page, pcid, global)
                        };
                        prop_assert_eq!(fast.fill(e), slow.fill(e));
                    }
                    4..=7 => {
                        slow.hits.forget_all_but_last();
                        let f = fast.find_entry(v, Pcid(pcid)).copied();
                        let s = slow.find_entry(v, Pcid(pcid)).copied();
                        prop_assert_eq!(f, s);
                    }
                    _ => {
                        slow.hits.forget_all_but_last();
                        let (f, s) = (fast.lookup(v, Pcid(pcid)), slow.lookup(v, Pcid(pcid)));
                        prop_assert_eq!(f, s);
                        if f == TlbLookup::Miss {
                            let e = TlbEntry { vpn: v.vpn(small), ..entry(page, pcid, false) };
                            prop_assert_eq!(fast.fill(e), slow.fill(e));
                        }
                    }
                }
            }
            // Same entries in the same slots, and the same replacement order.
            for (a, b) in fast.arrays.iter().zip(&slow.arrays) {
                prop_assert_eq!(&a.tags, &b.tags);
                prop_assert_eq!(&a.slots, &b.slots);
                prop_assert_eq!(&a.tree, &b.tree);
                let order = |x: &Array| {
                    let mut o = Vec::new();
                    for e in &x.ends {
                        let mut s = e.mru;
                        while s != NIL {
                            o.push(s);
                            s = x.links[s as usize].older;
                        }
                    }
                    o
                };
                prop_assert_eq!(order(a), order(b));
            }
        }
    }
}

#[cfg(test)]
mod epoch_tests {
    use super::*;

    /// Hints recorded just before the epoch counter wraps do not come back when it reaches
    /// their epoch again.
    #[test]
    fn epoch_wrap_forgets_every_hint() {
        let c = TlbConfig {
            arrays: vec![TlbArrayConfig {
                sets: 1,
                ways: 72,
                page_sizes: vec![PageSize::SIZE_4K],
                replacement: Replacement::Lru,
            }],
        };
        let mut t = Tlb::new(&c, 0).unwrap();
        let e = |p: u64| TlbEntry {
            vpn: Vpn(p),
            size: PageSize::SIZE_4K,
            pcid: Pcid(1),
            global: false,
            pfn: Pfn(p + 7),
            rights: Rights::default(),
        };
        let va = |p: u64| VirtAddr::new_unchecked(p << 12);
        t.fill(e(1));
        t.fill(e(2));
        t.hits.set_epoch(u32::MAX);
        // Hints of epoch u32::MAX for pages 1 and 2.
        assert_eq!(t.find_entry(va(1), Pcid(1)).map(|x| x.pfn), Some(Pfn(8)));
        assert_eq!(t.find_entry(va(2), Pcid(1)).map(|x| x.pfn), Some(Pfn(9)));
        // The wrap (a fill) and u32::MAX - 1 more epochs would reach u32::MAX again; page 1 is
        // refilled with another frame meanwhile, which a stale hint would not know.
        t.invlpg(va(1), Pcid(1));
        t.fill(TlbEntry {
            pfn: Pfn(99),
            ..e(1)
        });
        t.hits.set_epoch(u32::MAX);
        assert_eq!(t.find_entry(va(1), Pcid(1)).map(|x| x.pfn), Some(Pfn(99)));
        t.invlpg(va(2), Pcid(1));
        assert_eq!(t.find_entry(va(2), Pcid(1)), None);
    }
}
