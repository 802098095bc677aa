//! What the binary formats share: the magic at the start, and topping up a read buffer.
use crate::error::{Location, TraceError};
use std::io::Read;

/// Reads the 8-byte magic of format `format` from `inner` and checks it.
pub(crate) fn check_magic<R: Read>(
    inner: &mut R,
    name: &str,
    magic: &[u8; 8],
    format: &str,
) -> Result<(), TraceError> {
    let mut head = [0u8; 8];
    inner.read_exact(&mut head).map_err(|_| {
        TraceError::new(
            name,
            Location::None,
            format!("too short for a {format} trace"),
        )
    })?;
    if &head != magic {
        return Err(TraceError::new(
            name,
            Location::None,
            format!("not a {format} trace (bad magic)"),
        ));
    }
    Ok(())
}

/// Reads from `inner` into `buf[*end..]` until the buffer is full or the input ends (`*eof`).
pub(crate) fn top_up<R: Read>(
    inner: &mut R,
    buf: &mut [u8],
    end: &mut usize,
    eof: &mut bool,
) -> std::io::Result<()> {
    while !*eof && *end < buf.len() {
        match inner.read(&mut buf[*end..]) {
            Ok(0) => *eof = true,
            Ok(n) => *end += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// A stream of fixed-size records after a header of `base` bytes: the buffer, how far it is
/// filled, and how many records were decoded, for errors that name the record and its byte.
pub(crate) struct FixedRecords<R> {
    inner: R,
    buf: Vec<u8>,
    end: usize,
    eof: bool,
    size: usize,
    base: u64,
    /// Records decoded so far.
    pub(crate) index: u64,
    pub(crate) name: String,
}

impl<R: Read> FixedRecords<R> {
    /// Records of `size` bytes from `inner`, the first at byte `base` of the source `name`.
    pub(crate) fn new(inner: R, size: usize, base: u64, name: &str) -> Self {
        FixedRecords {
            inner,
            // Twice the 64 KiB of the reader's BufReader: reads this large bypass its buffer,
            // saving a copy of every byte.
            buf: vec![0; (size << 11).max(1 << 17)],
            end: 0,
            eof: false,
            size,
            base,
            index: 0,
            name: name.to_string(),
        }
    }

    /// Where record `index` lies.
    pub(crate) fn location(&self, index: u64) -> Location {
        Location::Record {
            index,
            offset: self.base + index * self.size as u64,
        }
    }

    /// Fills `out` (cleared first) with up to its capacity (at least one) of records, each
    /// decoded by `decode` from its bytes; an input that ends inside a record is an error.
    pub(crate) fn fill<T>(
        &mut self,
        out: &mut Vec<T>,
        decode: impl Fn(&[u8]) -> T,
    ) -> Result<usize, TraceError> {
        out.clear();
        let want = out.capacity().max(1);
        let size = self.size;
        while out.len() < want {
            // `buf[..end]` holds less than one record here: top it up.
            top_up(&mut self.inner, &mut self.buf, &mut self.end, &mut self.eof)
                .map_err(|e| TraceError::io(&self.name, self.location(self.index), e))?;
            let take = (self.end / size * size).min((want - out.len()) * size);
            out.extend(self.buf[..take].chunks_exact(size).map(&decode));
            self.index += (take / size) as u64;
            self.buf.copy_within(take..self.end, 0);
            self.end -= take;
            if self.eof && self.end < size {
                if self.end != 0 {
                    let at = self.location(self.index);
                    return Err(TraceError::new(&self.name, at, "record cut short"));
                }
                break;
            }
        }
        Ok(out.len())
    }
}
