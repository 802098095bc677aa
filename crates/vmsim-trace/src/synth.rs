//! Synthetic page streams, seeded and reproducible: the workloads replacement and working-set
//! studies are built on.
//!
//! A workload is written as a spec: `NAME[:KEY=VALUE,...]`, or a mixture of specs joined with
//! `+`, each optionally weighted `W*` (`0.9*zipf:pages=1000+0.1*seq`). Counts take `k`, `M`
//! and `G` suffixes (powers of ten) and `_` separators. Every pattern takes `base=P` (its first
//! page) and `writes=F` (the fraction of references that write, default 0).
//!
//! | name | references | keys |
//! | --- | --- | --- |
//! | `seq` | a scan: base, base+1, ... (wrapping after `pages` when given) | `pages` |
//! | `loop` | a loop over `pages` pages, in order | `pages` (required) |
//! | `uniform` | independent, uniform over `pages` pages | `pages` (required) |
//! | `zipf` | independent, page base+r−1 has probability ∝ 1/r^α | `pages` (required), `alpha` (1.0) |
//! | `hotcold` | a fraction `hot` of the pages gets a fraction `p` of the references, uniform within each part | `pages` (required), `hot` (0.2), `p` (0.8) |
//! | `phases` | uniform over a working set of `ws` pages that moves by `shift` pages every `len` references | `ws` (required), `len` (required), `shift` (`ws`) |
//!
//! In a mixture each reference picks a component by weight and draws from it; each component
//! keeps its own position (a scan continues where it left off).
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Zipf};
use rand_xoshiro::Xoshiro256PlusPlus;
use thiserror::Error;

use crate::pages::PageRef;

/// A workload spec could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("workload `{spec}`: {message}")]
pub struct SpecError {
    /// The part of the spec at fault.
    pub spec: String,
    /// What is wrong.
    pub message: String,
}

/// One access pattern.
#[derive(Debug, Clone, PartialEq)]
pub enum Pattern {
    /// A scan of increasing pages, wrapping after `pages` if given.
    Seq {
        /// Pages before wrapping around.
        pages: Option<u64>,
    },
    /// The same `pages` pages in order, over and over.
    Loop {
        /// Pages in the loop.
        pages: u64,
    },
    /// Independent uniform references over `pages` pages.
    Uniform {
        /// Pages.
        pages: u64,
    },
    /// Independent references where the page of rank r has probability ∝ 1/r^alpha.
    Zipf {
        /// Pages.
        pages: u64,
        /// Skew (0 is uniform).
        alpha: f64,
    },
    /// A hot part of the pages gets most references.
    HotCold {
        /// Pages.
        pages: u64,
        /// Fraction of the pages that are hot.
        hot: f64,
        /// Fraction of the references that go to hot pages.
        p: f64,
    },
    /// A uniform working set of `ws` pages that moves by `shift` every `len` references.
    Phases {
        /// Working-set size in pages.
        ws: u64,
        /// References per phase.
        len: u64,
        /// Pages the working set moves by at each phase change.
        shift: u64,
    },
}

/// A pattern placed at a base page, with a write fraction and a mixture weight.
#[derive(Debug, Clone, PartialEq)]
pub struct Component {
    /// What it references.
    pub pattern: Pattern,
    /// Its first page.
    pub base: u64,
    /// Fraction of its references that write.
    pub writes: f64,
    /// Relative weight in a mixture.
    pub weight: f64,
}

/// A workload: one component or a mixture.
#[derive(Debug, Clone, PartialEq)]
pub struct Workload {
    /// The components (at least one).
    pub components: Vec<Component>,
}

fn count(key: &str, v: &str) -> Result<u64, String> {
    parse_count(v).map_err(|e| format!("{key}={e}"))
}

/// Parses a count: digits with `_` separators and an optional `k`, `M` or `G` suffix (powers
/// of ten, as cache studies count requests and keys).
pub fn parse_count(v: &str) -> Result<u64, String> {
    let t = v.replace('_', "");
    let (digits, mult) = match t.as_bytes().last() {
        Some(b'k' | b'K') => (&t[..t.len() - 1], 1_000),
        Some(b'M') => (&t[..t.len() - 1], 1_000_000),
        Some(b'G') => (&t[..t.len() - 1], 1_000_000_000),
        _ => (&t[..], 1),
    };
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .ok_or_else(|| format!("`{v}` is not a count (e.g. 1000, 64k, 1M)"))
}

fn fraction(key: &str, v: &str) -> Result<f64, String> {
    match v.parse::<f64>() {
        Ok(f) if (0.0..=1.0).contains(&f) => Ok(f),
        _ => Err(format!("{key}=`{v}` must be a number from 0 to 1")),
    }
}

fn positive(key: &str, n: u64) -> Result<u64, String> {
    if n == 0 {
        Err(format!("{key} must be at least 1"))
    } else {
        Ok(n)
    }
}

/// The keys of one `NAME:k=v,...` term.
struct Keys<'a> {
    pairs: Vec<(&'a str, &'a str)>,
    used: Vec<bool>,
}

impl<'a> Keys<'a> {
    fn parse(s: &'a str) -> Result<Self, String> {
        let mut pairs = Vec::new();
        for kv in s.split(',').map(str::trim).filter(|kv| !kv.is_empty()) {
            let (k, v) = kv
                .split_once('=')
                .ok_or_else(|| format!("`{kv}` is not KEY=VALUE"))?;
            if pairs.iter().any(|&(seen, _)| seen == k.trim()) {
                return Err(format!("`{}` given twice", k.trim()));
            }
            pairs.push((k.trim(), v.trim()));
        }
        let used = vec![false; pairs.len()];
        Ok(Keys { pairs, used })
    }

    fn get(&mut self, key: &str) -> Option<&'a str> {
        let i = self.pairs.iter().position(|&(k, _)| k == key)?;
        self.used[i] = true;
        Some(self.pairs[i].1)
    }

    fn count(&mut self, key: &str) -> Result<Option<u64>, String> {
        self.get(key).map(|v| count(key, v)).transpose()
    }

    fn required(&mut self, key: &str) -> Result<u64, String> {
        let n = self.count(key)?.ok_or_else(|| format!("needs {key}=N"))?;
        positive(key, n)
    }

    fn fraction(&mut self, key: &str, default: f64) -> Result<f64, String> {
        self.get(key).map_or(Ok(default), |v| fraction(key, v))
    }

    fn done(self, name: &str) -> Result<(), String> {
        match self.used.iter().position(|u| !u) {
            Some(i) => Err(format!("{name} takes no key `{}`", self.pairs[i].0)),
            None => Ok(()),
        }
    }
}

fn component(term: &str) -> Result<Component, String> {
    let (weight, spec) = match term.split_once('*') {
        Some((w, s)) => match w.trim().parse::<f64>() {
            Ok(w) if w > 0.0 && w.is_finite() => (w, s.trim()),
            _ => return Err(format!("weight `{}` must be a positive number", w.trim())),
        },
        None => (1.0, term),
    };
    let (name, rest) = spec.split_once(':').unwrap_or((spec, ""));
    let mut k = Keys::parse(rest)?;
    let pattern = match name.trim() {
        "seq" => Pattern::Seq {
            pages: k
                .count("pages")?
                .map(|n| positive("pages", n))
                .transpose()?,
        },
        "loop" => Pattern::Loop {
            pages: k.required("pages")?,
        },
        "uniform" => Pattern::Uniform {
            pages: k.required("pages")?,
        },
        "zipf" => {
            let pages = k.required("pages")?;
            let alpha = match k.get("alpha") {
                None => 1.0,
                Some(v) => match v.parse::<f64>() {
                    Ok(a) if a >= 0.0 && a.is_finite() => a,
                    _ => return Err(format!("alpha=`{v}` must be a number >= 0")),
                },
            };
            Pattern::Zipf { pages, alpha }
        }
        "hotcold" => Pattern::HotCold {
            pages: k.required("pages")?,
            hot: k.fraction("hot", 0.2)?,
            p: k.fraction("p", 0.8)?,
        },
        "phases" => {
            let ws = k.required("ws")?;
            let len = k.required("len")?;
            let shift = k.count("shift")?.unwrap_or(ws);
            Pattern::Phases { ws, len, shift }
        }
        other => {
            return Err(format!(
                "unknown pattern `{other}` (known: seq, loop, uniform, zipf, hotcold, phases)"
            ))
        }
    };
    let base = k.count("base")?.unwrap_or(0);
    let writes = k.fraction("writes", 0.0)?;
    k.done(name.trim())?;
    Ok(Component {
        pattern,
        base,
        writes,
        weight,
    })
}

impl std::str::FromStr for Workload {
    type Err = SpecError;
    fn from_str(s: &str) -> Result<Self, SpecError> {
        let components = s
            .split('+')
            .map(|term| {
                component(term.trim()).map_err(|message| SpecError {
                    spec: term.trim().to_string(),
                    message,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let w = Workload { components };
        // Bounded patterns must fit whatever the count.
        w.check_fits(1)?;
        for c in &w.components {
            if !matches!(
                c.pattern,
                Pattern::Seq { pages: None } | Pattern::Phases { .. }
            ) {
                c.span(u64::MAX)
                    .and_then(|s| c.base.checked_add(s))
                    .ok_or_else(|| SpecError {
                        spec: format!("base={:#x}", c.base),
                        message: "its pages run past page 0xffffffffffffffff: lower the base"
                            .into(),
                    })?;
            }
        }
        Ok(w)
    }
}

impl Component {
    /// The largest page, relative to the base, that `count` references can reach (None when
    /// it does not fit in 64 bits). Bounded patterns stay below their `pages`; an unbounded
    /// scan advances one page a reference, and phases move by `shift` every `len`.
    pub fn span(&self, count: u64) -> Option<u64> {
        let last = count.saturating_sub(1);
        match self.pattern {
            Pattern::Seq { pages: Some(p) } => Some(p.min(count).saturating_sub(1)),
            Pattern::Seq { pages: None } => Some(last),
            Pattern::Loop { pages }
            | Pattern::Uniform { pages }
            | Pattern::Zipf { pages, .. }
            | Pattern::HotCold { pages, .. } => Some(pages.saturating_sub(1)),
            Pattern::Phases { ws, len, shift } => (last / len.max(1))
                .checked_mul(shift)?
                .checked_add(ws.saturating_sub(1)),
        }
    }
}

impl Workload {
    /// Refuses a workload whose first `count` references could run past page 2^64 − 1 (they
    /// would wrap to page 0): `seq:base=18446744073709551615` with more than one reference.
    pub fn check_fits(&self, count: u64) -> Result<(), SpecError> {
        for c in &self.components {
            let fits = c.span(count).and_then(|s| c.base.checked_add(s)).is_some();
            if !fits {
                return Err(SpecError {
                    spec: format!("base={:#x}", c.base),
                    message: format!(
                        "{count} references would run past page 0xffffffffffffffff and wrap \
                         to page 0: lower the base or the count"
                    ),
                });
            }
        }
        Ok(())
    }
}

/// The per-component state of a running generator.
#[derive(Debug, Clone)]
enum Source {
    Seq {
        next: u64,
        wrap: Option<u64>,
    },
    Loop {
        next: u64,
        pages: u64,
    },
    Uniform {
        pages: u64,
    },
    Zipf(Zipf<f64>),
    HotCold {
        hot: u64,
        cold: u64,
        p: f64,
    },
    Phases {
        ws: u64,
        len: u64,
        shift: u64,
        t: u64,
    },
}

impl Source {
    fn new(p: &Pattern) -> Self {
        match *p {
            Pattern::Seq { pages } => Source::Seq {
                next: 0,
                wrap: pages,
            },
            Pattern::Loop { pages } => Source::Loop { next: 0, pages },
            Pattern::Uniform { pages } => Source::Uniform { pages },
            Pattern::Zipf { pages, alpha } => {
                Source::Zipf(Zipf::new(pages, alpha).expect("pages >= 1 and alpha >= 0 checked"))
            }
            Pattern::HotCold { pages, hot, p } => {
                let hot = ((pages as f64 * hot).round() as u64).min(pages);
                Source::HotCold {
                    hot,
                    cold: pages - hot,
                    p,
                }
            }
            Pattern::Phases { ws, len, shift } => Source::Phases {
                ws,
                len,
                shift,
                t: 0,
            },
        }
    }

    /// The next page, relative to the component's base.
    #[inline]
    fn next<R: Rng>(&mut self, rng: &mut R) -> u64 {
        match self {
            Source::Seq { next, wrap } => {
                let p = *next;
                *next += 1;
                if Some(*next) == *wrap {
                    *next = 0;
                }
                p
            }
            Source::Loop { next, pages } => {
                let p = *next;
                *next = (*next + 1) % *pages;
                p
            }
            Source::Uniform { pages } => rng.gen_range(0..*pages),
            Source::Zipf(z) => z.sample(rng) as u64 - 1,
            Source::HotCold { hot, cold, p } => {
                let to_hot = *cold == 0 || (*hot > 0 && rng.gen_bool(*p));
                if to_hot {
                    rng.gen_range(0..*hot)
                } else {
                    *hot + rng.gen_range(0..*cold)
                }
            }
            Source::Phases { ws, len, shift, t } => {
                let phase = *t / *len;
                *t += 1;
                phase.wrapping_mul(*shift) + rng.gen_range(0..*ws)
            }
        }
    }
}

/// An endless, seeded stream of page references drawn from a [`Workload`].
#[derive(Debug, Clone)]
pub struct Generator {
    sources: Vec<(Source, u64, f64)>,
    /// Cumulative weights, normalised so the last is 1.
    cumulative: Vec<f64>,
    rng: Xoshiro256PlusPlus,
}

impl Generator {
    /// A generator of `w` seeded with `seed`.
    pub fn new(w: &Workload, seed: u64) -> Self {
        let total: f64 = w.components.iter().map(|c| c.weight).sum();
        let mut acc = 0.0;
        let cumulative = w
            .components
            .iter()
            .map(|c| {
                acc += c.weight / total;
                acc
            })
            .collect();
        Generator {
            sources: w
                .components
                .iter()
                .map(|c| (Source::new(&c.pattern), c.base, c.writes))
                .collect(),
            cumulative,
            rng: Xoshiro256PlusPlus::seed_from_u64(seed),
        }
    }
}

impl Iterator for Generator {
    type Item = PageRef;

    #[inline]
    fn next(&mut self) -> Option<PageRef> {
        let i = if self.sources.len() == 1 {
            0
        } else {
            let u: f64 = self.rng.gen();
            self.cumulative
                .iter()
                .position(|&c| u < c)
                .unwrap_or(self.sources.len() - 1)
        };
        let (src, base, writes) = &mut self.sources[i];
        let page = base.wrapping_add(src.next(&mut self.rng));
        let write = *writes > 0.0 && self.rng.gen_bool(*writes);
        Some((page, write))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn take(spec: &str, n: usize, seed: u64) -> Vec<PageRef> {
        Generator::new(&spec.parse().unwrap(), seed)
            .take(n)
            .collect()
    }

    fn pages(spec: &str, n: usize) -> Vec<u64> {
        take(spec, n, 1).into_iter().map(|r| r.0).collect()
    }

    #[test]
    fn deterministic_patterns() {
        assert_eq!(pages("seq", 4), [0, 1, 2, 3]);
        assert_eq!(pages("seq:pages=3,base=10", 5), [10, 11, 12, 10, 11]);
        // Pages never wrap past 2^64 - 1 to page 0.
        let top: Workload = "seq:base=18446744073709551615".parse().unwrap();
        assert!(top.check_fits(1).is_ok());
        let e = top.check_fits(3).unwrap_err().to_string();
        assert!(e.contains("wrap to page 0"), "{e}");
        let near: Workload = "seq:base=18446744073709551613".parse().unwrap();
        assert!(near.check_fits(3).is_ok() && near.check_fits(4).is_err());
        assert!("uniform:pages=10,base=18446744073709551610"
            .parse::<Workload>()
            .is_err());
        assert!("uniform:pages=10,base=18446744073709551606"
            .parse::<Workload>()
            .is_ok());
        let ph: Workload = "phases:ws=4,len=10,shift=18446744073709551615"
            .parse()
            .unwrap();
        assert!(ph.check_fits(10).is_ok() && ph.check_fits(11).is_err());
        assert_eq!(pages("loop:pages=2", 5), [0, 1, 0, 1, 0]);
        let ph = pages("phases:ws=4,len=10,shift=100", 30);
        assert!(ph[..10].iter().all(|&p| p < 4));
        assert!(ph[10..20].iter().all(|&p| (100..104).contains(&p)));
        assert!(ph[20..].iter().all(|&p| (200..204).contains(&p)));
    }

    #[test]
    fn random_patterns_stay_in_range_and_repeat_under_a_seed() {
        for spec in [
            "uniform:pages=50",
            "zipf:pages=50,alpha=0.8",
            "hotcold:pages=50",
        ] {
            let v = pages(spec, 10_000);
            assert!(v.iter().all(|&p| p < 50), "{spec}");
            assert_eq!(v.iter().collect::<HashSet<_>>().len(), 50, "{spec}");
            assert_eq!(take(spec, 100, 3), take(spec, 100, 3));
            assert_ne!(take(spec, 100, 3), take(spec, 100, 4));
        }
    }

    #[test]
    fn skew_and_shares() {
        let z = pages("zipf:pages=1000,alpha=1.0", 200_000);
        let top = z.iter().filter(|&&p| p == 0).count() as f64 / z.len() as f64;
        // H(1000) = 7.485..., so page 0 gets 1/7.485 = 13.4% of the references.
        assert!((top - 0.1336).abs() < 0.01, "{top}");
        let h = pages("hotcold:pages=100,hot=0.1,p=0.9", 100_000);
        let hot = h.iter().filter(|&&p| p < 10).count() as f64 / h.len() as f64;
        assert!((hot - 0.9).abs() < 0.01, "{hot}");
        let w = take("uniform:pages=10,writes=0.25", 100_000, 1);
        let wf = w.iter().filter(|r| r.1).count() as f64 / w.len() as f64;
        assert!((wf - 0.25).abs() < 0.01, "{wf}");
        let m = pages("3*loop:pages=4 + 1*seq:base=1000", 40_000);
        let from_seq = m.iter().filter(|&&p| p >= 1000).count() as f64 / m.len() as f64;
        assert!((from_seq - 0.25).abs() < 0.01, "{from_seq}");
        // The scan continues where it left off between picks.
        let scan: Vec<u64> = m.iter().copied().filter(|&p| p >= 1000).collect();
        assert!(scan.windows(2).all(|w| w[1] == w[0] + 1));
    }

    #[test]
    fn bad_specs() {
        let err = |s: &str| s.parse::<Workload>().unwrap_err().to_string();
        assert!(err("zipf").contains("needs pages=N"));
        assert!(err("zipf:pages=0").contains("at least 1"));
        assert!(err("zipf:pages=10,alpha=-1").contains("alpha"));
        assert!(err("lru:pages=3").contains("unknown pattern `lru`"));
        assert!(err("loop:pages=3,colour=red").contains("no key `colour`"));
        assert!(err("loop:pages=3,pages=4").contains("given twice"));
        assert!(err("loop:pages").contains("not KEY=VALUE"));
        assert!(err("uniform:pages=1x").contains("not a count"));
        assert!(err("hotcold:pages=9,p=2").contains("from 0 to 1"));
        assert!(err("0*seq").contains("positive"));
        assert_eq!(
            "zipf:pages=1M".parse::<Workload>().unwrap().components[0].pattern,
            Pattern::Zipf {
                pages: 1_000_000,
                alpha: 1.0
            }
        );
    }
}
