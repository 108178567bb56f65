//! What happened in each epoch, as a table (CSV) and as a picture (SVG).

use crate::{Error, Result};
use plotters::prelude::*;
use std::fmt;
use std::path::Path;

/// One epoch's numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct EpochRecord {
    /// 1-based epoch.
    pub epoch: usize,
    /// Learning rate used.
    pub learning_rate: f64,
    /// Mean training loss over the epoch (training mode).
    pub train_loss: f64,
    /// Validation loss after the epoch (inference mode).
    pub validation_loss: Option<f64>,
    /// Validation accuracy after the epoch, for class targets.
    pub validation_accuracy: Option<f64>,
    /// Wall time of the epoch, evaluation included.
    pub seconds: f64,
    /// The validation measures `FitConfig::metrics` asked for, by name
    /// (`top5_accuracy`, `macro_f1`, ...), in the order asked.
    pub metrics: Vec<(String, f64)>,
}

impl fmt::Display for EpochRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "epoch {:>3}  lr {:.3e}  train loss {:.4}",
            self.epoch, self.learning_rate, self.train_loss
        )?;
        if let Some(l) = self.validation_loss {
            write!(f, "  validation loss {l:.4}")?;
        }
        if let Some(a) = self.validation_accuracy {
            write!(f, "  validation accuracy {a:.4}")?;
        }
        for (name, value) in &self.metrics {
            write!(f, "  {name} {value:.4}")?;
        }
        write!(f, "  ({:.2} s)", self.seconds)
    }
}

/// Every epoch of a training run, and how it ended.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    /// One record per completed epoch.
    pub epochs: Vec<EpochRecord>,
    /// The epoch whose weights were best by the monitored quantity.
    pub best_epoch: Option<usize>,
    /// True when early stopping ended the run.
    pub stopped_early: bool,
    /// True when a callback ended the run ([`crate::train::Flow::Stop`]).
    pub stopped_by_callback: bool,
}

const HEADER: &str = "epoch,learning_rate,train_loss,validation_loss,validation_accuracy,seconds";

fn optional(v: Option<f64>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

impl History {
    /// The records as CSV with a header line; empty cells where a value
    /// does not apply. Numbers are written exactly (shortest round trip).
    pub fn to_csv(&self) -> String {
        let names: Vec<&str> = self
            .epochs
            .first()
            .map(|r| r.metrics.iter().map(|(n, _)| n.as_str()).collect())
            .unwrap_or_default();
        let mut out = HEADER.to_string();
        names.iter().for_each(|n| out += &format!(",{n}"));
        out.push('\n');
        for r in &self.epochs {
            out += &format!(
                "{},{},{},{},{},{}",
                r.epoch,
                r.learning_rate,
                r.train_loss,
                optional(r.validation_loss),
                optional(r.validation_accuracy),
                r.seconds
            );
            r.metrics.iter().for_each(|(_, v)| out += &format!(",{v}"));
            out.push('\n');
        }
        out
    }

    /// Parses what [`History::to_csv`] wrote.
    pub fn records_from_csv(text: &str) -> Option<Vec<EpochRecord>> {
        let mut lines = text.lines();
        let rest = lines.next()?.strip_prefix(HEADER)?;
        if !(rest.is_empty() || rest.starts_with(',')) {
            return None;
        }
        let names: Vec<&str> = rest.split(',').skip(1).collect();
        lines
            .map(|line| {
                let f: Vec<&str> = line.split(',').collect();
                let opt = |s: &str| if s.is_empty() { Some(None) } else { s.parse().ok().map(Some) };
                let (fixed, measured) = f.split_at_checked(6)?;
                if measured.len() != names.len() {
                    return None;
                }
                let metrics = names
                    .iter()
                    .zip(measured)
                    .map(|(n, v)| v.parse().ok().map(|v| (n.to_string(), v)))
                    .collect::<Option<Vec<_>>>()?;
                match fixed {
                    [e, lr, t, vl, va, s] => Some(EpochRecord {
                        epoch: e.parse().ok()?,
                        learning_rate: lr.parse().ok()?,
                        train_loss: t.parse().ok()?,
                        validation_loss: opt(vl)?,
                        validation_accuracy: opt(va)?,
                        seconds: s.parse().ok()?,
                        metrics,
                    }),
                    _ => None,
                }
            })
            .collect()
    }

    /// Writes [`History::to_csv`] to `path`.
    pub fn write_csv(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        std::fs::write(path, self.to_csv())
            .map_err(|e| Error::Write { path: path.into(), message: e.to_string() })
    }

    /// Draws the loss curves (training and validation) and, when there is
    /// one, the validation accuracy curve, side by side, as an SVG file.
    pub fn plot(&self, path: impl AsRef<Path>, title: &str) -> Result<()> {
        let path = path.as_ref();
        draw(self, path, title).map_err(|e| Error::Write { path: path.into(), message: e.to_string() })
    }
}

type Drawn = std::result::Result<(), Box<dyn std::error::Error>>;

/// A range fitted to `values` with a margin, for an axis that should show
/// the curve rather than the space around it.
fn fitted(values: impl Iterator<Item = f64>, floor: f64, ceiling: f64) -> std::ops::Range<f64> {
    let (low, high) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| (l.min(v), h.max(v)));
    if !low.is_finite() {
        return floor..ceiling;
    }
    let pad = ((high - low) * 0.08).max(1e-3);
    (low - pad).max(floor)..(high + pad).min(ceiling)
}

fn draw(history: &History, path: &Path, title: &str) -> Drawn {
    let accuracy: Vec<(usize, f64)> =
        history.epochs.iter().filter_map(|r| r.validation_accuracy.map(|a| (r.epoch, a))).collect();
    let width = if accuracy.is_empty() { 560 } else { 1120 };
    let root = SVGBackend::new(path, (width, 420)).into_drawing_area();
    root.fill(&WHITE)?;
    let root = root.titled(title, ("sans-serif", 22))?;
    let panels = if accuracy.is_empty() { vec![root] } else { root.split_evenly((1, 2)) };
    let last = history.epochs.last().map_or(1, |r| r.epoch).max(2);
    // An axis of whole epochs, at most about ten ticks.
    let ticks = last.min(10);
    let epochs = 1..last;
    let train: Vec<(usize, f64)> = history.epochs.iter().map(|r| (r.epoch, r.train_loss)).collect();
    let validation: Vec<(usize, f64)> =
        history.epochs.iter().filter_map(|r| r.validation_loss.map(|l| (r.epoch, l))).collect();
    let top = train.iter().chain(&validation).map(|p| p.1).filter(|v| v.is_finite()).fold(0.0f64, f64::max);
    let kept = history.best_epoch;
    let mut loss = ChartBuilder::on(&panels[0])
        .caption("loss", ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(epochs.clone(), 0.0..top * 1.05 + 1e-12)?;
    loss.configure_mesh().x_desc("epoch").y_desc("mean loss").x_labels(ticks).draw()?;
    loss.draw_series(LineSeries::new(train, BLUE.stroke_width(2)))?
        .label("training")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], BLUE.stroke_width(2)));
    if !validation.is_empty() {
        loss.draw_series(LineSeries::new(validation.clone(), RED.stroke_width(2)))?
            .label("validation")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], RED.stroke_width(2)));
    }
    // The best epoch by the monitored quantity (the one kept when the
    // configuration restores the best weights).
    let marked = kept.and_then(|e| {
        let record = history.epochs.iter().find(|r| r.epoch == e)?;
        Some((e, record.validation_loss.unwrap_or(record.train_loss)))
    });
    if let Some(point) = marked {
        loss.draw_series([Circle::new(point, 6, BLACK.stroke_width(2))])?
            .label(format!("best epoch {}", point.0))
            .legend(|(x, y)| Circle::new((x + 9, y), 5, BLACK.stroke_width(2)));
    }
    loss.configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    if let Some(panel) = panels.get(1) {
        let mut acc = ChartBuilder::on(panel)
            .caption("validation accuracy", ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(epochs, fitted(accuracy.iter().map(|p| p.1), 0.0, 1.0))?;
        acc.configure_mesh().x_desc("epoch").y_desc("accuracy").x_labels(ticks).draw()?;
        acc.draw_series(LineSeries::new(accuracy.clone(), RED.stroke_width(2)))?;
        if let Some(point) = kept.and_then(|e| accuracy.iter().find(|p| p.0 == e)) {
            acc.draw_series([Circle::new(*point, 6, BLACK.stroke_width(2))])?;
        }
    }
    panels[0].present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_round_trips_exactly() {
        let history = History {
            epochs: vec![
                EpochRecord {
                    epoch: 1,
                    learning_rate: 1e-3,
                    train_loss: 0.1 + 0.2,
                    validation_loss: Some(1.0 / 3.0),
                    validation_accuracy: None,
                    seconds: 0.5,
                    metrics: vec![("top3_accuracy".into(), 0.75), ("macro_f1".into(), 0.5)],
                },
                EpochRecord {
                    epoch: 2,
                    learning_rate: 5e-4,
                    train_loss: 0.25,
                    validation_loss: None,
                    validation_accuracy: Some(0.875),
                    seconds: 0.25,
                    metrics: vec![("top3_accuracy".into(), 1.0 / 3.0), ("macro_f1".into(), 0.625)],
                },
            ],
            ..History::default()
        };
        let csv = history.to_csv();
        assert!(csv.starts_with("epoch,learning_rate,train_loss"));
        assert_eq!(History::records_from_csv(&csv).unwrap(), history.epochs);
        assert!(History::records_from_csv("nonsense").is_none());
        assert!(History::records_from_csv(&csv.replace("0.875", "x")).is_none());
    }
}
