//! `neurozoo silence`: the random-silencing robustness test of the GLIFR paper (spec glifr.md
//! §3.7, `models/analyzer.py:12-34`). For each fraction p and draw, `int(p·H)` hidden neurons
//! are chosen uniformly without replacement and silenced — their rate is zero at every step,
//! so they drive neither the readout nor the recurrence — and the whole test set is run in
//! eval mode. Accuracy (MSE for regression tasks) is reported as mean and SD over the draws.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail, ensure};
use rand::{SeedableRng, rngs::StdRng, seq::index::sample};
use serde::Serialize;

use engine::config::RunConfig;
use engine::data::{Part, build_dataset};
use engine::device::DeviceChoice;
use engine::evaluate::evaluate;
use engine::fsutil::write_atomic;
use engine::model::{Model, load_checkpoint, resolve_checkpoint};

/// The result at one fraction for one run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SilencingPoint {
    /// The run's name.
    pub run: String,
    /// Fraction p of hidden neurons silenced.
    pub fraction: f64,
    /// Neurons silenced per draw, `int(p·H)`.
    pub silenced: usize,
    /// Draws evaluated (1 when every draw is the same: none or all neurons).
    pub draws: usize,
    /// Mean test metric over the draws (accuracy, or MSE for regression).
    pub mean: f64,
    /// Sample SD over the draws (0 for a single draw).
    pub sd: f64,
}

/// Options of `neurozoo silence`.
#[derive(Clone, Debug)]
pub struct SilenceOptions {
    /// Fractions in [0, 1].
    pub fractions: Vec<f64>,
    /// Random draws per fraction.
    pub draws: usize,
    /// Seed of the draws.
    pub seed: u64,
    /// Device override.
    pub device: Option<String>,
}

/// `int(p·H)` as Python computes it (truncation of the f64 product).
pub fn silenced_count(fraction: f64, hidden: usize) -> usize {
    ((fraction * hidden as f64) as usize).min(hidden)
}

/// Runs the silencing test on one run directory.
pub fn silence_run(run_dir: &Path, options: &SilenceOptions) -> Result<(String, bool, Vec<SilencingPoint>)> {
    ensure!(options.draws > 0, "--draws must be at least 1");
    for &p in &options.fractions {
        ensure!((0.0..=1.0).contains(&p), "fraction {p} is outside [0, 1]");
    }
    let config_path = run_dir.join("config.toml");
    let config =
        RunConfig::load(&config_path).with_context(|| format!("{} is not a run directory", run_dir.display()))?;
    let choice = DeviceChoice::resolve(options.device.as_deref(), config.device.as_deref())?;
    let device = choice.device();
    let (_, model) = load_checkpoint(&resolve_checkpoint(run_dir)?, &device)?;
    let Model::Recurrent(network) = model else {
        bail!("{}: silencing applies to the GLIFR, RNN and LSTM networks, not to an ELM", run_dir.display());
    };
    let classification = config.task.is_classification();
    let test = build_dataset(&config.task, Part::Test, config.training.eval_batch_size)?;
    let hidden = network.hidden_size();
    let batch = config.training.eval_batch_size;
    let mut points = Vec::new();
    for (fi, &fraction) in options.fractions.iter().enumerate() {
        let k = silenced_count(fraction, hidden);
        let draws = if k == 0 || k == hidden { 1 } else { options.draws };
        let mut values = Vec::with_capacity(draws);
        for draw in 0..draws {
            let mut rng = StdRng::seed_from_u64(options.seed ^ ((fi as u64) << 32) ^ draw as u64);
            let neurons: Vec<usize> = sample(&mut rng, hidden, k).into_vec();
            let silenced = Model::Recurrent(network.clone().with_silenced(&neurons));
            let e = evaluate(&silenced, test.clone(), batch, 0.0, config.seed, &device, config.training.threads)?;
            values.push(if classification { e.accuracy.unwrap_or(0.0) } else { e.loss });
        }
        let (mean, sd) = crate::experiment::mean_sd(&values);
        points.push(SilencingPoint {
            run: config.name.clone(),
            fraction,
            silenced: k,
            draws,
            mean,
            sd: sd.unwrap_or(0.0),
        });
    }
    Ok((config.name, classification, points))
}

/// Runs the test on every run, writes `silencing.csv` and `silencing.png` into `out` (default:
/// the first run's directory) and returns the points.
pub fn silence(runs: &[PathBuf], out: Option<&Path>, options: &SilenceOptions) -> Result<Vec<SilencingPoint>> {
    ensure!(!runs.is_empty(), "give at least one --run");
    let mut all = Vec::new();
    let mut lines = Vec::new();
    let mut metrics = Vec::new();
    for run in runs {
        let (name, classification, points) = silence_run(run, options)?;
        metrics.push(classification);
        lines.push((name, points.iter().map(|p| (p.fraction, p.mean)).collect::<Vec<_>>()));
        all.extend(points);
    }
    ensure!(
        metrics.iter().all(|&c| c == metrics[0]),
        "the runs mix classification and regression tasks; silence them separately"
    );
    let out = out.map(Path::to_path_buf).unwrap_or_else(|| runs[0].clone());
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let metric = if metrics[0] { "test accuracy" } else { "test MSE" };
    let mut csv = String::from("run,fraction,silenced,draws,mean,sd\n");
    for p in &all {
        csv += &format!("{},{},{},{},{},{}\n", p.run, p.fraction, p.silenced, p.draws, p.mean, p.sd);
    }
    write_atomic(&out.join("silencing.csv"), csv.as_bytes())?;
    engine::plot::silencing_curves(&out.join("silencing.png"), "random silencing", metric, &lines)?;
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silenced_count_truncates_like_python() {
        assert_eq!(silenced_count(0.2, 252), 50); // 50.4
        assert_eq!(silenced_count(0.6, 252), 151); // 151.2
        assert_eq!(silenced_count(1.0, 252), 252);
        assert_eq!(silenced_count(0.0, 252), 0);
        assert_eq!(silenced_count(0.29, 100), 28); // 0.29·100 = 28.999… in f64, as in Python
    }
}
