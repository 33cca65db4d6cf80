//! A progress bar per epoch (indicatif) with the running loss and accuracy; on a terminal it
//! redraws in place, elsewhere (logs, CI) only the epoch's closing line is printed.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// The bar of one epoch.
#[derive(Debug)]
pub struct EpochProgress {
    bar: ProgressBar,
    prefix: String,
    quiet: bool,
}

impl EpochProgress {
    /// A bar of `batches` steps for epoch `epoch` of `epochs`.
    pub fn new(epoch: usize, epochs: usize, batches: usize, quiet: bool) -> Self {
        let bar = ProgressBar::with_draw_target(
            Some(batches as u64),
            if quiet { ProgressDrawTarget::hidden() } else { ProgressDrawTarget::stderr() },
        );
        bar.set_style(
            ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {elapsed_precise}<{eta_precise} {msg}")
                .expect("valid template")
                .progress_chars("=> "),
        );
        let prefix = format!("epoch {epoch}/{epochs}");
        bar.set_prefix(prefix.clone());
        Self { bar, prefix, quiet }
    }

    /// One batch done.
    pub fn batch(&self, message: &str) {
        self.bar.set_message(message.to_string());
        self.bar.inc(1);
    }

    /// The epoch is over: clears the bar and prints one line, when there is one.
    pub fn finish(&self, message: Option<&str>) {
        self.bar.finish_and_clear();
        if let (false, Some(message)) = (self.quiet, message) {
            println!("{} {message}", self.prefix);
        }
    }
}
