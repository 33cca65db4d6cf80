//! The two baselines of the GLIFR paper, as cells the [`crate::network`] wraps exactly like
//! GLIFR (same readout, dropout, silencing and, for the RNN, synaptic delay).
//!
//! * [`Rnn`] (`neurons.py:199-258`): `h_t = tanh(x_t·W_ih + h_{t−d}·W_lat + b)`, every
//!   parameter ~ U(±1/√H). The delay d is in steps; the paper ran it with d = 1 on sine and
//!   L-MNIST and d = 300 on P-MNIST (spec §2.2).
//! * [`Lstm`] (`pl_modules.py:469-567`): `torch.nn.LSTMCell` with PyTorch's default init,
//!   gates in PyTorch's order (input, forget, cell, output):
//!   ```text
//!   [i f g o] = x_t·W_ih + b_ih + h·W_hh + b_hh
//!   c' = σ(f)⊙c + σ(i)⊙tanh(g),   h' = σ(o)⊙tanh(c')
//!   ```
//!   Two bias vectors, as PyTorch keeps them, so parameter counts equal the reference's
//!   (`4H² + H(4·in + 8)`). No synaptic delay.

use burn::module::Param;
use burn::prelude::*;
use burn::tensor::Distribution;
use burn::tensor::activation::sigmoid;

fn uniform_param<const D: usize>(shape: [usize; D], bound: f64, device: &Device) -> Param<Tensor<D>> {
    Param::from_tensor(Tensor::random(shape, Distribution::Uniform(-bound, bound), device))
}

/// Configuration of the tanh [`Rnn`] baseline.
#[derive(Config, Debug)]
pub struct RnnConfig {
    /// Input features per step.
    pub input_size: usize,
    /// Hidden units H.
    pub hidden_size: usize,
}

/// The tanh RNN baseline. Stateless; the state is the hidden vector `[B,H]`.
#[derive(Module, Debug)]
pub struct Rnn {
    /// Input weights `[in,H]`.
    pub weight_ih: Param<Tensor<2>>,
    /// Recurrent weights `[H,H]`, fed with the delayed hidden state.
    pub weight_lat: Param<Tensor<2>>,
    /// Bias `[H]`.
    pub bias: Param<Tensor<1>>,
}

impl RnnConfig {
    /// W_ih, W_lat and b ~ U(±1/√H), as the reference.
    pub fn init(&self, device: &Device) -> Rnn {
        let bound = 1.0 / (self.hidden_size as f64).sqrt();
        Rnn {
            weight_ih: uniform_param([self.input_size, self.hidden_size], bound, device),
            weight_lat: uniform_param([self.hidden_size, self.hidden_size], bound, device),
            bias: uniform_param([self.hidden_size], bound, device),
        }
    }
}

impl Rnn {
    /// Hidden units H.
    pub fn hidden_size(&self) -> usize {
        self.weight_lat.dims()[0]
    }

    /// `x·W_ih + b`, for one step `[B,in] → [B,H]` or a sequence `[B,T,in] → [B,T,H]`.
    pub fn input_current<const D: usize>(&self, input: Tensor<D>) -> Tensor<D> {
        input.matmul(self.weight_ih.val().unsqueeze()) + self.bias.val().unsqueeze::<D>()
    }

    /// One step: `tanh(input_current + delayed·W_lat)`.
    pub fn step(&self, input_current: Tensor<2>, delayed_hidden: Tensor<2>) -> Tensor<2> {
        (input_current + delayed_hidden.matmul(self.weight_lat.val())).tanh()
    }
}

/// Configuration of the [`Lstm`] baseline.
#[derive(Config, Debug)]
pub struct LstmConfig {
    /// Input features per step.
    pub input_size: usize,
    /// Hidden units H.
    pub hidden_size: usize,
}

/// An LSTM cell laid out like `torch.nn.LSTMCell` (weights transposed to `[in,4H]`).
#[derive(Module, Debug)]
pub struct Lstm {
    /// `W_ih^T`, `[in,4H]`, gate blocks in the order i, f, g, o.
    pub weight_ih: Param<Tensor<2>>,
    /// `W_hh^T`, `[H,4H]`.
    pub weight_hh: Param<Tensor<2>>,
    /// `b_ih`, `[4H]`.
    pub bias_ih: Param<Tensor<1>>,
    /// `b_hh`, `[4H]`.
    pub bias_hh: Param<Tensor<1>>,
}

/// The LSTM's recurrent state.
#[derive(Clone, Debug)]
pub struct LstmState {
    /// Hidden state h `[B,H]` as the cell emitted it.
    pub hidden: Tensor<2>,
    /// Cell state c `[B,H]`; never dropped out or silenced (`pl_modules.py:514-516`).
    pub cell: Tensor<2>,
}

impl LstmConfig {
    /// Every weight and bias ~ U(±1/√H): PyTorch's `LSTMCell.reset_parameters`.
    pub fn init(&self, device: &Device) -> Lstm {
        let h = self.hidden_size;
        let bound = 1.0 / (h as f64).sqrt();
        Lstm {
            weight_ih: uniform_param([self.input_size, 4 * h], bound, device),
            weight_hh: uniform_param([h, 4 * h], bound, device),
            bias_ih: uniform_param([4 * h], bound, device),
            bias_hh: uniform_param([4 * h], bound, device),
        }
    }
}

impl Lstm {
    /// Hidden units H.
    pub fn hidden_size(&self) -> usize {
        self.weight_hh.dims()[0]
    }

    /// `x·W_ih + b_ih + b_hh`, for one step (`[B,4H]`) or a sequence (`[B,T,4H]`).
    pub fn input_current<const D: usize>(&self, input: Tensor<D>) -> Tensor<D> {
        let bias = self.bias_ih.val() + self.bias_hh.val();
        input.matmul(self.weight_ih.val().unsqueeze()) + bias.unsqueeze::<D>()
    }

    /// One step from `hidden` (after dropout and silencing) and the raw cell state.
    pub fn step(&self, input_current: Tensor<2>, hidden: Tensor<2>, cell: Tensor<2>) -> LstmState {
        let gates = input_current + hidden.matmul(self.weight_hh.val());
        let [i, f, g, o]: [Tensor<2>; 4] = gates.chunk(4, 1).try_into().expect("4 gate blocks");
        let cell = sigmoid(f) * cell + sigmoid(i) * g.tanh();
        let hidden = sigmoid(o) * cell.clone().tanh();
        LstmState { hidden, cell }
    }

    /// Chrono initialisation (Tallec & Ollivier, ICLR 2018), the ELM paper's Chrono-LSTM
    /// baseline: per unit draw T ~ U(t_min, t_max) (the range of dependencies in steps), set
    /// the forget bias to ln T and the input bias to −ln T. PyTorch keeps two bias vectors;
    /// the chrono values go into `b_ih` and the i/f blocks of `b_hh` become 0, so their sum is
    /// the chrono bias. The other gates keep their init.
    pub fn with_chrono_init(mut self, t_min: f64, t_max: f64) -> Self {
        let h = self.hidden_size();
        let device = self.bias_ih.device();
        let log_t = Tensor::<1>::random([h], Distribution::Uniform(t_min, t_max), &device).log();
        let zeros = Tensor::<1>::zeros([h], &device);
        // On an autodiff device (where training builds its model) the biases are tracked
        // leaves; an edited copy must start untracked to become a leaf parameter of its own
        // (`detach` alone keeps the require-grad flag).
        let untracked = |p: &Param<Tensor<1>>| p.val().detach().set_require_grad(false);
        let bias_ih = untracked(&self.bias_ih).slice_assign(0..h, log_t.clone().neg()).slice_assign(h..2 * h, log_t);
        let bias_hh = untracked(&self.bias_hh).slice_assign(0..h, zeros.clone()).slice_assign(h..2 * h, zeros);
        self.bias_ih = Param::from_tensor(bias_ih);
        self.bias_hh = Param::from_tensor(bias_hh);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{TensorData, Tolerance};

    /// h = tanh(x·W_ih + b + h_d·W_lat) with W_ih = [1, −1], b = [0, 0.5],
    /// W_lat = [[1, 0], [0, 2]], x = 2, h_d = [0.5, 0.25]:
    /// pre = [2 + 0.5, −2 + 0.5 + 0.5] = [2.5, −1] → [0.986614, −0.761594].
    #[test]
    fn rnn_step_matches_hand_values() {
        let dev = Device::flex();
        let rnn = Rnn {
            weight_ih: Param::from_data(TensorData::from([[1.0f32, -1.0]]), &dev),
            weight_lat: Param::from_data(TensorData::from([[1.0f32, 0.0], [0.0, 2.0]]), &dev),
            bias: Param::from_data(TensorData::from([0.0f32, 0.5]), &dev),
        };
        let x = Tensor::<3>::from_data(TensorData::from([[[2.0f32]]]), &dev);
        let current = rnn.input_current(x).squeeze_dim::<2>(1);
        let hd = Tensor::<2>::from_data(TensorData::from([[0.5f32, 0.25]]), &dev);
        rnn.step(current, hd)
            .to_data()
            .assert_approx_eq::<f32>(&TensorData::from([[0.986614f32, -0.761594]]), Tolerance::absolute(1e-5));
    }

    #[test]
    fn chrono_init_sets_forget_and_input_biases() {
        let dev = Device::flex();
        let lstm = LstmConfig::new(2, 50).init(&dev).with_chrono_init(1.0, 2000.0);
        let ih: Vec<f32> = lstm.bias_ih.val().into_data().try_into_vec().unwrap();
        let hh: Vec<f32> = lstm.bias_hh.val().into_data().try_into_vec().unwrap();
        let (input, forget) = (&ih[0..50], &ih[50..100]);
        for (i, f) in input.iter().zip(forget) {
            assert!((0.0..=2000f32.ln()).contains(f), "forget bias {f} outside [ln 1, ln 2000]");
            assert_eq!(*i, -*f);
        }
        assert!(forget.iter().any(|&f| f > 5.0), "log-uniform spread reaches long timescales");
        assert!(hh[..100].iter().all(|&b| b == 0.0));
        // The cell and output gates keep PyTorch's U(±1/√H).
        assert!(ih[100..].iter().chain(&hh[100..]).all(|b| b.abs() <= 1.0 / 50f32.sqrt()));
    }

    /// Training builds its model on an autodiff device, where the biases are tracked: the
    /// chrono init must still give trainable leaf parameters there.
    #[test]
    fn chrono_init_works_on_an_autodiff_device_and_stays_trainable() {
        let dev = Device::flex().autodiff();
        let lstm = LstmConfig::new(2, 4).init(&dev).with_chrono_init(1.0, 100.0);
        let x = Tensor::<2>::ones([1, 2], &dev);
        let current = lstm.input_current(x);
        let zeros = Tensor::<2>::zeros([1, 4], &dev);
        let grads = lstm.step(current, zeros.clone(), zeros).hidden.sum().backward();
        let forget_grad: Vec<f32> = lstm.bias_ih.val().grad(&grads).unwrap().into_data().try_into_vec().unwrap();
        assert!(forget_grad.iter().any(|g| *g != 0.0), "the chrono biases receive gradients");
    }

    /// One unit, zero weights except biases: gates = b_ih + b_hh = [i, f, g, o] = [0, 0, 1, 0]
    /// (b_hh zero). c' = 0.5·c + 0.5·tanh(1) with c = 2: 1 + 0.380797 = 1.380797;
    /// h' = 0.5·tanh(1.380797) = 0.440565.
    #[test]
    fn lstm_step_matches_hand_values_and_gate_order() {
        let dev = Device::flex();
        let lstm = Lstm {
            weight_ih: Param::from_data(TensorData::from([[0.0f32; 4]]), &dev),
            weight_hh: Param::from_data(TensorData::from([[0.0f32; 4]]), &dev),
            bias_ih: Param::from_data(TensorData::from([0.0f32, 0.0, 1.0, 0.0]), &dev),
            bias_hh: Param::from_data(TensorData::from([0.0f32; 4]), &dev),
        };
        let x = Tensor::<3>::zeros([1, 1, 1], &dev);
        let current = lstm.input_current(x).squeeze_dim::<2>(1);
        let h = Tensor::<2>::zeros([1, 1], &dev);
        let c = Tensor::<2>::full([1, 1], 2.0, &dev);
        let next = lstm.step(current, h, c);
        next.cell.to_data().assert_approx_eq::<f32>(&TensorData::from([[1.380797f32]]), Tolerance::absolute(1e-5));
        next.hidden.to_data().assert_approx_eq::<f32>(&TensorData::from([[0.440565f32]]), Tolerance::absolute(1e-5));
    }
}
