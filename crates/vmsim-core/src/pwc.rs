//! Page-walk caches: Intel's paging-structure caches (SDM Vol. 3A §4.10.3), one small fully
//! associative LRU cache per upper level. A PDE-cache entry maps the address bits above 21 to
//! the frame of the page table that PDE points to, so a walk that hits it reads only the PTE.
//! Entries carry the rights combined over the levels they skip, and are tagged by PCID.

use crate::addr::{Pfn, VirtAddr};
use crate::pte::Level;
use crate::tag_index::TagIndex;
use crate::tlb::{Pcid, Rights};
use serde::{Deserialize, Deserializer, Serialize};

/// The most entries one cache may hold. Real ones hold a few dozen; an eviction scans the
/// cache, and a configuration should not be able to ask for gigabytes.
pub const MAX_ENTRIES: u32 = 1 << 16;

/// Entries per cache (0 = no such cache).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PwcConfig {
    /// PML5E cache (5-level paging only): skips the PML5.
    #[serde(deserialize_with = "entries")]
    pub pml5e: u32,
    /// PML4E cache: skips down to the PDPT.
    #[serde(deserialize_with = "entries")]
    pub pml4e: u32,
    /// PDPTE cache: skips down to the PD.
    #[serde(deserialize_with = "entries")]
    pub pdpte: u32,
    /// PDE cache: skips down to the PT.
    #[serde(deserialize_with = "entries")]
    pub pde: u32,
}

/// One cache's size, refused above [`MAX_ENTRIES`] where it is read, so the error names its line.
fn entries<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let n = u32::deserialize(d)?;
    if n > MAX_ENTRIES {
        return Err(serde::de::Error::custom(format!(
            "{n} entries is more than the {MAX_ENTRIES} a page-walk cache may hold"
        )));
    }
    Ok(n)
}

/// A hit: where the walk may start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PwcHit {
    /// Level of the cached entry (PD: the walk continues at the PT).
    pub level: Level,
    /// Frame of the table the cached entry references.
    pub next_table: Pfn,
    /// Rights combined over the cached entry and every entry above it.
    pub rights: Rights,
}

#[derive(Debug, Clone, Copy)]
struct Line {
    tag: u64,
    pcid: Pcid,
    next: Pfn,
    rights: Rights,
    stamp: u64,
}

#[derive(Debug, Clone)]
struct Cache {
    cap: usize,
    lines: Vec<Line>,
    /// (tag, PCID) → line: one probe per lookup whatever the cache's size.
    index: TagIndex,
}

impl Cache {
    fn new(cap: usize) -> Self {
        Cache {
            cap,
            lines: Vec::with_capacity(cap),
            index: TagIndex::new(cap),
        }
    }

    #[inline]
    fn get(&mut self, tag: u64, pcid: Pcid, now: u64) -> Option<&Line> {
        let i = self.index.get(tag, u32::from(pcid.get()))? as usize;
        let l = &mut self.lines[i];
        l.stamp = now;
        Some(l)
    }

    fn put(&mut self, line: Line) {
        if self.cap == 0 {
            return;
        }
        let ctx = u32::from(line.pcid.get());
        if let Some(i) = self.index.get(line.tag, ctx) {
            self.lines[i as usize] = line;
        } else if self.lines.len() < self.cap {
            self.index.insert(line.tag, ctx, self.lines.len() as u32);
            self.lines.push(line);
        } else if let Some((i, _)) = self.lines.iter().enumerate().min_by_key(|(_, l)| l.stamp) {
            self.index.remove(i as u32);
            self.index.insert(line.tag, ctx, i as u32);
            self.lines[i] = line;
        }
    }

    fn retain(&mut self, keep: impl Fn(&Line) -> bool) {
        self.lines.retain(keep);
        self.index.clear();
        for (i, l) in self.lines.iter().enumerate() {
            self.index.insert(l.tag, u32::from(l.pcid.get()), i as u32);
        }
    }
}

/// The page-walk caches of one CPU.
#[derive(Debug, Clone)]
pub struct Pwc {
    /// Indexed by level: [PD, PDPT, PML4, PML5].
    caches: [Cache; 4],
    /// Some cache has entries to give (fixed at construction).
    enabled: bool,
    now: u64,
}

/// The address bits that select an entry of `level` and every entry above it: the cache tag
/// (bits 47:21 for the PDE cache, 47:30 for the PDPTE cache, and so on).
fn tag(va: VirtAddr, level: Level) -> u64 {
    va.as_u64() >> (12 + 9 * (level.number() as u32 - 1))
}

fn slot(level: Level) -> Option<usize> {
    match level {
        Level::Pd => Some(0),
        Level::Pdpt => Some(1),
        Level::Pml4 => Some(2),
        Level::Pml5 => Some(3),
        Level::Pt => None,
    }
}

impl Pwc {
    /// Caches of the configured sizes.
    pub fn new(cfg: &PwcConfig) -> Self {
        let mk = |n: u32| Cache::new(n as usize);
        let caches = [mk(cfg.pde), mk(cfg.pdpte), mk(cfg.pml4e), mk(cfg.pml5e)];
        Pwc {
            enabled: caches.iter().any(|c| c.cap > 0),
            caches,
            now: 0,
        }
    }

    /// Whether any cache exists.
    #[inline]
    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// Whether the cache for entries of `level` exists.
    pub fn has_cache(&self, level: Level) -> bool {
        slot(level).is_some_and(|s| self.caches[s].cap > 0)
    }

    /// The deepest cached entry for `va` under `pcid`, among levels below or at `top`.
    pub fn lookup(&mut self, va: VirtAddr, pcid: Pcid, top: Level) -> Option<PwcHit> {
        self.now += 1;
        let now = self.now;
        for level in [Level::Pd, Level::Pdpt, Level::Pml4, Level::Pml5] {
            if level > top {
                break;
            }
            let Some(s) = slot(level) else { continue };
            if let Some(l) = self.caches[s].get(tag(va, level), pcid, now) {
                return Some(PwcHit {
                    level,
                    next_table: l.next,
                    rights: l.rights,
                });
            }
        }
        None
    }

    /// Caches the entry of `level` used to translate `va`: it references `next_table`, and
    /// `rights` are combined over it and the entries above.
    pub fn fill(
        &mut self,
        level: Level,
        va: VirtAddr,
        pcid: Pcid,
        next_table: Pfn,
        rights: Rights,
    ) {
        let Some(s) = slot(level) else { return };
        self.now += 1;
        self.caches[s].put(Line {
            tag: tag(va, level),
            pcid,
            next: next_table,
            rights,
            stamp: self.now,
        });
    }

    /// Drops the entries of `pcid` (INVLPG, INVPCID types 0 and 1, CR3 writes).
    pub fn invalidate_pcid(&mut self, pcid: Pcid) {
        for c in &mut self.caches {
            c.retain(|l| l.pcid != pcid);
        }
    }

    /// Drops everything.
    pub fn invalidate_all(&mut self) {
        for c in &mut self.caches {
            c.retain(|_| false);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(n: u32) -> PwcConfig {
        PwcConfig {
            pml5e: n,
            pml4e: n,
            pdpte: n,
            pde: n,
        }
    }

    #[test]
    fn a_sequential_sweep_hits_the_pde_cache() {
        let mut p = Pwc::new(&cfg(4));
        let pcid = Pcid::ZERO;
        let mut hits = 0;
        for i in 0..512u64 {
            let va = VirtAddr::new_unchecked(0x4000_0000 + i * 4096);
            match p.lookup(va, pcid, Level::Pml4) {
                Some(h) => {
                    assert_eq!(h.level, Level::Pd);
                    assert_eq!(h.next_table, Pfn(77));
                    hits += 1;
                }
                None => p.fill(Level::Pd, va, pcid, Pfn(77), Rights::default()),
            }
        }
        assert_eq!(hits, 511);
    }

    #[test]
    fn deepest_hit_wins_and_pcids_are_separate() {
        let mut p = Pwc::new(&cfg(2));
        let va = VirtAddr::new_unchecked(0x7f12_3456_7000);
        let a = Pcid::try_new(1).unwrap();
        p.fill(Level::Pml4, va, a, Pfn(1), Rights::default());
        p.fill(Level::Pdpt, va, a, Pfn(2), Rights::default());
        assert_eq!(p.lookup(va, a, Level::Pml4).unwrap().level, Level::Pdpt);
        assert!(p.lookup(va, Pcid::ZERO, Level::Pml4).is_none());
        // A PML5E entry is not used under 4-level paging.
        p.invalidate_all();
        p.fill(Level::Pml5, va, a, Pfn(3), Rights::default());
        assert!(p.lookup(va, a, Level::Pml4).is_none());
        assert!(p.lookup(va, a, Level::Pml5).is_some());
        p.invalidate_pcid(a);
        assert!(p.lookup(va, a, Level::Pml5).is_none());
    }

    #[test]
    fn lru_eviction() {
        let mut p = Pwc::new(&PwcConfig {
            pde: 2,
            ..Default::default()
        });
        assert!(p.has_cache(Level::Pd) && !p.has_cache(Level::Pdpt));
        let r = |i: u64| VirtAddr::new_unchecked(i << 21);
        let z = Pcid::ZERO;
        p.fill(Level::Pd, r(1), z, Pfn(1), Rights::default());
        p.fill(Level::Pd, r(2), z, Pfn(2), Rights::default());
        assert!(p.lookup(r(1), z, Level::Pml4).is_some());
        p.fill(Level::Pd, r(3), z, Pfn(3), Rights::default());
        assert!(
            p.lookup(r(2), z, Level::Pml4).is_none(),
            "least recent was evicted"
        );
        assert!(p.lookup(r(1), z, Level::Pml4).is_some());
        assert!(p.lookup(r(3), z, Level::Pml4).is_some());
    }

    /// The obvious page-walk cache: per level, a list of (tag, PCID, table) with the most
    /// recent last.
    struct Model {
        caps: [usize; 4],
        lists: [Vec<(u64, u16, u64)>; 4],
    }

    impl Model {
        fn lookup(&mut self, va: VirtAddr, pcid: u16, top: Level) -> Option<(Level, u64)> {
            for (i, level) in [Level::Pd, Level::Pdpt, Level::Pml4, Level::Pml5]
                .into_iter()
                .enumerate()
            {
                if level > top {
                    break;
                }
                let t = tag(va, level);
                let l = &mut self.lists[i];
                if let Some(j) = l.iter().position(|&(a, c, _)| a == t && c == pcid) {
                    let x = l.remove(j);
                    l.push(x);
                    return Some((level, x.2));
                }
            }
            None
        }

        fn fill(&mut self, i: usize, level: Level, va: VirtAddr, pcid: u16, next: u64) {
            if self.caps[i] == 0 {
                return;
            }
            let t = tag(va, level);
            let l = &mut self.lists[i];
            l.retain(|&(a, c, _)| !(a == t && c == pcid));
            if l.len() == self.caps[i] {
                l.remove(0);
            }
            l.push((t, pcid, next));
        }
    }

    proptest::proptest! {
        /// The caches answer like per-level recency lists under any mix of lookups, fills and
        /// invalidations.
        #[test]
        fn matches_recency_lists(
            caps in proptest::array::uniform4(0u32..6),
            ops in proptest::collection::vec((0u64..4, 0u64..3, 0u64..6, 0u16..3, 0u8..12), 1..400),
        ) {
            let cfg = PwcConfig { pde: caps[0], pdpte: caps[1], pml4e: caps[2], pml5e: caps[3] };
            let mut p = Pwc::new(&cfg);
            let mut m = Model {
                caps: caps.map(|c| c as usize),
                lists: Default::default(),
            };
            let levels = [Level::Pd, Level::Pdpt, Level::Pml4, Level::Pml5];
            let mut next = 0u64;
            for (a, b, c, pcid, op) in ops {
                let va = VirtAddr::new_unchecked((a << 39) | (b << 30) | (c << 21));
                let pc = Pcid::try_new(pcid).unwrap();
                match op {
                    0 => {
                        p.invalidate_pcid(pc);
                        for l in &mut m.lists {
                            l.retain(|&(_, x, _)| x != pcid);
                        }
                    }
                    1 => {
                        p.invalidate_all();
                        for l in &mut m.lists {
                            l.clear();
                        }
                    }
                    2..=5 => {
                        let i = (op - 2) as usize;
                        next += 1;
                        p.fill(levels[i], va, pc, Pfn(next), Rights::default());
                        m.fill(i, levels[i], va, pcid, next);
                    }
                    _ => {
                        let top = if op % 2 == 0 { Level::Pml4 } else { Level::Pml5 };
                        let got = p.lookup(va, pc, top).map(|h| (h.level, h.next_table.0));
                        proptest::prop_assert_eq!(got, m.lookup(va, pcid, top));
                    }
                }
            }
        }
    }
}
