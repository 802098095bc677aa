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
