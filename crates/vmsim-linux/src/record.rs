//! Recording a real program's memory accesses: run it under valgrind's lackey tool
//! (`--tool=lackey --trace-mem=yes`), whose log goes into a pipe rather than a file, decode the
//! log with vmsim-trace's lackey reader as it arrives, and write the records in any trace
//! format (vmsim's compact `vmt` by default). The program's memory map is read from
//! `/proc/PID/maps` while it runs (valgrind runs the program inside its own process, so the
//! map also shows valgrind's own areas) and the last one read is kept.
use crate::sys::inheritable;
use crate::tool::{find, Missing, Tool};
use std::cell::Cell;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::process::{Command, Stdio};
use std::rc::Rc;
use thiserror::Error;
use vmsim_core::AccessKind;
use vmsim_trace::{Format, Record, TraceError, TraceReader, TraceWriter};

/// What to keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Drop instruction fetches.
    pub data_only: bool,
    /// Stop (and end the program) after this many records are written.
    pub limit: Option<u64>,
    /// Keep one record in every `sample` (1 keeps all), counted after `data_only`.
    pub sample: u64,
    /// Format to write.
    pub format: Format,
    /// Compress the trace with this codec.
    pub codec: Option<vmsim_trace::Codec>,
}

/// Counts so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Progress {
    /// Records decoded from lackey's log.
    pub records_read: u64,
    /// Records written.
    pub records_written: u64,
    /// Bytes of log read from the pipe.
    pub log_bytes: u64,
}

/// The outcome of a recording.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Recorded {
    /// Final counts.
    pub progress: Progress,
    /// The program's exit code (valgrind passes it through); `None` when it was ended by a
    /// signal, or by vmsim at `--limit`.
    pub exit_code: Option<i32>,
    /// Whether vmsim ended the program at the record limit.
    pub stopped_at_limit: bool,
    /// The program's last memory map (`/proc/PID/maps` text), when one was read.
    #[serde(skip)]
    pub maps: Option<String>,
}

/// A failed recording.
#[derive(Debug, Error)]
pub enum RecordError {
    /// valgrind (or perf) is not installed.
    #[error(transparent)]
    Missing(#[from] Missing),
    /// Starting the program or the pipe failed.
    #[error("cannot start {what}: {error}")]
    Start {
        /// What.
        what: String,
        /// Why.
        error: io::Error,
    },
    /// The log did not decode.
    #[error(transparent)]
    Trace(#[from] TraceError),
    /// Writing the output failed.
    #[error("writing the trace: {0}")]
    Write(io::Error),
    /// The tool ran but produced nothing usable.
    #[error("{0}")]
    Tool(String),
}

/// Counts the bytes that pass through.
struct Counting<R> {
    inner: R,
    bytes: Rc<Cell<u64>>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes.set(self.bytes.get() + n as u64);
        Ok(n)
    }
}

/// How often (in records read) progress is reported.
const EVERY: u64 = 1 << 20;
/// How often the memory map is re-read: often enough that the last one read, just before the
/// program exits, holds the libraries and heap it mapped as it ran.
const MAPS_EVERY: std::time::Duration = std::time::Duration::from_millis(10);

/// Keeps `pid`'s memory map in `maps` if it can be read and is not empty (an exiting process's
/// map is empty once its memory is gone: the last full one is the one to keep).
fn read_maps(pid: u32, maps: &mut Option<String>) {
    if let Ok(m) = std::fs::read_to_string(format!("/proc/{pid}/maps")) {
        if !m.is_empty() {
            *maps = Some(m);
        }
    }
}

/// Runs `cmd` under lackey and writes its accesses to `out`. The program's standard output
/// goes to vmsim's standard error, so that vmsim's own output stays clean.
pub fn record<W: Write>(
    cmd: &[String],
    out: W,
    opts: &Options,
    mut on_progress: impl FnMut(&Progress),
) -> Result<Recorded, RecordError> {
    let valgrind = find(Tool::Valgrind)?;
    let start = |what: &str| {
        let what = what.to_string();
        move |error| RecordError::Start { what, error }
    };
    let (reader, writer) = io::pipe().map_err(start("a pipe"))?;
    let writer = OwnedFd::from(writer);
    inheritable(&writer).map_err(start("a pipe"))?;
    let stdout_to_stderr = io::stderr()
        .as_fd()
        .try_clone_to_owned()
        .map_err(start("the program"))?;
    let mut child = Command::new(&valgrind)
        .arg("--tool=lackey")
        .arg("--trace-mem=yes")
        .arg(format!("--log-fd={}", writer.as_raw_fd()))
        .arg("--")
        .args(cmd)
        .stdout(Stdio::from(stdout_to_stderr))
        .spawn()
        .map_err(start(&format!("{} under valgrind", cmd.join(" "))))?;
    drop(writer);
    let pid = child.id();
    let bytes = Rc::new(Cell::new(0));
    let counting = Counting {
        inner: reader,
        bytes: bytes.clone(),
    };
    // An empty log means valgrind failed, which the child's exit status reports better.
    let mut trace =
        TraceReader::from_reader("valgrind lackey log", counting, Some(Format::Lackey))?
            .allow_empty();
    let mut w =
        TraceWriter::compressed(out, opts.format, opts.codec).map_err(RecordError::Write)?;
    let mut p = Progress::default();
    let mut maps = None;
    let mut eligible: u64 = 0;
    let mut stopped = false;
    let mut buf: Vec<Record> = Vec::with_capacity(4096);
    let mut next_report = 0;
    let mut maps_read = std::time::Instant::now();
    read_maps(pid, &mut maps);
    let sample = opts.sample.max(1);
    'outer: loop {
        let n = trace.read_batch(&mut buf)?;
        if n == 0 {
            break;
        }
        for r in &buf {
            p.records_read += 1;
            if opts.data_only && r.kind == AccessKind::Fetch {
                continue;
            }
            eligible += 1;
            if !(eligible - 1).is_multiple_of(sample) {
                continue;
            }
            w.write(r).map_err(RecordError::Write)?;
            p.records_written += 1;
            if opts.limit.is_some_and(|l| p.records_written >= l) {
                stopped = true;
                break 'outer;
            }
        }
        if maps_read.elapsed() >= MAPS_EVERY {
            maps_read = std::time::Instant::now();
            read_maps(pid, &mut maps);
        }
        if p.records_read >= next_report {
            next_report = p.records_read + EVERY;
            p.log_bytes = bytes.get();
            on_progress(&p);
        }
    }
    if stopped {
        read_maps(pid, &mut maps);
        let _ = child.kill();
    }
    drop(trace);
    w.finish().map_err(RecordError::Write)?;
    let status = child.wait().map_err(start("valgrind"))?;
    p.log_bytes = bytes.get();
    on_progress(&p);
    if p.records_read == 0 {
        return Err(RecordError::Tool(format!(
            "valgrind produced no accesses ({status}); run `valgrind --tool=lackey {}` to see why",
            cmd.join(" ")
        )));
    }
    Ok(Recorded {
        progress: p,
        exit_code: if stopped { None } else { status.code() },
        stopped_at_limit: stopped,
        maps,
    })
}
