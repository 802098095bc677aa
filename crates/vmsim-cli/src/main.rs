//! The `vmsim` binary: argument parsing and wiring only.
use std::process::ExitCode;

fn main() -> ExitCode {
    ExitCode::SUCCESS
}
