//! What the GLIFR paper measures on a trained layer (spec glifr.md §3.8): the learned
//! parameters of each neuron in the paper's units, and each neuron's f–I curve.
//!
//! * Parameters (`analyzer.py:91-103`): `[θ, k_m, r_1 … r_A, k_1 … k_A, a_1 … a_A]` per neuron,
//!   with `k_m = sigmoid(trans_k_m)/dt`, `k_j = sigmoid(trans_k_j)/dt` (per ms) and
//!   `r_j = 1 − 2·sigmoid(trans_r_j)`; θ and `a_j` as stored.
//! * f–I curve (`analyzer.py:115-170`): a constant bias current I0, zero input, no
//!   recurrence, run from the zero state; the mean rate over the run for each neuron.

use burn::prelude::*;
use burn::tensor::activation::sigmoid;

use crate::glifr::Glifr;

/// The names of [`neuron_parameters`]' columns for a layer with `num_ascs` currents.
pub fn parameter_names(num_ascs: usize) -> Vec<String> {
    let mut names = vec!["theta".to_string(), "k_m".to_string()];
    for prefix in ["r", "k", "a"] {
        names.extend((1..=num_ascs).map(|j| format!("{prefix}_{j}")));
    }
    names
}

fn rows(t: Tensor<2>) -> Vec<Vec<f64>> {
    let [n, h] = t.dims();
    let values: Vec<f64> = t.into_data().convert::<f64>().try_into_vec().expect("float data");
    (0..n).map(|i| values[i * h..(i + 1) * h].to_vec()).collect()
}

/// One row per neuron, columns as [`parameter_names`], in the paper's units.
pub fn neuron_parameters(layer: &Glifr) -> Vec<Vec<f64>> {
    let h = layer.hidden_size();
    let mut columns: Vec<Vec<f64>> = Vec::new();
    columns.extend(rows(layer.thresh.val()));
    columns.extend(rows(sigmoid(layer.trans_k_m.val()) / layer.dt));
    if let Some(asc) = &layer.after_spike_currents {
        let per_current = |t: Tensor<3>| rows(t.squeeze_dim::<2>(1));
        columns.extend(per_current(-sigmoid(asc.trans_r_j.val()) * 2.0 + 1.0));
        columns.extend(per_current(sigmoid(asc.trans_k_j.val()) / layer.dt));
        columns.extend(per_current(asc.a_j.val()));
    }
    (0..h).map(|i| columns.iter().map(|c| c[i]).collect()).collect()
}

/// The mean rate of every neuron `[currents][H]` under each constant bias current I0, over
/// `steps` steps from the zero state, with zero input and no recurrence.
///
/// All currents run at once, one per batch row: I0 reaches V as `dt·k_m·R·I0`, the same term
/// the layer adds for its own `i0`, so it is passed in as the input current.
pub fn f_i_curves(layer: &Glifr, currents: &[f64], steps: usize, device: &Device) -> Vec<Vec<f64>> {
    let (b, h) = (currents.len(), layer.hidden_size());
    if b == 0 || steps == 0 {
        return vec![vec![0.0; h]; b];
    }
    let coefficients = layer.coefficients();
    let bias = Tensor::<1>::from_floats(currents.iter().map(|&c| c as f32).collect::<Vec<_>>().as_slice(), device);
    let drive = coefficients.asc_gain.clone().to_device(device) * bias.reshape([b, 1]);
    let silent = Tensor::<2>::zeros([b, h], device);
    let mut state = layer.zero_state(b, device);
    let mut total = Tensor::<2>::zeros([b, h], device);
    for _ in 0..steps {
        let previous = state.firing.clone();
        state = layer.step_with(&coefficients, drive.clone(), silent.clone(), previous, state);
        total = total + state.firing.clone();
    }
    rows(total / steps as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::GlifrConfig;
    use burn::module::Param;

    fn layer(device: &Device) -> Glifr {
        let mut layer = GlifrConfig::new(1, 2).with_num_ascs(2).with_dt(0.05).init(device);
        layer.thresh = Param::from_tensor(Tensor::from_floats([[0.5, -1.0]], device));
        // sigmoid(0) = 0.5: k_m = 0.5/0.05 = 10 per ms for both neurons.
        layer.trans_k_m = Param::from_tensor(Tensor::zeros([1, 2], device));
        let asc = layer.after_spike_currents.as_mut().unwrap();
        // r_j = 1 − 2·sigmoid(x): x = 0 → 0; x = ln 3 → 1 − 2·0.75 = −0.5.
        asc.trans_r_j = Param::from_tensor(Tensor::from_floats([[[0.0, 3f32.ln()]], [[0.0, 0.0]]], device));
        // k_j = sigmoid(x)/dt: x = ln(1/3) → 0.25/0.05 = 5.
        asc.trans_k_j = Param::from_tensor(Tensor::full([2, 1, 2], (1.0f64 / 3.0).ln(), device));
        asc.a_j = Param::from_tensor(Tensor::from_floats([[[0.1, 0.2]], [[0.3, 0.4]]], device));
        layer
    }

    #[test]
    fn parameters_come_out_in_the_papers_units_and_order() {
        let device = Device::flex();
        let got = neuron_parameters(&layer(&device));
        assert_eq!(parameter_names(2), ["theta", "k_m", "r_1", "r_2", "k_1", "k_2", "a_1", "a_2"]);
        let expected = [[0.5, 10.0, 0.0, 0.0, 5.0, 5.0, 0.1, 0.3], [-1.0, 10.0, -0.5, 0.0, 5.0, 5.0, 0.2, 0.4]];
        for (row, want) in got.iter().zip(expected) {
            for (g, w) in row.iter().zip(want) {
                assert!((g - w).abs() < 1e-5, "{row:?} vs {want:?}");
            }
        }
        assert_eq!(parameter_names(0), ["theta", "k_m"]);
    }

    /// Without ASCs, one step from rest is V = dt·k_m·R·I0 and S = sigmoid(V − θ); by hand with
    /// dt·k_m·R = 0.05·10·0.1 = 0.05: I0 = 20 gives V = 1 and S = sigmoid(0.5) = 0.62246 for
    /// θ = 0.5, sigmoid(2) = 0.88080 for θ = −1.
    #[test]
    fn one_step_f_i_matches_the_hand_computed_rate() {
        let device = Device::flex();
        let mut layer = layer(&device);
        layer.after_spike_currents = None;
        let got = f_i_curves(&layer, &[20.0, 0.0], 1, &device);
        assert!((got[0][0] - 0.622459).abs() < 1e-5, "{got:?}");
        assert!((got[0][1] - 0.880797).abs() < 1e-5, "{got:?}");
        // I0 = 0: V stays 0, S = sigmoid(−θ).
        assert!((got[1][0] - 0.377541).abs() < 1e-5, "{got:?}");
    }

    /// The batched currents equal the layer's own `i0`, one run per current.
    #[test]
    fn batched_currents_equal_the_layers_own_bias() {
        let device = Device::flex();
        let layer = layer(&device);
        let currents = [-300.0, 0.0, 150.0];
        let batched = f_i_curves(&layer, &currents, 40, &device);
        for (row, &i0) in batched.iter().zip(&currents) {
            let mut own = layer.clone();
            own.i0 = i0;
            let single = f_i_curves(&own, &[0.0], 40, &device);
            for (a, b) in row.iter().zip(&single[0]) {
                assert!((a - b).abs() < 1e-5, "I0 = {i0}: {row:?} vs {:?}", single[0]);
            }
        }
        // More current, more rate.
        assert!(batched[0][0] < batched[1][0] && batched[1][0] < batched[2][0], "{batched:?}");
    }
}
