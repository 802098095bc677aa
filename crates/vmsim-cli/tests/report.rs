//! `vmsim report`: the HTML file itself (size, escaping, the run's JSON embedded once and equal
//! to `vmsim run --json`'s), and the page in a real browser: headless Chromium driven over
//! WebDriver by a chromedriver this test starts on 127.0.0.1 and stops. Without Chromium the
//! browser test fails under CI (`CI` set; `.ci/run` installs it) and says so and skips
//! elsewhere.
mod common;

use common::browser::{browser_or_skip, connect, start_driver};
use common::{stderr, vmsim};
use fantoccini::Client;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The trace name a report must show as text, never run as markup.
const HOSTILE: &str = "<img src=x onerror=alert(1)>.vmt";
/// Records of the built-in trace the hostile copy keeps (enough for every chart).
const HOSTILE_LIMIT: &str = "150000";

fn out_dir() -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report");
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Writes a report with `args` to `out_dir()/name`; returns its path and text.
fn report(name: &str, args: &[&str]) -> (PathBuf, String) {
    let path = out_dir().join(name);
    let mut all = vec!["report", "-o", path.to_str().unwrap()];
    all.extend_from_slice(args);
    let o = vmsim(&all);
    assert!(o.status.success(), "vmsim report failed: {}", stderr(&o));
    let text = std::fs::read_to_string(&path).unwrap();
    (path, text)
}

/// The built-in trace copied to a file named like an HTML element.
fn hostile_trace() -> PathBuf {
    let dir = out_dir().join("hostile");
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(HOSTILE);
    let builtin = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/default.vmt");
    std::fs::copy(builtin, &p).unwrap();
    p
}

/// The JSON embedded in a report, read back.
fn embedded(html: &str) -> Value {
    let open = r#"<script type="application/json" id="vmsim-data">"#;
    assert_eq!(html.matches(open).count(), 1, "the data is embedded once");
    let start = html.find(open).unwrap() + open.len();
    let len = html[start..].find("</script>").unwrap();
    serde_json::from_str(&html[start..start + len]).unwrap()
}

#[test]
fn the_built_in_report_is_small_and_holds_the_runs_json_once() {
    let (_, html) = report("builtin-plain.html", &[]);
    assert!(
        html.len() < 2 * 1024 * 1024,
        "{} bytes: over 2 MiB",
        html.len()
    );
    assert!(!html.contains("http://") && !html.contains("https://"));
    let data = embedded(&html);
    let o = vmsim(&["run", "--json"]);
    let run: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(data["run"], run, "the page's numbers are vmsim run's");
    let text = vmsim(&["run"]);
    assert_eq!(data["summary_text"], common::stdout(&text));
    assert!(data["machine_toml"].as_str().unwrap().contains("zen4"));
    let pages = &data["pages"];
    assert!(pages["footprint"].as_u64().unwrap() > 0);
    let frames = pages["mrc"]["frames"].as_array().unwrap();
    assert_eq!(frames.len(), pages["mrc"]["lru"].as_array().unwrap().len());
    assert_eq!(frames.len(), pages["mrc"]["opt"].as_array().unwrap().len());
}

#[test]
fn input_strings_are_escaped_in_the_html() {
    let trace = hostile_trace();
    let (_, html) = report(
        "hostile-plain.html",
        &[trace.to_str().unwrap(), "--limit", HOSTILE_LIMIT],
    );
    assert!(!html.contains("<img"), "the trace name reached the markup");
    assert!(html.contains("\\u003cimg src=x onerror=alert(1)\\u003e.vmt"));
    let data = embedded(&html);
    assert!(data["run"]["trace"].as_str().unwrap().ends_with(HOSTILE));
}

#[test]
fn a_capped_opt_curve_says_so_and_comes_with_lru_over_the_same_prefix() {
    let (_, html) = report(
        "capped.html",
        &[
            "--limit",
            "50000",
            "--opt-refs",
            "1000",
            "--ws-window",
            "500",
        ],
    );
    let m = &embedded(&html)["pages"]["mrc"];
    assert_eq!(m["opt_capped"], true);
    assert_eq!(m["opt_references"], 1000);
    assert_eq!(
        m["lru_prefix"].as_array().unwrap().len(),
        m["frames"].as_array().unwrap().len()
    );
}

#[test]
fn report_refuses_stdin_and_a_zero_window() {
    let o = vmsim(&["report", "-", "-o", "/dev/null"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("not -"));
    let o = vmsim(&["report", "--ws-window", "0", "-o", "/dev/null"]);
    assert_eq!(o.status.code(), Some(2));
}

// ---------- in the browser ----------

/// Opens a report and waits until its script has drawn it.
async fn open(c: &Client, path: &Path) {
    c.goto(&format!("file://{}", path.display())).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let done = c
            .execute(
                "return document.body.getAttribute('data-rendered') === 'true';",
                vec![],
            )
            .await
            .unwrap();
        if done == Value::Bool(true) {
            break;
        }
        assert!(Instant::now() < deadline, "the page never finished drawing");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn eval(c: &Client, script: &str) -> Value {
    c.execute(script, vec![]).await.unwrap()
}

/// What must hold of any report in the browser: no script errors, no load of any resource.
async fn assert_clean(c: &Client) {
    assert_eq!(eval(c, "return window.__vmsimErrors;").await, json!([]));
    assert_eq!(
        eval(c, "return performance.getEntriesByType('resource').length;").await,
        json!(0),
        "the page loaded something"
    );
    assert!(
        c.get_alert_text().await.is_err(),
        "a dialog is open: a script ran"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn the_report_renders_in_chromium_and_runs_no_input_as_script() {
    let Some((chromium, driver)) = browser_or_skip() else {
        return;
    };
    let (page, html) = report("builtin.html", &[]);
    let (hostile_page, _) = report(
        "hostile.html",
        &[hostile_trace().to_str().unwrap(), "--limit", HOSTILE_LIMIT],
    );
    assert!(!html.contains("http://") && !html.contains("https://"));

    let d = start_driver(&driver);
    let c = connect(&d, &chromium, &out_dir()).await;
    c.set_window_size(1100, 1500).await.unwrap();

    open(&c, &page).await;
    assert_clean(&c).await;
    // Every chart section has an SVG with data drawn in it.
    let charts = eval(
        &c,
        "return Array.from(document.querySelectorAll('section.chart')).map(s => [s.id,
           s.querySelectorAll('svg.chart path.series[data-points]').length
           + s.querySelectorAll('svg.chart rect.bar[data-value]').length]);",
    )
    .await;
    for pair in charts.as_array().unwrap() {
        let (id, marks) = (pair[0].as_str().unwrap(), pair[1].as_u64().unwrap());
        assert!(marks > 0, "section {id} has no chart data: {charts}");
    }
    let points = eval(
        &c,
        "return Number(document.querySelector('#mrc path.series').getAttribute('data-points'));",
    )
    .await;
    assert!(points.as_u64().unwrap() > 10, "{points}");
    let summary = eval(
        &c,
        "return document.getElementById('summary-table').textContent;",
    )
    .await;
    assert!(summary.as_str().unwrap().contains("cycles per access"));
    // Hovering a curve shows its values.
    let tip = eval(
        &c,
        "const r = document.querySelector('#mrc svg.chart > rect').getBoundingClientRect();
         document.querySelector('#mrc svg.chart > rect').dispatchEvent(new MouseEvent('mousemove',
           {clientX: r.left + r.width / 2, clientY: r.top + r.height / 2, bubbles: true}));
         return document.getElementById('tip').textContent;",
    )
    .await;
    let tip = tip.as_str().unwrap().to_string();
    assert!(tip.contains("frames") && tip.contains("LRU"), "{tip}");
    // The picture in the README: the miss-ratio curves and the working set.
    eval(
        &c,
        "document.getElementById('tip').hidden = true; document.getElementById('mrc').scrollIntoView(); return 0;",
    )
    .await;
    let png = c.screenshot().await.unwrap();
    std::fs::write(out_dir().join("report-builtin.png"), &png).unwrap();

    open(&c, &hostile_page).await;
    assert_clean(&c).await;
    assert_eq!(eval(&c, "return document.images.length;").await, json!(0));
    let subtitle = eval(
        &c,
        "return document.getElementById('subtitle').textContent;",
    )
    .await;
    assert!(
        subtitle.as_str().unwrap().contains(HOSTILE),
        "the name is shown as text: {subtitle}"
    );

    c.close().await.unwrap();
}
