//! The self-contained HTML report of a run: the template, style sheet and script under
//! `assets/` (compiled in), with the run's data embedded once as JSON.
//!
//! Nothing from the input reaches the HTML as markup. The only data in the page is the JSON
//! block, in which `<`, `>` and `&` are written as `\u003c`, `\u003e` and `\u0026` (so no
//! trace name or TOML string can close the `<script>` element or open a comment), and the
//! script puts every string it reads from it into the page with `textContent`. The page's
//! Content-Security-Policy forbids every fetch, so even a mistake could not reach the network.
use crate::{PageAnalysis, WebError};
use serde::Serialize;
use vmsim_core::config::MachineConfig;
use vmsim_sim::RunReport;

const TEMPLATE: &str = include_str!("../assets/report.html");
const STYLE: &str = include_str!("../assets/report.css");
const SCRIPT: &str = include_str!("../assets/report.js");

/// Everything the page draws from, serialised once into it.
#[derive(Serialize)]
struct ReportData<'a> {
    /// What made the page (`vmsim 0.1.0`).
    generator: String,
    /// The run's report: the JSON `vmsim run --json` prints.
    run: &'a RunReport,
    /// The text `vmsim run` prints for the same run.
    summary_text: String,
    /// The machine, as TOML that `--config` accepts.
    machine_toml: String,
    /// The trace's page-stream analyses.
    pages: &'a PageAnalysis,
}

/// The HTML page of a run: `run` on the machine `config` describes, with the page-stream
/// analyses `pages` of the same trace.
pub fn render(
    run: &RunReport,
    config: &MachineConfig,
    pages: &PageAnalysis,
) -> Result<String, WebError> {
    let data = ReportData {
        generator: format!("vmsim {}", env!("CARGO_PKG_VERSION")),
        run,
        summary_text: run.to_string(),
        machine_toml: config.to_toml(),
        pages,
    };
    let json = script_json(&serde_json::to_string(&data)?);
    Ok(fill(
        TEMPLATE,
        &[("STYLE", STYLE), ("SCRIPT", SCRIPT), ("DATA", &json)],
    ))
}

/// JSON text made safe inside an HTML `<script>` element: `<`, `>` and `&` (which JSON
/// allows only inside strings) become `\u` escapes, which `JSON.parse` reads back unchanged,
/// and so do U+2028 and U+2029.
pub fn script_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len() + json.len() / 16);
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// The template with each `{{NAME}}` replaced by its value, in one pass over the template only:
/// a value is never searched for markers, so data cannot inject a marker of its own. A marker
/// with no value stays as it is.
fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let extra: usize = values.iter().map(|(_, v)| v.len()).sum();
    let mut out = String::with_capacity(template.len() + extra);
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let after = &rest[open + 2..];
        let value = after.find("}}").and_then(|close| {
            let name = &after[..close];
            values
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v, close))
        });
        match value {
            Some((v, close)) => {
                out.push_str(v);
                rest = &after[close + 2..];
            }
            None => {
                out.push_str("{{");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_json_escapes_what_could_end_the_script() {
        let s = serde_json::to_string("</script><!-- & \u{2028}").unwrap();
        let e = script_json(&s);
        assert!(!e.contains('<') && !e.contains('>') && !e.contains('&'));
        let back: String = serde_json::from_str(&e).unwrap();
        assert_eq!(back, "</script><!-- & \u{2028}");
    }

    #[test]
    fn fill_replaces_markers_once_and_never_inside_values() {
        let out = fill("a{{X}}b{{Y}}c{{Z}}", &[("X", "{{Y}}"), ("Y", "y")]);
        assert_eq!(out, "a{{Y}}byc{{Z}}");
    }

    #[test]
    fn the_assets_hold_one_of_each_marker_and_no_network_address() {
        for m in ["{{STYLE}}", "{{SCRIPT}}", "{{DATA}}"] {
            assert_eq!(TEMPLATE.matches(m).count(), 1, "{m}");
        }
        for asset in [TEMPLATE, STYLE, SCRIPT] {
            assert!(!asset.contains("http://") && !asset.contains("https://"));
        }
        for asset in [STYLE, SCRIPT] {
            assert!(!asset.contains("{{"), "a marker in an asset");
            assert!(!asset.to_ascii_lowercase().contains("</script"));
        }
        assert!(
            !SCRIPT.contains("innerHTML"),
            "the script must not parse markup"
        );
    }
}
