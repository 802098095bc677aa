//! Writing records in any format vmsim writes (lackey output is written in lackey's own line
//! shapes, ChampSim's as packed instruction records), and page references in any of them;
//! compressed with a codec when asked.
use crate::champsim::{self, ChampSimEncoder};
use crate::compress::{Codec, Compressor};
use crate::format::Format;
use crate::pages::PageRef;
use crate::record::Record;
use crate::vmt::{self, VmtEncoder};
use std::io::{self, Write};
use vmsim_core::AccessKind;
use vmsim_core::PageSize;

/// A streaming writer of one format.
pub struct TraceWriter<W: Write> {
    out: io::BufWriter<Compressor<W>>,
    format: Format,
    enc: VmtEncoder,
    champsim: ChampSimEncoder,
    scratch: Vec<u8>,
}

impl<W: Write> TraceWriter<W> {
    /// Starts a trace of `format` on `w` (writes the header for binary formats).
    pub fn new(w: W, format: Format) -> io::Result<Self> {
        Self::compressed(w, format, None)
    }

    /// Starts a trace of `format` on `w`, compressed with `codec` when one is given. An error
    /// for a format vmsim only reads ([`Format::writable`]).
    pub fn compressed(w: W, format: Format, codec: Option<Codec>) -> io::Result<Self> {
        if !format.writable() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("vmsim reads {format} traces but does not write them"),
            ));
        }
        let mut out = io::BufWriter::with_capacity(1 << 16, Compressor::new(w, codec)?);
        match format {
            Format::Vmt => vmt::write_header(&mut out)?,
            Format::Pgt => crate::pgt::write_header(&mut out)?,
            _ => {}
        }
        Ok(TraceWriter {
            out,
            format,
            enc: VmtEncoder::default(),
            champsim: ChampSimEncoder::new(match format {
                Format::ChampSimCloudSuite => champsim::CLOUDSUITE,
                _ => champsim::STANDARD,
            }),
            scratch: Vec::with_capacity(32),
        })
    }

    /// Writes one record. Lackey cannot carry pid or CPU: they are dropped in that format. A
    /// page-number format keeps every 4 KiB page the access touches and whether it writes.
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
            Format::Pages | Format::Pgt => {
                let (first, last) = crate::pages::span(r, PageSize::SIZE_4K);
                let write = r.kind == AccessKind::Write;
                (first..=last).try_for_each(|p| self.write_page((p, write)))
            }
            Format::ChampSim | Format::ChampSimCloudSuite => self.champsim.encode(r, &mut self.out),
            _ => unreachable!("TraceWriter::compressed refuses formats it cannot write"),
        }
    }

    /// Writes one page reference: as it is in a page-number format, as the one-byte access at
    /// the page's first 4 KiB byte in an address format (see [`crate::pages`]).
    pub fn write_page(&mut self, p: PageRef) -> io::Result<()> {
        match self.format {
            Format::Pages => crate::pages::write_ref(&mut self.out, p),
            Format::Pgt => self.out.write_all(&crate::pgt::encode(p)?),
            _ => {
                let r = crate::pages::to_record(&p)
                    .map_err(|m| io::Error::new(io::ErrorKind::InvalidInput, m))?;
                self.write(&r)
            }
        }
    }

    /// Flushes (ends the compressed stream) and returns the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.champsim.finish(&mut self.out)?;
        self.out.into_inner().map_err(|e| e.into_error())?.finish()
    }
}
