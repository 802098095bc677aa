//! Headless Chromium for the browser tests: a chromedriver started on a free port of
//! 127.0.0.1 (killed when dropped) and a WebDriver session through `fantoccini`.
use fantoccini::{Client, ClientBuilder};
use serde_json::{json, Value};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A chromedriver this test started; killed when dropped.
pub struct Driver {
    child: Child,
    port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn find_program(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|d| names.iter().map(move |n| d.join(n)))
        .find(|p| p.is_file())
}

/// Chromium and chromedriver, or why not.
pub fn browser() -> Result<(PathBuf, PathBuf), String> {
    let chromium = find_program(&["chromium", "chromium-browser", "google-chrome"])
        .ok_or("no chromium on PATH")?;
    let driver = find_program(&["chromedriver"]).ok_or("no chromedriver on PATH")?;
    Ok((chromium, driver))
}

/// Starts chromedriver on a free port of 127.0.0.1 and waits until it listens.
pub fn start_driver(driver: &Path) -> Driver {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(driver)
        .arg(format!("--port={port}"))
        .arg("--allowed-ips=127.0.0.1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let d = Driver { child, port };
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not listen");
        std::thread::sleep(Duration::from_millis(50));
    }
    d
}

/// A headless Chromium session whose profile lives under `dir`.
pub async fn connect(d: &Driver, chromium: &Path, dir: &Path) -> Client {
    let profile = dir.join(format!("profile-{}", std::process::id()));
    let caps = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--hide-scrollbars",
                     format!("--user-data-dir={}", profile.display())],
        },
    });
    let caps = match caps {
        Value::Object(m) => m,
        _ => unreachable!(),
    };
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", d.port))
        .await
        .expect("a chromium session")
}

/// Chromium and chromedriver; `None` (said on stderr) where they are missing, a failure under
/// CI (`CI` set), whose `.ci/run` installs them.
pub fn browser_or_skip() -> Option<(PathBuf, PathBuf)> {
    match browser() {
        Ok(b) => Some(b),
        Err(why) if std::env::var_os("CI").is_some() => {
            panic!("{why}: the browser tests need chromium and chromium-driver (.ci/run installs them)")
        }
        Err(why) => {
            eprintln!(
                "skipping the browser test: {why} (apt-get install chromium chromium-driver)"
            );
            None
        }
    }
}
