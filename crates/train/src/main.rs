//! `neurozoo`: train, evaluate, import, run and benchmark the models of the zoo.
//!
//! Over 600 lines because it holds every command's clap definition (most of the file is their
//! help text) and a thin dispatch each; the work is in the library's modules. Issue 19 splits
//! it into one file per command under `commands/`.

// The doc comments below are clap's help text, written for a terminal ([B,T,in], runs/<name>),
// not for rustdoc.
#![allow(rustdoc::broken_intra_doc_links, rustdoc::invalid_html_tags)]

use std::path::PathBuf;

/// mimalloc instead of the system allocator. A training step allocates and frees buffers of
/// megabytes (the fused recurrences' activations, Burn's tensors); glibc's malloc hands those
/// back to the kernel each time, and the page faults and cross-core TLB flushes of mapping
/// them again cost more than the recurrence itself (L-MNIST LHetA, 2 cores: 0.098 s per
/// step with glibc, 0.059 s with its mmap threshold raised by hand). mimalloc keeps freed
/// memory for reuse.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay` (its header's `mi_option_e`; the Rust bindings name no
/// constant for it).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Freed memory goes back to the OS after 1 s unused instead of mimalloc's 10 ms: a training
/// step takes longer than 10 ms, so its buffers were returned and faulted in again every
/// step (L-MNIST LHetA: 0.044 → 0.040 s per step fused, 0.097 → 0.083 s per-step).
#[allow(unsafe_code)]
fn keep_freed_memory_for_a_second() {
    // SAFETY: `mi_option_set` stores one integer in mimalloc's option table; it takes no
    // pointers and may be called at any time.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 1000) }
}

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};
use train::config::{DEFAULT_CONFIG, Override, RunConfig};
use train::device::DeviceChoice;

#[derive(Parser, Debug)]
#[command(name = "neurozoo", version, about = "Expressive recurrent neuron models (GLIFR, ELM) on Burn")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum ImportFormat {
    /// A GLIFS_ASC (PyTorch Lightning) GLIFR checkpoint (`--checkpoint`, optional `--hparams`).
    GlifsAsc,
    /// An AaronSpieler/elmneuron ELM `state_dict` (`--state`) with its `model_config.json`
    /// (`--config`), as the released NeuronIO models ship.
    Elmneuron,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Train the model a config describes (default: GLIFR LHetA on line-by-line MNIST).
    Train {
        /// TOML config; without it, the built-in default (configs/lmnist/glifr-lheta.toml).
        #[arg(long)]
        config: Option<PathBuf>,
        /// flex, ndarray or wgpu (those compiled in); overrides the config's `device`.
        #[arg(long)]
        device: Option<String>,
        /// Continue the run from its last checkpoint.
        #[arg(long)]
        resume: bool,
        /// Change one config value: `--set training.epochs=5` (repeatable; the value is TOML, a
        /// bare word a string; checked like the file).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<Override>,
    },
    /// Re-evaluate a run's latest checkpoint on the test set.
    Eval {
        /// The run directory (runs/<name>).
        #[arg(long)]
        run: PathBuf,
        /// Device override.
        #[arg(long)]
        device: Option<String>,
        /// Change one value of the run's config for this evaluation, e.g. `--set
        /// task.data_dir=/data/mnist` (repeatable; the model must still fit the checkpoint).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<Override>,
    },
    /// Convert a checkpoint of an authors' implementation into a neurozoo checkpoint.
    Import {
        /// Source format.
        #[arg(long, value_enum)]
        from: ImportFormat,
        /// The checkpoint or state-dict file (a Lightning `.ckpt`, an elmneuron `model_state.pt`).
        #[arg(long, visible_alias = "state")]
        checkpoint: PathBuf,
        /// glifs-asc: the run's `hparams.yaml`; default: the checkpoint's own `hyper_parameters`.
        #[arg(long)]
        hparams: Option<PathBuf>,
        /// elmneuron: the model's `model_config.json`.
        #[arg(long)]
        config: Option<PathBuf>,
        /// elmneuron: 1 or 2; default: read from the state dict (`tau_s`: v1, `tau_b`: v2).
        #[arg(long)]
        elm_version: Option<u8>,
        /// Output checkpoint directory.
        #[arg(long)]
        out: PathBuf,
        /// Write into `--out` even if it holds files.
        #[arg(long)]
        force: bool,
    },
    /// Run a model on a float32 array [B,T,in] and write the readout of every step [B,T,out].
    Predict {
        /// A checkpoint directory (from `import` or a run), or a run directory.
        #[arg(long)]
        checkpoint: PathBuf,
        /// Input `.npy`.
        #[arg(long)]
        input: PathBuf,
        /// Output `.npy`.
        #[arg(long)]
        output: PathBuf,
        /// Also write the GLIFR membrane voltage [B,T,H] here.
        #[arg(long)]
        voltage: Option<PathBuf>,
        /// Also write the ELM memory [B,T,d_m] here.
        #[arg(long)]
        memory: Option<PathBuf>,
        /// Overwrite output files that exist.
        #[arg(long)]
        force: bool,
        /// Device (default: wgpu when compiled in and a hardware GPU is present, else flex).
        #[arg(long)]
        device: Option<String>,
    },
    /// The loss `cross_entropy(y[:, -1, :], labels)` and the gradient of every trainable
    /// parameter on one batch: loss.json and <state_dict key>.npy in the authors' names and
    /// layouts, to diff against a PyTorch run.
    Grads {
        /// A checkpoint directory (from `import` or a run), or a run directory.
        #[arg(long)]
        checkpoint: PathBuf,
        /// Input `.npy` [B,T,in].
        #[arg(long)]
        input: PathBuf,
        /// Class labels `.npy` [B] (integers, or floats holding whole numbers).
        #[arg(long)]
        labels: PathBuf,
        /// Output folder.
        #[arg(long)]
        out: PathBuf,
        /// Run the step-by-step path instead of the fused operation.
        #[arg(long)]
        per_step: bool,
        /// Overwrite files already in the output folder.
        #[arg(long)]
        force: bool,
        /// Device (default: wgpu when compiled in and a hardware GPU is present, else flex).
        #[arg(long)]
        device: Option<String>,
    },
    /// Time training steps of a config's model on random data.
    Bench {
        /// TOML config.
        #[arg(long)]
        config: PathBuf,
        /// Timed steps.
        #[arg(long, default_value_t = 10)]
        steps: usize,
        /// Untimed warm-up steps.
        #[arg(long, default_value_t = 2)]
        warmup: usize,
        /// Batch size (default: the config's).
        #[arg(long)]
        batch_size: Option<usize>,
        /// Recompute BPTT in segments of this many steps (overrides
        /// `training.recompute_segment`; 0 turns it off).
        #[arg(long)]
        recompute_segment: Option<usize>,
        /// Split each batch across this many threads (overrides `training.threads`).
        #[arg(long)]
        threads: Option<usize>,
        /// Also time the per-step path (`model.fused = false`), right after the fused one (each with its own warm-up), and
        /// report the ratio.
        #[arg(long)]
        compare_unfused: bool,
        /// Also time the GEMM crate alone on the step's own matrix products (the floor the
        /// step cannot beat) and report its GFLOP/s beside the step's.
        #[arg(long)]
        gemm_floor: bool,
        /// Device override.
        #[arg(long)]
        device: Option<String>,
        /// Change one config value: `--set training.epochs=5` (repeatable; the value is TOML, a
        /// bare word a string; checked like the file).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<Override>,
    },
    /// Time reading and batching a task's training inputs, without a model (peak memory too).
    BenchData {
        /// TOML config.
        #[arg(long)]
        config: PathBuf,
        /// Items to read (default: the whole training split).
        #[arg(long)]
        limit: Option<usize>,
        /// Device the batches go to.
        #[arg(long)]
        device: Option<String>,
    },
    /// Generate synthetic data in a real data set's layout.
    #[command(subcommand)]
    Gen(GenCommand),
    /// A model table of the GLIFR paper: every model, N trials, het models from their trial's
    /// LHet/LHetA; resumable; writes table.md, table.csv and trials.csv beside the paper's numbers.
    Experiment {
        /// lmnist-table, pmnist-table or sine-table.
        #[arg(value_enum)]
        table: TableArg,
        /// Trials (the paper: 10).
        #[arg(long, default_value_t = 3)]
        trials: usize,
        /// Index of the first trial (seed = config seed + trial).
        #[arg(long, default_value_t = 0)]
        first_trial: usize,
        /// Models (rnn,lstm,hom,homa,lhet,lheta,fhet,rhet,fheta,rheta); default: those the
        /// paper reports. A het model brings its LHet/LHetA source.
        #[arg(long, value_delimiter = ',')]
        models: Option<Vec<String>>,
        /// Epochs per run (default: the paper's, from the configs).
        #[arg(long)]
        epochs: Option<usize>,
        /// Batch size of every run (default: the configs').
        #[arg(long)]
        batch_size: Option<usize>,
        /// Threads each batch is split across (`training.threads`; default: the configs').
        #[arg(long)]
        threads: Option<usize>,
        /// Folder of the runs and tables (default: runs/<table>).
        #[arg(long)]
        out: Option<PathBuf>,
        /// MNIST folder (default: the configs' data/mnist).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Device override.
        #[arg(long)]
        device: Option<String>,
        /// Change one value of every run's config: `--set training.learning_rate=1e-3`
        /// (repeatable; applied before the options above).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<Override>,
        #[command(flatten)]
        mode: train::slurm::ModeArgs,
    },
    /// A grid over config keys: every combination of values × N trials, each a resumable run
    /// named from its values; writes sweep.csv (values, final metrics, time of every run).
    Sweep {
        /// The base config.
        #[arg(long)]
        config: PathBuf,
        /// A key and its values, `training.learning_rate=1e-3,1e-4` (repeatable: the grid is
        /// every combination).
        #[arg(long = "grid", value_name = "KEY=V1,V2", required = true)]
        grid: Vec<train::sweep::Grid>,
        /// Trials of each combination (seed = config seed + trial).
        #[arg(long, default_value_t = 1)]
        trials: usize,
        /// Index of the first trial.
        #[arg(long, default_value_t = 0)]
        first_trial: usize,
        /// Change one value of every run: `--set training.epochs=5` (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<Override>,
        /// Folder of the runs and sweep.csv (default: runs/sweep-<config name>).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Device override.
        #[arg(long)]
        device: Option<String>,
        #[command(flatten)]
        mode: train::slurm::ModeArgs,
    },
    /// Random-silencing robustness (GLIFR paper §3.7): silence a fraction of hidden neurons,
    /// evaluate the test set, mean and SD over draws; writes silencing.csv and silencing.png.
    Silence {
        /// Run directories (one line each in the plot).
        #[arg(long, required = true)]
        run: Vec<PathBuf>,
        /// Fractions of hidden neurons to silence.
        #[arg(long, value_delimiter = ',', default_value = "0,0.2,0.4,0.6,0.8,1")]
        fractions: Vec<f64>,
        /// Random draws per fraction.
        #[arg(long, default_value_t = 10)]
        draws: usize,
        /// Seed of the draws.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Folder for silencing.csv and silencing.png (default: the first run's directory).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Device override.
        #[arg(long)]
        device: Option<String>,
    },
    /// Parameter clusters of a trained GLIFR run (GLIFR paper §3.8): Ward clustering of each
    /// neuron's [θ, k_m, r_j, k_j, a_j], k by the Calinski–Harabasz score; writes clusters.csv,
    /// cluster_scores.csv, parameter histograms and f–I curves by cluster.
    Clusters {
        /// A GLIFR run directory (or checkpoint directory).
        #[arg(long)]
        run: PathBuf,
        /// Output folder (default: <run>/clusters).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Device override.
        #[arg(long)]
        device: Option<String>,
    },
    /// The ELM authors' NeuronIO evaluation of a checkpoint: windowed prediction, spike ROC-AUC,
    /// soma RMSE and the rest, as their `neuronio_eval_utils.py` computes them.
    EvalNeuronio {
        /// A checkpoint directory (from `import` or a run), or a run directory.
        #[arg(long)]
        checkpoint: PathBuf,
        /// A simulation file, a folder of `*sim__*` files, or the data root (its `Data_test`).
        #[arg(long)]
        data: PathBuf,
        /// Steps per window.
        #[arg(long, default_value_t = 500)]
        window: usize,
        /// Steps of each later window discarded as burn-in.
        #[arg(long, default_value_t = 150)]
        burn_in: usize,
        /// Leading ms of each simulation left out of the metrics.
        #[arg(long, default_value_t = 500)]
        ignore_ms: usize,
        /// Simulations with more output spikes are left out.
        #[arg(long, default_value_t = 24)]
        max_spikes: usize,
        /// Simulations per forward pass.
        #[arg(long, default_value_t = 16)]
        batch_size: usize,
        /// Also write the report (JSON) here.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Device (default: wgpu when compiled in and a hardware GPU is present, else flex).
        #[arg(long)]
        device: Option<String>,
    },
    /// Print a model's parameter counts and sizes, from a config or a checkpoint.
    Info {
        /// TOML config.
        #[arg(long, conflicts_with = "checkpoint", required_unless_present = "checkpoint")]
        config: Option<PathBuf>,
        /// A checkpoint directory (from `import` or a run), or a run directory.
        #[arg(long)]
        checkpoint: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum TableArg {
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

#[derive(Subcommand, Debug)]
enum GenCommand {
    /// LRA Pathfinder / Path-X images in the release layout (Linsley et al. 2018 algorithm,
    /// LRA's settings), marked synthetic.
    Pathfinder(train::generate::PathfinderArgs),
    /// SHD-synthetic: espeak-ng digits (English, German) through a port of SHD's cochlea
    /// chain (lauscher), written as shd_train.h5 / shd_test.h5 in SHD's layout.
    #[command(name = "shd-synth")]
    ShdSynth(train::generate::ShdSynthArgs),
}

fn load_config(path: Option<&PathBuf>, set: &[Override]) -> Result<RunConfig> {
    match path {
        Some(path) => RunConfig::load_with(path, set),
        None => RunConfig::from_toml_with(DEFAULT_CONFIG, "(built-in default)", set),
    }
}

/// `--plan`, `--plan-json` or `--slurm`: prints the plan or writes the bundle; `false` when
/// none was asked for (the runs train in this process).
fn show_or_bundle(planned: &train::plan::Plan, mode: &train::slurm::ModeArgs, device: Option<&str>) -> Result<bool> {
    let slurm = &mode.slurm;
    if mode.plan {
        print!("{}", planned.text()?);
    } else if mode.plan_json {
        println!("{}", planned.json()?);
    } else if let Some(dir) = &slurm.slurm {
        let bundle = train::slurm::write_bundle(planned, dir, &slurm.resources(), device, slurm.force)?;
        let sizes: Vec<String> = bundle.arrays.iter().map(ToString::to_string).collect();
        println!(
            "{}: {} runs as {} job array(s) of {} task(s), then a collect job ({} jobs) → {}",
            planned.title,
            planned.runs.len(),
            bundle.arrays.len(),
            sizes.join(" + "),
            bundle.jobs,
            bundle.dir.display()
        );
        println!("submit with: bash {}", bundle.dir.join("submit.sh").display());
    } else {
        return Ok(false);
    }
    Ok(true)
}

/// An error naming the planned runs that have not finished, if any.
fn unfinished(missing: &[String]) -> Result<()> {
    if !missing.is_empty() {
        let shown: Vec<&str> = missing.iter().take(10).map(String::as_str).collect();
        let more = if missing.len() > 10 { format!(" and {} more", missing.len() - 10) } else { String::new() };
        bail!("{} planned run(s) have not finished: {}{more}", missing.len(), shown.join(", "));
    }
    Ok(())
}

fn main() {
    keep_freed_memory_for_a_second();
    // A panic inside a backend (e.g. wgpu finding no GPU adapter) should read as an error
    // message, not a backtrace; RUST_BACKTRACE=1 still gets the full report.
    if std::env::var_os("RUST_BACKTRACE").is_none() {
        std::panic::set_hook(Box::new(|info| {
            let message = info
                .payload()
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| info.payload().downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown failure".into());
            eprintln!("error: {message}");
            eprintln!(
                "(an internal failure; with --device wgpu, check that a GPU driver is installed; RUST_BACKTRACE=1 shows where it happened)"
            );
        }));
    }
    if let Err(error) = run(Cli::parse()) {
        eprintln!("error: {error:#}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Train { config, device, resume, set } => {
            let config = load_config(config.as_ref(), &set)?;
            let options = train::runner::TrainOptions { device, resume, quiet: false };
            let summary = train::runner::train(&config, &options)?;
            let accuracy = summary.test.accuracy.map(|a| format!(" test accuracy {a:.4}")).unwrap_or_default();
            println!(
                "done: {}{accuracy} test loss {:.5} ({} trainable parameters, {:.0} s) → {}",
                summary.name,
                summary.test.loss,
                summary.trainable_parameters,
                summary.seconds,
                config.run_dir().display()
            );
        }
        Command::Eval { run, device, set } => {
            let evaluation = train::predict::eval_run(&run, device.as_deref(), &set)?;
            println!("{}", serde_json::to_string_pretty(&evaluation)?);
        }
        Command::Import { from: ImportFormat::Elmneuron, checkpoint, hparams, config, elm_version, out, force } => {
            train::fsutil::ensure_output_folder(&out, force)?;
            if hparams.is_some() {
                bail!("--hparams belongs to --from glifs-asc; an elmneuron model takes --config model_config.json");
            }
            let config = config.context("--from elmneuron needs --config (the model's model_config.json)")?;
            let (model, imported) = train::import_elm::import_elmneuron(&checkpoint, &config, elm_version, &out)?;
            let version = model.elm().map_or(1, |e| u8::from(e.version));
            println!(
                "imported ELM v{} (in {}, d_m {}, out {}, {} trainable parameters) → {}",
                version,
                model.input_size.unwrap_or(0),
                model.hidden_size,
                model.output_size.unwrap_or(0),
                imported.num_trainable_params(),
                out.display()
            );
        }
        Command::Import { from: ImportFormat::GlifsAsc, checkpoint, hparams, config, elm_version, out, force } => {
            train::fsutil::ensure_output_folder(&out, force)?;
            if config.is_some() || elm_version.is_some() {
                bail!("--config and --elm-version belong to --from elmneuron");
            }
            let model = train::import::import_glifs_asc(&checkpoint, hparams.as_deref(), &out)?;
            println!(
                "imported GLIFR (in {}, H {}, out {}, {} ASCs) → {}",
                model.input_size.unwrap_or(0),
                model.hidden_size,
                model.output_size.unwrap_or(0),
                model.num_ascs(),
                out.display()
            );
        }
        Command::Predict { checkpoint, input, output, voltage, memory, force, device } => {
            let choice = DeviceChoice::resolve(device.as_deref(), None)?;
            let (voltage, memory) = (voltage.as_deref(), memory.as_deref());
            train::predict::predict(&checkpoint, &input, &output, voltage, memory, force, choice)?;
        }
        Command::Grads { checkpoint, input, labels, out, per_step, force, device } => {
            let choice = DeviceChoice::resolve(device.as_deref(), None)?;
            let options = train::grads::GradsOptions { per_step, force };
            let result =
                train::grads::grads_command(&checkpoint, &input, &labels, &out, &choice.autodiff_device(), &options)?;
            println!("loss {:.6}, {} gradients → {}", result.loss, result.gradients.len(), out.display());
        }
        Command::Bench {
            config,
            steps,
            warmup,
            batch_size,
            recompute_segment,
            threads,
            compare_unfused,
            gemm_floor,
            device,
            set,
        } => {
            if steps == 0 {
                bail!("--steps must be at least 1");
            }
            let mut config = RunConfig::load_with(&config, &set)?;
            if let Some(k) = recompute_segment {
                config.training.recompute_segment = (k > 0).then_some(k);
                config.validate().context("--recompute-segment")?;
            }
            if let Some(n) = threads {
                config.training.threads = n;
                config.validate().context("--threads")?;
            }
            let mut report =
                train::bench::bench(&config, device.as_deref(), steps, warmup, batch_size, compare_unfused)?;
            if gemm_floor {
                let model = config.resolved_model();
                let classification = config.task.is_classification();
                let products = train::bench::forward_products(&model, report.batch_size, report.steps, classification);
                report.gemm_floor = Some(train::bench::gemm_floor(&products, 5));
            }
            println!("{}", serde_json::to_string_pretty(&report)?);
        }
        Command::BenchData { config, limit, device } => {
            let config = RunConfig::load(&config)?;
            let report = train::bench::bench_data(&config, device.as_deref(), limit)?;
            println!("{}", serde_json::to_string_pretty(&report)?);
        }
        Command::Gen(GenCommand::Pathfinder(args)) => train::generate::gen_pathfinder(&args)?,
        Command::Gen(GenCommand::ShdSynth(args)) => train::generate::gen_shd_synth(&args)?,
        Command::Experiment {
            table,
            trials,
            first_trial,
            models,
            epochs,
            batch_size,
            threads,
            out,
            data_dir,
            device,
            set,
            mode,
        } => {
            use train::experiment::{ExperimentOptions, Table, collect_experiment, run_planned};
            let table = match table {
                TableArg::Lmnist => Table::Lmnist,
                TableArg::Pmnist => Table::Pmnist,
                TableArg::Sine => Table::Sine,
            };
            let out = out.unwrap_or_else(|| PathBuf::from("runs").join(table.name()));
            let options = ExperimentOptions {
                trials,
                first_trial,
                models,
                epochs,
                batch_size,
                threads,
                out: out.clone(),
                data_dir,
                device,
                set,
                quiet: false,
            };
            let planned = train::experiment::plan(table, &options)?;
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
        }
        Command::Sweep { config, grid, trials, first_trial, set, out, device, mode } => {
            let options =
                train::sweep::SweepOptions { config, grid, trials, first_trial, set, out, device, quiet: false };
            let planned = train::sweep::plan(&options)?;
            if show_or_bundle(&planned, &mode, options.device.as_deref())? {
                return Ok(());
            }
            let missing = if mode.collect {
                train::sweep::collect(&options, &planned)?
            } else {
                train::sweep::run_sweep(&options, &planned)?
            };
            println!("{}", std::fs::read_to_string(planned.out.join("sweep.csv")).context("reading sweep.csv back")?);
            println!(
                "{} of {} runs finished → {}",
                planned.runs.len() - missing.len(),
                planned.runs.len(),
                planned.out.join("sweep.csv").display()
            );
            return unfinished(&missing);
        }
        Command::Silence { run, fractions, draws, seed, out, device } => {
            let options = train::silence::SilenceOptions { fractions, draws, seed, device };
            let points = train::silence::silence(&run, out.as_deref(), &options)?;
            println!("run,fraction,silenced,draws,mean,sd");
            for p in points {
                println!("{},{},{},{},{:.4},{:.4}", p.run, p.fraction, p.silenced, p.draws, p.mean, p.sd);
            }
        }
        Command::Clusters { run, out, device } => {
            let report = train::clusters::clusters(&run, out.as_deref(), device.as_deref())?;
            let c = &report.clustering;
            println!("k,calinski_harabasz");
            for (k, score) in &c.scores {
                println!("{k},{score:.2}");
            }
            let sizes: Vec<String> = report.sizes.iter().map(ToString::to_string).collect();
            println!(
                "{} neurons: best k = {} (Calinski–Harabasz {:.2}) → {} cluster(s), sizes {}",
                report.neurons,
                c.best_k,
                c.scores.iter().find(|(k, _)| *k == c.best_k).map_or(f64::NAN, |s| s.1),
                c.reported,
                sizes.join("/")
            );
            for (name, (mean, sd)) in report.parameters.iter().zip(&report.parameter_mean_sd) {
                println!("  {name}: {mean:.4} ± {sd:.4}");
            }
            println!("→ {}", out.unwrap_or_else(|| run.join("clusters")).display());
        }
        Command::EvalNeuronio { checkpoint, data, window, burn_in, ignore_ms, max_spikes, batch_size, out, device } => {
            let device = DeviceChoice::resolve(device.as_deref(), None)?.device();
            let options =
                train::eval_neuronio::NeuronioEvalOptions { window, burn_in, ignore_ms, max_spikes, batch_size };
            let report = train::eval_neuronio::eval_neuronio(&checkpoint, &data, options, &device, false)?;
            let json = serde_json::to_string_pretty(&report)?;
            if let Some(path) = out {
                train::fsutil::write_atomic(&path, json.as_bytes())?;
            }
            println!("{json}");
        }
        Command::Info { checkpoint: Some(checkpoint), .. } => {
            let dir = train::model::resolve_checkpoint(&checkpoint)?;
            let (saved, network) = train::model::load_checkpoint(&dir, &DeviceChoice::host().device())?;
            let m = &saved.model;
            println!(
                "{}: {:?}, {} inputs → {} outputs, hidden/memory size {}",
                dir.display(),
                m.kind(),
                m.input_size.unwrap_or(0),
                m.output_size.unwrap_or(0),
                m.hidden_size
            );
            println!("trainable parameters: {}", network.num_trainable_params());
            println!("total parameters: {}", burn::module::Module::num_params(&network));
        }
        Command::Info { config, .. } => {
            let config = RunConfig::load(&config.context("--config or --checkpoint is needed")?)?;
            let (input, output) = config.task.io_sizes();
            let model = config.resolved_model().shape_only();
            let network = train::model::build_model(&model, config.seed, &DeviceChoice::host().device())
                .context("building the model")?;
            println!("{}: {}", config.name, train::runner::describe_model(&config));
            let training_device = DeviceChoice::resolve(None, config.device.as_deref())?.autodiff_device();
            println!("recurrence in training: {}", network.execution_path(&training_device));
            println!(
                "task: {} ({} steps × {} inputs → {} outputs)",
                train::runner::describe_task(&config, None),
                config.task.sequence_length(),
                input,
                output
            );
            println!("trainable parameters: {}", network.num_trainable_params());
            println!("total parameters: {}", burn::module::Module::num_params(&network));
        }
    }
    Ok(())
}
