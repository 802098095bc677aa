//! Command lines as Python's optparse reads them for these simulators: short flags with the
//! value attached (`-s3`) or next (`-s 3`, even `-s -3`), long flags (`--seed=3`), boolean
//! flags, and optparse's integer syntax (sign, `0x`, `0b`, leading-zero octal). String flags
//! are converted later by each simulator, the way it does (`convert`, `int()`).

use crate::pyrandom::BigInt;
use std::collections::HashMap;

/// What a flag takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An integer (optparse `type="int"`).
    Int,
    /// A string.
    Str,
    /// No value (`action="store_true"`).
    Flag,
}

/// One option of a simulator.
#[derive(Debug, Clone, Copy)]
pub struct Opt {
    /// Short name.
    pub short: char,
    /// Long name without dashes.
    pub long: &'static str,
    /// Kind.
    pub kind: Kind,
    /// Default (as text); flags default to false.
    pub default: &'static str,
}

impl Opt {
    /// An integer option.
    pub const fn int(short: char, long: &'static str, default: &'static str) -> Self {
        Opt {
            short,
            long,
            kind: Kind::Int,
            default,
        }
    }

    /// A string option.
    pub const fn text(short: char, long: &'static str, default: &'static str) -> Self {
        Opt {
            short,
            long,
            kind: Kind::Str,
            default,
        }
    }

    /// A boolean flag.
    pub const fn flag(short: char, long: &'static str) -> Self {
        Opt {
            short,
            long,
            kind: Kind::Flag,
            default: "",
        }
    }
}

/// Parsed options: the text of each value (defaults filled in) and the flags set.
#[derive(Debug, Clone)]
pub struct Parsed {
    values: HashMap<char, String>,
    flags: HashMap<char, bool>,
}

impl Parsed {
    /// The text of option `c`.
    pub fn str(&self, c: char) -> &str {
        self.values.get(&c).map_or("", String::as_str)
    }

    /// Whether flag `c` was given.
    pub fn flag(&self, c: char) -> bool {
        self.flags.get(&c).copied().unwrap_or(false)
    }

    /// Integer option `c` (already validated by [`parse`]).
    pub fn big(&self, c: char) -> BigInt {
        parse_optparse_int(self.str(c)).unwrap_or_default()
    }

    /// Integer option `c` as an `i64` (saturating for absurd values).
    pub fn int(&self, c: char) -> i64 {
        let b = self.big(c);
        b.to_i64()
            .unwrap_or(if b.negative { i64::MIN } else { i64::MAX })
    }
}

/// optparse's integer parsing: `int(val, radix)` with the radix from the prefix.
pub fn parse_optparse_int(s: &str) -> Option<BigInt> {
    let lower = s.to_ascii_lowercase();
    let (radix, digits) = if lower.starts_with("0x") {
        (16, &s[2..])
    } else if lower.starts_with("0b") {
        let d = &s[2..];
        (2, if d.is_empty() { "0" } else { d })
    } else if s.starts_with('0') {
        (8, s)
    } else {
        (10, s)
    };
    py_int(digits, radix)
}

/// Python's `int(text, radix)`: surrounding blanks, an optional sign, `_` between digits; with
/// radix 16 an optional `0x` after the sign.
pub fn py_int(s: &str, radix: u32) -> Option<BigInt> {
    let t = s.trim_matches(|c: char| c.is_whitespace());
    let (neg, t) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let t = if radix == 16 {
        t.strip_prefix("0x")
            .or_else(|| t.strip_prefix("0X"))
            .map(|r| r.strip_prefix('_').unwrap_or(r))
            .unwrap_or(t)
    } else if radix == 8 && t.len() > 1 {
        // int("0o17", 8) is valid too; a plain leading zero is just a digit.
        t.strip_prefix("0o")
            .or_else(|| t.strip_prefix("0O"))
            .unwrap_or(t)
    } else {
        t
    };
    let mut b = BigInt::parse_digits(t, radix)?;
    b.negative = neg && !b.words.is_empty();
    Some(b)
}

/// Parses `args` against `opts`; `Err` is optparse's usage error.
pub fn parse(args: &[String], opts: &[Opt]) -> Result<Parsed, String> {
    let mut p = Parsed {
        values: opts
            .iter()
            .filter(|o| o.kind != Kind::Flag)
            .map(|o| (o.short, o.default.to_string()))
            .collect(),
        flags: HashMap::new(),
    };
    let set = |o: &Opt, v: String, p: &mut Parsed| -> Result<(), String> {
        if o.kind == Kind::Int && parse_optparse_int(&v).is_none() {
            return Err(format!("option -{}: invalid integer value: '{v}'", o.short));
        }
        p.values.insert(o.short, v);
        Ok(())
    };
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        i += 1;
        if let Some(long) = a.strip_prefix("--") {
            if long.is_empty() {
                break; // "--" ends options
            }
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (long, None),
            };
            let o = opts
                .iter()
                .find(|o| o.long == name)
                .ok_or_else(|| format!("no such option: --{name}"))?;
            if o.kind == Kind::Flag {
                if inline.is_some() {
                    return Err(format!("--{name} option does not take a value"));
                }
                p.flags.insert(o.short, true);
            } else {
                let v = match inline {
                    Some(v) => v,
                    None => {
                        let v = args
                            .get(i)
                            .ok_or_else(|| format!("--{name} option requires an argument"))?;
                        i += 1;
                        v.clone()
                    }
                };
                set(o, v, &mut p)?;
            }
        } else if a.len() > 1 && a.starts_with('-') {
            for (pos, c) in a[1..].char_indices() {
                let o = opts
                    .iter()
                    .find(|o| o.short == c)
                    .ok_or_else(|| format!("no such option: -{c}"))?;
                if o.kind == Kind::Flag {
                    p.flags.insert(c, true);
                    continue;
                }
                let rest = &a[1 + pos + c.len_utf8()..];
                let v = if !rest.is_empty() {
                    rest.to_string()
                } else {
                    let v = args
                        .get(i)
                        .ok_or_else(|| format!("-{c} option requires an argument"))?;
                    i += 1;
                    v.clone()
                };
                set(o, v, &mut p)?;
                break;
            }
        }
        // Positional arguments are accepted and ignored, as the simulators ignore them.
    }
    Ok(p)
}

/// Why a simulator's own conversion of a value failed (the Python exception it raises).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConvertError {
    /// `int()` rejected the text.
    Value,
    /// An empty string was indexed.
    Index,
}

impl ConvertError {
    /// The schema's error code.
    pub fn code(self) -> &'static str {
        match self {
            ConvertError::Value => "exception:ValueError",
            ConvertError::Index => "exception:IndexError",
        }
    }
}

/// The simulators' `convert(size)`: an optional k/m/g suffix (either case) on a decimal
/// `int()`.
pub fn convert(s: &str) -> Result<i64, ConvertError> {
    let last = s.chars().last().ok_or(ConvertError::Index)?;
    let (num, mul) = match last {
        'k' | 'K' => (&s[..s.len() - 1], 1024i64),
        'm' | 'M' => (&s[..s.len() - 1], 1024 * 1024),
        'g' | 'G' => (&s[..s.len() - 1], 1024 * 1024 * 1024),
        _ => (s, 1),
    };
    let b = py_int(num, 10).ok_or(ConvertError::Value)?;
    b.to_i64()
        .and_then(|v| v.checked_mul(mul))
        .ok_or(ConvertError::Value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn optparse_ints() {
        let v = |s: &str| parse_optparse_int(s).and_then(|b| b.to_i64());
        assert_eq!(v("010"), Some(8));
        assert_eq!(v("0x1f"), Some(31));
        assert_eq!(v("0b101"), Some(5));
        assert_eq!(v("-3"), Some(-3));
        assert_eq!(v("08"), None);
        assert_eq!(v("1_000"), Some(1000));
        assert_eq!(v("abc"), None);
        assert_eq!(convert("16k"), Ok(16384));
        assert_eq!(convert(" 2 "), Ok(2));
        assert_eq!(convert(""), Err(ConvertError::Index));
        assert_eq!(convert("1.5k"), Err(ConvertError::Value));
    }

    #[test]
    fn command_lines() {
        let opts = [
            Opt::int('s', "seed", "0"),
            Opt::text('a', "asize", "1k"),
            Opt::flag('c', "compute"),
        ];
        let a = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let p = parse(&a(&["-s3", "-a", "-1", "-c"]), &opts).unwrap();
        assert_eq!((p.int('s'), p.str('a'), p.flag('c')), (3, "-1", true));
        let p = parse(&a(&["--seed=7", "--asize", "2k"]), &opts).unwrap();
        assert_eq!((p.int('s'), p.str('a')), (7, "2k"));
        assert!(parse(&a(&["-x"]), &opts).is_err());
        assert!(parse(&a(&["-s", "q"]), &opts).is_err());
        assert!(parse(&a(&["-s"]), &opts).is_err());
    }
}
