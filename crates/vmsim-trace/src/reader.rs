//! Opening a trace: pick the format (given, or detected from the first bytes without consuming
//! them) and stream records in batches through one statically dispatched reader.
use crate::error::{Location, TraceError};
use crate::format::Format;
use crate::lines::LineReader;
use crate::record::Record;
use crate::vmt::VmtReader;
use crate::{lackey, text};
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

type Input = BufReader<Box<dyn Read>>;

/// Which addresses a trace may contain. A program cannot access a non-canonical address (the
/// processor raises #GP before any translation), so such a record is malformed input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AddressCheck {
    /// Any 64-bit value.
    #[default]
    Any,
    /// Canonical for this many implemented bits (48 for 4-level paging, 57 for 5-level).
    Canonical(u8),
    /// Below 2^bits (teaching machines with small address spaces).
    Width(u8),
}

impl AddressCheck {
    /// Checks one record.
    #[inline]
    pub fn check(self, r: &Record) -> Result<(), String> {
        let a = r.addr.as_u64();
        match self {
            AddressCheck::Any => Ok(()),
            AddressCheck::Canonical(bits) if !r.addr.is_canonical(bits) => Err(format!(
                "address {a:#x} is not canonical for {bits}-bit virtual addresses"
            )),
            AddressCheck::Width(bits) if bits < 64 && a >> bits != 0 => Err(format!(
                "address {a:#x} does not fit in {bits}-bit virtual addresses"
            )),
            _ => Ok(()),
        }
    }
}

enum Inner {
    Text(LineReader<Input>),
    Lackey(LineReader<Input>),
    Vmt(VmtReader<Input>),
}

/// A streaming reader of any trace format.
pub struct TraceReader {
    inner: Inner,
    format: Format,
    check: AddressCheck,
    batch: Vec<Record>,
    at: usize,
}

impl TraceReader {
    /// Opens `path`; `format` overrides detection.
    pub fn open(path: &Path, format: Option<Format>) -> Result<Self, TraceError> {
        let name = path.display().to_string();
        let f = File::open(path).map_err(|e| TraceError::io(&name, Location::None, e))?;
        Self::from_reader(&name, f, format)
    }

    /// Reads from any byte stream, naming it `name` in errors.
    pub fn from_reader<R: Read + 'static>(
        name: &str,
        r: R,
        format: Option<Format>,
    ) -> Result<Self, TraceError> {
        let mut input: Input = BufReader::with_capacity(1 << 16, Box::new(r));
        let format = match format {
            Some(f) => f,
            None => {
                let head = input
                    .fill_buf()
                    .map_err(|e| TraceError::io(name, Location::None, e))?;
                Format::detect(head)
            }
        };
        let inner = match format {
            Format::Text => Inner::Text(LineReader::new(input, name)),
            Format::Lackey => Inner::Lackey(LineReader::new(input, name)),
            Format::Vmt => Inner::Vmt(VmtReader::new(input, name)?),
        };
        Ok(TraceReader {
            inner,
            format,
            check: AddressCheck::Any,
            batch: Vec::new(),
            at: 0,
        })
    }

    /// Rejects records whose address fails `check`, naming their line or record.
    pub fn with_address_check(mut self, check: AddressCheck) -> Self {
        self.check = check;
        self
    }

    /// The format being read.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Clears `buf` and fills it with up to `buf.capacity()` records (at least one slot is
    /// used even for an empty buffer); returns how many, 0 at the end of the trace.
    pub fn read_batch(&mut self, buf: &mut Vec<Record>) -> Result<usize, TraceError> {
        if buf.capacity() < crate::lines::MAX_PER_LINE {
            buf.reserve(crate::lines::MAX_PER_LINE);
        }
        let c = self.check;
        match &mut self.inner {
            Inner::Text(l) => l.fill(buf, c, text::parse_line),
            Inner::Lackey(l) => l.fill(buf, c, lackey::parse_line),
            Inner::Vmt(v) => v.fill(buf, c),
        }
    }
}

impl Iterator for TraceReader {
    type Item = Result<Record, TraceError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.at == self.batch.len() {
            let mut b = std::mem::take(&mut self.batch);
            if b.capacity() == 0 {
                b.reserve(1024);
            }
            let r = self.read_batch(&mut b);
            self.batch = b;
            self.at = 0;
            match r {
                Ok(0) => return None,
                Ok(_) => {}
                Err(e) => return Some(Err(e)),
            }
        }
        self.at += 1;
        Some(Ok(self.batch[self.at - 1]))
    }
}
