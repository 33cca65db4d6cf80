//! NeuronIO (Beniaguev, Segev & London 2021): a detailed L5 pyramidal cell's synaptic input and
//! its output spikes and somatic voltage, as the ELM authors read it
//! (`src/neuronio/neuronio_data_utils.py`, `neuronio_data_loader.py`; spec elm.md §2.1, §4.1).
//!
//! Each simulation file is a Python 2 pickle (protocol 2) of
//! `{'Params': {'allSegmentsType': [...], 'totalSimDurationInSec': 6, ...},
//!   'Results': {'listOfSingleSimulationDicts': [sim, ...]}}` where each `sim` holds
//! `exInputSpikeTimes` / `inhInputSpikeTimes` (segment → spike times in ms), `outputSpikeTimes`
//! (ms, float) and `somaVoltageLowRes` (mV, one sample per ms). [`SimulationFile::read`] keeps
//! the input spikes sparse (a real file holds 128 simulations × 1278 channels × 6000 ms, which
//! the authors expand into a 1 GB boolean array) and expands only the windows a batch needs.
//!
//! Preprocessing, exactly as the authors':
//! * input channel `c < segments` is excitatory (+1), `c ≥ segments` inhibitory (−1);
//! * output spike at time `t` ms → target 1 in bin `int(t − 0.5)` (truncation toward zero);
//! * soma target `(min(v, −55) − (−67.7)) · 0.1`.
//!
//! Where the authors' numpy code would silently wrap or drop data (a negative spike time indexes
//! from the end; a segment index past the end raises only at that index), this reader refuses
//! the file with an error naming it and the simulation.

pub mod metrics;
pub mod pickle;
pub mod windows;

use std::path::{Path, PathBuf};

use serde_pickle::Value;

use crate::DataError;
use pickle::{Expect, field, key_number, numbers};

/// Soma voltages above this (mV) are clipped to it (`DEFAULT_Y_SOMA_THRESHOLD`).
pub const SOMA_THRESHOLD_MV: f32 = -55.0;
/// Subtracted from the soma voltage (mV) before scaling (`DEFAULT_Y_TRAIN_SOMA_BIAS`).
pub const SOMA_BIAS_MV: f32 = -67.7;
/// The scale of the soma target in training (`DEFAULT_Y_TRAIN_SOMA_SCALE`).
pub const SOMA_SCALE: f32 = 0.1;
/// Segments of the L5PC morphology: 639, so 1278 input channels.
pub const NEURONIO_SEGMENTS: usize = 639;
/// The pattern that names simulation files in the authors' folders (their glob `*sim__*`).
pub const FILE_PATTERN: &str = "sim__";

/// One simulation: sparse inputs, output spike bins and the raw soma trace.
#[derive(Clone, Debug, PartialEq)]
pub struct Simulation {
    /// Input spikes as `(time_ms, channel)`, sorted and without repeats (the authors set a
    /// boolean, so a spike listed twice counts once).
    pub input_spikes: Vec<(u32, u32)>,
    /// Bins (ms) holding an output spike, sorted, without repeats.
    pub output_spike_bins: Vec<usize>,
    /// Somatic voltage in mV, one sample per ms, unclipped.
    pub soma_mv: Vec<f32>,
}

/// A parsed simulation file.
#[derive(Clone, Debug, PartialEq)]
pub struct SimulationFile {
    /// Where it was read from.
    pub path: PathBuf,
    /// Dendritic segments; the input has twice as many channels.
    pub segments: usize,
    /// Duration of every simulation in ms.
    pub duration_ms: usize,
    /// The simulations, in file order.
    pub simulations: Vec<Simulation>,
}

impl SimulationFile {
    /// Reads and validates one simulation file.
    pub fn read(path: &Path) -> Result<Self, DataError> {
        let bytes = std::fs::read(path)
            .map_err(|source| DataError::reading(path, "a NeuronIO simulation pickle was expected there", source))?;
        Self::from_bytes(path, &bytes)
    }

    /// Parses the bytes of a simulation file; `path` names it in errors.
    pub fn from_bytes(path: &Path, bytes: &[u8]) -> Result<Self, DataError> {
        let corrupt = |reason: String| DataError::Corrupt { path: path.into(), reason };
        let root = pickle::parse(bytes).map_err(corrupt)?;
        let params = field(&root, "Params", "the file").map_err(corrupt)?;
        let segments = match field(params, "allSegmentsType", "Params").map_err(corrupt)? {
            Value::List(items) | Value::Tuple(items) => items.len(),
            other => {
                return Err(corrupt(format!(
                    "Params['allSegmentsType'] is a {}, expected a list",
                    pickle::kind(other)
                )));
            }
        };
        if segments == 0 {
            return Err(corrupt("Params['allSegmentsType'] is empty: the cell has no segments".into()));
        }
        let seconds =
            pickle::number(field(params, "totalSimDurationInSec", "Params").map_err(corrupt)?, Expect::Integer)
                .map_err(|e| corrupt(format!("Params['totalSimDurationInSec']: {e}")))?;
        let duration_ms = seconds * 1000.0;
        if !(duration_ms >= 1.0 && duration_ms.fract() == 0.0 && duration_ms <= 1e8) {
            return Err(corrupt(format!(
                "Params['totalSimDurationInSec'] is {seconds}, expected a positive whole number of ms"
            )));
        }
        let duration_ms = duration_ms as usize;
        let results = field(&root, "Results", "the file").map_err(corrupt)?;
        let sims = match field(results, "listOfSingleSimulationDicts", "Results").map_err(corrupt)? {
            Value::List(items) | Value::Tuple(items) => items,
            other => {
                return Err(corrupt(format!(
                    "Results['listOfSingleSimulationDicts'] is a {}, expected a list",
                    pickle::kind(other)
                )));
            }
        };
        if sims.is_empty() {
            return Err(corrupt("the file holds no simulation".into()));
        }
        let simulations = sims
            .iter()
            .enumerate()
            .map(|(k, sim)| {
                parse_simulation(sim, segments, duration_ms).map_err(|e| corrupt(format!("simulation {k}: {e}")))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { path: path.into(), segments, duration_ms, simulations })
    }

    /// Input channels: excitatory then inhibitory, one each per segment.
    pub fn channels(&self) -> usize {
        2 * self.segments
    }

    /// Writes simulation `sim`'s inputs for ms `start..start + steps` into `out` (`[steps,
    /// channels]` row-major, which the caller zeroes): +1 excitatory, −1 inhibitory spikes. Steps
    /// past the end of the simulation stay zero, as the authors pad the last window.
    pub fn write_inputs(&self, sim: usize, start: usize, steps: usize, out: &mut [f32]) {
        let channels = self.channels();
        let spikes = &self.simulations[sim].input_spikes;
        let first = spikes.partition_point(|&(t, _)| (t as usize) < start);
        for &(t, c) in &spikes[first..] {
            let t = t as usize;
            if t >= start + steps {
                break;
            }
            let sign = if (c as usize) < self.segments { 1.0 } else { -1.0 };
            out[(t - start) * channels + c as usize] = sign;
        }
    }

    /// The spike target of simulation `sim`, 0/1 per ms.
    pub fn spike_target(&self, sim: usize) -> Vec<f32> {
        let mut target = vec![0.0; self.duration_ms];
        for &b in &self.simulations[sim].output_spike_bins {
            target[b] = 1.0;
        }
        target
    }

    /// The soma target of simulation `sim` as the model is trained on it:
    /// `(min(v, −55) + 67.7) · 0.1`, in f32 as the authors' loader computes it.
    pub fn soma_target(&self, sim: usize) -> Vec<f32> {
        self.simulations[sim].soma_mv.iter().map(|&v| (v.min(SOMA_THRESHOLD_MV) - SOMA_BIAS_MV) * SOMA_SCALE).collect()
    }
}

fn parse_simulation(sim: &Value, segments: usize, duration_ms: usize) -> Result<Simulation, String> {
    let mut input_spikes = Vec::new();
    for (name, offset) in [("exInputSpikeTimes", 0), ("inhInputSpikeTimes", segments)] {
        let map = match field(sim, name, "the simulation")? {
            Value::Dict(map) => map,
            other => {
                return Err(format!("'{name}' is a {}, expected a dict", pickle::kind(other)));
            }
        };
        for (key, times) in map {
            let segment = key_number(key, Expect::Integer).map_err(|e| format!("'{name}' key: {e}"))?;
            if !(segment >= 0.0 && segment.fract() == 0.0 && (segment as usize) < segments) {
                return Err(format!(
                    "'{name}' names segment {segment}, but the cell has {segments} segments (0..{segments})"
                ));
            }
            let channel = (offset + segment as usize) as u32;
            for t in numbers(times, Expect::Integer).map_err(|e| format!("'{name}'[{segment}]: {e}"))? {
                if !(t >= 0.0 && t.fract() == 0.0 && (t as usize) < duration_ms) {
                    return Err(format!(
                        "'{name}'[{segment}] has a spike at {t} ms; whole ms in 0..{duration_ms} were expected"
                    ));
                }
                input_spikes.push((t as u32, channel));
            }
        }
    }
    input_spikes.sort_unstable();
    input_spikes.dedup();

    let mut output_spike_bins = Vec::new();
    for t in numbers(field(sim, "outputSpikeTimes", "the simulation")?, Expect::Float)
        .map_err(|e| format!("'outputSpikeTimes': {e}"))?
    {
        // The authors' `(t - 0.5).astype(int)`: truncation toward zero.
        let bin = (t - 0.5).trunc();
        if !(t.is_finite() && t >= 0.0 && bin < duration_ms as f64) {
            return Err(format!("'outputSpikeTimes' has a spike at {t} ms, outside the {duration_ms} ms simulation"));
        }
        output_spike_bins.push(bin.max(0.0) as usize);
    }
    output_spike_bins.sort_unstable();
    output_spike_bins.dedup();

    let soma = numbers(field(sim, "somaVoltageLowRes", "the simulation")?, Expect::Float)
        .map_err(|e| format!("'somaVoltageLowRes': {e}"))?;
    if soma.len() != duration_ms {
        return Err(format!("'somaVoltageLowRes' has {} samples, expected {duration_ms} (one per ms)", soma.len()));
    }
    if let Some(bad) = soma.iter().find(|v| !v.is_finite()) {
        return Err(format!("'somaVoltageLowRes' holds {bad}"));
    }
    Ok(Simulation { input_spikes, output_spike_bins, soma_mv: soma.into_iter().map(|v| v as f32).collect() })
}

/// The simulation files of `folder` (names containing `sim__`), sorted.
pub fn files_in(folder: &Path) -> Result<Vec<PathBuf>, DataError> {
    let entries = std::fs::read_dir(folder).map_err(|source| {
        DataError::reading(folder, "a folder of NeuronIO simulation files (`*sim__*`) was expected", source)
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.file_name().is_some_and(|n| n.to_string_lossy().contains(FILE_PATTERN)))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(DataError::Missing {
            path: folder.into(),
            hint: "the folder holds no simulation file (names containing `sim__`)".into(),
        });
    }
    Ok(files)
}

/// The authors' split of the Kaggle folders (`notebooks/neuronio_train_script.py:98-113`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NeuronioSplit {
    /// `full_ergodic_train_batch_2` … `_10`.
    Train,
    /// `full_ergodic_train_batch_1`.
    Valid,
    /// `Data_test`.
    Test,
}

impl NeuronioSplit {
    /// The folders of this split under the data root.
    pub fn folders(self, root: &Path) -> Vec<PathBuf> {
        match self {
            Self::Train => (2..=10).map(|i| root.join(format!("full_ergodic_train_batch_{i}"))).collect(),
            Self::Valid => vec![root.join("full_ergodic_train_batch_1")],
            Self::Test => vec![root.join("Data_test")],
        }
    }

    /// The split's files; folders of the training split that are absent are skipped (a user
    /// may hold only some of the nine), but the split must have at least one file.
    pub fn files(self, root: &Path) -> Result<Vec<PathBuf>, DataError> {
        let mut files = Vec::new();
        let mut last_error = None;
        for folder in self.folders(root) {
            match files_in(&folder) {
                Ok(f) => files.extend(f),
                Err(e) => last_error = Some(e),
            }
        }
        match (files.is_empty(), last_error) {
            (true, Some(DataError::Missing { path, .. })) => Err(DataError::Missing {
                path,
                hint: format!(
                    "no NeuronIO {self:?} files under {}; expected the Kaggle folders {} with `*sim__*` files",
                    root.display(),
                    self.folders(root)
                        .iter()
                        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }),
            (true, Some(e)) => Err(e),
            _ => Ok(files),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_are_signed_and_windowed() {
        let file = SimulationFile {
            path: "x".into(),
            segments: 2,
            duration_ms: 5,
            simulations: vec![Simulation {
                input_spikes: vec![(0, 1), (1, 0), (1, 3), (4, 2)],
                output_spike_bins: vec![2],
                soma_mv: vec![-70.0, -60.0, -55.0, 10.0, -67.7],
            }],
        };
        let mut out = vec![0.0; 3 * 4];
        file.write_inputs(0, 1, 3, &mut out);
        // steps 1..4: step 1 has channel 0 (+1) and 3 (−1); steps 2, 3 nothing.
        assert_eq!(out, vec![1.0, 0.0, 0.0, -1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
        let mut padded = vec![0.0; 3 * 4];
        file.write_inputs(0, 4, 3, &mut padded);
        assert_eq!(padded[..4], [0.0, 0.0, -1.0, 0.0]);
        assert!(padded[4..].iter().all(|&v| v == 0.0), "past the end stays zero");
        assert_eq!(file.spike_target(0), vec![0.0, 0.0, 1.0, 0.0, 0.0]);
        // (min(v, -55) + 67.7) * 0.1
        let soma = file.soma_target(0);
        let expected = [-0.23f32, 0.77, 1.27, 1.27, 0.0];
        for (a, b) in soma.iter().zip(expected) {
            assert!((a - b).abs() < 1e-6, "{soma:?}");
        }
    }
}
