//! How the CLI talks to a person at a terminal: a progress bar on standard error (indicatif)
//! when standard error is a terminal, not in CI (`CI` set) and not `--quiet`; no colour
//! when `NO_COLOR` is set (https://no-color.org). Reports on standard output never carry
//! either, so piped and redirected output stays byte-identical.

use std::io::IsTerminal as _;
use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::eval::{Progress, ProgressHandle};

/// What the environment and the global flags allow.
#[derive(Debug, Clone, Copy, Default)]
pub struct Ui {
    /// `--quiet`: no progress, no warnings; reports and errors only.
    pub quiet: bool,
    /// Draw a progress bar.
    pub progress: bool,
    /// Colour in what goes to the terminal.
    pub color: bool,
}

impl Ui {
    /// Decide from `--quiet`, the environment and whether standard error is a terminal.
    pub fn detect(quiet: bool) -> Ui {
        let env_set = |k: &str| std::env::var_os(k).is_some_and(|v| !v.is_empty());
        let terminal = std::io::stderr().is_terminal();
        Ui {
            quiet,
            progress: !quiet && terminal && !env_set("CI"),
            color: terminal && !env_set("NO_COLOR"),
        }
    }

    /// A progress bar, when one may be drawn.
    pub fn progress_bar(&self) -> Option<Bar> {
        self.progress.then(|| Bar::new(self.color))
    }
}

/// An indicatif bar that follows the run's stages: a spinner while loading and computing,
/// a bar over the rules while evaluating.
pub struct Bar {
    inner: Arc<BarInner>,
}

struct BarInner {
    bar: ProgressBar,
    color: bool,
}

impl Bar {
    fn new(color: bool) -> Bar {
        // Hidden until styled: indicatif's default style is a bar of 0/0.
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
        let inner = BarInner { bar, color };
        inner.stage("starting", None);
        inner.bar.set_draw_target(ProgressDrawTarget::stderr());
        inner.bar.enable_steady_tick(Duration::from_millis(120));
        Bar {
            inner: Arc::new(inner),
        }
    }
    pub fn handle(&self) -> ProgressHandle {
        ProgressHandle(self.inner.clone())
    }
    /// Clear the bar (the reports and warnings that follow start on a clean line).
    pub fn finish(&self) {
        self.inner.bar.finish_and_clear();
    }
}

impl Progress for BarInner {
    fn stage(&self, name: &str, total: Option<u64>) {
        let template = match (total, self.color) {
            (Some(_), true) => "{spinner:.cyan} {msg} [{bar:30.cyan/blue}] {pos}/{len} {elapsed}",
            (Some(_), false) => "{spinner} {msg} [{bar:30}] {pos}/{len} {elapsed}",
            (None, true) => "{spinner:.cyan} {msg}… {elapsed}",
            (None, false) => "{spinner} {msg}… {elapsed}",
        };
        self.bar.set_message(name.to_string());
        self.bar.set_length(total.unwrap_or(0));
        self.bar.set_position(0);
        if let Ok(style) = ProgressStyle::with_template(template) {
            self.bar.set_style(style.progress_chars("=> "));
        }
    }
    fn advance(&self, n: u64) {
        self.bar.inc(n);
    }
}
