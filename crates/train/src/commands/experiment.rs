//! `neurozoo experiment`: a model table of the GLIFR paper, planned, trained or collected.

use std::path::PathBuf;

use anyhow::{Context, Result};
use engine::config::Override;

use super::{show_or_bundle, unfinished};

/// A model table of the GLIFR paper: every model, N trials, het models from their trial's
/// LHet/LHetA; resumable; writes table.md, table.csv and trials.csv beside the paper's numbers.
#[derive(clap::Args, Debug)]
pub struct ExperimentArgs {
    /// lmnist-table, pmnist-table or sine-table.
    #[arg(value_enum)]
    pub table: TableArg,
    /// Trials (the paper: 10).
    #[arg(long, default_value_t = 3)]
    pub trials: usize,
    /// Index of the first trial (seed = config seed + trial).
    #[arg(long, default_value_t = 0)]
    pub first_trial: usize,
    /// Models (rnn,lstm,hom,homa,lhet,lheta,fhet,rhet,fheta,rheta); default: those the
    /// paper reports. A het model brings its LHet/LHetA source.
    #[arg(long, value_delimiter = ',')]
    pub models: Option<Vec<String>>,
    /// Epochs per run (default: the paper's, from the configs).
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Batch size of every run (default: the configs').
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Threads each batch is split across (`training.threads`; default: the configs').
    #[arg(long)]
    pub threads: Option<usize>,
    /// Folder of the runs and tables (default: runs/<table>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// MNIST folder (default: the configs' data/mnist).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Device override.
    #[arg(long)]
    pub device: Option<String>,
    /// Change one value of every run's config: `--set training.learning_rate=1e-3`
    /// (repeatable; applied before the options above).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<Override>,
    #[command(flatten)]
    pub mode: engine::slurm::ModeArgs,
}

/// `neurozoo experiment`.
pub fn run(args: ExperimentArgs) -> Result<()> {
    use paper::experiment::{ExperimentOptions, Table, collect_experiment, run_planned};
    let table = match args.table {
        TableArg::Lmnist => Table::Lmnist,
        TableArg::Pmnist => Table::Pmnist,
        TableArg::Sine => Table::Sine,
    };
    let out = args.out.unwrap_or_else(|| PathBuf::from("runs").join(table.name()));
    let mode = args.mode;
    let options = ExperimentOptions {
        trials: args.trials,
        first_trial: args.first_trial,
        models: args.models,
        epochs: args.epochs,
        batch_size: args.batch_size,
        threads: args.threads,
        out: out.clone(),
        data_dir: args.data_dir,
        device: args.device,
        set: args.set,
        quiet: false,
    };
    let planned = paper::experiment::plan(table, &options)?;
    if show_or_bundle(&planned, &mode, options.device.as_deref())? {
        return Ok(());
    }
    if mode.collect {
        let (results, missing) = collect_experiment(table, &options, &planned)?;
        println!("{}", std::fs::read_to_string(out.join("table.md")).context("reading the table back")?);
        println!("{} finished runs → {}", results.len(), out.display());
        return unfinished(&missing);
    }
    let results = run_planned(table, &options, &planned)?;
    let trained = results.iter().filter(|r| r.trained_now).count();
    println!("{}", std::fs::read_to_string(out.join("table.md")).context("reading the table back")?);
    println!("{} runs ({trained} trained now) → {}", results.len(), out.display());
    Ok(())
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum TableArg {
    /// Line-by-line MNIST (10 models, accuracy).
    #[value(name = "lmnist-table")]
    Lmnist,
    /// Pixel-by-pixel MNIST (RNN, LHetA, RHetA by default).
    #[value(name = "pmnist-table")]
    Pmnist,
    /// Sine generation (10 models, MSE).
    #[value(name = "sine-table")]
    Sine,
}
