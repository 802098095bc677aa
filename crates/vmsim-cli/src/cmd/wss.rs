//! `vmsim wss PID`: a running process's working-set size over time: each interval, clear its
//! pages' referenced bits (`/proc/PID/clear_refs`), wait, and sum what `smaps` reports as
//! referenced since, anonymous and file-backed apart.
use anyhow::Result;
use std::io::Write;
use std::path::PathBuf;

/// Arguments of `vmsim wss`.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  vmsim wss 1234                        # 10 samples, 1 s apart\n  \
    vmsim wss 1234 --interval 200 --samples 50 --svg wss.svg\n  \
    vmsim wss 1234 --json | jq '.samples[].anon_kib'"
)]
pub struct Args {
    /// Process id.
    pub pid: u32,
    /// Milliseconds per interval.
    #[arg(long, default_value_t = 1000, value_name = "MS")]
    pub interval: u64,
    /// Intervals to measure.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub samples: u32,
    /// Write the working set over time as an SVG chart.
    #[arg(long, value_name = "FILE")]
    pub svg: Option<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `vmsim wss`.
#[cfg(not(target_os = "linux"))]
pub fn run(_a: Args) -> Result<()> {
    anyhow::bail!("vmsim wss needs Linux (/proc/PID/clear_refs and smaps)")
}

/// Runs `vmsim wss`.
#[cfg(target_os = "linux")]
pub fn run(a: Args) -> Result<()> {
    use vmsim_linux::inspect::Target;
    use vmsim_linux::wss::{areas, clear_refs, WssSample};
    if a.samples == 0 || a.interval == 0 {
        return Err(crate::exit::usage(
            "--samples and --interval must be at least 1",
        ));
    }
    let t = Target::Pid(a.pid);
    let mut samples: Vec<WssSample> = Vec::new();
    for _ in 0..a.samples {
        clear_refs(t)?;
        std::thread::sleep(std::time::Duration::from_millis(a.interval));
        samples.push(WssSample::of(&areas(t)?));
    }
    if let Some(svg) = &a.svg {
        let secs = |i: usize| (i + 1) as f64 * a.interval as f64 / 1000.0;
        let line = |name: &str, f: &dyn Fn(&WssSample) -> u64| crate::plot::Series {
            name: name.into(),
            points: samples
                .iter()
                .enumerate()
                .map(|(i, s)| (secs(i), f(s) as f64))
                .collect(),
        };
        let series = [
            line("total", &|s| s.total_kib()),
            line("anonymous", &|s| s.anon_kib),
            line("file", &|s| s.file_kib),
        ];
        let axes = crate::plot::Axes {
            title: &format!("working set of pid {} per {} ms", a.pid, a.interval),
            x: "seconds",
            y: "KiB referenced in the interval",
            log_x: false,
        };
        crate::plot::line_chart(svg, &axes, &series)?;
    }
    if a.json {
        let v = serde_json::json!({"pid": a.pid, "interval_ms": a.interval, "samples": samples});
        writeln!(std::io::stdout(), "{}", serde_json::to_string_pretty(&v)?)?;
        return Ok(());
    }
    let mut o = std::io::stdout().lock();
    writeln!(
        o,
        "working set of pid {} (KiB referenced per {} ms)",
        a.pid, a.interval
    )?;
    writeln!(
        o,
        "  {:>8} {:>10} {:>10} {:>10}",
        "seconds", "total", "anon", "file"
    )?;
    for (i, s) in samples.iter().enumerate() {
        let t = (i + 1) as f64 * a.interval as f64 / 1000.0;
        writeln!(
            o,
            "  {t:>8.1} {:>10} {:>10} {:>10}",
            s.total_kib(),
            s.anon_kib,
            s.file_kib
        )?;
    }
    Ok(())
}
