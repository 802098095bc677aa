//! Finding the external programs vmsim drives (valgrind, perf) and saying how to install the
//! ones that are missing.
use std::path::{Path, PathBuf};
use thiserror::Error;

/// An external program vmsim needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    /// valgrind, for `record` (its lackey tool).
    Valgrind,
    /// perf, for `record --faults`.
    Perf,
}

impl Tool {
    /// The command name.
    pub fn command(self) -> &'static str {
        match self {
            Tool::Valgrind => "valgrind",
            Tool::Perf => "perf",
        }
    }

    /// How to install it on Debian or Ubuntu, and on Fedora.
    pub fn install_hint(self) -> &'static str {
        match self {
            Tool::Valgrind => "install it with `apt-get install valgrind` (Debian, Ubuntu) or `dnf install valgrind` (Fedora)",
            Tool::Perf => "install it with `apt-get install linux-perf` (Debian), `apt-get install linux-tools-$(uname -r)` (Ubuntu) or `dnf install perf` (Fedora)",
        }
    }
}

/// A program that is not on `PATH`.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[error("{} is not installed (not found on PATH): {}", tool.command(), tool.install_hint())]
pub struct Missing {
    /// Which.
    pub tool: Tool,
}

/// The executable `tool` on `path` (a `PATH`-style list).
pub fn find_in(tool: Tool, path: &str) -> Result<PathBuf, Missing> {
    use std::os::unix::fs::PermissionsExt;
    std::env::split_paths(path)
        .map(|d| d.join(tool.command()))
        .find(|p| is_executable(p, |m| m.permissions().mode() & 0o111 != 0))
        .ok_or(Missing { tool })
}

/// The executable `tool` on this process's `PATH`.
pub fn find(tool: Tool) -> Result<PathBuf, Missing> {
    find_in(tool, &std::env::var("PATH").unwrap_or_default())
}

fn is_executable(p: &Path, exec: impl Fn(&std::fs::Metadata) -> bool) -> bool {
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && exec(&m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_tools_name_the_install_command() {
        let e = find_in(Tool::Perf, "/nonexistent-dir").unwrap_err();
        assert!(e.to_string().starts_with("perf is not installed"));
        assert!(e.to_string().contains("apt-get install linux-perf"));
        let e = find_in(Tool::Valgrind, "").unwrap_err();
        assert!(e.to_string().contains("apt-get install valgrind"));
    }

    #[test]
    fn finds_an_executable_on_the_path() {
        let dir = std::env::temp_dir().join(format!("vmsim-tool-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("perf");
        std::fs::write(&f, "#!/bin/sh\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        // Not executable yet: not found.
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(find_in(Tool::Perf, dir.to_str().unwrap()).is_err());
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(find_in(Tool::Perf, dir.to_str().unwrap()), Ok(f));
        std::fs::remove_dir_all(dir).ok();
    }
}
