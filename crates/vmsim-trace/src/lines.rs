//! Line-oriented reading shared by the text formats: one reused buffer, 1-based line numbers,
//! and a parse callback that may emit up to two items (records or page references) per line.
//!
//! A line may hold at most [`MAX_LINE`] bytes: an input without newlines (`/dev/zero`, a binary
//! file forced to a text format) is an error at its line, without the line in the message,
//! instead of a buffer that grows until memory runs out.
use crate::error::{Location, TraceError};
use std::io::BufRead;

/// Most records one line can produce (lackey's `M` is a load and a store).
pub const MAX_PER_LINE: usize = 2;

/// The longest line of a text format, in bytes without its line ending: 64 KiB. A record
/// needs under 100; the longest lines of real inputs are valgrind's own `==PID== Command:`
/// lines in a lackey log, which repeat the command line.
pub const MAX_LINE: usize = 1 << 16;

/// Reads lines from `R` and hands each to a parser.
pub struct LineReader<R> {
    inner: R,
    line: Vec<u8>,
    lineno: u64,
    name: String,
}

impl<R: BufRead> LineReader<R> {
    /// Reads `inner`, naming it `name` in errors.
    pub fn new(inner: R, name: &str) -> Self {
        LineReader {
            inner,
            line: Vec::with_capacity(128),
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
            if !self.next_line()? {
                break;
            }
            self.lineno += 1;
            let before = buf.len();
            let line = std::str::from_utf8(&self.line)
                .map_err(|_| "the line is not UTF-8 text".to_string());
            line.and_then(|l| parse(l.trim_end_matches(['\n', '\r']), buf))
                .and_then(|()| buf[before..].iter().try_for_each(&check))
                .map_err(|m| TraceError::new(&self.name, Location::Line(self.lineno), m))?;
        }
        Ok(buf.len())
    }

    /// Reads the next line, with its line ending, into `self.line`; false at the end of the
    /// input. A line longer than [`MAX_LINE`] is an error before it is all read.
    fn next_line(&mut self) -> Result<bool, TraceError> {
        self.line.clear();
        loop {
            let avail = match self.inner.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(TraceError::io(
                        &self.name,
                        Location::Line(self.lineno + 1),
                        e,
                    ))
                }
            };
            if avail.is_empty() {
                return Ok(!self.line.is_empty());
            }
            let (take, end) = match avail.iter().position(|&b| b == b'\n') {
                Some(i) => (i + 1, true),
                None => (avail.len(), false),
            };
            // Allow the line ending (CR LF) beyond the limit.
            if self.line.len() + take > MAX_LINE + 2 {
                return Err(self.too_long());
            }
            self.line.extend_from_slice(&avail[..take]);
            self.inner.consume(take);
            if end {
                let content = self.line.len() - 1 - usize::from(self.line.ends_with(b"\r\n"));
                if content > MAX_LINE {
                    return Err(self.too_long());
                }
                return Ok(true);
            }
        }
    }

    /// The error for a line over [`MAX_LINE`], which does not repeat the line.
    fn too_long(&self) -> TraceError {
        TraceError::new(
            &self.name,
            Location::Line(self.lineno + 1),
            format!(
                "the line is longer than {} KiB, the most a trace line may hold (is this a \
                 text trace? --format names the format)",
                MAX_LINE >> 10
            ),
        )
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufReader, Read};

    fn lines(input: impl Read, cap: usize) -> Result<Vec<String>, String> {
        let mut r = LineReader::new(BufReader::with_capacity(cap, input), "t");
        let mut out = Vec::new();
        let mut buf: Vec<String> = Vec::with_capacity(64);
        while r
            .fill(
                &mut buf,
                |_| Ok(()),
                |l, b| {
                    b.push(l.to_string());
                    Ok(())
                },
            )
            .map_err(|e| e.to_string())?
            > 0
        {
            out.append(&mut buf);
        }
        Ok(out)
    }

    #[test]
    fn lines_across_buffer_refills_and_line_endings() {
        let text = format!("a\r\n{}\nlast", "b".repeat(100));
        assert_eq!(
            lines(text.as_bytes(), 8).unwrap(),
            vec!["a".to_string(), "b".repeat(100), "last".to_string()]
        );
    }

    #[test]
    fn a_line_of_the_limit_is_read_and_one_byte_more_is_refused() {
        for cap in [16, 1 << 16] {
            let ok = format!("x\n{}\r\ny\n", "z".repeat(MAX_LINE));
            assert_eq!(lines(ok.as_bytes(), cap).unwrap()[1].len(), MAX_LINE);
            let bad = format!("x\n{}\n", "z".repeat(MAX_LINE + 1));
            let e = lines(bad.as_bytes(), cap).unwrap_err();
            assert!(e.starts_with("t:2: the line is longer than 64 KiB"), "{e}");
            assert!(!e.contains("zz"), "the line is not echoed: {e}");
        }
    }

    #[test]
    fn an_endless_line_stops_at_the_limit() {
        // /dev/zero as a text trace: an error on line 1 after reading about 64 KiB.
        let mut read = 0u64;
        let zeros = std::io::repeat(0).take(1 << 40).inspect_bytes(&mut read);
        let e = lines(zeros, 1 << 16).unwrap_err();
        assert!(e.starts_with("t:1: the line is longer than"), "{e}");
        assert!(read <= 4 << 16, "read {read} bytes");
    }

    #[test]
    fn invalid_utf8_names_its_line() {
        let e = lines(&b"ok\n\xff\xfe\n"[..], 64).unwrap_err();
        assert_eq!(e, "t:2: the line is not UTF-8 text");
    }

    /// Counts the bytes read through it.
    trait InspectBytes: Read + Sized {
        fn inspect_bytes(self, n: &mut u64) -> Counting<'_, Self> {
            Counting { inner: self, n }
        }
    }
    impl<R: Read> InspectBytes for R {}
    struct Counting<'a, R> {
        inner: R,
        n: &'a mut u64,
    }
    impl<R: Read> Read for Counting<'_, R> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let k = self.inner.read(buf)?;
            *self.n += k as u64;
            Ok(k)
        }
    }
}
