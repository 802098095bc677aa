//! Exit codes are decided here and nowhere else: 0 success, 1 runtime failure, 2 usage error.
use std::io::Write;
use std::process::ExitCode;

/// A usage error discovered after clap parsing (conflicting or out-of-range flag values).
/// `main` turns it into exit code 2.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// Returns a usage error (exit code 2) with `msg`.
pub fn usage(msg: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(UsageError(msg.into()))
}

/// Prints clap's message (help and version go to stdout with code 0) and picks the exit code.
/// Help that cannot be printed (`--help >/dev/full`) is a failure, code 1; a reader that
/// closed the pipe early (`--help | head -1`) is not.
pub fn clap_error(e: clap::Error) -> ExitCode {
    let code = if e.use_stderr() { 2 } else { 0 };
    let printed = if e.use_stderr() {
        // A usage error is one line, as every other error is: clap's first paragraph (what is
        // wrong, with the flag and the value, or the list of missing arguments), without its
        // usage and `--help` hint lines.
        let text = e.render().to_string();
        let line = text
            .trim_start()
            .lines()
            .take_while(|l| !l.trim().is_empty() && !l.starts_with("Usage:"))
            .map(str::trim)
            .collect::<Vec<_>>()
            .join(" ");
        let line = line.strip_prefix("error: ").unwrap_or(&line);
        let mut err = std::io::stderr().lock();
        writeln!(err, "vmsim: {line} (see --help)").and_then(|()| err.flush())
    } else {
        e.print().and_then(|()| std::io::stdout().flush())
    };
    match printed {
        Ok(()) => ExitCode::from(code),
        Err(io) if io.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::from(code),
        Err(io) => {
            eprintln!("vmsim: error writing output: {io}");
            ExitCode::from(1)
        }
    }
}

/// Turns a subcommand's result into the process exit code, printing one line on failure.
pub fn finish(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => match std::io::stdout().flush() {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("vmsim: error writing output: {e}");
                ExitCode::from(1)
            }
        },
        Err(e) => {
            // A closed output pipe (`| head`) ends the command quietly, wherever in the chain
            // of causes the I/O error sits.
            let broken = e.chain().any(|c| {
                let kind = c
                    .downcast_ref::<std::io::Error>()
                    .map(|io| io.kind())
                    .or_else(|| {
                        c.downcast_ref::<serde_json::Error>()
                            .and_then(|j| j.io_error_kind())
                    });
                kind == Some(std::io::ErrorKind::BrokenPipe)
            });
            if broken {
                return ExitCode::SUCCESS;
            }
            let msg = one_line(&e);
            eprintln!("vmsim: {msg}");
            if e.downcast_ref::<UsageError>().is_some() {
                ExitCode::from(2)
            } else {
                ExitCode::from(1)
            }
        }
    }
}

/// The chain of causes as one line ([`vmsim_sim::error::one_line`]).
fn one_line(e: &anyhow::Error) -> String {
    vmsim_sim::error::one_line(e.chain())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("mmu.l2: {source}")]
    struct Outer {
        #[source]
        source: Inner,
    }

    #[derive(Debug, thiserror::Error)]
    #[error("array 0: ways must be at least 1")]
    struct Inner;

    #[test]
    fn a_cause_the_message_already_says_is_not_repeated() {
        let e = anyhow::Error::new(Outer { source: Inner }).context("my.toml");
        assert_eq!(
            one_line(&e),
            "my.toml: mmu.l2: array 0: ways must be at least 1"
        );
        let io = anyhow::Error::new(std::io::Error::other("disk full")).context("cannot write x");
        assert_eq!(one_line(&io), "cannot write x: disk full");
    }
}
