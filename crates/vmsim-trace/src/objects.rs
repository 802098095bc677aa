//! Cache-trace objects as page references: what libCacheSim's formats (oracleGeneral, csv,
//! txt) carry is a request for an object, an id and a size, and vmsim's page-number formats
//! carry pages. An object id is used as the page number as it is when it is a number; an id
//! that is a string is hashed (64-bit FNV-1a) into the key space of 2^35 pages, the user half
//! of a 48-bit address space in 4 KiB pages, so such a trace also replays under `vmsim run`.
//! Object sizes are ignored by default, as libCacheSim's `--ignore-obj-size` does; with
//! [`KeyOptions::obj_size_pages`] an object of `s` bytes touches the `ceil(s / 4096)`
//! consecutive pages from its id on (at least one).
use crate::pages::PageRef;

/// Bits of the key space string ids are hashed into.
pub const KEY_BITS: u32 = 35;

/// The bytes of the page an object's size is counted in.
pub const PAGE_BYTES: u64 = 1 << crate::pages::PAGE_SHIFT;

/// How object ids and sizes become pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyOptions {
    /// Ids are numbers, used as page numbers as they are (libCacheSim's `obj-id-is-num`);
    /// otherwise every id is a string, hashed into [`KEY_BITS`] bits.
    pub obj_id_is_num: bool,
    /// An object touches `ceil(size / 4096)` pages instead of one.
    pub obj_size_pages: bool,
}

impl Default for KeyOptions {
    fn default() -> Self {
        KeyOptions {
            obj_id_is_num: true,
            obj_size_pages: false,
        }
    }
}

/// One request for an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Object {
    /// The object's key (its first page).
    pub key: u64,
    /// Its size in bytes (0 when the trace gives none).
    pub size: u64,
    /// Whether the request writes (a set, an update).
    pub write: bool,
}

/// The hash of a string id, below 2^[`KEY_BITS`].
pub fn hash_key(id: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in id {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h & ((1 << KEY_BITS) - 1)
}

/// The key of a textual id: the number it spells when ids are numbers (decimal, or `0x` hex),
/// else its hash.
pub fn key_of(id: &str, opts: KeyOptions) -> Result<u64, String> {
    if opts.obj_id_is_num {
        crate::lines::parse_number(id).map_err(|e| {
            format!("{e}: object ids are numbers unless --obj-id-is-num false says otherwise")
        })
    } else {
        Ok(hash_key(id.as_bytes()))
    }
}

/// Turns objects into page references, keeping the pages of an object that did not fit.
#[derive(Debug, Default)]
pub struct Expander {
    /// The pages still to give of the last object: (next, last, write).
    span: Option<(u64, u64, bool)>,
}

impl Expander {
    /// Whether pages of an object are still to come.
    pub fn pending(&self) -> bool {
        self.span.is_some()
    }

    /// Pushes the pages of `objs[*at..]` onto `out` up to its capacity, advancing `*at`.
    pub fn expand(
        &mut self,
        objs: &[Object],
        at: &mut usize,
        opts: KeyOptions,
        out: &mut Vec<PageRef>,
    ) {
        let cap = out.capacity().max(1);
        loop {
            while let Some((next, last, write)) = self.span {
                if out.len() == cap {
                    return;
                }
                out.push((next, write));
                self.span = (next != last).then_some((next + 1, last, write));
            }
            if *at == objs.len() || out.len() == cap {
                return;
            }
            let o = objs[*at];
            *at += 1;
            let pages = if opts.obj_size_pages {
                o.size.div_ceil(PAGE_BYTES).max(1)
            } else {
                1
            };
            let last = o.key.saturating_add(pages - 1);
            self.span = Some((o.key, last, o.write));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_become_consecutive_pages_across_batches() {
        let opts = KeyOptions {
            obj_size_pages: true,
            ..KeyOptions::default()
        };
        let objs = [
            Object {
                key: 10,
                size: 4097,
                write: false,
            },
            Object {
                key: 3,
                size: 0,
                write: true,
            },
            Object {
                key: 100,
                size: 3 * 4096,
                write: false,
            },
        ];
        let mut e = Expander::default();
        let (mut at, mut all) = (0, Vec::new());
        loop {
            let mut out = Vec::with_capacity(2);
            e.expand(&objs, &mut at, opts, &mut out);
            if out.is_empty() {
                break;
            }
            all.extend(out);
        }
        let want = [
            (10, false),
            (11, false),
            (3, true),
            (100, false),
            (101, false),
            (102, false),
        ];
        assert_eq!(all, want);
        let mut out = Vec::with_capacity(16);
        let (mut e, mut at) = (Expander::default(), 0);
        e.expand(&objs, &mut at, KeyOptions::default(), &mut out);
        assert_eq!(out, [(10, false), (3, true), (100, false)]);
    }

    #[test]
    fn keys() {
        let num = KeyOptions::default();
        let s = KeyOptions {
            obj_id_is_num: false,
            ..num
        };
        assert_eq!(key_of("4711", num).unwrap(), 4711);
        assert_eq!(key_of("0x10", num).unwrap(), 16);
        assert!(key_of("abc", num).unwrap_err().contains("--obj-id-is-num"));
        assert_eq!(key_of("abc", s).unwrap(), hash_key(b"abc"));
        assert_ne!(hash_key(b"abc"), hash_key(b"abd"));
        assert!(hash_key(b"some object") < 1 << KEY_BITS);
    }
}
