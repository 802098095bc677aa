//! `vmsim serve` as a user runs it: the binary started on 127.0.0.1 with `--port 0` (the URL it
//! prints names the free port), its one-shot explain equal to `vmsim explain ADDR --json`, and
//! the explorer page in headless Chromium: an address translated in the page shows the physical
//! address `vmsim explain` gives. Every server and chromedriver started here is killed when its
//! guard drops. Without Chromium the browser test fails under CI and skips elsewhere.
mod common;

use common::browser::{browser_or_skip, connect, start_driver};
use common::{json, vmsim};
use fantoccini::{Client, Locator};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `vmsim serve` this test started; killed when dropped.
struct Serve {
    child: Child,
    url: String,
    /// Its standard output, kept open: a closed pipe would fail its next line.
    _out: BufReader<std::process::ChildStdout>,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Serve {
    fn start() -> Serve {
        let mut child = Command::new(env!("CARGO_BIN_EXE_vmsim"))
            .args(["serve", "--port", "0", "--bind", "127.0.0.1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start vmsim serve");
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        let mut serve = Serve {
            child,
            url: String::new(),
            _out: out,
        };
        serve.url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://127.0.0.1:"))
            .unwrap_or_else(|| panic!("no URL in {line:?}"))
            .to_string();
        serve
    }

    fn host(&self) -> &str {
        self.url.trim_start_matches("http://").trim_end_matches('/')
    }

    /// `GET path` with a plain HTTP/1.1 request; the status and body.
    fn get(&self, path: &str) -> (u16, String) {
        let mut s = TcpStream::connect(self.host()).unwrap();
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.host()
        )
        .unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        (
            head.split(' ').nth(1).unwrap().parse().unwrap(),
            body.into(),
        )
    }
}

fn out_dir() -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join("serve");
    std::fs::create_dir_all(&d).unwrap();
    d
}

const ADDR: &str = "0x7ffd5c3e1a28";

#[test]
fn the_one_shot_explain_is_vmsim_explains_json() {
    let s = Serve::start();
    for (preset, addr) in [
        ("zen4", ADDR),
        ("teaching", "0x1234"),
        ("skylake", "0x401000"),
    ] {
        let (status, body) = s.get(&format!("/api/explain?addr={addr}&preset={preset}"));
        assert_eq!(status, 200, "{body}");
        let api: Value = serde_json::from_str(&body).unwrap();
        let cli = json(&vmsim(&["explain", addr, "--preset", preset, "--json"]));
        assert_eq!(api, cli, "{preset} {addr}");
    }
    let (status, body) = s.get("/api/explain?addr=nowhere");
    assert_eq!(status, 400);
    assert!(body.contains("not an address"), "{body}");
}

#[test]
fn serve_refuses_a_bad_bind_address() {
    let o = vmsim(&["serve", "--bind", "not-an-address"]);
    assert_eq!(o.status.code(), Some(2), "{}", common::stderr(&o));
}

async fn eval(c: &Client, script: &str) -> Value {
    c.execute(script, vec![]).await.unwrap()
}

/// Waits until `script` returns true.
async fn until(c: &Client, script: &str, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while eval(c, script).await != Value::Bool(true) {
        assert!(Instant::now() < deadline, "the page never {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "current_thread")]
async fn the_explorer_translates_an_address_in_chromium() {
    let Some((chromium, driver)) = browser_or_skip() else {
        return;
    };
    let want = json(&vmsim(&["explain", ADDR, "--json"]));
    let events = want["accesses"][0]["events"].as_array().unwrap();
    let pa = events.last().unwrap()["pa"].as_str().unwrap().to_string();

    let s = Serve::start();
    let d = start_driver(&driver);
    let c = connect(&d, &chromium, &out_dir()).await;
    c.set_window_size(1100, 1000).await.unwrap();
    c.goto(&s.url).await.unwrap();
    until(
        &c,
        "return document.body.dataset.ready === 'true';",
        "got its machine",
    )
    .await;

    let va = c.find(Locator::Id("va")).await.unwrap();
    va.clear().await.unwrap();
    va.send_keys(ADDR).await.unwrap();
    c.find(Locator::Id("translate"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    until(
        &c,
        "return document.body.dataset.translated === '1';",
        "translated",
    )
    .await;

    let shown = eval(&c, "return document.getElementById('pa').textContent;").await;
    assert_eq!(shown.as_str().unwrap(), pa, "the page's physical address");
    let steps = eval(&c, "return document.querySelectorAll('#steps li').length;").await;
    assert_eq!(
        steps.as_u64().unwrap() as usize,
        events.len(),
        "one step per event"
    );
    let narration = eval(
        &c,
        "return document.getElementById('narration').textContent;",
    )
    .await;
    assert!(
        narration.as_str().unwrap().contains("PAGE FAULT"),
        "{narration}"
    );
    let split = eval(&c, "return document.getElementById('split').textContent;").await;
    assert!(
        split.as_str().unwrap().contains("PML4 index 255"),
        "{split}"
    );
    let l1d = eval(
        &c,
        "return document.querySelectorAll('#tlb-l1d tr.new').length;",
    )
    .await;
    assert_eq!(l1d, 1, "the L1 data TLB shows the new entry");
    assert_eq!(
        eval(&c, "return window.__vmsimErrors;").await,
        serde_json::json!([])
    );
    let ms = eval(&c, "return Number(document.body.dataset.lastMs);").await;
    eprintln!("request to render: {ms} ms");

    let png = c.screenshot().await.unwrap();
    let shot = out_dir().join("explorer.png");
    std::fs::write(&shot, &png).unwrap();
    eprintln!("screenshot: {}", shot.display());
    c.close().await.unwrap();
}
