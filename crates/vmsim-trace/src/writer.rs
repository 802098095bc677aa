//! Writing records in any format (lackey output is written in lackey's own line shapes).
use crate::format::Format;
use crate::record::Record;
use crate::vmt::{self, VmtEncoder};
use std::io::{self, Write};
use vmsim_core::AccessKind;

/// A streaming writer of one format.
pub struct TraceWriter<W: Write> {
    out: io::BufWriter<W>,
    format: Format,
    enc: VmtEncoder,
    scratch: Vec<u8>,
}

impl<W: Write> TraceWriter<W> {
    /// Starts a trace of `format` on `w` (writes the header for binary formats).
    pub fn new(w: W, format: Format) -> io::Result<Self> {
        let mut out = io::BufWriter::with_capacity(1 << 16, w);
        if format == Format::Vmt {
            vmt::write_header(&mut out)?;
        }
        Ok(TraceWriter {
            out,
            format,
            enc: VmtEncoder::default(),
            scratch: Vec::with_capacity(32),
        })
    }

    /// Writes one record. Lackey cannot carry pid or CPU: they are dropped in that format.
    pub fn write(&mut self, r: &Record) -> io::Result<()> {
        match self.format {
            Format::Text => crate::text::write_record(&mut self.out, r),
            Format::Lackey => {
                let a = r.addr.as_u64();
                match r.kind {
                    AccessKind::Fetch => writeln!(self.out, "I  {a:08x},{}", r.size),
                    AccessKind::Read => writeln!(self.out, " L {a:08x},{}", r.size),
                    AccessKind::Write => writeln!(self.out, " S {a:08x},{}", r.size),
                }
            }
            Format::Vmt => {
                self.scratch.clear();
                self.enc.encode(r, &mut self.scratch);
                self.out.write_all(&self.scratch)
            }
        }
    }

    /// Flushes and returns the inner writer.
    pub fn finish(self) -> io::Result<W> {
        self.out.into_inner().map_err(|e| e.into_error())
    }
}
