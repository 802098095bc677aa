//! Helpers shared by the whole-program tests.
// Each test crate uses the helpers it needs.
#![allow(dead_code)]
pub mod browser;

use std::io::Write;
use std::process::{Command, Output};

/// Runs the `vmsim` binary.
pub fn vmsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vmsim"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run vmsim")
}

/// What a run printed on stdout.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// What a run printed on stderr.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The JSON a successful run printed.
pub fn json(o: &Output) -> serde_json::Value {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

/// Writes `text` to a file of this test process's temporary directory.
pub fn temp(name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("vmsim-cli-common-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::File::create(&p)
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    p
}
