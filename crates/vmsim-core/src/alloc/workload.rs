//! Allocation workloads, the same for every [`Allocator`]: an explicit operation list written
//! by hand (`p = alloc 100`, `free p`, `alloc 64`) or a seeded generated one (a size
//! distribution, an alloc/free mix and a lifetime order), and their replay with the
//! [`metrics`](super::metrics) after every operation.
//!
//! Pointers are named, so one list runs unchanged on allocators that place blocks
//! differently. A failed allocation leaves its name NULL, and freeing NULL does nothing, as in
//! C; freeing a name twice is a double free the allocator reports.

use super::metrics::{Snapshot, Summary};
use super::{by_name, name_of, AllocOutcome, Allocator, FreeError, Freed};
use crate::units::parse_bytes;
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use thiserror::Error;

/// One operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// Allocate `size` bytes, naming the pointer if `name` is given.
    Alloc {
        /// The pointer's name.
        name: Option<String>,
        /// Bytes asked for.
        size: u64,
    },
    /// Free a named pointer, displaced by `offset` bytes (a wrong pointer on purpose).
    Free {
        /// The pointer's name.
        name: String,
        /// Bytes added to the pointer (negative: before it, into the header).
        offset: i64,
    },
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Alloc {
                name: Some(n),
                size,
            } => write!(f, "{n} = alloc {size}"),
            Op::Alloc { name: None, size } => write!(f, "alloc {size}"),
            Op::Free { name, offset: 0 } => write!(f, "free {name}"),
            Op::Free { name, offset } => write!(f, "free {name}{offset:+}"),
        }
    }
}

/// An operation and the line it came from (1-based; the position for a generated one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The operation.
    pub op: Op,
    /// Its line.
    pub line: usize,
}

/// A malformed line of an operation list.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{line}: {message}")]
pub struct ParseError {
    /// The line (1-based).
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

fn is_name(s: &str) -> bool {
    let mut c = s.chars();
    c.next()
        .is_some_and(|f| f.is_ascii_alphabetic() || f == '_')
        && c.all(|x| x.is_ascii_alphanumeric() || x == '_')
}

/// Parses an operation list: one operation per line, `NAME = alloc SIZE`, `alloc SIZE`,
/// `free NAME`, or `free NAME+N` / `free NAME-N`; sizes take `K`/`M`/`G`; `#` starts a
/// comment. Every freed name must have been assigned on an earlier line.
pub fn parse(text: &str) -> Result<Vec<Line>, ParseError> {
    let mut ops = Vec::new();
    let mut names: HashMap<&str, ()> = HashMap::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let err = |message: String| ParseError { line, message };
        let body = raw.split('#').next().unwrap_or("").trim();
        if body.is_empty() {
            continue;
        }
        let (name, rest) = match body.split_once('=') {
            Some((n, r)) => {
                let n = n.trim();
                if !is_name(n) {
                    return Err(err(format!("`{n}` is not a pointer name")));
                }
                (Some(n), r.trim())
            }
            None => (None, body),
        };
        let words: Vec<&str> = rest.split_whitespace().collect();
        let op = match (words.as_slice(), name) {
            (["alloc", size], _) => {
                let size = parse_bytes(size).map_err(err)?;
                if let Some(n) = name {
                    names.insert(n, ());
                }
                Op::Alloc {
                    name: name.map(str::to_string),
                    size,
                }
            }
            (["free", target], None) => {
                let (n, offset) = match target.find(['+', '-']) {
                    Some(at) => {
                        let magnitude = parse_bytes(&target[at + 1..]).map_err(err)?;
                        let m = i64::try_from(magnitude)
                            .map_err(|_| err(format!("offset `{target}` is too large")))?;
                        (
                            &target[..at],
                            if target[at..].starts_with('-') { -m } else { m },
                        )
                    }
                    None => (*target, 0),
                };
                if !names.contains_key(n) {
                    return Err(err(format!("`{n}` was never assigned by an earlier alloc")));
                }
                Op::Free {
                    name: n.to_string(),
                    offset,
                }
            }
            (["free", ..], Some(_)) => return Err(err("free returns nothing to assign".into())),
            _ => {
                return Err(err(format!(
                    "expected `NAME = alloc SIZE`, `alloc SIZE` or `free NAME`, not `{body}`"
                )))
            }
        };
        ops.push(Line { op, line });
    }
    Ok(ops)
}

/// How generated request sizes are drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SizeDist {
    /// Always the same.
    Fixed(u64),
    /// Uniform between the bounds, inclusive.
    Uniform(u64, u64),
    /// A power of two between the bounds (powers of two), each equally likely.
    PowersOfTwo(u64, u64),
    /// Exponential with this mean, at least 1: many small requests, a few large.
    Exponential(f64),
}

impl FromStr for SizeDist {
    type Err = String;

    /// `fixed:N`, `uniform:MIN-MAX`, `pow2:MIN-MAX` or `exp:MEAN`.
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("`{s}`: expected fixed:N, uniform:MIN-MAX, pow2:MIN-MAX or exp:MEAN");
        let (kind, arg) = s.split_once(':').ok_or_else(bad)?;
        let bounds = || -> Result<(u64, u64), String> {
            let (a, b) = arg.split_once('-').ok_or_else(bad)?;
            let (a, b) = (parse_bytes(a)?, parse_bytes(b)?);
            if a > b {
                return Err(format!("`{s}`: the minimum is above the maximum"));
            }
            Ok((a, b))
        };
        match kind {
            "fixed" => Ok(SizeDist::Fixed(parse_bytes(arg)?)),
            "uniform" => bounds().map(|(a, b)| SizeDist::Uniform(a, b)),
            "pow2" => {
                let (a, b) = bounds()?;
                if !a.is_power_of_two() || !b.is_power_of_two() {
                    return Err(format!("`{s}`: the bounds must be powers of two"));
                }
                Ok(SizeDist::PowersOfTwo(a, b))
            }
            "exp" => match arg.parse::<f64>() {
                Ok(m) if m.is_finite() && m > 0.0 => Ok(SizeDist::Exponential(m)),
                _ => Err(format!("`{s}`: the mean must be a positive number")),
            },
            _ => Err(bad()),
        }
    }
}

impl SizeDist {
    fn draw(&self, rng: &mut Xoshiro256PlusPlus) -> u64 {
        match *self {
            SizeDist::Fixed(n) => n,
            SizeDist::Uniform(a, b) => rng.gen_range(a..=b),
            SizeDist::PowersOfTwo(a, b) => {
                1 << rng.gen_range(a.trailing_zeros()..=b.trailing_zeros())
            }
            SizeDist::Exponential(mean) => {
                let u: f64 = rng.gen();
                ((-mean * (1.0 - u).ln()) as u64).saturating_add(1)
            }
        }
    }
}

/// Which live pointer a generated free releases: the lifetime pattern of the program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifetime {
    /// Any live pointer, uniformly.
    Random,
    /// The oldest (first allocated, first freed: queues, buffers).
    Fifo,
    /// The youngest (last allocated, first freed: stack-like, nested scopes).
    Lifo,
}

impl Lifetime {
    /// Every pattern, with its name.
    pub const ALL: [(Lifetime, &'static str); 3] = [
        (Lifetime::Random, "random"),
        (Lifetime::Fifo, "fifo"),
        (Lifetime::Lifo, "lifo"),
    ];
}

impl FromStr for Lifetime {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        by_name(&Lifetime::ALL, s, "lifetime")
    }
}

impl fmt::Display for Lifetime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(name_of(&Lifetime::ALL, *self))
    }
}

/// A seeded generated workload.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Generate {
    /// Operations.
    pub ops: usize,
    /// Request sizes.
    pub sizes: SizeDist,
    /// Probability that an operation allocates (it always does when nothing is live).
    pub alloc_fraction: f64,
    /// Which pointer a free releases.
    pub lifetime: Lifetime,
    /// Seed: the same seed gives the same operations.
    pub seed: u64,
}

impl Generate {
    /// The operations, pointers named `p0`, `p1`, ... in allocation order.
    pub fn ops(&self) -> Vec<Line> {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(self.seed);
        let mut live: Vec<usize> = Vec::new();
        let mut next = 0;
        let mut out = Vec::with_capacity(self.ops);
        for i in 0..self.ops {
            let op = if live.is_empty() || rng.gen::<f64>() < self.alloc_fraction {
                live.push(next);
                next += 1;
                Op::Alloc {
                    name: Some(format!("p{}", next - 1)),
                    size: self.sizes.draw(&mut rng),
                }
            } else {
                let k = match self.lifetime {
                    Lifetime::Random => live.swap_remove(rng.gen_range(0..live.len())),
                    Lifetime::Fifo => live.remove(0),
                    Lifetime::Lifo => live.pop().unwrap_or(0),
                };
                Op::Free {
                    name: format!("p{k}"),
                    offset: 0,
                }
            };
            out.push(Line { op, line: i + 1 });
        }
        out
    }
}

/// What one operation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// An allocation.
    Alloc(AllocOutcome),
    /// A free of pointer `ptr`.
    Free {
        /// The pointer passed to the allocator.
        ptr: u64,
        /// What the allocator did.
        result: Result<Freed, FreeError>,
    },
    /// A free of a pointer whose allocation failed (NULL): nothing happens.
    FreeNull,
}

/// One replayed operation and the heap after it.
#[derive(Debug, Clone, Copy)]
pub struct Step<'a> {
    /// Position in the list (0-based).
    pub index: usize,
    /// The operation.
    pub line: &'a Line,
    /// What it did.
    pub outcome: Outcome,
    /// The heap after it.
    pub snapshot: Snapshot,
}

/// Runs `ops` on `a`, calling `each` after every operation with the allocator and the step,
/// and returns the totals.
pub fn replay<A: Allocator + ?Sized>(
    a: &mut A,
    ops: &[Line],
    mut each: impl FnMut(&A, &Step),
) -> Summary {
    let mut names: HashMap<&str, Option<u64>> = HashMap::new();
    let mut summary = Summary::default();
    for (index, line) in ops.iter().enumerate() {
        let outcome = match &line.op {
            Op::Alloc { name, size } => {
                let o = a.alloc(*size);
                summary.alloc(&o);
                if let Some(n) = name {
                    names.insert(n, o.block().map(|b| b.ptr()));
                }
                Outcome::Alloc(o)
            }
            Op::Free { name, offset } => match names.get(name.as_str()).copied().flatten() {
                None => Outcome::FreeNull,
                Some(p) => {
                    let ptr = p.wrapping_add_signed(*offset);
                    let result = a.free(ptr);
                    summary.free(&result);
                    Outcome::Free { ptr, result }
                }
            },
        };
        let snapshot = Snapshot::of(a);
        summary.after(&snapshot);
        each(
            a,
            &Step {
                index,
                line,
                outcome,
                snapshot,
            },
        );
    }
    summary
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alloc::{Fit, FreeList, ListOrder};

    #[test]
    fn parses_lists_and_reports_the_line() {
        let ops =
            parse("# a heap\np = alloc 100\n\nalloc 1K  # unnamed\nfree p\nfree p-4\n").unwrap();
        assert_eq!(ops.len(), 4);
        assert_eq!(
            ops[0],
            Line {
                op: Op::Alloc {
                    name: Some("p".into()),
                    size: 100
                },
                line: 2
            }
        );
        assert_eq!(
            ops[1].op,
            Op::Alloc {
                name: None,
                size: 1024
            }
        );
        assert_eq!(
            (ops[3].op.to_string(), ops[3].line),
            ("free p-4".to_string(), 6)
        );
        let e = |t: &str| parse(t).unwrap_err();
        assert_eq!(e("p = alloc 1\nfree q").line, 2);
        assert!(e("free q").message.contains("never assigned"));
        assert!(e("p = alloc lots").message.contains("invalid size"));
        assert!(e("p = free q").message.contains("assign"));
        assert!(e("9p = alloc 1").message.contains("not a pointer name"));
        assert!(e("malloc 3").message.contains("expected"));
    }

    #[test]
    fn sizes_parse_and_stay_in_bounds() {
        assert_eq!("uniform:8-1K".parse(), Ok(SizeDist::Uniform(8, 1024)));
        assert_eq!("fixed:64".parse(), Ok(SizeDist::Fixed(64)));
        assert!("pow2:3-64".parse::<SizeDist>().is_err());
        assert!("uniform:9-8".parse::<SizeDist>().is_err());
        assert!("exp:-1".parse::<SizeDist>().is_err());
        assert!("zipf:3".parse::<SizeDist>().is_err());
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        for _ in 0..1000 {
            let n = SizeDist::PowersOfTwo(16, 256).draw(&mut rng);
            assert!(n.is_power_of_two() && (16..=256).contains(&n));
            assert!((8..=12).contains(&SizeDist::Uniform(8, 12).draw(&mut rng)));
            assert!(SizeDist::Exponential(4.0).draw(&mut rng) >= 1);
        }
    }

    #[test]
    fn generated_workloads_follow_their_lifetime_and_seed() {
        let g = Generate {
            ops: 200,
            sizes: SizeDist::Fixed(8),
            alloc_fraction: 0.5,
            lifetime: Lifetime::Fifo,
            seed: 7,
        };
        let ops = g.ops();
        assert_eq!(ops, g.ops(), "same seed, same workload");
        assert_ne!(ops, Generate { seed: 8, ..g }.ops());
        assert_eq!("lifo".parse(), Ok(Lifetime::Lifo));
        assert_eq!(Lifetime::Fifo.to_string(), "fifo");
        assert!("lru".parse::<Lifetime>().is_err());
        // FIFO frees pointers in allocation order; LIFO always the latest live one.
        let freed: Vec<String> = ops
            .iter()
            .filter_map(|l| match &l.op {
                Op::Free { name, .. } => Some(name.clone()),
                _ => None,
            })
            .collect();
        let expect: Vec<String> = (0..freed.len()).map(|i| format!("p{i}")).collect();
        assert_eq!(freed, expect);
        let lifo = Generate {
            lifetime: Lifetime::Lifo,
            ..g
        }
        .ops();
        let mut stack = Vec::new();
        for l in &lifo {
            match &l.op {
                Op::Alloc { name, .. } => stack.push(name.clone().unwrap()),
                Op::Free { name, .. } => assert_eq!(Some(name.clone()), stack.pop()),
            }
        }
    }

    #[test]
    fn replay_names_pointers_and_reports_errors() {
        let ops = parse("a = alloc 10\nb = alloc 200\nfree b\nfree a+1\nfree a\nfree a").unwrap();
        let mut f = FreeList::new(0, 100, Fit::First, ListOrder::Address, true, 0, None);
        let mut seen = Vec::new();
        let s = replay(&mut f, &ops, |_, st| seen.push(st.outcome));
        assert_eq!(
            seen[1],
            Outcome::Alloc(AllocOutcome::Failed {
                reason: crate::alloc::AllocFailure::NoFit,
                searched: 1
            })
        );
        assert_eq!(seen[2], Outcome::FreeNull);
        assert_eq!(
            seen[3],
            Outcome::Free {
                ptr: 1,
                result: Err(FreeError::Interior { ptr: 1, block: 0 })
            }
        );
        assert!(matches!(
            seen[4],
            Outcome::Free {
                ptr: 0,
                result: Ok(_)
            }
        ));
        assert_eq!(
            seen[5],
            Outcome::Free {
                ptr: 0,
                result: Err(FreeError::DoubleFree { ptr: 0 })
            }
        );
        assert_eq!(
            (s.ops, s.allocs, s.failures, s.frees, s.bad_frees),
            (6, 2, 1, 1, 2)
        );
    }
}
