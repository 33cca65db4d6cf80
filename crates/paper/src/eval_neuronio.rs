//! `neurozoo eval-neuronio`: the ELM authors' NeuronIO evaluation of a checkpoint
//! (`neuronio_eval_utils.py`; see [`tasks::neuronio::metrics`] for the protocol).
//!
//! Per file: predictions in overlapping windows (500 steps, stride 350, burn-in 150), spike
//! probability = sigmoid(output 0), soma = output 1 / 0.1, the soma aligned to the file's
//! ground-truth mean and SD. Files are then pooled; simulations with more than 24 output spikes
//! and the first 500 ms are left out of the metrics.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, ensure};
use burn::prelude::*;
use serde::Serialize;
use tasks::neuronio::metrics::{NeuronioScores, Predictions, Traces, align_soma, score, windowed_predictions};
use tasks::neuronio::{SOMA_BIAS_MV, SOMA_SCALE, SOMA_THRESHOLD_MV, SimulationFile, files_in};

use engine::model::{Model, load_checkpoint, resolve_checkpoint};

/// The protocol's settings; the defaults are the authors'.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NeuronioEvalOptions {
    /// Steps per window (500).
    pub window: usize,
    /// Steps of each later window discarded as burn-in (150).
    pub burn_in: usize,
    /// Leading ms of every simulation left out of the metrics (500).
    pub ignore_ms: usize,
    /// Simulations with more output spikes than this are left out (24).
    pub max_spikes: usize,
    /// Simulations run together.
    pub batch_size: usize,
}

impl Default for NeuronioEvalOptions {
    fn default() -> Self {
        Self { window: 500, burn_in: 150, ignore_ms: 500, max_spikes: 24, batch_size: 16 }
    }
}

/// What `eval-neuronio` reports.
#[derive(Clone, Debug, Serialize)]
pub struct NeuronioReport {
    /// The metrics, keyed as the authors' results dict.
    #[serde(flatten)]
    pub scores: NeuronioScores,
    /// The checkpoint evaluated.
    pub checkpoint: PathBuf,
    /// The files, in the order pooled.
    pub files: Vec<PathBuf>,
    /// The settings.
    pub options: NeuronioEvalOptions,
}

/// The simulation files `data` names: a file, a folder of `*sim__*` files, or a data root
/// whose `Data_test` folder holds them (the authors' test split).
pub fn evaluation_files(data: &Path) -> Result<Vec<PathBuf>> {
    if data.is_file() {
        return Ok(vec![data.to_path_buf()]);
    }
    let test = data.join("Data_test");
    match files_in(data) {
        Err(_) if test.is_dir() => Ok(files_in(&test)?),
        found => Ok(found?),
    }
}

/// Stitched predictions and ground truth of one file, the soma aligned.
pub fn file_predictions(
    model: &Model,
    file: &SimulationFile,
    options: &NeuronioEvalOptions,
    device: &Device,
) -> Result<Predictions> {
    let (sims, duration, channels, window) =
        (file.simulations.len(), file.duration_ms, file.channels(), options.window);
    let (spike_predicted, mut soma_predicted) =
        windowed_predictions(sims, duration, window, options.burn_in, |start| {
            let mut spikes: Traces = Vec::with_capacity(sims);
            let mut soma: Traces = Vec::with_capacity(sims);
            for first in (0..sims).step_by(options.batch_size) {
                let chunk = options.batch_size.min(sims - first);
                let mut input = vec![0.0f32; chunk * window * channels];
                for (i, s) in (first..first + chunk).enumerate() {
                    file.write_inputs(s, start, window, &mut input[i * window * channels..(i + 1) * window * channels]);
                }
                let x = Tensor::<3>::from_data(TensorData::new(input, [chunk, window, channels]), device);
                let out: Vec<f32> = model
                    .forward(x)
                    .into_data()
                    .convert::<f32>()
                    .try_into_vec()
                    .map_err(|e| anyhow::anyhow!("{e:?}"))?;
                for i in 0..chunk {
                    let rows = &out[i * window * 2..(i + 1) * window * 2];
                    // In f32 as the authors' `neuronio_eval_forward`, then widened.
                    spikes.push(rows.chunks(2).map(|o| f64::from(1.0 / (1.0 + (-o[0]).exp()))).collect());
                    soma.push(rows.chunks(2).map(|o| f64::from(o[1] * (1.0 / SOMA_SCALE))).collect());
                }
            }
            Ok::<_, anyhow::Error>((spikes, soma))
        })?;
    let spike_truth: Traces = (0..sims).map(|s| file.spike_target(s).into_iter().map(f64::from).collect()).collect();
    let (threshold, bias) = (f64::from(SOMA_THRESHOLD_MV), f64::from(SOMA_BIAS_MV));
    let soma_truth: Traces = file
        .simulations
        .iter()
        .map(|sim| sim.soma_mv.iter().map(|&v| f64::from(v).min(threshold) - bias).collect())
        .collect();
    align_soma(&mut soma_predicted, &soma_truth);
    Ok(Predictions { spike_truth, spike_predicted, soma_truth, soma_predicted })
}

/// Evaluates the checkpoint at `checkpoint` on the simulation files `data` names.
pub fn eval_neuronio(
    checkpoint: &Path,
    data: &Path,
    options: NeuronioEvalOptions,
    device: &Device,
    quiet: bool,
) -> Result<NeuronioReport> {
    ensure!(
        options.window > 0 && options.burn_in < options.window,
        "the burn-in ({}) must be shorter than the window ({})",
        options.burn_in,
        options.window
    );
    ensure!(options.batch_size > 0, "the batch size must be at least 1");
    let dir = resolve_checkpoint(checkpoint)?;
    let (saved, model) = load_checkpoint(&dir, device)?;
    let model = model.valid();
    let files = evaluation_files(data)?;
    let (inputs, outputs) = (saved.model.input_size.unwrap_or(0), saved.model.output_size.unwrap_or(0));
    ensure!(outputs == 2, "{} has {outputs} outputs; a NeuronIO model has 2 (spike logit, soma)", dir.display());
    let mut pooled = Predictions::default();
    for path in &files {
        let file = SimulationFile::read(path)?;
        ensure!(
            file.channels() == inputs,
            "{} has {} input channels, but the model takes {inputs}",
            path.display(),
            file.channels()
        );
        ensure!(
            file.duration_ms > options.ignore_ms,
            "{}: its {} ms simulations are all inside the {} ms the metrics leave out",
            path.display(),
            file.duration_ms,
            options.ignore_ms
        );
        if !quiet {
            eprintln!("evaluating {} ({} simulations)", path.display(), file.simulations.len());
        }
        pooled.extend(
            file_predictions(&model, &file, &options, device)
                .with_context(|| format!("running the model on {}", path.display()))?,
        );
    }
    let scores = score(&pooled, options.ignore_ms, options.max_spikes).with_context(|| {
        format!(
            "nothing to score: after leaving out simulations with more than {} output spikes and the first {} ms, no output spike (or no step without one) is left",
            options.max_spikes, options.ignore_ms
        )
    })?;
    Ok(NeuronioReport { scores, checkpoint: dir, files, options })
}
