//! The text form of a program's memory-API trace, one operation a line, that the memory checker
//! ([`super::memcheck`]) replays:
//!
//! ```text
//! p = malloc 16          # named pointers receive results
//! q = calloc 4 8
//! p = realloc p 32
//! store p+8 8            # define 8 bytes at offset 8
//! load p 4               # read 4 bytes at offset 0
//! store p+16 = q         # store the pointer q (8 bytes) into the block
//! r = p                  # copy a pointer; `r = null` drops one
//! free p                 # also `free 0x600010`, `free p+4`
//! exit
//! ```
//!
//! Sizes and offsets take `K`/`M`/`G` suffixes ([`crate::units::parse_bytes`]); offsets may be
//! negative (`p-8`); a literal address is `0x`-prefixed hex. `#` starts a comment.

use crate::units::parse_bytes;
use serde::Serialize;
use thiserror::Error;

/// A named pointer variable (its index in [`Trace::names`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Var(pub usize);

/// An address an operation uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PtrExpr {
    /// A variable's value plus a signed offset.
    Var {
        /// The variable.
        var: Var,
        /// Offset in bytes.
        offset: i64,
    },
    /// A literal address.
    Literal {
        /// The address.
        addr: u64,
    },
}

/// One operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    /// `dst = malloc SIZE`.
    Malloc {
        /// Receives the pointer.
        dst: Var,
        /// Bytes.
        size: u64,
    },
    /// `dst = calloc N SIZE`: `n * size` zeroed (defined) bytes.
    Calloc {
        /// Receives the pointer.
        dst: Var,
        /// Elements.
        n: u64,
        /// Element size.
        size: u64,
    },
    /// `dst = realloc PTR SIZE`.
    Realloc {
        /// Receives the pointer.
        dst: Var,
        /// The old block (NULL allowed).
        src: PtrExpr,
        /// New size.
        size: u64,
    },
    /// `free PTR` (`free null` does nothing).
    Free {
        /// The block.
        ptr: PtrExpr,
    },
    /// `load PTR LEN`: reads `len` bytes.
    Load {
        /// First byte.
        at: PtrExpr,
        /// Bytes.
        len: u64,
    },
    /// `store PTR LEN`: writes (defines) `len` bytes.
    Store {
        /// First byte.
        at: PtrExpr,
        /// Bytes.
        len: u64,
    },
    /// `store PTR = VALUE`: writes a pointer (8 bytes) whose value is `value` (NULL when `None`).
    StorePtr {
        /// First byte.
        at: PtrExpr,
        /// The pointer stored.
        value: Option<PtrExpr>,
    },
    /// `dst = PTR` or `dst = null`.
    Assign {
        /// The variable.
        dst: Var,
        /// The new value (NULL when `None`).
        value: Option<PtrExpr>,
    },
    /// `exit`: the program ends; leaks are counted here.
    Exit,
}

/// A parsed trace.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Trace {
    /// The operations with their 1-based source lines.
    pub ops: Vec<(Op, u64)>,
    /// Variable names, indexed by [`Var`].
    pub names: Vec<String>,
}

/// A malformed line.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("line {line}: {message}")]
pub struct ParseError {
    /// 1-based line.
    pub line: u64,
    /// What is wrong.
    pub message: String,
}

/// NULL as an operand of `free` and `realloc`.
pub const NULL: PtrExpr = PtrExpr::Literal { addr: 0 };

struct Parser {
    names: Vec<String>,
    /// Whether each variable has been assigned yet.
    assigned: Vec<bool>,
}

impl Parser {
    fn var(&mut self, name: &str) -> Result<Var, String> {
        let ok = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !ok
            || [
                "null", "malloc", "calloc", "realloc", "free", "load", "store", "exit",
            ]
            .contains(&name)
        {
            return Err(format!("`{name}` is not a pointer name"));
        }
        if let Some(i) = self.names.iter().position(|n| n == name) {
            return Ok(Var(i));
        }
        self.names.push(name.to_string());
        self.assigned.push(false);
        Ok(Var(self.names.len() - 1))
    }

    fn target(&mut self, name: &str) -> Result<Var, String> {
        let v = self.var(name)?;
        self.assigned[v.0] = true;
        Ok(v)
    }

    fn ptr(&mut self, s: &str) -> Result<PtrExpr, String> {
        if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
            return u64::from_str_radix(h, 16)
                .map(|addr| PtrExpr::Literal { addr })
                .map_err(|_| format!("`{s}` is not a hex address"));
        }
        let (name, offset) = match s.find(['+', '-']) {
            Some(i) => {
                let mag = i64::try_from(parse_bytes(&s[i + 1..])?)
                    .map_err(|_| format!("offset in `{s}` is too large"))?;
                (&s[..i], if &s[i..=i] == "-" { -mag } else { mag })
            }
            None => (s, 0),
        };
        let var = self.var(name)?;
        if !self.assigned[var.0] {
            return Err(format!("pointer `{name}` is used before it is assigned"));
        }
        Ok(PtrExpr::Var { var, offset })
    }

    fn value(&mut self, s: &str) -> Result<Option<PtrExpr>, String> {
        if s == "null" || s == "NULL" || s == "0" {
            Ok(None)
        } else {
            self.ptr(s).map(Some)
        }
    }

    fn line(&mut self, words: &[&str]) -> Result<Op, String> {
        let size = |w: &str| parse_bytes(w);
        let arity = |n: usize, form: &str| {
            if words.len() == n {
                Ok(())
            } else {
                Err(format!("expected `{form}`"))
            }
        };
        match words {
            ["exit"] => Ok(Op::Exit),
            ["free", ..] => {
                arity(2, "free PTR")?;
                Ok(Op::Free {
                    ptr: self.value(words[1])?.unwrap_or(NULL),
                })
            }
            ["load", ..] => {
                arity(3, "load PTR LEN")?;
                Ok(Op::Load {
                    at: self.ptr(words[1])?,
                    len: size(words[2])?,
                })
            }
            ["store", at, "=", v] => Ok(Op::StorePtr {
                at: self.ptr(at)?,
                value: self.value(v)?,
            }),
            ["store", ..] => {
                arity(3, "store PTR LEN` or `store PTR = VALUE")?;
                Ok(Op::Store {
                    at: self.ptr(words[1])?,
                    len: size(words[2])?,
                })
            }
            [dst, "=", rest @ ..] => {
                // Operands are read before the target is marked assigned: `p = realloc p 8`
                // needs `p` already.
                let op = match rest {
                    ["malloc", s] => Op::Malloc {
                        dst: Var(0),
                        size: size(s)?,
                    },
                    ["calloc", n, s] => Op::Calloc {
                        dst: Var(0),
                        n: size(n)?,
                        size: size(s)?,
                    },
                    ["realloc", p, s] => Op::Realloc {
                        dst: Var(0),
                        src: self.value(p)?.unwrap_or(NULL),
                        size: size(s)?,
                    },
                    [v] => Op::Assign {
                        dst: Var(0),
                        value: self.value(v)?,
                    },
                    ["malloc", ..] => return Err("expected `NAME = malloc SIZE`".into()),
                    ["calloc", ..] => return Err("expected `NAME = calloc N SIZE`".into()),
                    ["realloc", ..] => return Err("expected `NAME = realloc PTR SIZE`".into()),
                    _ => {
                        return Err(
                            "expected `NAME = malloc|calloc|realloc ...` or `NAME = PTR`".into(),
                        )
                    }
                };
                let d = self.target(dst)?;
                Ok(match op {
                    Op::Malloc { size, .. } => Op::Malloc { dst: d, size },
                    Op::Calloc { n, size, .. } => Op::Calloc { dst: d, n, size },
                    Op::Realloc { src, size, .. } => Op::Realloc { dst: d, src, size },
                    Op::Assign { value, .. } => Op::Assign { dst: d, value },
                    other => other,
                })
            }
            [w, ..] => Err(format!("unknown operation `{w}`")),
            [] => Err("empty operation".into()),
        }
    }
}

/// Parses a trace. Operations after `exit` are an error.
pub fn parse(text: &str) -> Result<Trace, ParseError> {
    let mut p = Parser {
        names: Vec::new(),
        assigned: Vec::new(),
    };
    let mut ops = Vec::new();
    let mut exited = false;
    for (i, raw) in text.lines().enumerate() {
        let line = i as u64 + 1;
        let code = raw.split('#').next().unwrap_or("");
        let words: Vec<&str> = code.split_whitespace().collect();
        if words.is_empty() {
            continue;
        }
        if exited {
            return Err(ParseError {
                line,
                message: "operation after `exit`".into(),
            });
        }
        let op = p
            .line(&words)
            .map_err(|message| ParseError { line, message })?;
        exited = op == Op::Exit;
        ops.push((op, line));
    }
    Ok(Trace {
        ops,
        names: p.names,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_parses() {
        let t = parse(
            "p = malloc 16\n# c\n\nq = calloc 4 8K\np = realloc p 32\nstore p+8 8\nload p-4 2\n\
             store p+16 = q\nstore p = null\nr = p\nr = null\nfree 0x600010\nr = realloc null 8\nexit # bye\n",
        )
        .unwrap();
        let (p, q, r) = (Var(0), Var(1), Var(2));
        let pv = |offset| PtrExpr::Var { var: p, offset };
        let ops: Vec<Op> = t.ops.iter().map(|o| o.0).collect();
        assert_eq!(
            ops,
            [
                Op::Malloc { dst: p, size: 16 },
                Op::Calloc {
                    dst: q,
                    n: 4,
                    size: 8192
                },
                Op::Realloc {
                    dst: p,
                    src: pv(0),
                    size: 32
                },
                Op::Store { at: pv(8), len: 8 },
                Op::Load { at: pv(-4), len: 2 },
                Op::StorePtr {
                    at: pv(16),
                    value: Some(PtrExpr::Var { var: q, offset: 0 })
                },
                Op::StorePtr {
                    at: pv(0),
                    value: None
                },
                Op::Assign {
                    dst: r,
                    value: Some(pv(0))
                },
                Op::Assign {
                    dst: r,
                    value: None
                },
                Op::Free {
                    ptr: PtrExpr::Literal { addr: 0x600010 }
                },
                Op::Realloc {
                    dst: r,
                    src: PtrExpr::Literal { addr: 0 },
                    size: 8
                },
                Op::Exit,
            ]
        );
        assert_eq!(t.ops[1].1, 4);
        assert_eq!(t.names, ["p", "q", "r"]);
    }

    #[test]
    fn malformed_lines_name_their_line() {
        let err = |s: &str| parse(s).unwrap_err();
        assert_eq!(err("p = malloc 8\nfoo p\n").line, 2);
        assert!(err("p = malloc 8\nfoo p\n")
            .message
            .contains("unknown operation"));
        assert!(err("free q").message.contains("used before it is assigned"));
        assert!(err("p = malloc lots").message.contains("invalid size"));
        assert!(err("p = calloc 4").message.contains("calloc N SIZE"));
        assert!(err("load 0xzz 4").message.contains("hex address"));
        assert!(err("3p = malloc 4").message.contains("not a pointer name"));
        assert!(err("p = p").message.contains("used before"));
        assert_eq!(err("exit\np = malloc 1").line, 2);
        assert!(err("store 0x10").message.contains("store PTR LEN"));
    }
}
