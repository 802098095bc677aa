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
    /// The value's name in `-h` (optparse's upper-cased `dest`).
    pub metavar: &'static str,
    /// The script's help text for `-h`.
    pub help: &'static str,
}

impl Opt {
    /// An integer option.
    pub const fn int(short: char, long: &'static str, default: &'static str) -> Self {
        Opt {
            short,
            long,
            kind: Kind::Int,
            default,
            metavar: "",
            help: "",
        }
    }

    /// A string option.
    pub const fn text(short: char, long: &'static str, default: &'static str) -> Self {
        Opt {
            short,
            long,
            kind: Kind::Str,
            default,
            metavar: "",
            help: "",
        }
    }

    /// A boolean flag.
    pub const fn flag(short: char, long: &'static str) -> Self {
        Opt {
            short,
            long,
            kind: Kind::Flag,
            default: "",
            metavar: "",
            help: "",
        }
    }

    /// The same option with the script's `-h` text: its value's name and its help.
    pub const fn doc(self, metavar: &'static str, help: &'static str) -> Self {
        Opt {
            metavar,
            help,
            ..self
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

/// Why optparse stopped before the script ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// `-h`/`--help`: optparse prints the help and exits 0.
    Help,
    /// A usage error (exit 2), with optparse's message.
    Usage(String),
}

/// Parses `args` against `opts`; `Err` is optparse's usage error (`-h` counts as one here).
pub fn parse(args: &[String], opts: &[Opt]) -> Result<Parsed, String> {
    parse_or_help(args, opts).map_err(|e| match e {
        Stop::Help => "-h asks for help".to_string(),
        Stop::Usage(m) => m,
    })
}

/// optparse's `_match_abbrev`: an exact long name, else the one long name `name` begins.
fn long_option<'a>(name: &str, opts: &'a [Opt]) -> Result<Option<&'a Opt>, Stop> {
    if name == "help" {
        return Ok(None);
    }
    if let Some(o) = opts.iter().find(|o| !o.long.is_empty() && o.long == name) {
        return Ok(Some(o));
    }
    let mut hits: Vec<&str> = std::iter::once("help")
        .chain(opts.iter().map(|o| o.long).filter(|l| !l.is_empty()))
        .filter(|l| l.starts_with(name))
        .collect();
    match hits.len() {
        0 => Err(Stop::Usage(format!("no such option: --{name}"))),
        1 if hits[0] == "help" => Ok(None),
        1 => Ok(opts.iter().find(|o| o.long == hits[0])),
        _ => {
            hits.sort_unstable();
            let names: Vec<String> = hits.iter().map(|h| format!("--{h}")).collect();
            Err(Stop::Usage(format!(
                "ambiguous option: --{name} ({}?)",
                names.join(", ")
            )))
        }
    }
}

/// Parses `args` as optparse does, left to right: `-h` or `--help` (or a prefix of it) stops
/// with [`Stop::Help`], the first bad option with [`Stop::Usage`].
pub fn parse_or_help(args: &[String], opts: &[Opt]) -> Result<Parsed, Stop> {
    let mut p = Parsed {
        values: opts
            .iter()
            .filter(|o| o.kind != Kind::Flag)
            .map(|o| (o.short, o.default.to_string()))
            .collect(),
        flags: HashMap::new(),
    };
    let set = |o: &Opt, shown: &str, v: String, p: &mut Parsed| -> Result<(), Stop> {
        if o.kind == Kind::Int && parse_optparse_int(&v).is_none() {
            return Err(Stop::Usage(format!(
                "option {shown}: invalid integer value: '{v}'"
            )));
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
            let Some(o) = long_option(name, opts)? else {
                if inline.is_some() {
                    return Err(Stop::Usage("--help option does not take a value".into()));
                }
                return Err(Stop::Help);
            };
            let shown = format!("--{}", o.long);
            if o.kind == Kind::Flag {
                if inline.is_some() {
                    return Err(Stop::Usage(format!("{shown} option does not take a value")));
                }
                p.flags.insert(o.short, true);
            } else {
                let v = match inline {
                    Some(v) => v,
                    None => {
                        let v = args.get(i).ok_or_else(|| {
                            Stop::Usage(format!("{shown} option requires 1 argument"))
                        })?;
                        i += 1;
                        v.clone()
                    }
                };
                set(o, &shown, v, &mut p)?;
            }
        } else if a.len() > 1 && a.starts_with('-') {
            for (pos, c) in a[1..].char_indices() {
                if c == 'h' {
                    return Err(Stop::Help);
                }
                let o = opts
                    .iter()
                    .find(|o| o.short == c)
                    .ok_or_else(|| Stop::Usage(format!("no such option: -{c}")))?;
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
                        .ok_or_else(|| Stop::Usage(format!("-{c} option requires 1 argument")))?;
                    i += 1;
                    v.clone()
                };
                set(o, &format!("-{c}"), v, &mut p)?;
                break;
            }
        }
        // Positional arguments are accepted and ignored, as the simulators ignore them.
    }
    Ok(p)
}

/// optparse's `print_help()` for a script named `prog` with these options, wrapped for a
/// terminal `columns` wide (optparse reads `COLUMNS`, else 80).
pub fn help(prog: &str, opts: &[Opt], columns: usize) -> String {
    let width = columns.saturating_sub(2).max(11);
    let names = |o: &Opt| -> String {
        let mut v = Vec::new();
        let meta = if o.kind == Kind::Flag {
            String::new()
        } else {
            o.metavar.to_string()
        };
        if o.short != '\0' {
            v.push(if meta.is_empty() {
                format!("-{}", o.short)
            } else {
                format!("-{} {meta}", o.short)
            });
        }
        if !o.long.is_empty() {
            v.push(if meta.is_empty() {
                format!("--{}", o.long)
            } else {
                format!("--{}={meta}", o.long)
            });
        }
        v.join(", ")
    };
    let help_opt = Opt::flag('h', "help").doc("", "show this help message and exit");
    let all: Vec<(String, &str)> = std::iter::once(&help_opt)
        .chain(opts.iter())
        .map(|o| (names(o), o.help))
        .collect();
    let max_len = all.iter().map(|(n, _)| n.len() + 2).max().unwrap_or(0);
    let help_pos = (max_len + 2).min(24.min(width.saturating_sub(20).max(4)));
    let help_width = width.saturating_sub(help_pos).max(11);
    let mut s = format!("Usage: {prog} [options]\n\nOptions:\n");
    for (n, h) in &all {
        let opt_width = help_pos.saturating_sub(4);
        let indent_first = if n.len() > opt_width {
            s.push_str(&format!("  {n}\n"));
            help_pos
        } else {
            s.push_str(&format!("  {n:<opt_width$}  "));
            0
        };
        if h.is_empty() {
            if indent_first == 0 {
                s.push('\n');
            }
            continue;
        }
        for (k, line) in wrap(h, help_width).iter().enumerate() {
            let pad = if k == 0 { indent_first } else { help_pos };
            s.push_str(&format!("{:pad$}{line}\n", ""));
        }
    }
    s
}

/// `textwrap.wrap(text, width)` for these help texts: words split on blanks, and after a
/// hyphen inside a word, greedily filled into lines of at most `width`.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut chunks: Vec<String> = Vec::new();
    for (k, w) in text.split(' ').enumerate() {
        if k > 0 {
            chunks.push(" ".into());
        }
        // "comma-separated" breaks after its hyphen, as textwrap's break_on_hyphens does.
        let mut start = 0;
        let b = w.as_bytes();
        for j in 1..b.len().saturating_sub(1) {
            if b[j] == b'-' && b[j - 1].is_ascii_alphabetic() && b[j + 1].is_ascii_alphabetic() {
                chunks.push(w[start..=j].to_string());
                start = j + 1;
            }
        }
        chunks.push(w[start..].to_string());
    }
    let mut lines = Vec::new();
    let mut cur = String::new();
    for c in chunks {
        if cur.is_empty() && c == " " {
            continue;
        }
        if cur.len() + c.len() > width && !cur.is_empty() {
            lines.push(cur.trim_end().to_string());
            cur = if c == " " { String::new() } else { c };
        } else {
            cur.push_str(&c);
        }
    }
    if !cur.trim().is_empty() {
        lines.push(cur.trim_end().to_string());
    }
    lines
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
    /// The Python exception's class name.
    pub fn name(self) -> &'static str {
        match self {
            ConvertError::Value => "ValueError",
            ConvertError::Index => "IndexError",
        }
    }

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
