//! Line-oriented reading shared by the text formats: one reused buffer, 1-based line numbers,
//! and a parse callback that may emit up to two items (records or page references) per line.
use crate::error::{Location, TraceError};
use std::io::BufRead;

/// Most records one line can produce (lackey's `M` is a load and a store).
pub const MAX_PER_LINE: usize = 2;

/// Reads lines from `R` and hands each to a parser.
pub struct LineReader<R> {
    inner: R,
    line: String,
    lineno: u64,
    name: String,
}

impl<R: BufRead> LineReader<R> {
    /// Reads `inner`, naming it `name` in errors.
    pub fn new(inner: R, name: &str) -> Self {
        LineReader {
            inner,
            line: String::with_capacity(128),
            lineno: 0,
            name: name.to_string(),
        }
    }

    /// Fills `buf` (cleared first) up to its capacity, calling `parse` on each line; `parse`
    /// pushes items and returns a message for a malformed line, and `check` vets each item.
    pub fn fill<T>(
        &mut self,
        buf: &mut Vec<T>,
        check: impl Fn(&T) -> Result<(), String>,
        mut parse: impl FnMut(&str, &mut Vec<T>) -> Result<(), String>,
    ) -> Result<usize, TraceError> {
        buf.clear();
        let cap = buf.capacity().max(MAX_PER_LINE);
        while buf.len() + MAX_PER_LINE <= cap {
            self.line.clear();
            let n = self
                .inner
                .read_line(&mut self.line)
                .map_err(|e| TraceError::io(&self.name, Location::Line(self.lineno + 1), e))?;
            if n == 0 {
                break;
            }
            self.lineno += 1;
            let before = buf.len();
            parse(self.line.trim_end_matches(['\n', '\r']), buf)
                .and_then(|()| buf[before..].iter().try_for_each(&check))
                .map_err(|m| TraceError::new(&self.name, Location::Line(self.lineno), m))?;
        }
        Ok(buf.len())
    }
}

/// Parses `0x`-prefixed hex or decimal into a `u64`.
pub fn parse_number(s: &str) -> Result<u64, String> {
    let r = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) if !h.is_empty() => u64::from_str_radix(h, 16),
        _ => s.parse(),
    };
    r.map_err(|e| match e.kind() {
        std::num::IntErrorKind::PosOverflow => format!("`{s}` does not fit in 64 bits"),
        _ => format!("`{s}` is not a number (use 0x-prefixed hex or decimal)"),
    })
}
