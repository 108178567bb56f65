//! Progress while training: a bar on a terminal, one line per epoch
//! elsewhere (logs, CI), or nothing.

use super::config::Progress;
use super::history::EpochRecord;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

pub(crate) struct Reporter {
    bar: Option<ProgressBar>,
    lines: bool,
}

impl Reporter {
    pub(crate) fn new(progress: Progress) -> Self {
        let terminal = std::io::stderr().is_terminal();
        let (bar, lines) = match progress {
            Progress::Auto => (terminal, !terminal),
            Progress::Bar => (true, false),
            Progress::Lines => (false, true),
            Progress::Silent => (false, false),
        };
        let bar = bar.then(|| {
            let b = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
            if let Ok(style) = ProgressStyle::with_template(
                "{prefix} [{bar:32}] {pos}/{len} batches  {msg}  {elapsed_precise}",
            ) {
                b.set_style(style.progress_chars("=> "));
            }
            b
        });
        Self { bar, lines }
    }

    /// A silent reporter, for single epochs run outside `fit`.
    pub(crate) fn silent() -> Self {
        Self { bar: None, lines: false }
    }

    pub(crate) fn start_epoch(&self, epoch: usize, epochs: usize, batches: usize) {
        if let Some(bar) = &self.bar {
            bar.reset();
            bar.set_length(batches as u64);
            bar.set_prefix(format!("epoch {epoch}/{epochs}"));
        }
    }

    pub(crate) fn batch(&self, loss: f64) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
            bar.set_message(format!("loss {loss:.4}"));
        }
    }

    pub(crate) fn end_epoch(&self, record: &EpochRecord, epochs: usize) {
        let line = format!("{record}").replacen(
            &format!("epoch {:>3}", record.epoch),
            &format!("epoch {:>3}/{epochs}", record.epoch),
            1,
        );
        match &self.bar {
            Some(bar) => bar.println(line),
            None if self.lines => eprintln!("{line}"),
            None => {}
        }
    }

    pub(crate) fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
