//! The training loop and the run directory.
//!
//! ```text
//! runs/<name>/
//!   config.toml          the config as run
//!   metrics.csv          one row per epoch
//!   learning_curves.png  loss and accuracy per epoch
//!   checkpoints/latest   name of the newest complete checkpoint
//!   checkpoints/epoch-0030/{model.toml, model.bpk, optimizer.bpk, state.json, metrics.csv}
//!   summary.json         final test metrics, parameter counts, time
//! ```
//!
//! Each checkpoint is written into a `.partial` directory and renamed into place, and `latest`
//! is replaced atomically after it, so an interrupted run always resumes from a complete
//! checkpoint. The shuffling and dropout of epoch e are seeded from (seed, e), so a resumed run
//! continues exactly as an uninterrupted one would.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail, ensure};
use burn::data::dataloader::DataLoaderBuilder;
use burn::data::dataset::Dataset;
use burn::optim::ModuleOptimizer;
use burn::prelude::*;
use serde::{Deserialize, Serialize};
use tasks::SequenceBatcher;

use crate::config::{LrSchedule, RunConfig};
use crate::data::{TaskDataset, build_train_and_test};
use crate::device::DeviceChoice;
use crate::evaluate::{Evaluation, Totals, evaluate};
use crate::fsutil::write_atomic;
use crate::loss::{drop_inputs, mask_seed};
use crate::metrics::{EpochRecord, read_metrics, write_metrics};
use crate::model::{Model, SavedModel, build_model, latest_checkpoint, load_checkpoint, save_checkpoint};
use crate::optim::{learning_rate, optimizer};
use crate::progress::EpochProgress;

/// How many complete checkpoints a run keeps.
const KEEP_CHECKPOINTS: usize = 2;

/// What `state.json` in a checkpoint holds.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct CheckpointState {
    epoch: usize,
    elapsed_seconds: f64,
}

/// Removes a run folder on drop while `armed`: [`train`] arms it for a folder it creates and
/// disarms it at the first checkpoint.
struct FreshRunFolder {
    dir: PathBuf,
    armed: bool,
}

impl Drop for FreshRunFolder {
    fn drop(&mut self) {
        if self.armed {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Options of `neurozoo train` beyond the config.
#[derive(Clone, Debug, Default)]
pub struct TrainOptions {
    /// `--device`.
    pub device: Option<String>,
    /// `--resume`.
    pub resume: bool,
    /// Print nothing but errors and the final line (tests).
    pub quiet: bool,
}

/// Summary written at the end of a run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Summary {
    /// Run name.
    pub name: String,
    /// Model kind and variant description.
    pub model: String,
    /// Task description.
    pub task: String,
    /// Device used.
    pub device: String,
    /// Epochs trained.
    pub epochs: usize,
    /// Final test evaluation.
    pub test: Evaluation,
    /// Final-epoch training loss.
    pub train_loss: f64,
    /// Final-epoch training accuracy.
    pub train_accuracy: Option<f64>,
    /// Parameters that train.
    pub trainable_parameters: usize,
    /// All parameters, frozen ones included.
    pub total_parameters: usize,
    /// Total training time, seconds (across resumes).
    pub seconds: f64,
    /// Mean seconds per epoch.
    pub seconds_per_epoch: f64,
}

/// Removes what a writer killed mid-write leaves: `write_atomic`'s temporary files (`.tmp…`)
/// in the run and checkpoint folders, and unfinished `*.partial` checkpoint folders. Called
/// only while holding the run's lock, so no live writer owns them.
fn remove_leftovers(run_dir: &Path) -> Result<()> {
    for dir in [run_dir.to_path_buf(), run_dir.join("checkpoints")] {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries {
            let path = entry.with_context(|| format!("cannot list {}", dir.display()))?.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            let removed = if name.starts_with(".tmp") && path.is_file() {
                std::fs::remove_file(&path)
            } else if name.ends_with(".partial") && path.is_dir() {
                std::fs::remove_dir_all(&path)
            } else {
                continue;
            };
            removed.with_context(|| format!("cannot remove the leftover {}", path.display()))?;
        }
    }
    Ok(())
}

/// Where a run stands when its training loop starts: fresh, or restored from its latest
/// checkpoint with the metrics committed with it.
struct Progress {
    model: Model,
    optimizer: ModuleOptimizer,
    records: Vec<EpochRecord>,
    first_epoch: usize,
    /// Training seconds so far, across resumes.
    elapsed: f64,
}

/// Trains the run `config` describes and returns its summary. The steps, each below: claim the
/// run folder, check that a resume continues the same run, load the data, start or resume,
/// then per epoch train, evaluate, and commit a checkpoint with its metrics; last, summarise.
pub fn train(config: &RunConfig, options: &TrainOptions) -> Result<Summary> {
    let choice = DeviceChoice::resolve(options.device.as_deref(), config.device.as_deref())?;
    let device = choice.autodiff_device();
    let eval_device = choice.device();
    let run_dir = config.run_dir();
    // Held until training returns: a second writer of this run is refused, naming this one.
    let _claim = crate::fsutil::lock_run(&run_dir)?;
    // With the claim held, whatever a killed writer left half-made is ours to clear.
    remove_leftovers(&run_dir)?;
    let existing = latest_checkpoint(&run_dir)?;
    if existing.is_some() && !options.resume {
        bail!("{} already holds a run; pass --resume to continue it, or choose another `name`", run_dir.display());
    }
    if options.resume {
        check_same_run(config, &run_dir)?;
    }
    let (train_set, test_set) = load_data(config)?;
    let model_config = config.resolved_model();
    let mut progress = match (&existing, options.resume) {
        (Some(checkpoint), true) => resume(checkpoint, config, &device, options.quiet)?,
        _ => start(config, &device, options)?,
    };
    // A run folder this call creates is removed again if the run fails before its first
    // checkpoint, so a failed start leaves no half-made run behind (only `config.toml`).
    let mut fresh_run = FreshRunFolder { dir: run_dir.clone(), armed: !run_dir.exists() };
    std::fs::create_dir_all(&run_dir).with_context(|| format!("cannot create {}", run_dir.display()))?;
    let config_text = toml::to_string_pretty(config).context("serialising the config")?;
    write_atomic(&run_dir.join("config.toml"), config_text.as_bytes())?;
    if !options.quiet {
        eprintln!("recurrence: {}", progress.model.execution_path(&device));
    }

    let t = &config.training;
    let eval_dropout = if model_config.input_dropout_in_eval { model_config.input_dropout } else { 0.0 };
    let evaluate_test = |model: &Model| {
        evaluate(model, test_set.clone(), t.eval_batch_size, eval_dropout, config.seed, &eval_device, t.threads)
    };
    for epoch in progress.first_epoch..=t.epochs {
        let started = Instant::now();
        // σ_V of this epoch (annealed, or fixed): the model trains, is evaluated and is saved
        // with it.
        let sigma_v = model_config.sigma_v_at(epoch, t.epochs);
        if let (true, Some(sigma_v)) = (model_config.anneals_sigma_v(), sigma_v) {
            progress.model = progress.model.with_sigma_v(sigma_v);
        }
        // The bar stays up through the evaluation and closes with the epoch's line.
        let bar = EpochProgress::new(epoch, t.epochs, train_set.len().div_ceil(t.batch_size), options.quiet);
        let (model, train_eval) =
            train_epoch(progress.model, &mut progress.optimizer, config, &train_set, epoch, &device, &bar)?;
        progress.model = model;
        let evaluated = epoch % t.eval_every == 0 || epoch == t.epochs;
        let test_eval = if evaluated { Some(evaluate_test(&progress.model)?) } else { None };
        let seconds = started.elapsed().as_secs_f64();
        progress.elapsed += seconds;
        let record = EpochRecord {
            epoch,
            train_loss: train_eval.loss,
            train_accuracy: train_eval.accuracy,
            test_loss: test_eval.map(|e| e.loss),
            test_accuracy: test_eval.and_then(|e| e.accuracy),
            seconds,
        };
        let checkpoint = epoch % t.checkpoint_every == 0 || epoch == t.epochs;
        // Long runs of tiny epochs (sine: 5000) print only the epochs evaluated or saved.
        bar.finish((evaluated || checkpoint).then(|| epoch_message(&record)).as_deref());
        progress.records.push(record);
        if checkpoint {
            let mut saved_config = model_config.clone();
            if let (Some(glifr), Some(sigma_v)) = (saved_config.glifr_mut(), sigma_v) {
                (glifr.sigma_v, glifr.sigma_v_anneal_to) = (sigma_v, None);
            }
            commit(&run_dir, config, epoch, &saved_config, &progress)?;
            fresh_run.armed = false;
        }
    }
    summarise(config, choice, &progress, &test_set, evaluate_test)
}

/// `--resume` continues the same run: its own `config.toml` must equal `config`, except for
/// more epochs (unless a cosine schedule or a σ_V anneal ties the curves to the run's length)
/// and the fused/per-step choice, which computes the same numbers.
fn check_same_run(config: &RunConfig, run_dir: &Path) -> Result<()> {
    let config_path = run_dir.join("config.toml");
    if !config_path.is_file() {
        return Ok(());
    }
    let mut previous = RunConfig::load(&config_path).context("reading the run's own config.toml")?;
    if config.training.lr_schedule != LrSchedule::Cosine && !config.model.anneals_sigma_v() {
        previous.training.epochs = config.training.epochs;
    }
    previous.model.fused = config.model.fused;
    ensure!(
        previous == *config,
        "the config differs from the one {} was started with ({}) in more than `training.epochs` (which a cosine schedule or σ_V anneal fixes too); resume with the same config",
        run_dir.display(),
        config_path.display()
    );
    Ok(())
}

/// The training and test sets. A run on generated SHD files must say so in its name, so that
/// its numbers are never mistaken for SHD's.
fn load_data(config: &RunConfig) -> Result<(TaskDataset, TaskDataset)> {
    let (train_set, test_set) =
        build_train_and_test(&config.task, config.training.batch_size, config.training.eval_batch_size)?;
    if let (TaskDataset::Shd(data), crate::config::TaskConfig::Shd { data_dir, .. }) = (&test_set, &config.task)
        && let Some(mark) = data.synthetic()
        && !config.name.to_lowercase().contains("synthetic")
    {
        bail!(
            "the SHD files in {} are {mark} (generated, not SHD), and a run on them must say so in its name: \
             give it a `name` containing \"synthetic\" (as configs/shd/*-synth.toml do); `{}` does not",
            data_dir.display(),
            config.name
        );
    }
    Ok((train_set, test_set))
}

/// Restores the model, optimizer, epoch and time of `checkpoint`, and the run's metrics as
/// committed with it (the run's metrics.csv may lag it by a row, killed in between, or run
/// ahead of it).
fn resume(checkpoint: &Path, config: &RunConfig, device: &Device, quiet: bool) -> Result<Progress> {
    let run_dir = config.run_dir();
    device.seed(config.seed);
    let (saved, model) = load_checkpoint(checkpoint, device)?;
    crate::model::ensure_checkpoint_fits(checkpoint, &saved, &config.resolved_model(), &run_dir.join("config.toml"))?;
    let optim_path = checkpoint.join("optimizer.bpk");
    let optimizer = optimizer(config.training.optimizer)
        .load(&optim_path)
        .map_err(|e| anyhow::anyhow!("cannot load {}: {e:?}", optim_path.display()))?;
    let state_path = checkpoint.join("state.json");
    let state: CheckpointState = serde_json::from_slice(
        &std::fs::read(&state_path).with_context(|| format!("reading {}", state_path.display()))?,
    )
    .with_context(|| format!("invalid {}", state_path.display()))?;
    let kept = checkpoint.join("metrics.csv");
    let source = if kept.is_file() { kept } else { run_dir.join("metrics.csv") };
    let mut records = read_metrics(&source)?;
    records.retain(|r| r.epoch <= state.epoch);
    if !records.iter().map(|r| r.epoch).eq(1..=state.epoch) {
        // Checkpoints written before the metrics travelled inside them.
        eprintln!("warning: {} lacks some of epochs 1..={}; their rows stay missing", source.display(), state.epoch);
    }
    write_metrics(&run_dir.join("metrics.csv"), &records)?;
    if !quiet {
        eprintln!("resuming {} after epoch {}", run_dir.display(), state.epoch);
    }
    Ok(Progress { model, optimizer, records, first_epoch: state.epoch + 1, elapsed: state.elapsed_seconds })
}

/// A new model from the config's seed. Epochs on disk without a readable `latest` are never
/// trained over.
fn start(config: &RunConfig, device: &Device, options: &TrainOptions) -> Result<Progress> {
    let run_dir = config.run_dir();
    let metrics = run_dir.join("metrics.csv");
    let trained = if metrics.is_file() { read_metrics(&metrics).map_or(1, |r| r.len()) } else { 0 };
    ensure!(
        trained == 0,
        "{} records {trained} trained epoch(s) but {} has no checkpoint named by `latest`; \
         restore checkpoints/latest, or move the run away to start it again",
        metrics.display(),
        run_dir.join("checkpoints").display()
    );
    if options.resume && !options.quiet {
        eprintln!("no checkpoint in {}; starting from scratch", run_dir.display());
    }
    device.seed(config.seed);
    let model = build_model(&config.resolved_model(), config.seed, device)?;
    Ok(Progress {
        model,
        optimizer: optimizer(config.training.optimizer),
        records: Vec::new(),
        first_epoch: 1,
        elapsed: 0.0,
    })
}

/// One pass over the training set: shuffled and masked from (seed, epoch), so that a resumed
/// run repeats an uninterrupted one; stops at the first non-finite loss, naming it.
fn train_epoch(
    mut model: Model,
    optimizer: &mut ModuleOptimizer,
    config: &RunConfig,
    train_set: &TaskDataset,
    epoch: usize,
    device: &Device,
    bar: &EpochProgress,
) -> Result<(Model, Evaluation)> {
    let t = &config.training;
    let batches_per_epoch = train_set.len().div_ceil(t.batch_size);
    let total_batches = batches_per_epoch * t.epochs;
    device.seed(config.seed.wrapping_mul(1_000_003).wrapping_add(epoch as u64));
    let epoch_set = train_set.for_epoch(config.seed, epoch);
    let mut builder = DataLoaderBuilder::new(SequenceBatcher).batch_size(t.batch_size).set_device(device.clone());
    if epoch_set.loader_shuffles() {
        builder = builder.shuffle(config.seed.wrapping_mul(7919).wrapping_add(epoch as u64));
    }
    let loader = builder.build(epoch_set);
    let classification = config.task.is_classification();
    let input_dropout = config.model.input_dropout;
    let mut totals = Totals::default();
    for (i, batch) in loader.iter().enumerate() {
        let mut batch = batch.map_err(|e| anyhow::anyhow!("reading training data: {e}"))?;
        batch.input = drop_inputs(batch.input, input_dropout, mask_seed(config.seed, epoch as u64, i));
        let b = batch.input.dims()[0];
        let (loss_value, correct, grads) =
            crate::data_parallel::training_step(&model, &batch, t.recompute_segment, t.threads);
        ensure!(
            loss_value.is_finite(),
            "the training loss became {loss_value} in epoch {epoch}, batch {} of {batches_per_epoch}: training stopped \
             (the learning rate {} may be too large); the last checkpoint, if any, stays `latest`",
            i + 1,
            t.learning_rate
        );
        let step = (epoch - 1) * batches_per_epoch + i;
        let rate = learning_rate(t.lr_schedule, t.learning_rate, step, total_batches);
        model = optimizer.step(rate, model, grads);
        totals.loss += loss_value * b as f64;
        totals.correct += correct;
        totals.samples += b;
        bar.batch(&totals_message(&totals.evaluation(classification)));
    }
    Ok((model, totals.evaluation(classification)))
}

/// Commits epoch `epoch`: the checkpoint with the metrics up to it (one rename), then the
/// run's metrics.csv and learning curves. `saved_config` is the model at the σ_V it was
/// trained and evaluated with.
fn commit(
    run_dir: &Path,
    config: &RunConfig,
    epoch: usize,
    saved_config: &crate::config::ModelConfig,
    progress: &Progress,
) -> Result<()> {
    let Progress { model, optimizer, records, elapsed, .. } = progress;
    write_checkpoint(run_dir, epoch, *elapsed, saved_config, model, optimizer, records)?;
    write_metrics(&run_dir.join("metrics.csv"), records)?;
    if let Err(e) = crate::plot::learning_curves(&run_dir.join("learning_curves.png"), records, &config.name) {
        eprintln!("warning: could not draw the learning curves: {e:#}");
    }
    Ok(())
}

/// `summary.json`: the last epoch's test metrics (evaluated now if a resume found the run
/// already finished without them), parameter counts and time.
fn summarise(
    config: &RunConfig,
    choice: DeviceChoice,
    progress: &Progress,
    test_set: &TaskDataset,
    evaluate_test: impl Fn(&Model) -> Result<Evaluation>,
) -> Result<Summary> {
    let last = progress.records.last().context("no epoch was trained")?;
    let test = match last.test_loss {
        Some(loss) => Evaluation { loss, accuracy: last.test_accuracy, samples: test_set.len() },
        None => evaluate_test(&progress.model)?,
    };
    let summary = Summary {
        name: config.name.clone(),
        model: describe_model(config),
        task: describe_task(config, Some(test_set)),
        device: choice.name().into(),
        epochs: config.training.epochs,
        test,
        train_loss: last.train_loss,
        train_accuracy: last.train_accuracy,
        trainable_parameters: progress.model.num_trainable_params(),
        total_parameters: progress.model.num_params(),
        seconds: progress.elapsed,
        seconds_per_epoch: progress.elapsed / progress.records.len().max(1) as f64,
    };
    let path = config.run_dir().join("summary.json");
    write_atomic(&path, serde_json::to_string_pretty(&summary)?.as_bytes())?;
    Ok(summary)
}

fn totals_message(e: &Evaluation) -> String {
    match e.accuracy {
        Some(a) => format!("loss {:.4} acc {:.4}", e.loss, a),
        None => format!("loss {:.5}", e.loss),
    }
}

fn epoch_message(r: &EpochRecord) -> String {
    let mut s = format!("train loss {:.4}", r.train_loss);
    if let Some(a) = r.train_accuracy {
        s += &format!(" acc {a:.4}");
    }
    if let Some(l) = r.test_loss {
        s += &format!(" | test loss {l:.4}");
    }
    if let Some(a) = r.test_accuracy {
        s += &format!(" acc {a:.4}");
    }
    s + &format!(" | {:.1} s", r.seconds)
}

/// A one-line description of the model for summaries.
pub fn describe_model(config: &RunConfig) -> String {
    let m = &config.model;
    if let Some(e) = m.elm() {
        let branches = e.num_branch.map(|b| format!(" branches={b}×{}", e.synapses_per_branch)).unwrap_or_default();
        return format!(
            "ELM v{} d_m={} λ={} mlp={}×{} {:?} τ_m={}–{}{} dt={} routing={:?}{}",
            u8::from(e.version),
            m.hidden_size,
            e.lambda,
            e.mlp_layers,
            e.mlp_hidden_size.unwrap_or(2 * m.hidden_size),
            e.mlp_activation,
            e.memory_tau_min,
            e.memory_tau_max,
            if e.learn_memory_tau { " (learned)" } else { "" },
            m.dt(),
            e.routing,
            branches
        );
    }
    // The other kinds print GLIFR's defaults, as they always have.
    let glifr = m.glifr().cloned().unwrap_or_default();
    format!(
        "{:?} H={} ascs={} learned={} init={:?} delay={}ms",
        m.kind(),
        m.hidden_size,
        glifr.num_ascs,
        glifr.learn_neuronal_params,
        glifr.init,
        m.synaptic_delay_ms()
    )
}

/// A one-line description of the task for summaries. `data`, the run's dataset when at hand,
/// spares reading the Pathfinder index again to tell generated data from the release.
pub fn describe_task(config: &RunConfig, data: Option<&TaskDataset>) -> String {
    match &config.task {
        crate::config::TaskConfig::Mnist { sequence, .. } => format!("mnist-{sequence:?}").to_lowercase(),
        crate::config::TaskConfig::Sine { .. } => "sine".into(),
        crate::config::TaskConfig::Shd { adding, bin_ms, data_dir, .. } => {
            // Generated data must never pass for SHD in a summary.
            let synthetic = match data {
                Some(TaskDataset::Shd(d)) => Some(d.synthetic().map(str::to_string)),
                _ => crate::data::shd_origin(data_dir),
            };
            let task = if *adding { "-Adding" } else { "" };
            let origin = match synthetic {
                Some(Some(mark)) => format!("{mark}{task} (generated by neurozoo gen shd-synth, not SHD)"),
                Some(None) => format!("SHD{task}"),
                None => format!("SHD{task} (data not found)"),
            };
            format!("{origin}, {bin_ms} ms bins, from {}", data_dir.display())
        }
        crate::config::TaskConfig::Shape { inputs, outputs, steps, .. } => format!("shape {steps}×{inputs}→{outputs}"),
        crate::config::TaskConfig::Neuronio { window, data_dir, .. } => {
            format!("neuronio windows of {window} ms from {}", data_dir.display())
        }
        crate::config::TaskConfig::Pathfinder { data_dir, size, difficulty, encoding, levels, .. } => {
            // Generated data must never pass for the LRA release in a summary.
            let synthetic = match data {
                Some(TaskDataset::Pathfinder(d)) => Some(d.synthetic()),
                _ => crate::data::pathfinder_index(data_dir, *size, *difficulty).ok().map(|index| index.synthetic),
            };
            let origin = match synthetic {
                Some(true) => "SYNTHETIC (neurozoo gen pathfinder), not LRA",
                Some(false) => "LRA release",
                None => "data not found",
            };
            let encoding = match encoding {
                crate::config::EncodingName::OneHot => format!("one-hot {levels} levels"),
                crate::config::EncodingName::Grey => "grey".into(),
            };
            let difficulty = format!("{difficulty:?}").to_lowercase();
            format!("pathfinder{size} {difficulty} ({origin}), {encoding}, from {}", data_dir.display())
        }
    }
}

fn write_checkpoint(
    run_dir: &Path,
    epoch: usize,
    elapsed: f64,
    model_config: &crate::config::ModelConfig,
    model: &Model,
    optimizer: &ModuleOptimizer,
    records: &[EpochRecord],
) -> Result<()> {
    let root = run_dir.join("checkpoints");
    let name = format!("epoch-{epoch:04}");
    let partial = root.join(format!("{name}.partial"));
    if partial.exists() {
        std::fs::remove_dir_all(&partial).with_context(|| format!("cannot clear {}", partial.display()))?;
    }
    let saved = SavedModel { origin: format!("run {} epoch {epoch}", run_dir.display()), model: model_config.clone() };
    save_checkpoint(&partial, &saved, model)?;
    let optim_path = partial.join("optimizer.bpk");
    optimizer.save(&optim_path).map_err(|e| anyhow::anyhow!("cannot write {}: {e:?}", optim_path.display()))?;
    let state = CheckpointState { epoch, elapsed_seconds: elapsed };
    write_atomic(&partial.join("state.json"), serde_json::to_string_pretty(&state)?.as_bytes())?;
    // The metrics up to this epoch travel inside the checkpoint, committed by the same rename,
    // so a kill between the two never leaves the checkpoint ahead of its metrics row.
    write_metrics(&partial.join("metrics.csv"), records)?;
    let final_dir = root.join(&name);
    if final_dir.exists() {
        std::fs::remove_dir_all(&final_dir).with_context(|| format!("cannot replace {}", final_dir.display()))?;
    }
    std::fs::rename(&partial, &final_dir).with_context(|| format!("cannot move {} into place", partial.display()))?;
    write_atomic(&root.join("latest"), name.as_bytes())?;
    // Older complete checkpoints beyond the newest few are dropped.
    let mut epochs: Vec<PathBuf> = std::fs::read_dir(&root)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_dir()
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("epoch-") && !n.ends_with(".partial"))
        })
        .collect();
    epochs.sort();
    if epochs.len() > KEEP_CHECKPOINTS {
        for old in &epochs[..epochs.len() - KEEP_CHECKPOINTS] {
            std::fs::remove_dir_all(old).with_context(|| format!("cannot remove {}", old.display()))?;
        }
    }
    Ok(())
}
