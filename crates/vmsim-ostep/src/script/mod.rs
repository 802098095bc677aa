//! The OSTEP scripts' own text: what `SIM.py ARGS` prints on stdout, byte for byte, and how
//! it ends (exit 0, `exit(1)`, a Python exception, an optparse usage error), including what
//! it printed before an error. Each file here follows one script's flow statement by
//! statement; the richer layout with derivations and the golden JSON live in the simulator
//! modules beside this one.

mod linear_size;
mod linear_translate;
mod malloc;
mod multilevel;
mod paging_policy;
mod relocation;
mod segmentation;

use crate::args::{self, Opt, Parsed, Stop};
use crate::py::Exc;
use std::fmt::Display;
use std::io::Write;
use std::path::Path;

/// How a script run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    /// Exit status 0.
    Ok,
    /// The script printed an error and called `exit(1)`.
    Exit,
    /// An uncaught Python exception (exit status 1, a traceback on stderr).
    Raise(Exc),
    /// optparse rejected the command line (exit status 2).
    Usage(String),
    /// The script would never end here (a random placement loop with no place to find);
    /// vmsim stops with exit status 1 and says why.
    Refused(String),
}

impl End {
    /// The exit status the script ends with.
    pub fn status(&self) -> i32 {
        match self {
            End::Ok => 0,
            End::Exit | End::Raise(_) | End::Refused(_) => 1,
            End::Usage(_) => 2,
        }
    }

    /// The corpus's error type: `exit`, `usage` or the exception's class.
    pub fn error_type(&self) -> Option<&str> {
        match self {
            End::Ok => None,
            End::Exit => Some("exit"),
            End::Raise(e) => Some(e.name),
            End::Usage(_) => Some("usage"),
            End::Refused(_) => Some("refused"),
        }
    }
}

/// Where a script prints: the caller's stream (stdout, or a buffer in tests). Write errors
/// (a closed pipe) end the printing quietly, as they would end the script.
pub struct Out<'a> {
    w: &'a mut dyn Write,
    failed: bool,
}

impl<'a> Out<'a> {
    /// Prints to `w`.
    pub fn new(w: &'a mut dyn Write) -> Self {
        Out { w, failed: false }
    }

    /// `print(s)`.
    pub fn line(&mut self, s: impl Display) {
        if !self.failed && writeln!(self.w, "{s}").is_err() {
            self.failed = true;
        }
    }

    /// `print(s, end='')`.
    pub fn part(&mut self, s: impl Display) {
        if !self.failed && write!(self.w, "{s}").is_err() {
            self.failed = true;
        }
    }
}

/// A script's flow: prints to `out`, `Err` for how it stopped early.
type Flow = fn(&Parsed, &mut Out, &Path) -> Result<(), End>;

/// The options and flow of script `sim` (by the names [`crate::SIMULATORS`] uses).
fn script(sim: &str) -> Option<(&'static [Opt], Flow)> {
    Some(match sim {
        "relocation" => (crate::relocation::OPTS, relocation::run as Flow),
        "segmentation" => (crate::segmentation::OPTS, segmentation::run),
        "malloc" => (crate::malloc::OPTS, malloc::run),
        "paging-linear-size" => (crate::linear_size::OPTS, linear_size::run),
        "paging-linear-translate" => (crate::linear_translate::OPTS, linear_translate::run),
        "paging-multilevel-translate" => (crate::multilevel::OPTS, multilevel::run),
        "paging-policy" => (crate::paging_policy::OPTS, paging_policy::run),
        _ => return None,
    })
}

/// The script's `-h` text for a terminal `columns` wide; `None` for an unknown simulator.
pub fn help(sim: &str, columns: usize) -> Option<String> {
    let (opts, _) = script(sim)?;
    Some(args::help(&format!("{sim}.py"), opts, columns))
}

/// Runs script `sim` on `argv` as `SIM.py ARGV` would run, printing its stdout to `w`
/// (`-h` prints the help for a terminal `columns` wide); relative files are read from `dir`.
/// `None` for an unknown simulator.
pub fn run(
    sim: &str,
    argv: &[String],
    dir: &Path,
    columns: usize,
    w: &mut dyn Write,
) -> Option<End> {
    let (opts, flow) = script(sim)?;
    let mut out = Out::new(w);
    let end = match args::parse_or_help(argv, opts) {
        Err(Stop::Help) => {
            out.part(args::help(&format!("{sim}.py"), opts, columns));
            End::Ok
        }
        Err(Stop::Usage(m)) => End::Usage(m),
        Ok(p) => match flow(&p, &mut out, dir) {
            Ok(()) => End::Ok,
            Err(e) => e,
        },
    };
    Some(end)
}

/// `exit(1)` after the script printed its error line.
fn exit(out: &mut Out, message: impl Display) -> Result<(), End> {
    out.line(message);
    Err(End::Exit)
}

/// `abort_if(cond, msg)` of segmentation.py.
fn abort_if(out: &mut Out, cond: bool, message: &str) -> Result<(), End> {
    if cond {
        return exit(out, format!("Error: {message}"));
    }
    Ok(())
}

/// A Python exception as a script's end.
fn raise(name: &'static str, message: impl Into<String>) -> End {
    End::Raise(Exc::new(name, message))
}

impl From<Exc> for End {
    fn from(e: Exc) -> Self {
        End::Raise(e)
    }
}

/// Integer option `c` (optparse already checked it), saturated to `i128`.
fn opt_int(p: &Parsed, c: char) -> i128 {
    let b = p.big(c);
    crate::py::big_to_i128(&b).unwrap_or(if b.negative { i128::MIN } else { i128::MAX })
}

/// Integer option `c` as Python prints it.
fn opt_int_str(p: &Parsed, c: char) -> String {
    crate::py::big_str(&p.big(c))
}

/// Python's `random` seeded with integer option `c`.
fn seeded(p: &Parsed, c: char) -> crate::pyrandom::PyRandom {
    crate::pyrandom::PyRandom::new(&p.big(c))
}

/// A random placement loop the script would never leave: it hangs; vmsim says why instead.
fn endless(what: &str) -> End {
    End::Refused(format!(
        "the script would loop forever here ({what}); vmsim stops instead"
    ))
}
