//! Branch-ELM input routing: which input feeds each synapse (`create_input_to_synapse_indices`,
//! `expressive_leaky_memory_neuron.py:140-171`, `modeling_utils.py:20-36`).
//!
//! A Branch-ELM has `num_branch × synapses_per_branch` synapses; synapse k belongs to branch
//! `k / synapses_per_branch` (contiguous groups). Routing picks the input of every synapse:
//!
//! * [`RoutingKind::None`]: synapse k reads input k (the synapse count must equal the input
//!   count). With one synapse per branch this is the "vanilla" ELM.
//! * [`RoutingKind::Random`]: every synapse reads an input drawn uniformly **with replacement**
//!   (the reference's `torch.randint`), so an input may reach several synapses or none. Used for
//!   SHD(-Adding) Branch-ELMs.
//! * [`RoutingKind::Neuronio`]: NeuronIO's 1278 inputs are 639 excitatory then 639 inhibitory
//!   channels of the same dendritic segments. They are first interleaved
//!   (`perm[i] = (i mod 2)·⌊N/2⌋ + ⌊i/2⌋`: 0, 639, 1, 640, …) so a segment's E and I inputs
//!   are neighbours, then branch w reads the window of positions `w·stride + j`,
//!   `j < synapses_per_branch`, `stride = ⌈N/num_branch⌉`. Windows overlap; positions past the
//!   end are clamped to N−1 and masked to zero.
//!
//! The indices are part of the model (a checkpoint carries them), because random routing cannot
//! be regenerated from the configuration.

use burn::module::{Param, ParamId};
use burn::prelude::*;
use rand::{Rng, SeedableRng, rngs::StdRng};
use serde::{Deserialize, Serialize};

use crate::ElmError;

/// How inputs reach synapses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RoutingKind {
    /// Synapse k reads input k.
    #[default]
    None,
    /// Each synapse reads a uniformly drawn input (with replacement).
    Random,
    /// NeuronIO: E/I interleaving, then overlapping windows with masked padding.
    Neuronio,
}

/// The routing tables of a Branch-ELM: per synapse, the input it reads and whether it is real.
#[derive(Module, Debug)]
pub struct SynapseRouting {
    /// Input index of every synapse `[d_s]`.
    pub indices: Param<Tensor<1, Int>>,
    /// 1 for a real synapse, 0 for window padding `[d_s]`.
    pub mask: Param<Tensor<1>>,
}

impl SynapseRouting {
    /// Builds the tables from host values (e.g. read from a checkpoint).
    pub fn new(indices: &[usize], mask: &[bool], device: &Device) -> Self {
        let n = indices.len();
        let indices: Vec<i64> = indices.iter().map(|&i| i as i64).collect();
        let mask: Vec<f32> = mask.iter().map(|&m| if m { 1.0 } else { 0.0 }).collect();
        Self {
            indices: Param::initialized(
                ParamId::new(),
                Tensor::<1, Int>::from_data(TensorData::new(indices, [n]), device),
            ),
            mask: Param::from_tensor(Tensor::from_data(TensorData::new(mask, [n]), device)),
        }
    }

    /// Number of synapses.
    pub fn num_synapses(&self) -> usize {
        self.indices.dims()[0]
    }
}

/// The interleaving permutation `perm[i] = (i mod 2)·⌊N/2⌋ + ⌊i/2⌋`
/// (`create_interlocking_indices`).
pub fn interlocking_indices(num_input: usize) -> Vec<usize> {
    let half = num_input / 2;
    (0..num_input).map(|i| (i % 2) * half + i / 2).collect()
}

/// Window positions `w·stride + j` clamped to `num_input − 1`, and whether each was in range
/// (`create_overlapping_window_indices`).
pub fn overlapping_windows(num_input: usize, num_windows: usize, per_window: usize) -> (Vec<usize>, Vec<bool>) {
    let stride = num_input.div_ceil(num_windows);
    let mut positions = Vec::with_capacity(num_windows * per_window);
    let mut valid = Vec::with_capacity(num_windows * per_window);
    for w in 0..num_windows {
        for j in 0..per_window {
            let p = w * stride + j;
            valid.push(p < num_input);
            positions.push(p.min(num_input - 1));
        }
    }
    (positions, valid)
}

/// The NeuronIO routing: interleaved inputs read through overlapping windows.
pub fn neuronio_routing(
    num_input: usize,
    num_branch: usize,
    per_branch: usize,
) -> Result<(Vec<usize>, Vec<bool>), ElmError> {
    if num_input == 0 || num_branch == 0 || num_input.div_ceil(num_branch) > per_branch {
        return Err(ElmError::Invalid(format!(
            "neuronio routing needs ⌈num_input/num_branch⌉ ≤ synapses_per_branch so every input is covered; \
             got num_input {num_input}, num_branch {num_branch}, synapses_per_branch {per_branch}"
        )));
    }
    let perm = interlocking_indices(num_input);
    let (positions, valid) = overlapping_windows(num_input, num_branch, per_branch);
    Ok((positions.into_iter().map(|p| perm[p]).collect(), valid))
}

/// `num_synapses` inputs drawn uniformly with replacement from `0..num_input`.
pub fn random_routing(num_input: usize, num_synapses: usize, seed: u64) -> Vec<usize> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..num_synapses).map(|_| rng.random_range(0..num_input)).collect()
}

/// The routing tables of `kind` for a model of the given sizes (`None` needs no tables).
pub fn build_routing(
    kind: RoutingKind,
    num_input: usize,
    num_branch: usize,
    per_branch: usize,
    seed: u64,
) -> Result<Option<(Vec<usize>, Vec<bool>)>, ElmError> {
    let synapses = num_branch * per_branch;
    match kind {
        RoutingKind::None => {
            if synapses != num_input {
                return Err(ElmError::Invalid(format!(
                    "without routing every input needs exactly one synapse: num_branch {num_branch} × \
                     synapses_per_branch {per_branch} = {synapses}, but num_input is {num_input}"
                )));
            }
            Ok(None)
        }
        RoutingKind::Random => {
            if num_input == 0 {
                return Err(ElmError::Invalid("random routing needs at least one input".into()));
            }
            Ok(Some((random_routing(num_input, synapses, seed), vec![true; synapses])))
        }
        RoutingKind::Neuronio => neuronio_routing(num_input, num_branch, per_branch).map(Some),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interleaving_pairs_excitatory_and_inhibitory_inputs_of_a_segment() {
        let perm = interlocking_indices(1278);
        assert_eq!(&perm[..6], &[0, 639, 1, 640, 2, 641]);
        assert_eq!(&perm[1276..], &[638, 1277]);
        let mut sorted = perm.clone();
        sorted.sort();
        assert_eq!(sorted, (0..1278).collect::<Vec<_>>());
    }

    /// The released NeuronIO models: 1278 inputs, 45 branches × 100 synapses, stride
    /// ⌈1278/45⌉ = 29. Windows computed by hand from the definition.
    #[test]
    fn neuronio_windows_match_hand_computed_positions() {
        let (indices, valid) = neuronio_routing(1278, 45, 100).unwrap();
        assert_eq!(indices.len(), 4500);
        // Branch 0 reads positions 0..100: inputs 0, 639, 1, 640, …, 49, 688.
        assert_eq!(&indices[..4], &[0, 639, 1, 640]);
        assert_eq!(&indices[98..100], &[49, 688]);
        // Branch 1 starts at position 29 (odd → inhibitory 639 + 14 = 653), then 30 → 15.
        assert_eq!(&indices[100..103], &[653, 15, 654]);
        // Branch 44 starts at position 44·29 = 1276 → input 638; 1277 → 1277; then padding.
        assert_eq!(&indices[4400..4402], &[638, 1277]);
        assert!(indices[4402..].iter().all(|&i| i == 1277), "clamped to the last position's input");
        assert!(valid[4402..].iter().all(|&v| !v));
        // Branch w covers positions 29w..29w+99: branches 0–40 end inside the input, 41–44 run
        // past position 1277 by 11, 40, 69 and 98 positions.
        assert!(valid[..4100].iter().all(|&v| v));
        let padded: Vec<usize> = valid.chunks(100).map(|b| b.iter().filter(|&&v| !v).count()).collect();
        assert_eq!(&padded[41..], &[11, 40, 69, 98]);
    }

    #[test]
    fn small_neuronio_case_by_hand() {
        // N = 6, 2 branches × 4: stride 3, windows [0..4) and [3..7) → last position clamped.
        // perm = [0, 3, 1, 4, 2, 5].
        let (indices, valid) = neuronio_routing(6, 2, 4).unwrap();
        assert_eq!(indices, vec![0, 3, 1, 4, 4, 2, 5, 5]);
        assert_eq!(valid, vec![true, true, true, true, true, true, true, false]);
        assert!(neuronio_routing(6, 2, 2).is_err(), "a window of 2 cannot cover stride 3");
    }

    #[test]
    fn random_routing_draws_with_replacement_and_is_seeded() {
        let a = random_routing(5, 200, 7);
        assert_eq!(a, random_routing(5, 200, 7));
        assert_ne!(a, random_routing(5, 200, 8));
        assert!(a.iter().all(|&i| i < 5));
        for input in 0..5 {
            assert!(a.iter().filter(|&&i| i == input).count() > 1, "200 draws of 5 repeat every input");
        }
    }

    #[test]
    fn no_routing_needs_one_synapse_per_input() {
        assert!(build_routing(RoutingKind::None, 6, 3, 2, 0).unwrap().is_none());
        let e = build_routing(RoutingKind::None, 7, 3, 2, 0).unwrap_err().to_string();
        assert!(e.contains("num_input is 7"), "{e}");
    }
}
