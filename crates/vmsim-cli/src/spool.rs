//! A trace read twice in constant memory: `vmsim ws` places its size-over-time points by the
//! trace's length, known only at its end. Files and the built-in trace are opened again;
//! standard input, which cannot be, is copied to an unnamed temporary file (deleted when
//! closed) as it is read the first time.
use anyhow::{Context, Result};
use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::PathBuf;
use vmsim_trace::{Format, ReadOptions, TraceReader};

/// How to read the same trace again.
pub enum Again {
    /// A file or the built-in trace: open it again.
    Reopen(Option<PathBuf>, Option<Format>, ReadOptions),
    /// Standard input, copied here.
    Copy(File, Option<Format>, ReadOptions),
}

impl Again {
    /// A reader at the start of the same bytes.
    pub fn open(self) -> Result<TraceReader> {
        match self {
            Again::Reopen(path, format, opts) => {
                Ok(crate::cmd::run::open_trace(&path, format, &opts)?.0)
            }
            Again::Copy(mut f, format, opts) => {
                f.rewind().context("cannot reread the copy of <stdin>")?;
                Ok(TraceReader::from_reader_with("<stdin>", f, format, &opts)?)
            }
        }
    }
}

/// Reads standard input and writes what it read to the copy.
struct Tee {
    copy: File,
}

impl Read for Tee {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = std::io::stdin().read(buf)?;
        self.copy.write_all(&buf[..n]).map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!("cannot copy <stdin> to a temporary file: {e}"),
            )
        })?;
        Ok(n)
    }
}

/// Opens the trace as `open_trace` does, with a way to read it again when `twice`.
pub fn open_trace(
    path: &Option<PathBuf>,
    format: Option<Format>,
    opts: &ReadOptions,
    twice: bool,
) -> Result<(TraceReader, String, Option<Again>)> {
    let stdin = path.as_ref().is_some_and(|p| p.as_os_str() == "-");
    if !(twice && stdin) {
        let (r, name) = crate::cmd::run::open_trace(path, format, opts)?;
        let again = twice.then(|| Again::Reopen(path.clone(), format, *opts));
        return Ok((r, name, again));
    }
    let copy = tempfile::tempfile().context("cannot create a temporary file for <stdin>")?;
    let tee = Tee {
        copy: copy
            .try_clone()
            .context("cannot create a temporary file for <stdin>")?,
    };
    let r = TraceReader::from_reader_with("<stdin>", tee, format, opts)?;
    Ok((r, "<stdin>".into(), Some(Again::Copy(copy, format, *opts))))
}
