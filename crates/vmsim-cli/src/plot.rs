//! SVG line charts (plotters' SVG backend, no fonts needed): one line per named series.
use anyhow::Result;
use plotters::prelude::*;
use std::path::Path;

/// One line of a chart.
pub struct Series {
    /// Legend label.
    pub name: String,
    /// Points, in x order.
    pub points: Vec<(f64, f64)>,
}

/// The axes of a chart.
pub struct Axes<'a> {
    /// Chart title.
    pub title: &'a str,
    /// X-axis label.
    pub x: &'a str,
    /// Y-axis label.
    pub y: &'a str,
    /// Whether x is drawn on a log scale.
    pub log_x: bool,
}

/// Writes a line chart of `series` to `path` as SVG.
pub fn line_chart(path: &Path, axes: &Axes, series: &[Series]) -> Result<()> {
    let mut svg = String::new();
    draw(&mut svg, axes, series).map_err(|e| anyhow::anyhow!("drawing the chart: {e}"))?;
    crate::output::write_file(path, svg.as_bytes())
}

/// A tick label: whole numbers without decimals, others with three significant digits.
fn tick(v: f64) -> String {
    if v == v.round() && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        let digits = (2 - v.abs().log10().floor() as i32).clamp(0, 6) as usize;
        format!("{v:.digits$}")
    }
}

fn draw(
    svg: &mut String,
    axes: &Axes,
    series: &[Series],
) -> Result<(), Box<dyn std::error::Error>> {
    let all = || series.iter().flat_map(|s| s.points.iter());
    let lo = |v: f64, d: f64| if v.is_finite() { v } else { d };
    let x0 = lo(all().map(|p| p.0).fold(f64::INFINITY, f64::min), 0.0);
    let x1 = lo(all().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max), 1.0);
    let y1 = lo(all().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max), 1.0).max(1e-9) * 1.05;
    let x1 = if x1 > x0 { x1 } else { x0 + 1.0 };
    let root = SVGBackend::with_string(svg, (800, 480)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut b = ChartBuilder::on(&root);
    b.caption(axes.title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60);
    let colours = [
        RGBColor(31, 119, 180),
        RGBColor(44, 160, 44),
        RGBColor(214, 39, 40),
        RGBColor(255, 127, 14),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
        RGBColor(227, 119, 194),
        RGBColor(127, 127, 127),
        RGBColor(188, 189, 34),
        RGBColor(23, 190, 207),
    ];
    macro_rules! plot {
        ($chart:expr) => {{
            let mut c = $chart;
            c.configure_mesh()
                .x_desc(axes.x)
                .y_desc(axes.y)
                .x_label_formatter(&|v| tick(*v))
                .y_label_formatter(&|v| tick(*v))
                .light_line_style(RGBColor(235, 235, 235))
                .draw()?;
            for (i, s) in series.iter().enumerate() {
                let colour = colours[i % colours.len()];
                c.draw_series(LineSeries::new(
                    s.points.iter().copied(),
                    colour.stroke_width(2),
                ))?
                .label(s.name.as_str())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2))
                });
            }
            c.configure_series_labels()
                .background_style(WHITE.mix(0.8))
                .border_style(BLACK)
                .draw()?;
        }};
    }
    if axes.log_x && x0 > 0.0 {
        plot!(b.build_cartesian_2d((x0..x1).log_scale(), 0.0..y1)?);
    } else {
        plot!(b.build_cartesian_2d(x0..x1, 0.0..y1)?);
    }
    root.present()?;
    Ok(())
}
