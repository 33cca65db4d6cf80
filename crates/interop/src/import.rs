//! `neurozoo import --from glifs-asc`: a GLIFS_ASC (PyTorch Lightning) checkpoint into our
//! checkpoint format.
//!
//! The checkpoint is a `torch.save` dict with `state_dict` and `hyper_parameters`; we read it
//! with `pytorch-reader` (the reader behind burn-store), so no Python is needed. The keys map
//! one to one onto [`glifr::Glifr`] (same names, same shapes); the readout is transposed from
//! PyTorch's `[out,H]` to Burn's `[H,out]`; the diagonal silencing matrix becomes a mask.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context, Result, bail, ensure};
use burn::module::Param;
use burn::prelude::*;
use glifr::{Cell, RecurrentNetwork};
use pytorch_reader::{DType, PytorchReader};
use serde::Deserialize;

use engine::config::{CellConfig, GlifrCellConfig, InitKind, LeakInit, ModelConfig};
use engine::model::{SavedModel, build_network, save_checkpoint};

/// The GLIFS_ASC hyperparameters the model depends on (others, such as `lr`, are ignored).
#[derive(Clone, Debug, Deserialize)]
pub struct GlifsHparams {
    /// Inputs per step.
    pub input_size: usize,
    /// Neurons.
    pub hidden_size: usize,
    /// Readout size.
    pub output_size: usize,
    /// Dropout on the rate.
    #[serde(default)]
    pub dropout_prob: f64,
    /// Delay in ms. Required: the reference reads `hparams.synaptic_delay` when it builds the
    /// layer (its argparse default of 0 applies only to runs launched from the command line,
    /// and those write the value into hparams.yaml), so a file without it is not a run's.
    pub synaptic_delay: f64,
    /// Step in ms.
    pub dt: f64,
    /// τ in ms.
    #[serde(default)]
    pub tau: Option<f64>,
    /// After-spike currents.
    #[serde(default)]
    pub num_ascs: usize,
    /// σ_V.
    #[serde(default = "one")]
    pub sigma_v: f64,
    /// R.
    #[serde(rename = "R", default = "resistance")]
    pub resistance: f64,
    /// I0.
    #[serde(rename = "I0", default)]
    pub i0: f64,
    /// V_reset.
    #[serde(default)]
    pub v_reset: f64,
    /// `hom` or `het`.
    #[serde(default)]
    pub initialization: Option<String>,
    /// Whether θ, k_m and the ASCs trained.
    #[serde(default = "yes")]
    pub params_learned: bool,
}

fn one() -> f64 {
    1.0
}
fn resistance() -> f64 {
    0.1
}
fn yes() -> bool {
    true
}

/// Parses Lightning's flat `hparams.yaml` (`key: scalar` lines) into JSON values.
pub fn parse_hparams_yaml(text: &str, origin: &Path) -> Result<serde_json::Map<String, serde_json::Value>> {
    let mut map = serde_json::Map::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_end();
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            bail!("{} line {}: expected `key: value`, found {line:?}", origin.display(), i + 1);
        };
        ensure!(
            !line.starts_with([' ', '\t', '-']),
            "{} line {}: nested YAML is not supported here ({line:?})",
            origin.display(),
            i + 1
        );
        let value = value.trim();
        let parsed = match value {
            "" | "null" | "~" => serde_json::Value::Null,
            "true" => serde_json::Value::Bool(true),
            "false" => serde_json::Value::Bool(false),
            v => {
                if let Ok(n) = v.parse::<i64>() {
                    n.into()
                } else if let Ok(x) = v.parse::<f64>() {
                    x.into()
                } else {
                    v.trim_matches(['\'', '"']).to_string().into()
                }
            }
        };
        map.insert(key.trim().to_string(), parsed);
    }
    Ok(map)
}

/// The hyperparameters as a checkpoint's pickle holds them, each optional so that
/// [`check_hparams`] names what is missing (the pickle reader cannot produce untyped values).
#[derive(Default, Deserialize, serde::Serialize)]
#[serde(default)]
struct StoredHparams {
    input_size: Option<u64>,
    hidden_size: Option<u64>,
    output_size: Option<u64>,
    num_ascs: Option<u64>,
    dropout_prob: Option<f64>,
    synaptic_delay: Option<f64>,
    dt: Option<f64>,
    tau: Option<f64>,
    sigma_v: Option<f64>,
    #[serde(rename = "R")]
    resistance: Option<f64>,
    #[serde(rename = "I0")]
    i0: Option<f64>,
    v_reset: Option<f64>,
    initialization: Option<String>,
    params_learned: Option<bool>,
}

/// The GLIFR hyperparameters we read, by kind: sizes, and real numbers with their range (the
/// reference's own argparse checks, `check_positive_float` and friends, plus finiteness).
const SIZE_FIELDS: [(&str, u64); 4] = [
    ("input_size", engine::config::MAX_IO as u64),
    ("hidden_size", engine::config::MAX_HIDDEN as u64),
    ("output_size", engine::config::MAX_IO as u64),
    ("num_ascs", engine::config::MAX_ASCS as u64),
];
const POSITIVE_FIELDS: [&str; 4] = ["dt", "tau", "sigma_v", "R"];
const NON_NEGATIVE_FIELDS: [&str; 1] = ["synaptic_delay"];
const FINITE_FIELDS: [&str; 2] = ["I0", "v_reset"];

/// Checks each hyperparameter we use before it is taken, naming the field: present where the
/// reference requires it, of the right kind, finite, in range, and of a size that can be
/// allocated.
fn check_hparams(map: &serde_json::Map<String, serde_json::Value>, origin: &str) -> Result<()> {
    for key in ["input_size", "hidden_size", "output_size", "dt", "synaptic_delay"] {
        ensure!(
            map.get(key).is_some_and(|v| !v.is_null()),
            "{origin}: `{key}` is missing; a GLIFS_ASC run's hparams.yaml holds it (pass --hparams with the run's file)"
        );
    }
    for (key, max) in SIZE_FIELDS {
        if let Some(v) = map.get(key).filter(|v| !v.is_null()) {
            let n = v.as_u64().with_context(|| format!("{origin}: `{key}` = {v}: expected a whole number ≥ 0"))?;
            ensure!(n <= max, "{origin}: `{key}` = {n} is larger than neurozoo takes ({max})");
            ensure!(n >= 1 || key == "num_ascs", "{origin}: `{key}` = 0: expected at least 1");
        }
    }
    let real = |key: &str| -> Result<Option<f64>> {
        match map.get(key) {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(v) => {
                let x = v.as_f64().filter(|x| x.is_finite());
                x.map(Some).with_context(|| format!("{origin}: `{key}` = {v}: expected a finite number"))
            }
        }
    };
    for key in POSITIVE_FIELDS {
        if let Some(x) = real(key)? {
            ensure!(x > 0.0, "{origin}: `{key}` = {x}: expected a positive number");
        }
    }
    for key in NON_NEGATIVE_FIELDS {
        if let Some(x) = real(key)? {
            ensure!(x >= 0.0, "{origin}: `{key}` = {x}: expected a number ≥ 0");
        }
    }
    for key in FINITE_FIELDS {
        real(key)?;
    }
    if let Some(p) = real("dropout_prob")? {
        ensure!((0.0..1.0).contains(&p), "{origin}: `dropout_prob` = {p}: expected a probability in [0, 1)");
    }
    if let (Some(delay), Some(dt)) = (real("synaptic_delay")?, real("dt")?) {
        let steps = delay / dt;
        ensure!(steps <= 1e6, "{origin}: `synaptic_delay` / `dt` = {steps} steps; expected at most a million");
    }
    if let Some(v) = map.get("params_learned").filter(|v| !v.is_null()) {
        ensure!(v.is_boolean(), "{origin}: `params_learned` = {v}: expected true or false");
    }
    Ok(())
}

fn hparams_from(checkpoint: &Path, yaml: Option<&Path>) -> Result<GlifsHparams> {
    let (map, origin) = match yaml {
        Some(path) => {
            let text = engine::fsutil::read_to_string_bounded(path, engine::fsutil::MAX_TEXT_BYTES)?;
            (parse_hparams_yaml(&text, path)?, path.display().to_string())
        }
        None => {
            let stored: StoredHparams =
                PytorchReader::load_config(checkpoint, Some("hyper_parameters")).with_context(|| {
                    format!(
                        "cannot read `hyper_parameters` from {}; pass --hparams with the run's hparams.yaml",
                        checkpoint.display()
                    )
                })?;
            let serde_json::Value::Object(mut map) = serde_json::to_value(stored)? else {
                unreachable!("a struct serialises to an object")
            };
            map.retain(|_, v| !v.is_null());
            (map, format!("{} (`hyper_parameters`)", checkpoint.display()))
        }
    };
    check_hparams(&map, &origin)?;
    serde_json::from_value(serde_json::Value::Object(map)).with_context(|| format!("{origin}: a GLIFR hyperparameter"))
}

/// The model config equivalent to GLIFS_ASC hyperparameters.
pub fn model_config(h: &GlifsHparams) -> ModelConfig {
    ModelConfig {
        cell: CellConfig::Glifr(GlifrCellConfig {
            synaptic_delay_ms: h.synaptic_delay,
            dropout: h.dropout_prob,
            num_ascs: h.num_ascs,
            learn_neuronal_params: h.params_learned,
            init: InitKind::Hom,
            het_source: None,
            tau: h.tau,
            sigma_v: h.sigma_v,
            sigma_v_anneal_to: None,
            resistance: h.resistance,
            i0: h.i0,
            v_reset: h.v_reset,
            membrane_leak_init: LeakInit::Reference,
        }),
        hidden_size: h.hidden_size,
        input_size: Some(h.input_size),
        output_size: Some(h.output_size),
        dt: Some(h.dt),
        input_dropout: 0.0,
        input_dropout_in_eval: true,
        fused: true,
    }
}

/// One tensor of a state dict: its shape, and its values with their kind.
pub(crate) struct StoredTensor {
    pub shape: Vec<usize>,
    pub values: StoredValues,
}

/// Float tensors as f32, integer and boolean ones as i64.
pub(crate) enum StoredValues {
    Float(Vec<f32>),
    Integer(Vec<i64>),
}

/// A PyTorch state dict, read with `pytorch-reader`, taken apart key by key.
pub(crate) struct StateDict {
    pub origin: String,
    pub tensors: HashMap<String, StoredTensor>,
}

fn decode(bytes: &[u8], dtype: DType) -> Option<StoredValues> {
    let chunks = |n: usize| bytes.chunks_exact(n);
    Some(match dtype {
        DType::F32 => StoredValues::Float(chunks(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()),
        DType::F64 => {
            StoredValues::Float(chunks(8).map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")) as f32).collect())
        }
        DType::I64 => {
            StoredValues::Integer(chunks(8).map(|c| i64::from_le_bytes(c.try_into().expect("8 bytes"))).collect())
        }
        DType::I32 => {
            StoredValues::Integer(chunks(4).map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]) as i64).collect())
        }
        DType::Bool | DType::U8 => StoredValues::Integer(bytes.iter().map(|&b| b as i64).collect()),
        _ => return None,
    })
}

impl StateDict {
    /// Reads `path`; with `top_level_key`, the state dict is that entry of a dict (Lightning's
    /// `state_dict`), else the file is the state dict itself.
    pub fn read(path: &Path, top_level_key: Option<&str>) -> Result<Self> {
        ensure!(path.is_file(), "{} does not exist", path.display());
        let reader = match top_level_key {
            Some(key) => PytorchReader::with_top_level_key(path, key)
                .with_context(|| format!("{} is not a PyTorch checkpoint with a `{key}`", path.display()))?,
            None => PytorchReader::new(path)
                .with_context(|| format!("{} is not a PyTorch state_dict file", path.display()))?,
        };
        let mut tensors = HashMap::new();
        for (name, tensor) in reader.tensors() {
            let bytes = tensor.read().with_context(|| format!("{}: reading `{name}`", path.display()))?;
            let values = decode(&bytes, tensor.dtype()).with_context(|| {
                format!(
                    "{}: `{name}` has element type {:?}, which no model here stores",
                    path.display(),
                    tensor.dtype()
                )
            })?;
            let shape = tensor.shape().to_vec();
            let count = match &values {
                StoredValues::Float(v) => v.len(),
                StoredValues::Integer(v) => v.len(),
            };
            ensure!(
                count == shape.iter().product::<usize>(),
                "{}: `{name}` holds {count} values for shape {shape:?} (truncated file?)",
                path.display()
            );
            tensors.insert(name.clone(), StoredTensor { shape, values });
        }
        Ok(Self { origin: path.display().to_string(), tensors })
    }

    fn remove(&mut self, key: &str) -> Result<StoredTensor> {
        self.tensors.remove(key).with_context(|| {
            let mut keys: Vec<&String> = self.tensors.keys().collect();
            keys.sort();
            format!("{}: missing `{key}` (remaining keys: {keys:?})", self.origin)
        })
    }

    /// The float values of `key`, which must have `shape`.
    pub fn take(&mut self, key: &str, shape: &[usize]) -> Result<Vec<f32>> {
        let t = self.remove(key)?;
        ensure!(t.shape == shape, "{}: `{key}` has shape {:?}, expected {shape:?}", self.origin, t.shape);
        match t.values {
            StoredValues::Float(v) => {
                // A NaN weight makes every prediction it reaches NaN: refuse it on import. An
                // infinity can be meant: the authors' vanilla-v1 reference model stores
                // `_proto_tau_m` = inf (a τ_m at its upper bound through the sigmoid).
                if let Some(i) = v.iter().position(|x| x.is_nan()) {
                    bail!("{}: `{key}` holds NaN at flat index {i}; weights must be numbers", self.origin);
                }
                Ok(v)
            }
            StoredValues::Integer(_) => {
                bail!("{}: `{key}` holds integers; expected floating-point values", self.origin)
            }
        }
    }

    /// The integer (or boolean, as 0/1) values of `key` and its shape; floats are refused.
    pub fn take_integers(&mut self, key: &str) -> Result<(Vec<usize>, Vec<i64>)> {
        let t = self.remove(key)?;
        match t.values {
            StoredValues::Integer(v) => Ok((t.shape, v)),
            StoredValues::Float(v) if v.is_empty() => Ok((t.shape, Vec::new())),
            StoredValues::Float(_) => bail!("{}: `{key}` holds floats; expected integer indices", self.origin),
        }
    }

    /// Removes `key` if present, returning its shape.
    pub fn take_shape(&mut self, key: &str) -> Option<Vec<usize>> {
        self.tensors.remove(key).map(|t| t.shape)
    }

    /// The shape of `key`, if present.
    pub fn shape(&self, key: &str) -> Option<&[usize]> {
        self.tensors.get(key).map(|t| t.shape.as_slice())
    }

    /// `key` as a parameter of `shape`.
    pub fn param<const D: usize>(&mut self, key: &str, shape: [usize; D], device: &Device) -> Result<Param<Tensor<D>>> {
        let values = self.take(key, &shape)?;
        Ok(Param::from_data(TensorData::new(values, shape), device))
    }

    /// A PyTorch `nn.Linear` (`weight [out,in]`, `bias [out]`) as a Burn `Linear` (`[in,out]`).
    pub fn linear(&mut self, prefix: &str, input: usize, output: usize, device: &Device) -> Result<burn::nn::Linear> {
        let weight = self.take(&format!("{prefix}.weight"), &[output, input])?;
        let weight = Tensor::<2>::from_data(TensorData::new(weight, [output, input]), device).transpose();
        let bias = self.param(&format!("{prefix}.bias"), [output], device)?;
        Ok(burn::nn::Linear { weight: Param::from_tensor(weight), bias: Some(bias) })
    }

    /// Fails naming any key no part of the model took.
    pub fn ensure_consumed(&self, what: &str) -> Result<()> {
        if !self.tensors.is_empty() {
            let mut keys: Vec<&String> = self.tensors.keys().collect();
            keys.sort();
            bail!("{}: unexpected keys {keys:?} for {what}", self.origin);
        }
        Ok(())
    }
}

/// Reads a GLIFS_ASC checkpoint into a network (and its config) on `device`.
pub fn read_glifs_asc(
    checkpoint: &Path,
    hparams: Option<&Path>,
    device: &Device,
) -> Result<(ModelConfig, RecurrentNetwork)> {
    let h = hparams_from(checkpoint, hparams)?;
    let config = model_config(&h);
    let mut state = StateDict::read(checkpoint, Some("state_dict"))?;
    // Shapes and keys follow from the hyperparameters: a mismatch means the two files disagree.
    let network = fill_glifr(&mut state, &h, &config, checkpoint, device).with_context(|| match hparams {
        Some(yaml) => format!("{} does not hold the network that {} describes", checkpoint.display(), yaml.display()),
        None => format!("{} does not hold the network its `hyper_parameters` describe", checkpoint.display()),
    })?;
    Ok((config, network))
}

/// Moves the state dict's tensors into a GLIFR network, checking every shape and that none is
/// left over.
fn fill_glifr(
    state: &mut StateDict,
    h: &GlifsHparams,
    config: &ModelConfig,
    checkpoint: &Path,
    device: &Device,
) -> Result<RecurrentNetwork> {
    if !state.tensors.keys().any(|k| k.starts_with("neuron_layer."))
        || state.tensors.contains_key("neuron_layer.weight_ih")
    {
        let mut keys: Vec<&String> = state.tensors.keys().collect();
        keys.sort();
        bail!(
            "{}: only GLIFR checkpoints (keys `neuron_layer.weight_iv`, ...) can be imported; found {keys:?}",
            checkpoint.display()
        );
    }
    let (i, hs, o, a) = (h.input_size, h.hidden_size, h.output_size, h.num_ascs);
    let mut network = build_network(config, device)?;
    let Cell::Glifr(mut cell) = network.cell else { unreachable!("GLIFR config") };
    cell.weight_iv = state.param("neuron_layer.weight_iv", [i, hs], device)?;
    cell.weight_lat = state.param("neuron_layer.weight_lat", [hs, hs], device)?;
    cell.thresh = state.param("neuron_layer.thresh", [1, hs], device)?;
    cell.trans_k_m = state.param("neuron_layer.trans_k_m", [1, hs], device)?;
    if let Some(asc) = cell.after_spike_currents.as_mut() {
        asc.trans_k_j = state.param("neuron_layer.trans_k_j", [a, 1, hs], device)?;
        asc.trans_r_j = state.param("neuron_layer.trans_r_j", [a, 1, hs], device)?;
        asc.a_j = state.param("neuron_layer.a_j", [a, 1, hs], device)?;
    }
    network.cell = Cell::Glifr(cell.with_neuronal_params_learned(h.params_learned));
    network.readout = state.linear("output_linear", hs, o, device)?;
    if state.tensors.contains_key("silence_mult") {
        let m = state.take("silence_mult", &[hs, hs])?;
        let mut silenced = Vec::new();
        for r in 0..hs {
            for c in 0..hs {
                let v = m[r * hs + c];
                match (r == c, v) {
                    (true, 1.0) | (false, 0.0) => {}
                    (true, 0.0) => silenced.push(r),
                    _ => bail!(
                        "{}: `silence_mult` is not a 0/1 diagonal matrix (entry [{r},{c}] = {v})",
                        checkpoint.display()
                    ),
                }
            }
        }
        network = network.with_silenced(&silenced);
    }
    state.ensure_consumed("a GLIFR network")?;
    Ok(network)
}

/// `neurozoo import --from glifs-asc`: reads the checkpoint and writes our checkpoint to `out`.
pub fn import_glifs_asc(checkpoint: &Path, hparams: Option<&Path>, out: &Path) -> Result<ModelConfig> {
    let device = engine::device::DeviceChoice::host().device();
    let (config, network) = read_glifs_asc(checkpoint, hparams, &device)?;
    let saved = SavedModel { origin: format!("GLIFS_ASC checkpoint {}", checkpoint.display()), model: config.clone() };
    save_checkpoint(out, &saved, &engine::model::Model::Recurrent(network))?;
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_parser_reads_lightning_hparams() {
        let text = "input_size: 4\nhidden_size: 16\ndt: 0.05\nparams_learned: true\nckpt_path: null\nloss_fn: F.cross_entropy\nR: 0.1\n";
        let map = parse_hparams_yaml(text, Path::new("h.yaml")).unwrap();
        assert_eq!(map["input_size"], 4);
        assert_eq!(map["dt"], 0.05);
        assert_eq!(map["ckpt_path"], serde_json::Value::Null);
        assert_eq!(map["loss_fn"], "F.cross_entropy");
        let e = parse_hparams_yaml("a: 1\nnot yaml\n", Path::new("h.yaml")).unwrap_err().to_string();
        assert!(e.contains("h.yaml line 2"), "{e}");
        let e: Result<GlifsHparams, _> = serde_json::from_value(serde_json::Value::Object(map));
        assert!(e.unwrap_err().to_string().contains("output_size"));
    }

    /// Each hyperparameter is checked before it is used, and the error names the file, the
    /// field, what was found and what was expected (issue 20: these imported with exit 0, or
    /// reached a Burn assertion).
    #[test]
    fn bad_hyperparameters_are_refused_by_name() {
        let good = "input_size: 2\nhidden_size: 8\noutput_size: 3\ndt: 0.05\nsynaptic_delay: 1.0\n\
                    dropout_prob: 0.0\nsigma_v: 1\nR: 0.1\nI0: 0\nv_reset: 0\nnum_ascs: 2\nparams_learned: true\n";
        let check = |text: &str| {
            let map = parse_hparams_yaml(text, Path::new("h.yaml")).unwrap();
            check_hparams(&map, "h.yaml").map_err(|e| e.to_string())
        };
        check(good).unwrap();
        let with = |key: &str, value: &str| {
            let mut lines: Vec<String> =
                good.lines().filter(|l| !l.starts_with(&format!("{key}:"))).map(String::from).collect();
            if !value.is_empty() {
                lines.push(format!("{key}: {value}"));
            }
            check(&lines.join("\n")).unwrap_err()
        };
        for (key, value, expected) in [
            ("synaptic_delay", "", "`synaptic_delay` is missing"),
            ("dt", "", "`dt` is missing"),
            ("dropout_prob", "2.0", "`dropout_prob` = 2: expected a probability in [0, 1)"),
            ("dt", "0", "`dt` = 0: expected a positive number"),
            ("dt", "-0.05", "`dt` = -0.05: expected a positive number"),
            ("sigma_v", "-1", "`sigma_v` = -1: expected a positive number"),
            ("tau", ".nan", "`tau` = \".nan\": expected a finite number"),
            ("I0", "abc", "`I0` = \"abc\": expected a finite number"),
            ("synaptic_delay", "-1", "`synaptic_delay` = -1: expected a number ≥ 0"),
            ("hidden_size", "1000000000", "`hidden_size` = 1000000000 is larger than neurozoo takes"),
            ("hidden_size", "0", "`hidden_size` = 0: expected at least 1"),
            ("input_size", "2.5", "`input_size` = 2.5: expected a whole number"),
            ("params_learned", "yes", "`params_learned` = \"yes\": expected true or false"),
            ("synaptic_delay", "1e9", "steps; expected at most a million"),
        ] {
            let e = with(key, value);
            assert!(e.starts_with("h.yaml: ") && e.contains(expected), "{key}: {value}: {e}");
        }
    }
}
