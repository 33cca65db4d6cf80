//! `neurozoo experiment {lmnist,pmnist,sine}-table`: the model tables of the GLIFR paper
//! (Winston et al. 2023; spec glifr.md §3.2–3.4), trial by trial, in the authors' order.
//!
//! Each trial trains RNN, LSTM, Hom, HomA, LHet and LHetA from the shipped configs
//! (`configs/<task>/`, built into the binary), then FHet and RHet with the het init drawn from
//! *that trial's* LHet checkpoint and FHetA and RHetA from its LHetA (`train.py:124-147`). Trial
//! `t` runs with seed `config seed + t`; its runs are `<out>/<model>-trial<t>`.
//!
//! The experiment is resumable: a run whose `summary.json` records the requested epochs is
//! read, not retrained; a run with checkpoints continues from its last one; anything else
//! starts. After every run `table.csv`, `table.md` and `trials.csv` are rewritten (atomically),
//! so an interrupted experiment still leaves the table of what is done. The test metric is the
//! accuracy of the final epoch's model (the reference tests `last.ckpt`), or its MSE for sine;
//! the table gives mean and sample SD over trials (`network_loss.m:38-39`) beside the paper's.
//!
//! Over 600 lines: a table's models, paper numbers, plan, collection and writers (markdown,
//! CSV, learning curves) belong together; the last hundred lines test its arithmetic and plans.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail, ensure};
use serde::Serialize;

use engine::config::{RunConfig, TaskConfig};
use engine::fsutil::write_atomic;
use engine::plan::{Plan, PlannedRun, finished_summary, read_summary, train_unless_finished};
use engine::runner::Summary;

/// The tables of the paper that one command reproduces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Table {
    /// Line-by-line MNIST (§3.3): 10 models, test accuracy.
    Lmnist,
    /// Pixel-by-pixel MNIST (§3.4): the paper ran only RNN, LHetA and RHetA.
    Pmnist,
    /// Sine generation (§3.2): 10 models, test MSE.
    Sine,
}

/// One model of a table: its key (config file stem without `glifr-`), the paper's name, the
/// shipped config, the model whose checkpoint seeds its het init, and the paper's mean (SD)
/// over 10 trials, where the paper has one.
#[derive(Clone, Copy, Debug)]
pub struct Variant {
    /// `rnn`, `lstm`, `hom`, …, `rheta`: the run names' prefix.
    pub key: &'static str,
    /// The paper's name (RNN, LSTM, Hom, …).
    pub label: &'static str,
    config: &'static str,
    /// The shipped config's path: `configs/sine/glifr-fhet.toml`.
    pub config_path: &'static str,
    /// Key of the trained model its het init resamples (`lhet` or `lheta`).
    pub het_source: Option<&'static str>,
    /// The paper's mean and SD (spec glifr.md §3.2–3.4).
    pub paper: Option<(f64, f64)>,
}

macro_rules! variants {
    ($dir:literal, $( ($key:literal, $label:literal, $file:literal, $source:expr, $paper:expr) ),* $(,)?) => {
        [$( Variant {
            key: $key,
            label: $label,
            config: include_str!(concat!("../../../configs/", $dir, "/", $file, ".toml")),
            config_path: concat!("configs/", $dir, "/", $file, ".toml"),
            het_source: $source,
            paper: $paper,
        } ),*]
    };
}

/// Line-by-line MNIST, test accuracy (`stats_lmnist-overalllosses.txt`).
const LMNIST: [Variant; 10] = variants!(
    "lmnist",
    ("rnn", "RNN", "rnn", None, Some((0.9779, 0.0040))),
    ("lstm", "LSTM", "lstm", None, Some((0.9866, 0.0009))),
    ("hom", "Hom", "glifr-hom", None, Some((0.9365, 0.0021))),
    ("homa", "HomA", "glifr-homa", None, Some((0.9364, 0.0013))),
    ("lhet", "LHet", "glifr-lhet", None, Some((0.9378, 0.0023))),
    ("lheta", "LHetA", "glifr-lheta", None, Some((0.9417, 0.0017))),
    ("fhet", "FHet", "glifr-fhet", Some("lhet"), Some((0.9372, 0.0016))),
    ("rhet", "RHet", "glifr-rhet", Some("lhet"), Some((0.9375, 0.0022))),
    ("fheta", "FHetA", "glifr-fheta", Some("lheta"), Some((0.9412, 0.0021))),
    ("rheta", "RHetA", "glifr-rheta", Some("lheta"), Some((0.9481, 0.0013))),
);

/// Pixel-by-pixel MNIST, test accuracy (`stats_pmnist-overalllosses.txt`); the paper has no
/// numbers for the other seven models.
const PMNIST: [Variant; 10] = variants!(
    "pmnist",
    ("rnn", "RNN", "rnn", None, Some((0.2564, 0.0010))),
    ("lstm", "LSTM", "lstm", None, None),
    ("hom", "Hom", "glifr-hom", None, None),
    ("homa", "HomA", "glifr-homa", None, None),
    ("lhet", "LHet", "glifr-lhet", None, None),
    ("lheta", "LHetA", "glifr-lheta", None, Some((0.6168, 0.0221))),
    ("fhet", "FHet", "glifr-fhet", Some("lhet"), None),
    ("rhet", "RHet", "glifr-rhet", Some("lhet"), None),
    ("fheta", "FHetA", "glifr-fheta", Some("lheta"), None),
    ("rheta", "RHetA", "glifr-rheta", Some("lheta"), Some((0.6721, 0.0146))),
);

/// Sine generation, test MSE (`stats_sine-overalllosses.txt`).
const SINE: [Variant; 10] = variants!(
    "sine",
    ("rnn", "RNN", "rnn", None, Some((0.0561, 0.0833))),
    ("lstm", "LSTM", "lstm", None, Some((0.00936, 0.00689))),
    ("hom", "Hom", "glifr-hom", None, Some((0.0348, 0.0068))),
    ("homa", "HomA", "glifr-homa", None, Some((0.0309, 0.0070))),
    ("lhet", "LHet", "glifr-lhet", None, Some((0.0233, 0.0070))),
    ("lheta", "LHetA", "glifr-lheta", None, Some((0.0227, 0.0047))),
    ("fhet", "FHet", "glifr-fhet", Some("lhet"), Some((0.0164, 0.0036))),
    ("rhet", "RHet", "glifr-rhet", Some("lhet"), Some((0.0115, 0.0020))),
    ("fheta", "FHetA", "glifr-fheta", Some("lheta"), Some((0.0166, 0.0032))),
    ("rheta", "RHetA", "glifr-rheta", Some("lheta"), Some((0.0121, 0.0017))),
);

impl Table {
    /// Every model of the table, in training order.
    pub fn variants(self) -> &'static [Variant] {
        match self {
            Table::Lmnist => &LMNIST,
            Table::Pmnist => &PMNIST,
            Table::Sine => &SINE,
        }
    }

    /// The command's name for it.
    pub fn name(self) -> &'static str {
        match self {
            Table::Lmnist => "lmnist-table",
            Table::Pmnist => "pmnist-table",
            Table::Sine => "sine-table",
        }
    }

    /// The models trained when `--models` is not given: those the paper reports.
    pub fn default_models(self) -> Vec<&'static str> {
        self.variants().iter().filter(|v| v.paper.is_some()).map(|v| v.key).collect()
    }

    fn metric(self) -> &'static str {
        match self {
            Table::Sine => "test MSE",
            Table::Lmnist | Table::Pmnist => "test accuracy",
        }
    }

    fn paper_epochs(self) -> usize {
        match self {
            Table::Lmnist => 30,
            Table::Pmnist => 50,
            Table::Sine => 5000,
        }
    }
}

/// Options of `neurozoo experiment`.
#[derive(Clone, Debug)]
pub struct ExperimentOptions {
    /// Trials to train (the paper: 10).
    pub trials: usize,
    /// Index of the first trial (to add trials to an existing experiment).
    pub first_trial: usize,
    /// Models by key (`rnn`, `lheta`, …); the het models' sources are added. Default: the
    /// table's models.
    pub models: Option<Vec<String>>,
    /// Override of `training.epochs` (the paper's count otherwise).
    pub epochs: Option<usize>,
    /// Override of `training.batch_size` (the batch question of issue 21: the authors ran 2
    /// DDP replicas of 256, so perhaps 512 in all).
    pub batch_size: Option<usize>,
    /// Override of `training.threads` (with batch 512 and 2 threads: two replicas of 256).
    pub threads: Option<usize>,
    /// Where the runs and the tables go.
    pub out: PathBuf,
    /// Override of the MNIST data folder.
    pub data_dir: Option<PathBuf>,
    /// Device override.
    pub device: Option<String>,
    /// `--set` overrides of every run's config, applied before the options above.
    pub set: Vec<engine::config::Override>,
    /// Print nothing but errors.
    pub quiet: bool,
}

/// One trained run of the experiment.
#[derive(Clone, Debug, Serialize)]
pub struct TrialResult {
    /// Trial index.
    pub trial: usize,
    /// Model key.
    pub model: String,
    /// The run directory.
    pub run_dir: PathBuf,
    /// The run's seed.
    pub seed: u64,
    /// Epochs trained.
    pub epochs: usize,
    /// Test accuracy (classification) or MSE (sine).
    pub metric: f64,
    /// Training seconds.
    pub seconds: f64,
    /// Whether this invocation trained it (false: read from a finished run).
    pub trained_now: bool,
}

/// Mean and sample SD (n − 1, as MATLAB's `std`); SD is `None` for one value.
pub fn mean_sd(values: &[f64]) -> (f64, Option<f64>) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let sd = (values.len() > 1).then(|| (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt());
    (mean, sd)
}

/// The models to train, in table order, with every het model's source added.
pub fn selected_variants(table: Table, models: Option<&[String]>) -> Result<Vec<Variant>> {
    let all = table.variants();
    let wanted: Vec<String> = match models {
        Some(list) => list.iter().map(|m| m.trim().to_lowercase()).collect(),
        None => table.default_models().into_iter().map(String::from).collect(),
    };
    ensure!(!wanted.is_empty(), "--models is empty");
    for key in &wanted {
        if !all.iter().any(|v| v.key == key) {
            let keys: Vec<&str> = all.iter().map(|v| v.key).collect();
            bail!("unknown model `{key}` for {}; expected one of {}", table.name(), keys.join(", "));
        }
    }
    let needed = |v: &Variant| {
        wanted.iter().any(|k| k == v.key)
            || all.iter().any(|w| w.het_source == Some(v.key) && wanted.iter().any(|k| k == w.key))
    };
    Ok(all.iter().filter(|v| needed(v)).copied().collect())
}

/// The config of `variant` in `trial`: the shipped config with the experiment's name, folder,
/// seed, epochs, data folder and het source.
pub fn trial_config(variant: &Variant, trial: usize, options: &ExperimentOptions) -> Result<RunConfig> {
    let origin = format!("built-in config of {}", variant.key);
    let mut config = RunConfig::from_toml_with(variant.config, &origin, &options.set)?;
    config.name = format!("{}-trial{trial}", variant.key);
    config.runs_dir = options.out.clone();
    config.seed += trial as u64;
    if let Some(epochs) = options.epochs {
        ensure!(epochs > 0, "--epochs must be at least 1");
        config.training.epochs = epochs;
    }
    if let Some(batch) = options.batch_size {
        config.training.batch_size = batch;
    }
    if let Some(threads) = options.threads {
        config.training.threads = threads;
    }
    if let (Some(dir), TaskConfig::Mnist { data_dir, .. }) = (&options.data_dir, &mut config.task) {
        *data_dir = dir.clone();
    }
    if let Some(source) = variant.het_source {
        let glifr = config.model.glifr_mut().context("a het init needs a GLIFR model")?;
        glifr.het_source = Some(options.out.join(format!("{source}-trial{trial}")));
    }
    config.validate().with_context(|| origin.clone())?;
    Ok(config)
}

fn metric_of(summary: &Summary, table: Table) -> Result<f64> {
    match table {
        Table::Sine => Ok(summary.test.loss),
        _ => summary.test.accuracy.with_context(|| format!("run {} has no test accuracy", summary.name)),
    }
}

/// Every run of the experiment with its config, in training order (trial by trial, the het
/// models after their source). Every config is checked here, so a bad option fails before the
/// first epoch.
pub fn plan(table: Table, options: &ExperimentOptions) -> Result<Plan> {
    ensure!(options.trials > 0, "--trials must be at least 1");
    let variants = selected_variants(table, options.models.as_deref())?;
    let mut runs = Vec::new();
    for trial in options.first_trial..options.first_trial + options.trials {
        for variant in &variants {
            let config = trial_config(variant, trial, options)?;
            let depends_on = variant.het_source.map(|source| format!("{source}-trial{trial}")).into_iter().collect();
            runs.push(PlannedRun { config, origin: variant.config_path.to_string(), depends_on });
        }
    }
    Ok(Plan { title: table.name().into(), out: options.out.clone(), runs, collect_args: collect_args(table, options) })
}

/// The arguments of `neurozoo experiment … --collect` for the same experiment.
fn collect_args(table: Table, options: &ExperimentOptions) -> Vec<String> {
    let mut args: Vec<String> = vec!["experiment".into(), table.name().into(), "--collect".into()];
    let mut push = |flag: &str, value: String| {
        args.push(flag.into());
        args.push(value);
    };
    push("--out", options.out.display().to_string());
    push("--trials", options.trials.to_string());
    push("--first-trial", options.first_trial.to_string());
    if let Some(models) = &options.models {
        push("--models", models.join(","));
    }
    if let Some(epochs) = options.epochs {
        push("--epochs", epochs.to_string());
    }
    if let Some(batch) = options.batch_size {
        push("--batch-size", batch.to_string());
    }
    if let Some(threads) = options.threads {
        push("--threads", threads.to_string());
    }
    if let Some(dir) = &options.data_dir {
        push("--data-dir", dir.display().to_string());
    }
    for o in &options.set {
        push("--set", o.to_string());
    }
    args
}

/// Trains (or reads) every run of the experiment and writes its tables; returns every run's
/// result in training order.
pub fn run_experiment(table: Table, options: &ExperimentOptions) -> Result<Vec<TrialResult>> {
    run_planned(table, options, &plan(table, options)?)
}

/// [`run_experiment`] of a plan already made by [`plan`] from the same options.
pub fn run_planned(table: Table, options: &ExperimentOptions, plan: &Plan) -> Result<Vec<TrialResult>> {
    std::fs::create_dir_all(&options.out).with_context(|| format!("cannot create {}", options.out.display()))?;
    let mut results = collect_finished(table, &options.out)?;
    let (plan_len, variants) = (plan.runs.len(), table.variants());
    for (i, run) in plan.runs.iter().enumerate() {
        let config = &run.config;
        let (summary, trained_now) =
            train_unless_finished(config, options.device.as_deref(), options.quiet, (i, plan_len))?;
        if !trained_now {
            continue;
        }
        let run_dir = config.run_dir();
        let (model, trial) = split_run_name(&config.name, variants).context("a planned run's name")?;
        let result = TrialResult {
            trial,
            model,
            run_dir: run_dir.clone(),
            seed: config.seed,
            epochs: config.training.epochs,
            metric: metric_of(&summary, table)?,
            seconds: summary.seconds,
            trained_now: true,
        };
        results.retain(|r| r.run_dir != run_dir);
        results.push(result);
        write_tables(table, &options.out, &results)?;
    }
    write_tables(table, &options.out, &results)?;
    let order = |r: &TrialResult| variants.iter().position(|v| v.key == r.model).unwrap_or(usize::MAX);
    results.sort_by_key(|r| (r.trial, order(r)));
    Ok(results)
}

/// `--collect`: writes the tables from the finished runs in `out` (as after a Slurm bundle) and
/// returns them with the names of the runs of `plan` that have not finished.
pub fn collect_experiment(
    table: Table,
    options: &ExperimentOptions,
    plan: &Plan,
) -> Result<(Vec<TrialResult>, Vec<String>)> {
    let mut missing = Vec::new();
    for run in &plan.runs {
        if finished_summary(&run.config)?.is_none() {
            missing.push(run.config.name.clone());
        }
    }
    ensure!(options.out.is_dir(), "{} does not exist: nothing has been trained there", options.out.display());
    let results = collect_finished(table, &options.out)?;
    write_tables(table, &options.out, &results)?;
    Ok((results, missing))
}

/// Per model of `table` with finished runs in `results`: its test metric (accuracy, or MSE
/// for sine) at every evaluated epoch, the mean over its trials, at the epochs all of them
/// reached. Labelled `RHetA (3 trials)`.
pub fn learning_curve_points(table: Table, results: &[TrialResult]) -> Result<Vec<(String, Vec<(f64, f64)>)>> {
    let mut lines = Vec::new();
    for variant in table.variants() {
        let runs: Vec<&TrialResult> = results.iter().filter(|r| r.model == variant.key).collect();
        if runs.is_empty() {
            continue;
        }
        let mut sums: std::collections::BTreeMap<usize, (f64, usize)> = Default::default();
        for run in &runs {
            for record in engine::metrics::read_metrics(&run.run_dir.join("metrics.csv"))? {
                let value = if table == Table::Sine { record.test_loss } else { record.test_accuracy };
                if let Some(value) = value {
                    let sum = sums.entry(record.epoch).or_default();
                    *sum = (sum.0 + value, sum.1 + 1);
                }
            }
        }
        let points =
            sums.into_iter().filter(|(_, (_, n))| *n == runs.len()).map(|(e, (sum, n))| (e as f64, sum / n as f64));
        let trials = if runs.len() == 1 { "1 trial".to_string() } else { format!("{} trials", runs.len()) };
        lines.push((format!("{} ({trials})", variant.label), points.collect()));
    }
    Ok(lines)
}

/// `rheta-trial3` → (`rheta`, 3), for a model of `variants`.
fn split_run_name(name: &str, variants: &[Variant]) -> Option<(String, usize)> {
    let (key, trial) = name.rsplit_once("-trial")?;
    let trial = trial.parse::<usize>().ok()?;
    variants.iter().any(|v| v.key == key).then(|| (key.to_string(), trial))
}

/// Finished runs already in `out` (from earlier invocations, possibly with other `--models`),
/// so the table always covers everything trained there.
fn collect_finished(table: Table, out: &Path) -> Result<Vec<TrialResult>> {
    let mut found = Vec::new();
    let entries = std::fs::read_dir(out).with_context(|| format!("cannot list {}", out.display()))?;
    for entry in entries {
        let run_dir = entry?.path();
        let Some(name) = run_dir.file_name().and_then(|n| n.to_str()) else { continue };
        let Some((key, trial)) = split_run_name(name, table.variants()) else { continue };
        let Some(summary) = read_summary(&run_dir)? else { continue };
        let config = RunConfig::load(&run_dir.join("config.toml"))?;
        found.push(TrialResult {
            trial,
            model: key,
            run_dir: run_dir.clone(),
            seed: config.seed,
            epochs: summary.epochs,
            metric: metric_of(&summary, table)?,
            seconds: summary.seconds,
            trained_now: false,
        });
    }
    Ok(found)
}

fn format_metric(table: Table, value: f64) -> String {
    let text = match table {
        // MSEs span decades (.00936 to .0561 in the paper): three significant digits.
        Table::Sine if value != 0.0 && value.is_finite() => {
            let decimals = (2 - value.abs().log10().floor() as i32).max(0) as usize;
            let text = format!("{value:.decimals$}");
            if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.').to_string() } else { text }
        }
        _ => format!("{value:.4}"),
    };
    // The paper's style: .9779 rather than 0.9779.
    text.strip_prefix("0.").map(|rest| format!(".{rest}")).unwrap_or(text)
}

fn mean_sd_text(table: Table, mean: f64, sd: Option<f64>) -> String {
    match sd {
        Some(sd) => format!("{} ({})", format_metric(table, mean), format_metric(table, sd)),
        None => format_metric(table, mean),
    }
}

/// Writes `table.csv` (one row per model), `trials.csv` (one per run) and `table.md`.
pub fn write_tables(table: Table, out: &Path, results: &[TrialResult]) -> Result<()> {
    let mut csv = String::from("model,label,trials,epochs,mean,sd,paper_mean,paper_sd,values\n");
    let mut header = String::from("|  |");
    let mut rule = String::from("|---|");
    let mut ours = String::new();
    let mut paper = String::from("| paper (10 trials, ");
    let _ = write!(paper, "{} epochs) |", table.paper_epochs());
    let mut epochs_seen: Vec<usize> = Vec::new();
    let mut trials_seen = 0;
    for variant in table.variants() {
        // By trial, so the mean does not depend on the order runs were found in.
        let mut mine: Vec<&TrialResult> = results.iter().filter(|r| r.model == variant.key).collect();
        mine.sort_by_key(|r| r.trial);
        if mine.is_empty() && variant.paper.is_none() {
            continue;
        }
        let values: Vec<f64> = mine.iter().map(|r| r.metric).collect();
        for r in &mine {
            if !epochs_seen.contains(&r.epochs) {
                epochs_seen.push(r.epochs);
            }
        }
        trials_seen = trials_seen.max(values.len());
        let (mean, sd) = if values.is_empty() { (f64::NAN, None) } else { mean_sd(&values) };
        let (paper_mean, paper_sd) =
            variant.paper.map_or((String::new(), String::new()), |(m, s)| (m.to_string(), s.to_string()));
        let epochs = mine.first().map(|r| r.epochs.to_string()).unwrap_or_default();
        let values_text: Vec<String> = values.iter().map(|v| v.to_string()).collect();
        let _ = writeln!(
            csv,
            "{},{},{},{epochs},{},{},{paper_mean},{paper_sd},{}",
            variant.key,
            variant.label,
            values.len(),
            if values.is_empty() { String::new() } else { mean.to_string() },
            sd.map(|s| s.to_string()).unwrap_or_default(),
            values_text.join(";")
        );
        let _ = write!(header, " {} |", variant.label);
        rule += "---|";
        ours += &if values.is_empty() { " – |".to_string() } else { format!(" {} |", mean_sd_text(table, mean, sd)) };
        paper += &match variant.paper {
            Some((m, s)) => format!(" {} |", mean_sd_text(table, m, Some(s))),
            None => " – |".into(),
        };
    }
    epochs_seen.sort_unstable();
    let epochs_text: Vec<String> = epochs_seen.iter().map(ToString::to_string).collect();
    let mut md = format!(
        "# GLIFR paper, {}: {}, mean (SD) over trials\n\n",
        table.name().trim_end_matches("-table"),
        table.metric()
    );
    md += &format!(
        "{header}\n{rule}\n| neurozoo (≤{trials_seen} trials, {} epochs) |{ours}\n{paper}\n",
        epochs_text.join("/")
    );
    md += "\nThe paper's numbers: AllenInstitute/GLIFS_ASC result CSVs (spec glifr.md §3). ";
    md += "A model with fewer trials or epochs than the paper's is not comparable one to one.\n";
    let mut trials_csv = String::from("trial,model,run_dir,seed,epochs,metric,seconds\n");
    let mut sorted: Vec<&TrialResult> = results.iter().collect();
    sorted.sort_by(|a, b| (a.trial, &a.model).cmp(&(b.trial, &b.model)));
    for r in sorted {
        let _ = writeln!(
            trials_csv,
            "{},{},{},{},{},{},{:.1}",
            r.trial,
            r.model,
            r.run_dir.display(),
            r.seed,
            r.epochs,
            r.metric,
            r.seconds
        );
    }
    write_atomic(&out.join("table.csv"), csv.as_bytes())?;
    write_atomic(&out.join("trials.csv"), trials_csv.as_bytes())?;
    write_atomic(&out.join("table.md"), md.as_bytes())?;
    // The paper's learning-curve figure: a plot that fails costs a warning, not the table.
    let metric = table.metric();
    let title =
        format!("GLIFR paper, {}: {metric} per epoch, mean over trials", table.name().trim_end_matches("-table"));
    let drawn = learning_curve_points(table, results)
        .and_then(|lines| engine::plot::model_curves(&out.join("learning_curves.png"), &title, metric, &lines));
    if let Err(e) = drawn {
        eprintln!("warning: could not draw {}: {e:#}", out.join("learning_curves.png").display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(out: &Path) -> ExperimentOptions {
        ExperimentOptions {
            trials: 1,
            first_trial: 0,
            models: None,
            epochs: None,
            batch_size: None,
            threads: None,
            out: out.into(),
            data_dir: None,
            device: None,
            set: Vec::new(),
            quiet: true,
        }
    }

    #[test]
    fn mean_and_sample_sd() {
        // mean 2, squared deviations 1 + 0 + 1 over n − 1 = 2: SD 1.
        assert_eq!(mean_sd(&[1.0, 2.0, 3.0]), (2.0, Some(1.0)));
        assert_eq!(mean_sd(&[0.5]), (0.5, None));
    }

    #[test]
    fn het_models_bring_their_source_and_keep_the_papers_order() {
        let keys =
            |t, m: Option<&[String]>| -> Vec<&str> { selected_variants(t, m).unwrap().iter().map(|v| v.key).collect() };
        assert_eq!(keys(Table::Lmnist, None).len(), 10);
        assert_eq!(keys(Table::Pmnist, None), ["rnn", "lheta", "rheta"]);
        assert_eq!(keys(Table::Sine, Some(&["rheta".into(), "rnn".into()])), ["rnn", "lheta", "rheta"]);
        assert_eq!(keys(Table::Lmnist, Some(&["fhet".into()])), ["lhet", "fhet"]);
        let e = selected_variants(Table::Lmnist, Some(&["gru".into()])).unwrap_err().to_string();
        assert!(e.contains("unknown model `gru`") && e.contains("rheta"), "{e}");
    }

    #[test]
    fn every_trial_has_its_own_seed_and_het_source() {
        let out = Path::new("/tmp/exp");
        let mut o = options(out);
        o.epochs = Some(2);
        o.data_dir = Some("/data/mnist".into());
        let rheta = Table::Lmnist.variants().iter().find(|v| v.key == "rheta").unwrap();
        let c = trial_config(rheta, 3, &o).unwrap();
        assert_eq!(c.name, "rheta-trial3");
        assert_eq!(c.run_dir(), out.join("rheta-trial3"));
        assert_eq!(c.seed, 3);
        assert_eq!(c.training.epochs, 2);
        assert_eq!(c.model.glifr().unwrap().het_source.as_deref(), Some(out.join("lheta-trial3").as_path()));
        let TaskConfig::Mnist { data_dir, .. } = &c.task else { panic!("not mnist") };
        assert_eq!(data_dir, Path::new("/data/mnist"));
        assert_eq!((c.training.batch_size, c.training.threads), (512, 2), "the shipped config's batch");
        (o.batch_size, o.threads) = (Some(256), Some(1));
        let c = trial_config(rheta, 3, &o).unwrap();
        assert_eq!((c.training.batch_size, c.training.threads), (256, 1));
        o.threads = Some(0);
        assert!(trial_config(rheta, 3, &o).unwrap_err().to_string().contains("built-in config of rheta"));
    }

    #[test]
    fn the_table_puts_mean_and_sd_beside_the_paper() {
        let dir = tempfile::tempdir().unwrap();
        let result = |trial, model: &str, metric| TrialResult {
            trial,
            model: model.into(),
            run_dir: dir.path().join(format!("{model}-trial{trial}")),
            seed: trial as u64,
            epochs: 3,
            metric,
            seconds: 1.0,
            trained_now: true,
        };
        let results = [result(0, "rnn", 0.97), result(1, "rnn", 0.98), result(0, "lheta", 0.94)];
        write_tables(Table::Lmnist, dir.path(), &results).unwrap();
        let md = std::fs::read_to_string(dir.path().join("table.md")).unwrap();
        // RNN: mean .975, SD √((.005² + .005²)/1) = .00707.
        assert!(md.contains("| .9750 (.0071) |"), "{md}");
        assert!(md.contains("| .9779 (.0040) |"), "{md}");
        assert!(md.contains("≤2 trials, 3 epochs"), "{md}");
        let csv = std::fs::read_to_string(dir.path().join("table.csv")).unwrap();
        assert!(csv.lines().any(|l| l.starts_with("lheta,LHetA,1,3,0.94,,0.9417,0.0017,0.94")), "{csv}");
        assert!(csv.lines().any(|l| l.starts_with("hom,Hom,0,,,,0.9365")), "{csv}");
    }

    #[test]
    fn mse_keeps_three_significant_digits() {
        assert_eq!(format_metric(Table::Sine, 0.00936), ".00936");
        assert_eq!(format_metric(Table::Sine, 0.0561), ".0561");
        assert_eq!(format_metric(Table::Sine, 1.2128), "1.21");
        assert_eq!(format_metric(Table::Sine, 0.0017), ".0017");
        assert_eq!(format_metric(Table::Lmnist, 0.97791), ".9779");
    }
}
