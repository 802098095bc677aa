//! Compressed traces: zstd, xz and gzip, recognised by their magic bytes (never by the name, so
//! standard input works too) and decompressed while streaming; and the same codecs on output.
//! The codecs are the `zstd`, `liblzma` and `flate2` crates. A decoder error names the byte of
//! the compressed input where decoding stopped, so a truncated download or a corrupt block is
//! one line that says where.
use std::cell::Cell;
use std::fmt;
use std::io::{self, BufRead, Read, Write};
use std::rc::Rc;

/// A compression codec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Codec {
    /// Zstandard (`.zst`), libCacheSim's distribution format.
    Zstd,
    /// xz (`.xz`), the DPC-3 ChampSim traces' format.
    Xz,
    /// gzip (`.gz`), the CRC-2 ChampSim traces' format; concatenated members are read whole.
    Gzip,
}

/// Bytes that decide [`Codec::from_magic`].
pub const MAGIC_LEN: usize = 6;

impl Codec {
    /// All codecs.
    pub const ALL: [Codec; 3] = [Codec::Zstd, Codec::Xz, Codec::Gzip];

    /// The file-name suffix, also the name on the command line (`--to vmt.zst`).
    pub const fn name(self) -> &'static str {
        match self {
            Codec::Zstd => "zst",
            Codec::Xz => "xz",
            Codec::Gzip => "gz",
        }
    }

    /// The codec whose magic starts `head`, if any.
    pub fn from_magic(head: &[u8]) -> Option<Codec> {
        if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Some(Codec::Zstd)
        } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
            Some(Codec::Xz)
        } else if head.starts_with(&[0x1f, 0x8b]) {
            Some(Codec::Gzip)
        } else {
            None
        }
    }

    /// The codec a file-name suffix names (`zst`, `zstd`, `xz`, `gz`, `gzip`).
    pub fn from_extension(ext: &str) -> Option<Codec> {
        match ext.to_ascii_lowercase().as_str() {
            "zst" | "zstd" => Some(Codec::Zstd),
            "xz" => Some(Codec::Xz),
            "gz" | "gzip" => Some(Codec::Gzip),
            _ => None,
        }
    }

    /// Splits a file name into the name without a codec suffix and the codec it names:
    /// `a.vmt.zst` is (`a.vmt`, zstd).
    pub fn strip(name: &str) -> (&str, Option<Codec>) {
        match name.rsplit_once('.') {
            Some((stem, ext)) => match Codec::from_extension(ext) {
                Some(c) => (stem, Some(c)),
                None => (name, None),
            },
            None => (name, None),
        }
    }
}

impl fmt::Display for Codec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Codec::Zstd => "zstd",
            Codec::Xz => "xz",
            Codec::Gzip => "gzip",
        })
    }
}

/// A buffered input that counts the bytes its user consumed: the decoders consume input as
/// they decode it, so the count is where decoding stands in the compressed file.
struct Counted<R> {
    inner: io::BufReader<R>,
    consumed: Rc<Cell<u64>>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.consumed.set(self.consumed.get() + n as u64);
        Ok(n)
    }
}

impl<R: Read> BufRead for Counted<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }
    fn consume(&mut self, amt: usize) {
        self.consumed.set(self.consumed.get() + amt as u64);
        self.inner.consume(amt);
    }
}

/// A compressed input that does not decode: where in the compressed bytes, and why.
#[derive(Debug, thiserror::Error)]
#[error("{codec} data stops decoding at compressed byte {offset}: {message}")]
pub struct CodecError {
    /// The codec.
    pub codec: Codec,
    /// Compressed bytes consumed when decoding failed.
    pub offset: u64,
    /// The decoder's message.
    pub message: String,
}

/// Decompressed bytes; an error of the decoder becomes one naming the codec and the
/// compressed byte offset.
struct Decompressed<D> {
    decoder: D,
    codec: Codec,
    consumed: Rc<Cell<u64>>,
}

impl<D: Read> Read for Decompressed<D> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.decoder.read(buf).map_err(|e| {
            let what = e.to_string();
            let what = if what.is_empty() {
                "corrupt".into()
            } else {
                what
            };
            let kind = match e.kind() {
                io::ErrorKind::UnexpectedEof => io::ErrorKind::UnexpectedEof,
                _ => io::ErrorKind::InvalidData,
            };
            io::Error::new(
                kind,
                CodecError {
                    codec: self.codec,
                    offset: self.consumed.get(),
                    message: what.lines().next().unwrap_or_default().to_string(),
                },
            )
        })
    }
}

/// zstd frames decoded one after the other. The crate's reader takes an input that ends
/// inside a frame for a complete one; this one says the stream was cut.
struct ZstdStream<R> {
    input: R,
    raw: zstd::stream::raw::Decoder<'static>,
    /// The last frame ended and was flushed: the input may end here.
    frame_done: bool,
}

impl<R: BufRead> Read for ZstdStream<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        use zstd::stream::raw::{InBuffer, Operation, OutBuffer};
        if out.is_empty() {
            return Ok(0);
        }
        loop {
            let avail = self.input.fill_buf()?;
            if avail.is_empty() {
                if !self.frame_done {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the input ends inside a frame",
                    ));
                }
                return Ok(0);
            }
            let mut src = InBuffer::around(avail);
            let mut dst = OutBuffer::around(&mut *out);
            let hint = self.raw.run(&mut src, &mut dst)?;
            let (used, written) = (src.pos(), dst.pos());
            self.input.consume(used);
            self.frame_done = hint == 0;
            if written > 0 {
                return Ok(written);
            }
        }
    }
}

/// A stream of the bytes `r` holds compressed with `codec`.
pub fn decoder<R: Read + 'static>(codec: Codec, r: R) -> io::Result<Box<dyn Read>> {
    let consumed = Rc::new(Cell::new(0));
    let input = Counted {
        inner: io::BufReader::with_capacity(1 << 16, r),
        consumed: consumed.clone(),
    };
    Ok(match codec {
        Codec::Zstd => Box::new(Decompressed {
            decoder: ZstdStream {
                input,
                raw: zstd::stream::raw::Decoder::new()?,
                frame_done: true,
            },
            codec,
            consumed,
        }),
        Codec::Xz => Box::new(Decompressed {
            decoder: liblzma::bufread::XzDecoder::new_multi_decoder(input),
            codec,
            consumed,
        }),
        Codec::Gzip => Box::new(Decompressed {
            decoder: flate2::bufread::MultiGzDecoder::new(input),
            codec,
            consumed,
        }),
    })
}

/// Reads the first [`MAGIC_LEN`] bytes of `r` (fewer if it ends sooner) without losing them:
/// returns them and the whole stream.
pub fn sniff<R: Read + 'static>(mut r: R) -> io::Result<(Vec<u8>, Box<dyn Read>)> {
    let mut head = vec![0u8; MAGIC_LEN];
    let mut n = 0;
    while n < MAGIC_LEN {
        match r.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    head.truncate(n);
    Ok((head.clone(), Box::new(io::Cursor::new(head).chain(r))))
}

/// `r` decompressed if it starts with a codec's magic, else as it is; and the codec.
pub fn decompressing<R: Read + 'static>(r: R) -> io::Result<(Box<dyn Read>, Option<Codec>)> {
    let (head, whole) = sniff(r)?;
    match Codec::from_magic(&head) {
        Some(c) => Ok((decoder(c, whole)?, Some(c))),
        None => Ok((whole, None)),
    }
}

/// An output, compressed or not; [`Compressor::finish`] writes the codec's trailer.
pub enum Compressor<W: Write> {
    /// Bytes as they are.
    Plain(W),
    /// zstd, compressed on every core.
    Zstd(zstd::stream::write::Encoder<'static, W>),
    /// xz.
    Xz(liblzma::write::XzEncoder<W>),
    /// gzip.
    Gzip(flate2::write::GzEncoder<W>),
}

impl<W: Write> Compressor<W> {
    /// Compresses what is written to `w` with `codec` (none: as it is) at the codec's
    /// default level; zstd uses a worker per core.
    pub fn new(w: W, codec: Option<Codec>) -> io::Result<Self> {
        Ok(match codec {
            None => Compressor::Plain(w),
            Some(Codec::Zstd) => {
                let mut e = zstd::stream::write::Encoder::new(w, 3)?;
                // As the zstd tool does: a corrupt file is then an error, not garbage.
                e.include_checksum(true)?;
                let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
                if cores > 1 {
                    e.multithread(cores as u32)?;
                }
                Compressor::Zstd(e)
            }
            Some(Codec::Xz) => Compressor::Xz(liblzma::write::XzEncoder::new(w, 6)),
            Some(Codec::Gzip) => Compressor::Gzip(flate2::write::GzEncoder::new(
                w,
                flate2::Compression::default(),
            )),
        })
    }

    /// Ends the compressed stream and returns the output.
    pub fn finish(self) -> io::Result<W> {
        match self {
            Compressor::Plain(w) => Ok(w),
            Compressor::Zstd(e) => e.finish(),
            Compressor::Xz(e) => e.finish(),
            Compressor::Gzip(e) => e.finish(),
        }
    }
}

impl<W: Write> Write for Compressor<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Compressor::Plain(w) => w.write(buf),
            Compressor::Zstd(e) => e.write(buf),
            Compressor::Xz(e) => e.write(buf),
            Compressor::Gzip(e) => e.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Compressor::Plain(w) => w.flush(),
            Compressor::Zstd(e) => e.flush(),
            Compressor::Xz(e) => e.flush(),
            Compressor::Gzip(e) => e.flush(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compress(codec: Codec, data: &[u8]) -> Vec<u8> {
        let mut c = Compressor::new(Vec::new(), Some(codec)).unwrap();
        c.write_all(data).unwrap();
        c.finish().unwrap()
    }

    fn decompress(bytes: Vec<u8>) -> io::Result<(Vec<u8>, Option<Codec>)> {
        let (mut r, codec) = decompressing(io::Cursor::new(bytes))?;
        let mut out = Vec::new();
        r.read_to_end(&mut out)?;
        Ok((out, codec))
    }

    fn data() -> Vec<u8> {
        (0..300_000u32)
            .flat_map(|i| (i % 1000 * 31 + i / 1000).to_le_bytes())
            .collect()
    }

    #[test]
    fn every_codec_round_trips_and_is_recognised_by_its_magic() {
        let d = data();
        for c in Codec::ALL {
            let z = compress(c, &d);
            assert!(z.len() < d.len());
            assert_eq!(decompress(z).unwrap(), (d.clone(), Some(c)), "{c}");
        }
        assert_eq!(decompress(b"VMSIMTR1".to_vec()).unwrap().1, None);
        assert_eq!(decompress(Vec::new()).unwrap(), (Vec::new(), None));
    }

    #[test]
    fn a_cut_or_corrupt_stream_is_an_error_naming_the_compressed_byte() {
        let d = data();
        for c in Codec::ALL {
            let z = compress(c, &d);
            let cut = z[..z.len() / 2].to_vec();
            let e = decompress(cut).unwrap_err().to_string();
            assert!(e.contains("at compressed byte"), "{c}: {e}");
            assert!(!e.contains('\n'), "{c}: {e}");
            let mut bad = z.clone();
            let mid = bad.len() / 2;
            for b in &mut bad[mid..mid + 16] {
                *b ^= 0x5a;
            }
            let e = decompress(bad).map(|_| c).unwrap_err().to_string();
            assert!(e.contains("at compressed byte"), "{c}: {e}");
        }
    }

    #[test]
    fn names() {
        assert_eq!(Codec::strip("a.vmt.zst"), ("a.vmt", Some(Codec::Zstd)));
        assert_eq!(Codec::strip("a.champsimtrace.xz").1, Some(Codec::Xz));
        assert_eq!(Codec::strip("a.trace"), ("a.trace", None));
    }
}
