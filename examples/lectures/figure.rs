//! The few kinds of figure the lessons draw, as SVG through plotters:
//! curves (linear or logarithmic axis), histograms, images in a grid and
//! coloured regions. Each takes a panel of a canvas, so a lesson composes
//! its figure from panels.

use crate::common::Outcome;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::ops::Range;
use std::path::Path;

pub type Panel<'a> = DrawingArea<SVGBackend<'a>, Shift>;

/// A white canvas with a title, split into `rows` x `cols` panels.
pub fn canvas<'a>(
    path: &'a Path,
    size: (u32, u32),
    title: &str,
    rows: usize,
    cols: usize,
) -> Outcome<Vec<Panel<'a>>> {
    let root = SVGBackend::new(path, size).into_drawing_area();
    root.fill(&WHITE)?;
    let root = root.titled(title, ("sans-serif", 22))?;
    Ok(root.split_evenly((rows, cols)))
}

/// The i-th colour of a palette that stays distinguishable up to ten.
pub fn color(i: usize) -> RGBColor {
    const COLORS: [RGBColor; 10] = [
        RGBColor(31, 119, 180),
        RGBColor(214, 39, 40),
        RGBColor(44, 160, 44),
        RGBColor(255, 127, 14),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
        RGBColor(227, 119, 194),
        RGBColor(127, 127, 127),
        RGBColor(188, 189, 34),
        RGBColor(23, 190, 207),
    ];
    COLORS[i % COLORS.len()]
}

/// How a series is drawn.
#[derive(Clone, Copy, PartialEq)]
pub enum Mark {
    Line,
    Dots,
    /// A line with a dot at each point.
    LineDots,
}

/// One labelled series.
pub struct Series {
    pub label: String,
    pub points: Vec<(f64, f64)>,
    pub mark: Mark,
    pub color: RGBColor,
}

impl Series {
    pub fn line(label: impl Into<String>, points: Vec<(f64, f64)>, color: RGBColor) -> Self {
        Self { label: label.into(), points, mark: Mark::Line, color }
    }

    pub fn with(mut self, mark: Mark) -> Self {
        self.mark = mark;
        self
    }
}

/// A chart's caption, axis names and ranges; `None` fits the range to the data.
pub struct Axes<'t> {
    pub caption: &'t str,
    pub x: &'t str,
    pub y: &'t str,
    pub x_range: Option<Range<f64>>,
    pub y_range: Option<Range<f64>>,
    pub log_x: bool,
    pub log_y: bool,
}

impl<'t> Axes<'t> {
    pub fn new(caption: &'t str, x: &'t str, y: &'t str) -> Self {
        Self { caption, x, y, x_range: None, y_range: None, log_x: false, log_y: false }
    }
}

fn fitted(values: impl Iterator<Item = f64>, log: bool) -> Range<f64> {
    let (mut low, mut high) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.filter(|v| v.is_finite() && (!log || *v > 0.0)) {
        low = low.min(v);
        high = high.max(v);
    }
    if !low.is_finite() {
        return if log { 0.1..1.0 } else { 0.0..1.0 };
    }
    if log {
        return low / 1.5..high * 1.5;
    }
    let pad = ((high - low) * 0.05).max(1e-9);
    low - pad..high + pad
}

/// A tick label as short as its value allows: `50`, `0.25`, `1e-4`.
pub fn tick(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    if !(1e-2..1e5).contains(&v.abs()) {
        return format!("{v:.0e}");
    }
    let text = format!("{v:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The body of a chart for whichever axis kinds `build` chose: plotters
/// types linear and logarithmic axes differently, so the code is shared by
/// a macro rather than a generic function.
macro_rules! draw_series {
    ($chart:expr, $axes:expr, $series:expr) => {{
        let mut chart = $chart;
        chart
            .configure_mesh()
            .x_desc($axes.x)
            .y_desc($axes.y)
            .x_label_formatter(&|v| tick(*v))
            .y_label_formatter(&|v| tick(*v))
            .light_line_style(WHITE.mix(0.0))
            .draw()?;
        for s in $series {
            let style = s.color.stroke_width(2);
            let color = s.color;
            if s.mark != Mark::Dots {
                let drawn = chart.draw_series(LineSeries::new(s.points.iter().copied(), style))?;
                if !s.label.is_empty() {
                    drawn.label(s.label.as_str()).legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
                    });
                }
            }
            if s.mark != Mark::Line {
                let dots = chart.draw_series(s.points.iter().map(|&p| Circle::new(p, 3, color.filled())))?;
                if s.mark == Mark::Dots && !s.label.is_empty() {
                    dots.label(s.label.as_str())
                        .legend(move |(x, y)| Circle::new((x + 9, y), 3, color.filled()));
                }
            }
        }
        if $series.iter().any(|s| !s.label.is_empty()) {
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperRight)
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .draw()?;
        }
    }};
}

/// Curves or dots on one chart, with a legend of the labelled series.
pub fn chart(panel: &Panel, axes: &Axes, series: &[Series]) -> Outcome<()> {
    let xs = axes
        .x_range
        .clone()
        .unwrap_or_else(|| fitted(series.iter().flat_map(|s| s.points.iter().map(|p| p.0)), axes.log_x));
    let ys = axes
        .y_range
        .clone()
        .unwrap_or_else(|| fitted(series.iter().flat_map(|s| s.points.iter().map(|p| p.1)), axes.log_y));
    let mut builder = ChartBuilder::on(panel);
    builder.caption(axes.caption, ("sans-serif", 17)).margin(10).x_label_area_size(40).y_label_area_size(62);
    match (axes.log_x, axes.log_y) {
        (false, false) => draw_series!(builder.build_cartesian_2d(xs, ys)?, axes, series),
        (false, true) => draw_series!(builder.build_cartesian_2d(xs, ys.log_scale())?, axes, series),
        (true, false) => draw_series!(builder.build_cartesian_2d(xs.log_scale(), ys)?, axes, series),
        (true, true) => {
            draw_series!(builder.build_cartesian_2d(xs.log_scale(), ys.log_scale())?, axes, series)
        }
    }
    Ok(())
}

/// A histogram of `values` over `range` in `bins` bins, as fractions of
/// the values (those outside the range are counted in the end bins).
pub fn histogram(
    panel: &Panel,
    caption: &str,
    x: &str,
    values: &[f64],
    range: Range<f64>,
    bins: usize,
    color: RGBColor,
) -> Outcome<()> {
    let width = (range.end - range.start) / bins as f64;
    let mut counts = vec![0usize; bins];
    for v in values.iter().filter(|v| v.is_finite()) {
        let k = ((v - range.start) / width).floor().clamp(0.0, (bins - 1) as f64) as usize;
        counts[k] += 1;
    }
    let total = values.len().max(1) as f64;
    let top = counts.iter().copied().max().unwrap_or(0) as f64 / total;
    let mut chart = ChartBuilder::on(panel)
        .caption(caption, ("sans-serif", 15))
        .margin(8)
        .x_label_area_size(32)
        .y_label_area_size(48)
        .build_cartesian_2d(range.clone(), 0.0..(top * 1.1).max(1e-3))?;
    chart
        .configure_mesh()
        .x_label_formatter(&|v| tick(*v))
        .y_label_formatter(&|v| tick(*v))
        .x_desc(x)
        .y_desc("fraction")
        .x_labels(5)
        .y_labels(4)
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    chart.draw_series(counts.iter().enumerate().map(|(k, &c)| {
        let left = range.start + k as f64 * width;
        Rectangle::new([(left, 0.0), (left + width, c as f64 / total)], color.filled())
    }))?;
    Ok(())
}

/// Images (row-major, `width` pixels a row) in a grid of `cols` columns,
/// each scaled to its own range: grey from black to white, or with
/// `diverging` blue for negative, white for zero, red for positive (for
/// weights, whose sign matters).
pub fn images(
    panel: &Panel,
    caption: &str,
    pictures: &[(String, Vec<f64>)],
    width: usize,
    cols: usize,
    diverging: bool,
) -> Outcome<()> {
    let panel = panel.titled(caption, ("sans-serif", 16))?;
    let rows = pictures.len().div_ceil(cols).max(1);
    let cells = panel.split_evenly((rows, cols));
    for ((label, pixels), cell) in pictures.iter().zip(&cells) {
        let height = pixels.len() / width;
        let cell = if label.is_empty() { cell.clone() } else { cell.titled(label, ("sans-serif", 12))? };
        let (w, h) = cell.dim_in_pixel();
        let side = (w as f64 / width as f64).min(h as f64 / height as f64).floor().max(1.0) as i32;
        let reach = pixels.iter().fold(0.0f64, |m, p| m.max(p.abs())).max(1e-12);
        let (low, high) =
            pixels.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, u), &p| (l.min(p), u.max(p)));
        let span = (high - low).max(1e-12);
        for (k, &p) in pixels.iter().enumerate() {
            let (x, y) = ((k % width) as i32 * side, (k / width) as i32 * side);
            let shade = if diverging {
                let t = (p / reach).clamp(-1.0, 1.0);
                let fade = |c: u8| (255.0 - (255.0 - c as f64) * t.abs()) as u8;
                if t >= 0.0 {
                    RGBColor(fade(214), fade(39), fade(40))
                } else {
                    RGBColor(fade(31), fade(119), fade(180))
                }
            } else {
                let g = (255.0 * (p - low) / span) as u8;
                RGBColor(g, g, g)
            };
            cell.draw(&Rectangle::new([(x, y), (x + side, y + side)], shade.filled()))?;
        }
    }
    Ok(())
}

/// A map of the plane coloured by a function's class at each cell (pale
/// colours), with labelled points on top.
pub fn regions(
    panel: &Panel,
    axes: &Axes,
    cells: usize,
    class: impl Fn(f64, f64) -> usize,
    points: &[Series],
) -> Outcome<()> {
    let (xs, ys) = (axes.x_range.clone().unwrap_or(0.0..1.0), axes.y_range.clone().unwrap_or(0.0..1.0));
    let mut chart = ChartBuilder::on(panel)
        .caption(axes.caption, ("sans-serif", 17))
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(xs.clone(), ys.clone())?;
    let (dx, dy) = ((xs.end - xs.start) / cells as f64, (ys.end - ys.start) / cells as f64);
    // One rectangle per run of cells of the same class along a row: the
    // same picture as a rectangle per cell, in a small fraction of the file.
    let mut runs = Vec::new();
    for row in 0..cells {
        let y = ys.start + row as f64 * dy;
        let classes: Vec<usize> =
            (0..cells).map(|k| class(xs.start + (k as f64 + 0.5) * dx, y + dy / 2.0)).collect();
        let mut start = 0;
        for k in 1..=cells {
            if k == cells || classes[k] != classes[start] {
                runs.push((
                    [(xs.start + start as f64 * dx, y), (xs.start + k as f64 * dx, y + dy)],
                    classes[start],
                ));
                start = k;
            }
        }
    }
    chart.draw_series(
        runs.into_iter().map(|(corners, c)| Rectangle::new(corners, color(c).mix(0.25).filled())),
    )?;
    chart
        .configure_mesh()
        .x_desc(axes.x)
        .y_desc(axes.y)
        .x_label_formatter(&|v| tick(*v))
        .y_label_formatter(&|v| tick(*v))
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    for s in points {
        let c = s.color;
        chart
            .draw_series(s.points.iter().map(|&p| Circle::new(p, 6, c.filled())))?
            .label(s.label.as_str())
            .legend(move |(x, y)| Circle::new((x + 9, y), 5, c.filled()));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;
    Ok(())
}
