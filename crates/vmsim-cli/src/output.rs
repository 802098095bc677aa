//! Output files are all or nothing: a file is written to a temporary file beside it, which is
//! renamed over the target only when the command succeeds (`tempfile`'s persist). On an error
//! the temporary file is removed when it is dropped; on Ctrl-C (SIGINT) or SIGTERM a handler
//! removes every temporary file still open and exits with 130. A target that exists and is not
//! a regular file (a device such as `/dev/null` or `/dev/full`, a pipe) is written in place: it
//! cannot be replaced, and holds no earlier content to keep. `-` is standard output.
//!
//! Writing to the file a command reads would destroy its input, so [`Output::create`] refuses a
//! target that is the same file (same device and inode) as an input before it opens anything
//! for writing.
use anyhow::{Context, Result};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, Once};

/// Temporary files not yet persisted, removed by the signal handler.
static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
static HANDLER: Once = Once::new();

/// Exit code after SIGINT, as a shell reports a process killed by it (128 + 2).
const INTERRUPTED: i32 = 130;

fn pending() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    PENDING.lock().unwrap_or_else(|p| p.into_inner())
}

/// Installs (once) the handler that removes the pending temporary files on SIGINT/SIGTERM.
fn install_handler() {
    HANDLER.call_once(|| {
        // If another handler is already installed the default action stays, and the files are
        // removed by nobody; that cannot happen in this binary, which installs only this one.
        let _ = ctrlc::set_handler(|| {
            for p in pending().drain(..) {
                let _ = std::fs::remove_file(p);
            }
            std::process::exit(INTERRUPTED);
        });
    });
}

/// (device, inode) of an input: `-` is standard input.
fn identity(input: &Path) -> Option<(u64, u64)> {
    let meta = if input.as_os_str() == "-" {
        use std::os::fd::AsFd;
        let fd = io::stdin().as_fd().try_clone_to_owned().ok()?;
        File::from(fd).metadata().ok()?
    } else {
        std::fs::metadata(input).ok()?
    };
    Some((meta.dev(), meta.ino()))
}

enum Sink {
    Stdout(io::StdoutLock<'static>),
    /// A device or pipe, written in place.
    InPlace(File),
    /// A temporary file beside the target, registered for the signal handler.
    Temp(tempfile::NamedTempFile, Registered),
}

/// A temporary file's path in the signal handler's list, until it is dropped.
struct Registered(PathBuf);

impl Drop for Registered {
    fn drop(&mut self) {
        pending().retain(|p| *p != self.0);
    }
}

/// An output file being written: see the module documentation. Write errors name the file.
pub struct Output {
    sink: BufWriter<Sink>,
    target: PathBuf,
}

impl Output {
    /// Starts writing `target` (`-` is standard output), refusing it if it is the same file as
    /// one of `inputs` (paths, `-` for standard input). Nothing is visible at `target` until
    /// [`Output::commit`].
    pub fn create(target: &Path, inputs: &[&Path]) -> Result<Self> {
        let shown = target.display();
        if target.as_os_str() == "-" {
            return Ok(Output {
                sink: BufWriter::with_capacity(1 << 16, Sink::Stdout(io::stdout().lock())),
                target: target.to_path_buf(),
            });
        }
        let existing = std::fs::metadata(target).ok();
        if let Some(m) = &existing {
            let out = (m.dev(), m.ino());
            for input in inputs {
                if identity(input) == Some(out) {
                    anyhow::bail!(
                        "{shown} is the input {}: writing it would destroy what is being read (write to another file)",
                        input.display()
                    );
                }
            }
        }
        let mode = match &existing {
            Some(m) => m.mode() & 0o7777,
            None => 0o666,
        };
        let sink = match existing {
            Some(m) if !m.is_file() => Sink::InPlace(
                std::fs::OpenOptions::new()
                    .write(true)
                    .open(target)
                    .with_context(|| format!("cannot open {shown}"))?,
            ),
            _ => {
                install_handler();
                let dir = match target.parent() {
                    Some(d) if !d.as_os_str().is_empty() => d,
                    _ => Path::new("."),
                };
                let name = target
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                // Registered before it exists, so that a signal between the two leaves nothing.
                let mut list = pending();
                let tmp = tempfile::Builder::new()
                    .prefix(&format!(".{name}."))
                    .suffix(".tmp")
                    // The mode a new file gets (less the umask), or the one it had.
                    .permissions(std::os::unix::fs::PermissionsExt::from_mode(mode))
                    .tempfile_in(dir)
                    .with_context(|| format!("cannot create {shown}"))?;
                list.push(tmp.path().to_path_buf());
                drop(list);
                let reg = Registered(tmp.path().to_path_buf());
                Sink::Temp(tmp, reg)
            }
        };
        Ok(Output {
            sink: BufWriter::with_capacity(1 << 16, sink),
            target: target.to_path_buf(),
        })
    }

    /// Flushes and, for a regular file, renames the temporary file over the target.
    pub fn commit(self) -> Result<()> {
        let shown = self.target.display().to_string();
        let target = self.target;
        let sink = self
            .sink
            .into_inner()
            .map_err(|e| named(&target, e.into_error()))?;
        match sink {
            Sink::Stdout(mut s) => s.flush()?,
            Sink::InPlace(f) => f
                .sync_all()
                .or_else(ignore_unsyncable)
                .with_context(|| format!("cannot write {shown}"))?,
            Sink::Temp(tmp, registered) => {
                let done = tmp
                    .as_file()
                    .sync_all()
                    .map_err(anyhow::Error::from)
                    .and_then(|()| tmp.persist(&target).map_err(|e| e.error.into()))
                    .with_context(|| format!("cannot write {shown}"));
                drop(registered);
                done?;
            }
        }
        Ok(())
    }
}

/// Devices and pipes may not support fsync (EINVAL): what was written is all there is.
fn ignore_unsyncable(e: io::Error) -> io::Result<()> {
    if e.kind() == io::ErrorKind::InvalidInput {
        Ok(())
    } else {
        Err(e)
    }
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Sink::Stdout(s) => s.write(buf),
            Sink::InPlace(f) => f.write(buf),
            Sink::Temp(t, _) => t.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Sink::Stdout(s) => s.flush(),
            Sink::InPlace(f) => f.flush(),
            Sink::Temp(t, _) => t.flush(),
        }
    }
}

/// Names the file in a write error, keeping its kind (a closed pipe stays a closed pipe).
fn named(target: &Path, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("cannot write {}: {e}", target.display()))
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.sink.write(buf).map_err(|e| named(&self.target, e))
    }
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.sink.write_all(buf).map_err(|e| named(&self.target, e))
    }
    fn flush(&mut self) -> io::Result<()> {
        self.sink.flush().map_err(|e| named(&self.target, e))
    }
}

/// Writes `bytes` to `path` all or nothing (see [`Output`]).
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut o = Output::create(path, &[])?;
    o.write_all(bytes)?;
    o.commit()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn dir() -> tempfile::TempDir {
        tempfile::tempdir().unwrap()
    }

    fn leftovers(d: &Path) -> Vec<String> {
        std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn nothing_appears_before_commit_and_everything_after() {
        let d = dir();
        let t = d.path().join("out.txt");
        let mut o = Output::create(&t, &[]).unwrap();
        o.write_all(b"hello\n").unwrap();
        assert!(!t.exists());
        o.commit().unwrap();
        assert_eq!(std::fs::read(&t).unwrap(), b"hello\n");
        assert_eq!(leftovers(d.path()), vec!["out.txt".to_string()]);
        // Other tests running at the same time may have files pending; this one has none.
        assert!(!pending().iter().any(|p| p.starts_with(d.path())));
    }

    #[test]
    fn the_same_file_as_an_input_is_refused_before_anything_is_written() {
        let d = dir();
        let t = d.path().join("trace.txt");
        std::fs::write(&t, "R 0x1000\n").unwrap();
        let other = d.path().join(".").join("trace.txt");
        let e = Output::create(&other, &[&t]).err().unwrap().to_string();
        assert!(e.contains("is the input"), "{e}");
        assert_eq!(std::fs::read(&t).unwrap(), b"R 0x1000\n");
        // A hard link is the same file under another name.
        let link = d.path().join("link.txt");
        std::fs::hard_link(&t, &link).unwrap();
        assert!(Output::create(&link, &[&t]).is_err());
        assert!(Output::create(&d.path().join("new.txt"), &[&t]).is_ok());
    }

    #[test]
    fn write_errors_name_the_file() {
        let t = Path::new("/dev/full");
        if !t.exists() {
            return;
        }
        let mut o = Output::create(t, &[]).unwrap();
        let e = o
            .write_all(&[0; 1 << 17])
            .and_then(|()| o.flush())
            .unwrap_err();
        assert!(e.to_string().starts_with("cannot write /dev/full: "), "{e}");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]

        /// Whatever is written and wherever it stops, the target holds either the complete
        /// content (after a commit) or nothing (after an error, dropped without a commit), and
        /// no temporary file is left; an earlier version of the target survives a failure.
        #[test]
        fn an_output_is_complete_or_absent(
            chunks in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..20_000), 0..8),
            fail_after in prop::option::of(0usize..8),
            earlier in any::<bool>(),
        ) {
            let d = dir();
            let t = d.path().join("out.bin");
            if earlier {
                std::fs::write(&t, b"earlier").unwrap();
            }
            let mut o = Output::create(&t, &[]).unwrap();
            let mut failed = false;
            for (i, c) in chunks.iter().enumerate() {
                if fail_after == Some(i) {
                    failed = true;
                    break;
                }
                o.write_all(c).unwrap();
            }
            if failed {
                drop(o);
                if earlier {
                    prop_assert_eq!(std::fs::read(&t).unwrap(), b"earlier".to_vec());
                } else {
                    prop_assert!(!t.exists());
                }
            } else {
                o.commit().unwrap();
                prop_assert_eq!(std::fs::read(&t).unwrap(), chunks.concat());
            }
            let names = leftovers(d.path());
            prop_assert!(names.iter().all(|n| n == "out.bin"), "{:?}", names);
        }
    }
}
