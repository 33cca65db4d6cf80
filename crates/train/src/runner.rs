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
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::ModuleOptimizer;
use burn::prelude::*;
use serde::{Deserialize, Serialize};
use tasks::{BatchTarget, SequenceBatch, SequenceBatcher};

use crate::config::{LrSchedule, RunConfig};
use crate::data::{TaskDataset, build_train_and_test};
use crate::device::DeviceChoice;
use crate::fsutil::write_atomic;
use crate::model::{Model, SavedModel, build_model, load_checkpoint, save_checkpoint};
use crate::optim::{learning_rate, optimizer};

/// How many complete checkpoints a run keeps.
const KEEP_CHECKPOINTS: usize = 2;

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

/// What `state.json` in a checkpoint holds.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct CheckpointState {
    epoch: usize,
    elapsed_seconds: f64,
}

/// Loss and accuracy over a dataset.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Mean loss per sample (cross-entropy on the last step, or MSE over all steps).
    pub loss: f64,
    /// Fraction correct (classification only).
    pub accuracy: Option<f64>,
    /// Samples evaluated.
    pub samples: usize,
}

/// Sum of loss·batch, correct count, and samples: what an epoch accumulates.
#[derive(Default)]
struct Totals {
    loss: f64,
    correct: usize,
    samples: usize,
}

impl Totals {
    fn evaluation(&self, classification: bool) -> Evaluation {
        let n = self.samples.max(1) as f64;
        Evaluation {
            loss: self.loss / n,
            accuracy: classification.then(|| self.correct as f64 / n),
            samples: self.samples,
        }
    }
}

/// Zeroes each input entry with probability `p`, without rescaling the others (the ELM SHD
/// code's input dropout). The mask is drawn on the host from `seed` (SplitMix64 streams are
/// fast, and the same on every backend), so runs and resumes reproduce it exactly.
pub fn drop_inputs(input: Tensor<3>, p: f64, seed: u64) -> Tensor<3> {
    if p <= 0.0 {
        return input;
    }
    let shape = input.dims();
    let threshold = (p * 2f64.powi(32)) as u64;
    let mut state = seed;
    let draw = |half: u64| if half < threshold { 0.0f32 } else { 1.0 };
    // Two entries per 64-bit draw, low half first; written in place (a push per entry with
    // its capacity check was 15 % of an SHD-sized training step).
    let mut keep = vec![0.0f32; shape.iter().product()];
    let mut pairs = keep.chunks_exact_mut(2);
    for pair in &mut pairs {
        let bits = splitmix64(&mut state);
        pair[0] = draw(bits & 0xffff_ffff);
        pair[1] = draw(bits >> 32);
    }
    if let [last] = pairs.into_remainder() {
        *last = draw(splitmix64(&mut state) & 0xffff_ffff);
    }
    let mask = Tensor::<3>::from_data(TensorData::new(keep, shape), &input.device());
    input * mask
}

/// One step of SplitMix64 (Steele et al. 2014): a well-mixed 64-bit stream from any seed.
pub fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The seed of the dropout mask of batch `batch` in `pass` (an epoch, or an evaluation).
pub fn mask_seed(seed: u64, pass: u64, batch: usize) -> u64 {
    let mut state = seed ^ pass.rotate_left(21) ^ (batch as u64).rotate_left(42);
    splitmix64(&mut state)
}

/// The authors' `NeuronioLoss`: `0.5·BCEWithLogits(spike) + 0.5·MSE(soma)`, each the mean over
/// batch and steps. Output and target are `[B,T,2]` (spike logit, soma).
pub fn spike_and_soma_loss(output: Tensor<3>, target: Tensor<3>) -> Tensor<1> {
    let [b, t, _] = output.dims();
    let logit = output.clone().slice([0..b, 0..t, 0..1]);
    let spike = target.clone().slice([0..b, 0..t, 0..1]);
    // max(x, 0) − x·y + log(1 + exp(−|x|)): PyTorch's stable form.
    let bce = (logit.clone().clamp_min(0.0) - logit.clone() * spike + (logit.abs().neg().exp() + 1.0).log()).mean();
    let soma = (output.slice([0..b, 0..t, 1..2]) - target.slice([0..b, 0..t, 1..2])).square().mean();
    bce * 0.5 + soma * 0.5
}

/// Cross-entropy of last-step `logits` `[B,classes]` and the number of correct predictions.
pub fn classification_loss(logits: Tensor<2>, classes: &Tensor<1, Int>) -> (Tensor<1>, usize) {
    let loss = CrossEntropyLossConfig::new().init(&logits.device()).forward(logits.clone(), classes.clone());
    let correct = logits.argmax(1).squeeze_dim::<1>(1).equal(classes.clone()).int().sum().into_scalar::<i64>();
    (loss, correct as usize)
}

/// Loss of a batch and the number of correct predictions (0 for regression).
pub fn batch_loss(model: &Model, batch: &SequenceBatch) -> (Tensor<1>, usize) {
    match &batch.target {
        BatchTarget::Classes(classes) => classification_loss(model.forward_last(batch.input.clone()), classes),
        BatchTarget::SpikeAndSoma(target) => {
            (spike_and_soma_loss(model.forward(batch.input.clone()), target.clone()), 0)
        }
        BatchTarget::Sequence(target) => {
            let output = model.forward(batch.input.clone());
            let loss = (output - target.clone()).square().mean();
            (loss, 0)
        }
    }
}

/// Evaluates `model` (in validation mode, on `device`) over `dataset`, with input dropout
/// `input_dropout` (0 unless the config applies it at evaluation, as the ELM SHD code does;
/// its masks derive from `seed`).
pub fn evaluate(
    model: &Model,
    dataset: TaskDataset,
    batch_size: usize,
    input_dropout: f64,
    seed: u64,
    device: &Device,
    threads: usize,
) -> Result<Evaluation> {
    let classification = dataset.is_classification();
    let model = model.valid();
    let loader =
        DataLoaderBuilder::new(SequenceBatcher).batch_size(batch_size).set_device(device.clone()).build(dataset);
    let mut totals = Totals::default();
    for (i, batch) in loader.iter().enumerate() {
        let mut batch = batch.map_err(|e| anyhow::anyhow!("reading test data: {e}"))?;
        batch.input = drop_inputs(batch.input, input_dropout, mask_seed(seed, u64::MAX, i));
        // Each part's mean loss, weighted by its size: the batch's sum, as on one thread.
        let parts = crate::data_parallel::map_parts(&batch, threads, |part| {
            let (loss, correct) = batch_loss(&model, part);
            (loss.into_scalar::<f64>(), correct)
        });
        for ((loss, correct), b) in parts {
            totals.loss += loss * b as f64;
            totals.correct += correct;
            totals.samples += b;
        }
    }
    Ok(totals.evaluation(classification))
}

/// The newest complete checkpoint of a run directory, if any.
pub fn latest_checkpoint(run_dir: &Path) -> Result<Option<PathBuf>> {
    let latest = run_dir.join("checkpoints").join("latest");
    if !latest.is_file() {
        return Ok(None);
    }
    let name = crate::fsutil::read_to_string_bounded(&latest, 4096)?;
    let name = name.trim();
    // Confined to the run: one folder name under checkpoints/, never a path out of it.
    ensure!(
        !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\\']),
        "{} names {name:?}; expected the name of a checkpoint folder beside it (like `epoch-0003`)",
        latest.display()
    );
    let dir = run_dir.join("checkpoints").join(name);
    ensure!(dir.is_dir(), "{} names {}, which does not exist", latest.display(), dir.display());
    Ok(Some(dir))
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

/// Trains the run `config` describes and returns its summary.
pub fn train(config: &RunConfig, options: &TrainOptions) -> Result<Summary> {
    let choice = DeviceChoice::resolve(options.device.as_deref(), config.device.as_deref())?;
    let device = choice.autodiff_device();
    let eval_device = choice.device();
    let run_dir = config.run_dir();
    let config_path = run_dir.join("config.toml");
    let config_text = toml::to_string_pretty(config).context("serialising the config")?;
    let classification = config.task.is_classification();
    // Held until training returns: a second writer of this run is refused, naming this one.
    let _claim = crate::fsutil::lock_run(&run_dir)?;
    // With the claim held, whatever a killed writer left half-made is ours to clear.
    remove_leftovers(&run_dir)?;

    let existing = latest_checkpoint(&run_dir)?;
    if existing.is_some() && !options.resume {
        bail!("{} already holds a run; pass --resume to continue it, or choose another `name`", run_dir.display());
    }
    if options.resume && config_path.is_file() {
        let mut previous = RunConfig::load(&config_path).context("reading the run's own config.toml")?;
        // Extending a run by more epochs is allowed (except under a cosine schedule or a σ_V
        // anneal, whose curves depend on the run's length); any other change would make it a
        // different run.
        if config.training.lr_schedule != LrSchedule::Cosine && config.model.sigma_v_anneal_to.is_none() {
            previous.training.epochs = config.training.epochs;
        }
        // The fused and the per-step path compute the same numbers: switching is no change.
        previous.model.fused = config.model.fused;
        ensure!(
            previous == *config,
            "the config differs from the one {} was started with ({}) in more than `training.epochs` (which a cosine schedule or σ_V anneal fixes too); resume with the same config",
            run_dir.display(),
            config_path.display()
        );
    }

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
    let model_config = config.resolved_model();

    device.seed(config.seed);
    let mut optimizer: ModuleOptimizer = optimizer(config.training.optimizer);
    let (mut model, mut records, first_epoch, mut elapsed) = match (&existing, options.resume) {
        (Some(dir), true) => {
            let (saved, model) = load_checkpoint(dir, &device)?;
            crate::model::ensure_checkpoint_fits(dir, &saved, &model_config, &run_dir.join("config.toml"))?;
            let optim_path = dir.join("optimizer.bpk");
            optimizer = optimizer
                .load(&optim_path)
                .map_err(|e| anyhow::anyhow!("cannot load {}: {e:?}", optim_path.display()))?;
            let state: CheckpointState = serde_json::from_slice(
                &std::fs::read(dir.join("state.json"))
                    .with_context(|| format!("reading {}/state.json", dir.display()))?,
            )
            .with_context(|| format!("invalid {}/state.json", dir.display()))?;
            // The checkpoint's own copy of the metrics was committed with it; the run's
            // metrics.csv may lag it by a row (killed in between) or run ahead of it.
            let kept = dir.join("metrics.csv");
            let source = if kept.is_file() { kept } else { run_dir.join("metrics.csv") };
            let mut records = read_metrics(&source)?;
            records.retain(|r| r.epoch <= state.epoch);
            if !records.iter().map(|r| r.epoch).eq(1..=state.epoch) {
                // Checkpoints written before the metrics travelled inside them.
                eprintln!(
                    "warning: {} lacks some of epochs 1..={}; their rows stay missing",
                    source.display(),
                    state.epoch
                );
            }
            write_metrics(&run_dir.join("metrics.csv"), &records)?;
            if !options.quiet {
                eprintln!("resuming {} after epoch {}", run_dir.display(), state.epoch);
            }
            (model, records, state.epoch + 1, state.elapsed_seconds)
        }
        _ => {
            // Epochs on disk without a readable `latest` must not be trained over.
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
            (build_model(&model_config, config.seed, &device)?, Vec::new(), 1, 0.0)
        }
    };
    // A run folder this call creates is removed again if the run fails before its first
    // checkpoint, so a failed start leaves no half-made run behind (only `config.toml`).
    let mut fresh_run = FreshRunFolder { dir: run_dir.clone(), armed: !run_dir.exists() };
    std::fs::create_dir_all(&run_dir).with_context(|| format!("cannot create {}", run_dir.display()))?;
    write_atomic(&config_path, config_text.as_bytes())?;
    if !options.quiet {
        eprintln!("recurrence: {}", model.execution_path(&device));
    }

    let t = &config.training;
    let batches_per_epoch = train_set.len().div_ceil(t.batch_size);
    let total_batches = batches_per_epoch * t.epochs;
    let input_dropout = model_config.input_dropout;
    let eval_dropout = if model_config.input_dropout_in_eval { input_dropout } else { 0.0 };
    for epoch in first_epoch..=t.epochs {
        let started = Instant::now();
        let sigma_v = model_config.sigma_v_at(epoch, t.epochs);
        if model_config.sigma_v_anneal_to.is_some() {
            model = model.with_sigma_v(sigma_v);
        }
        device.seed(config.seed.wrapping_mul(1_000_003).wrapping_add(epoch as u64));
        let epoch_set = train_set.for_epoch(config.seed, epoch);
        let mut builder = DataLoaderBuilder::new(SequenceBatcher).batch_size(t.batch_size).set_device(device.clone());
        if epoch_set.loader_shuffles() {
            builder = builder.shuffle(config.seed.wrapping_mul(7919).wrapping_add(epoch as u64));
        }
        let loader = builder.build(epoch_set);
        let progress = crate::progress::EpochProgress::new(epoch, t.epochs, batches_per_epoch, options.quiet);
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
            model = optimizer.step(learning_rate(t.lr_schedule, t.learning_rate, step, total_batches), model, grads);
            totals.loss += loss_value * b as f64;
            totals.correct += correct;
            totals.samples += b;
            progress.batch(&totals_message(&totals.evaluation(classification)));
        }
        let train_eval = totals.evaluation(classification);
        let test_eval = if epoch % t.eval_every == 0 || epoch == t.epochs {
            Some(evaluate(
                &model,
                test_set.clone(),
                t.eval_batch_size,
                eval_dropout,
                config.seed,
                &eval_device,
                t.threads,
            )?)
        } else {
            None
        };
        let seconds = started.elapsed().as_secs_f64();
        elapsed += seconds;
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
        let report = record.test_loss.is_some() || checkpoint;
        progress.finish(report.then(|| epoch_message(&record)).as_deref());
        records.push(record);
        if checkpoint {
            // The checkpoint rebuilds the model at the σ_V it was trained and evaluated with.
            let saved_config = crate::config::ModelConfig { sigma_v, sigma_v_anneal_to: None, ..model_config.clone() };
            write_checkpoint(&run_dir, epoch, elapsed, &saved_config, &model, &optimizer, &records)?;
            fresh_run.armed = false;
            write_metrics(&run_dir.join("metrics.csv"), &records)?;
            if let Err(e) = crate::plot::learning_curves(&run_dir.join("learning_curves.png"), &records, &config.name) {
                eprintln!("warning: could not draw the learning curves: {e:#}");
            }
        }
    }

    let last = records.last().context("no epoch was trained")?;
    // The last epoch is always evaluated; a run resumed after it has its record.
    let test = match last.test_loss {
        Some(loss) => Evaluation { loss, accuracy: last.test_accuracy, samples: test_set.len() },
        None => {
            evaluate(&model, test_set.clone(), t.eval_batch_size, eval_dropout, config.seed, &eval_device, t.threads)?
        }
    };
    let summary = Summary {
        name: config.name.clone(),
        model: describe_model(config),
        task: describe_task(config, Some(&test_set)),
        device: choice.name().into(),
        epochs: t.epochs,
        test,
        train_loss: last.train_loss,
        train_accuracy: last.train_accuracy,
        trainable_parameters: model.num_trainable_params(),
        total_parameters: model.num_params(),
        seconds: elapsed,
        seconds_per_epoch: elapsed / records.len().max(1) as f64,
    };
    write_atomic(&run_dir.join("summary.json"), serde_json::to_string_pretty(&summary)?.as_bytes())?;
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
    if m.kind == crate::config::ModelKind::Elm {
        let e = m.elm_options();
        let branches = e.num_branch.map(|b| format!(" branches={b}×{}", e.synapses_per_branch)).unwrap_or_default();
        return format!(
            "ELM v{} d_m={} λ={} mlp={}×{} {:?} τ_m={}–{}{} dt={} routing={:?}{}",
            e.version,
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
    format!(
        "{:?} H={} ascs={} learned={} init={:?} delay={}ms",
        m.kind, m.hidden_size, m.num_ascs, m.learn_neuronal_params, m.init, m.synaptic_delay_ms
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The mask keeps each entry with probability 1 − p, never rescales, and is a function of
    /// its seed.
    #[test]
    fn input_dropout_zeroes_without_rescaling_and_is_seeded() {
        let dev = Device::flex();
        let x = Tensor::<3>::full([4, 50, 100], 2.0, &dev);
        let once: Vec<f32> = drop_inputs(x.clone(), 0.3, 11).into_data().try_into_vec().unwrap();
        assert!(once.iter().all(|&v| v == 0.0 || v == 2.0));
        let dropped = once.iter().filter(|&&v| v == 0.0).count() as f64 / once.len() as f64;
        assert!((dropped - 0.3).abs() < 0.01, "dropped fraction {dropped}");
        let again: Vec<f32> = drop_inputs(x.clone(), 0.3, 11).into_data().try_into_vec().unwrap();
        assert_eq!(once, again);
        let other: Vec<f32> = drop_inputs(x.clone(), 0.3, 12).into_data().try_into_vec().unwrap();
        assert_ne!(once, other);
        let none: Vec<f32> = drop_inputs(x, 0.0, 11).into_data().try_into_vec().unwrap();
        assert!(none.iter().all(|&v| v == 2.0));
        assert_ne!(mask_seed(1, 2, 3), mask_seed(1, 3, 2));
        // The stream is fixed (resumed runs redraw past masks): two entries per SplitMix64
        // draw, low half first, an odd last entry from the low half of one more draw.
        let mut state = 5u64;
        let (first, second) = (splitmix64(&mut state), splitmix64(&mut state));
        let threshold = (0.5 * 2f64.powi(32)) as u64;
        let expected: Vec<f32> = [first & 0xffff_ffff, first >> 32, second & 0xffff_ffff]
            .iter()
            .map(|&half| if half < threshold { 0.0 } else { 1.0 })
            .collect();
        let mask: Vec<f32> =
            drop_inputs(Tensor::<3>::ones([1, 3, 1], &dev), 0.5, 5).into_data().try_into_vec().unwrap();
        assert_eq!(mask, expected);
    }
}
