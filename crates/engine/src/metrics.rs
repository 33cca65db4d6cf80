//! `metrics.csv`: one row per trained epoch, written with every checkpoint (and inside it, so
//! that the two are committed together) and read back to resume or plot a run.

use std::path::Path;

use anyhow::{Context, Result, ensure};
use serde::{Deserialize, Serialize};

use crate::fsutil::write_atomic;

/// Metrics of one epoch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// 1-based epoch.
    pub epoch: usize,
    /// Mean training loss over the epoch's batches (weighted by batch size).
    pub train_loss: f64,
    /// Training accuracy (classification only).
    pub train_accuracy: Option<f64>,
    /// Test loss, when evaluated this epoch.
    pub test_loss: Option<f64>,
    /// Test accuracy, when evaluated this epoch (classification only).
    pub test_accuracy: Option<f64>,
    /// Wall time of the epoch (training and evaluation), seconds.
    pub seconds: f64,
}

const METRICS_HEADER: &str = "epoch,train_loss,train_accuracy,test_loss,test_accuracy,seconds";

fn opt(v: Option<f64>) -> String {
    v.map(|v| format!("{v}")).unwrap_or_default()
}

/// Writes `metrics.csv` (atomically).
pub fn write_metrics(path: &Path, records: &[EpochRecord]) -> Result<()> {
    let mut text = String::from(METRICS_HEADER);
    text.push('\n');
    for r in records {
        text += &format!(
            "{},{},{},{},{},{:.3}\n",
            r.epoch,
            r.train_loss,
            opt(r.train_accuracy),
            opt(r.test_loss),
            opt(r.test_accuracy),
            r.seconds
        );
    }
    write_atomic(path, text.as_bytes())
}

/// Reads `metrics.csv` back (for resuming and plotting).
pub fn read_metrics(path: &Path) -> Result<Vec<EpochRecord>> {
    if !path.is_file() {
        return Ok(Vec::new());
    }
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut lines = text.lines();
    ensure!(lines.next() == Some(METRICS_HEADER), "{}: unexpected header", path.display());
    let parse_opt = |s: &str| -> Result<Option<f64>> { if s.is_empty() { Ok(None) } else { Ok(Some(s.parse()?)) } };
    lines
        .enumerate()
        .map(|(i, line)| {
            let f: Vec<&str> = line.split(',').collect();
            ensure!(f.len() == 6, "{} line {}: expected 6 fields", path.display(), i + 2);
            Ok(EpochRecord {
                epoch: f[0].parse()?,
                train_loss: f[1].parse()?,
                train_accuracy: parse_opt(f[2])?,
                test_loss: parse_opt(f[3])?,
                test_accuracy: parse_opt(f[4])?,
                seconds: f[5].parse()?,
            })
        })
        .collect::<Result<Vec<_>>>()
        .with_context(|| format!("invalid {}", path.display()))
}
