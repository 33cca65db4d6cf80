//! Training windows drawn as the authors' loader draws them (`neuronio_data_loader.py`):
//! pick a file at random, then draw `int(file_load_fraction · sims · duration / (batch ·
//! window))` batches from it; each batch takes `batch` distinct simulations and, for each, a
//! window start uniform in `[ignore_ms, duration − window)`.
//!
//! The authors' five worker processes make their loader nondeterministic; here every window is
//! a function of (seed, epoch, batch index), so a run is reproducible and resumable. Items are
//! meant to be read in order (the data loader must not shuffle them: they are random already),
//! which lets one parsed file serve a whole block of batches.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use burn::data::dataset::{Dataset, DatasetError};
use rand::rngs::StdRng;
use rand::seq::index::sample;
use rand::{Rng, SeedableRng};

use super::SimulationFile;
use crate::mix;
use crate::{DataError, SequenceItem, Target, out_of_range};

/// How windows are drawn.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WindowPlan {
    /// Windows per batch (the authors' 8).
    pub batch_size: usize,
    /// Steps per window (500).
    pub window: usize,
    /// Window starts are at least this many ms into a simulation (500).
    pub ignore_ms: usize,
    /// Fraction of a file's windows drawn before the next file is picked (0.3).
    pub file_load_fraction: f64,
    /// Batches in one pass (the authors' `batches_per_epoch`, 10,000).
    pub batches: usize,
    /// Seed of the draw.
    pub seed: u64,
}

/// The one parsed file kept in memory, with its index in the file list; shared by clones.
type FileCache = Arc<Mutex<Option<(usize, Arc<SimulationFile>)>>>;

/// Windows of NeuronIO simulations with their spike and soma targets.
#[derive(Clone, Debug)]
pub struct NeuronioWindows {
    files: Arc<Vec<PathBuf>>,
    plan: WindowPlan,
    epoch: u64,
    simulations: usize,
    duration_ms: usize,
    channels: usize,
    batches_per_file: usize,
    cache: FileCache,
}

impl NeuronioWindows {
    /// Windows over `files`, shaped by the first file (every other file must match it).
    pub fn new(files: Vec<PathBuf>, plan: WindowPlan) -> Result<Self, DataError> {
        let first_path = files.first().cloned().ok_or_else(|| DataError::Missing {
            path: PathBuf::from("."),
            hint: "no NeuronIO simulation files were given".into(),
        })?;
        let first = SimulationFile::read(&first_path)?;
        let invalid = |reason: String| DataError::Corrupt { path: first_path.clone(), reason };
        if plan.batch_size == 0 || plan.window == 0 || plan.batches == 0 {
            return Err(invalid("batch size, window and batches must be at least 1".into()));
        }
        if plan.batch_size > first.simulations.len() {
            return Err(invalid(format!(
                "a batch takes {} distinct simulations but the file holds {}",
                plan.batch_size,
                first.simulations.len()
            )));
        }
        if plan.ignore_ms + plan.window >= first.duration_ms {
            return Err(invalid(format!(
                "windows of {} ms starting after {} ms do not fit in its {} ms simulations",
                plan.window, plan.ignore_ms, first.duration_ms
            )));
        }
        let per_file = (first.simulations.len() * first.duration_ms) as f64 / (plan.batch_size * plan.window) as f64;
        let batches_per_file = ((plan.file_load_fraction * per_file) as usize).max(1);
        let (simulations, duration_ms, channels) = (first.simulations.len(), first.duration_ms, first.channels());
        Ok(Self {
            files: Arc::new(files),
            plan,
            epoch: 0,
            simulations,
            duration_ms,
            channels,
            batches_per_file,
            cache: Arc::new(Mutex::new(Some((0, Arc::new(first))))),
        })
    }

    /// The same windows plan with the draw of another seed and epoch.
    pub fn for_epoch(&self, seed: u64, epoch: u64) -> Self {
        Self { epoch, plan: WindowPlan { seed, ..self.plan }, ..self.clone() }
    }

    /// Input channels per step.
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// Batches drawn from one file before the next is picked.
    pub fn batches_per_file(&self) -> usize {
        self.batches_per_file
    }

    /// `(file, simulation, start)` of item `index`.
    pub fn window(&self, index: usize) -> (usize, usize, usize) {
        let p = &self.plan;
        let (batch, k) = (index / p.batch_size, index % p.batch_size);
        let block = batch / self.batches_per_file;
        let file = StdRng::seed_from_u64(mix(&[p.seed, self.epoch, 1, block as u64])).random_range(0..self.files.len());
        let mut rng = StdRng::seed_from_u64(mix(&[p.seed, self.epoch, 2, batch as u64]));
        let sim = sample(&mut rng, self.simulations, p.batch_size).index(k);
        let mut rng = StdRng::seed_from_u64(mix(&[p.seed, self.epoch, 3, index as u64]));
        let start = p.ignore_ms + rng.random_range(0..self.duration_ms - p.window - p.ignore_ms);
        (file, sim, start)
    }

    fn file(&self, index: usize) -> Result<Arc<SimulationFile>, DataError> {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((i, f)) = cache.as_ref()
            && *i == index
        {
            return Ok(f.clone());
        }
        let path = &self.files[index];
        let file = SimulationFile::read(path)?;
        if (file.simulations.len(), file.duration_ms, file.channels())
            != (self.simulations, self.duration_ms, self.channels)
        {
            return Err(DataError::Corrupt {
                path: path.clone(),
                reason: format!(
                    "{} simulations × {} ms × {} channels, but the first file has {} × {} × {}",
                    file.simulations.len(),
                    file.duration_ms,
                    file.channels(),
                    self.simulations,
                    self.duration_ms,
                    self.channels
                ),
            });
        }
        let file = Arc::new(file);
        *cache = Some((index, file.clone()));
        Ok(file)
    }
}

impl Dataset<SequenceItem> for NeuronioWindows {
    fn get(&self, index: usize) -> Result<SequenceItem, DatasetError> {
        if index >= self.len() {
            return Err(out_of_range(index, self.len()));
        }
        let (file, sim, start) = self.window(index);
        let file = self.file(file).map_err(DatasetError::new)?;
        let steps = self.plan.window;
        let mut input = vec![0.0; steps * self.channels];
        file.write_inputs(sim, start, steps, &mut input);
        let spikes = file.spike_target(sim);
        let soma = file.soma_target(sim);
        let values = (start..start + steps).flat_map(|t| [spikes[t], soma[t]]).collect();
        Ok(SequenceItem { input, steps, features: self.channels, target: Target::SpikeAndSoma { values } })
    }

    fn len(&self) -> usize {
        self.plan.batches * self.plan.batch_size
    }
}
