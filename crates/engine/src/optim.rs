//! The optimisers and learning-rate schedules of the two papers, with PyTorch's defaults.
//!
//! * Adam: PyTorch's β = (0.9, 0.999) and **ε = 1e−8** (Burn's `AdamConfig` defaults to 1e−5).
//! * Adamax (PyTorch `torch.optim.Adamax`, which Burn lacks), per parameter, step t ≥ 1:
//!   ```text
//!   m_t = β₁ m_{t−1} + (1 − β₁) g
//!   u_t = max(β₂ u_{t−1}, |g| + ε)
//!   θ_t = θ_{t−1} − lr / (1 − β₁ᵗ) · m_t / u_t          β = (0.9, 0.999), ε = 1e−8
//!   ```
//! * Cosine decay: `lr_k = lr₀ (1 + cos(π k / K)) / 2` for batch k of K in the whole run —
//!   PyTorch's `CosineAnnealingLR(T_max = K)` stepped once per batch, in closed form, so a
//!   resumed run continues on the same curve.

use burn::optim::{AdamConfig, AdamState, AdaptiveMomentumState, ModuleOptimizer, Optimizer};
use burn::prelude::*;

use crate::config::{LrSchedule, OptimizerKind};

/// Adamax with PyTorch's defaults. Its state reuses Burn's Adam state record (step count, first
/// moment, and the infinity norm in the second-moment slot), so it saves and resumes like Adam.
#[derive(Clone, Debug)]
pub struct Adamax {
    beta_1: f32,
    beta_2: f32,
    epsilon: f32,
}

impl Default for Adamax {
    fn default() -> Self {
        Self { beta_1: 0.9, beta_2: 0.999, epsilon: 1e-8 }
    }
}

impl Optimizer for Adamax {
    type State<const D: usize> = AdamState<D>;

    fn step<const D: usize>(
        &self,
        lr: f64,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        let bound = grad.clone().abs().add_scalar(self.epsilon);
        let (time, first, norm) = match state {
            Some(s) => {
                let m = s.momentum;
                (
                    m.time + 1,
                    m.moment_1.mul_scalar(self.beta_1) + grad.mul_scalar(1.0 - self.beta_1),
                    m.moment_2.mul_scalar(self.beta_2).max_pair(bound),
                )
            }
            None => (1, grad.mul_scalar(1.0 - self.beta_1), bound),
        };
        let step_size = lr / (1.0 - (self.beta_1 as f64).powi(time as i32));
        let update = first.clone().div(norm.clone()).mul_scalar(step_size);
        let state = AdamState::new(AdaptiveMomentumState::new(time, first, norm));
        (tensor - update, Some(state))
    }

    fn to_device<const D: usize>(mut state: Self::State<D>, device: &Device) -> Self::State<D> {
        state.momentum = state.momentum.to_device(device);
        state
    }
}

/// The optimiser a config names.
pub fn optimizer(kind: OptimizerKind) -> ModuleOptimizer {
    match kind {
        OptimizerKind::Adam => AdamConfig::new().with_epsilon(1e-8).init(),
        OptimizerKind::Adamax => ModuleOptimizer::from(Adamax::default()),
    }
}

/// The learning rate of batch `step` (0-based) of `total` in the run.
pub fn learning_rate(schedule: LrSchedule, base: f64, step: usize, total: usize) -> f64 {
    match schedule {
        LrSchedule::Constant => base,
        LrSchedule::Cosine => base * (1.0 + (std::f64::consts::PI * step as f64 / total.max(1) as f64).cos()) / 2.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::module::Param;
    use burn::nn::{Linear, LinearConfig};
    use burn::optim::GradientsParams;

    /// Three Adamax steps on one weight w with loss = c·w (gradient c), by hand:
    /// g = 1: m = 0.1, u = 1 + 1e−8, θ −= 0.1/(1 − 0.9)·0.1/u = 0.1 → w = 1 − 0.1 = 0.9;
    /// g = −2: m = 0.09 − 0.2 = −0.11, u = max(0.999, 2) = 2, step 0.1/0.19·(−0.11/2)
    ///   → w = 0.9 + 0.0289474 = 0.9289474;
    /// g = 0.5: m = −0.099 + 0.05 = −0.049, u = max(1.998, 0.5) = 1.998, step 0.1/0.271
    ///   → w = 0.9289474 + 0.1/0.271·0.049/1.998 = 0.9379971.
    #[test]
    fn adamax_matches_hand_derived_steps() {
        let dev = Device::flex().autodiff();
        let mut linear: Linear = LinearConfig::new(1, 1).with_bias(false).init(&dev);
        linear.weight = Param::from_tensor(Tensor::<2>::ones([1, 1], &dev));
        let mut optim = optimizer(OptimizerKind::Adamax);
        let mut weights = Vec::new();
        for c in [1.0f32, -2.0, 0.5] {
            let x = Tensor::<2>::full([1, 1], c, &dev);
            let grads = GradientsParams::from_grads(linear.forward(x).sum().backward(), &linear);
            linear = optim.step(0.1, linear, grads);
            weights.push(linear.weight.val().into_scalar::<f64>());
        }
        for (got, want) in weights.iter().zip([0.9, 0.9289474, 0.9379971]) {
            assert!((got - want).abs() < 1e-6, "{weights:?}");
        }
    }

    #[test]
    fn cosine_schedule_is_pytorchs_closed_form() {
        assert_eq!(learning_rate(LrSchedule::Cosine, 5e-3, 0, 100), 5e-3);
        assert!((learning_rate(LrSchedule::Cosine, 5e-3, 50, 100) - 2.5e-3).abs() < 1e-15);
        assert!((learning_rate(LrSchedule::Cosine, 5e-3, 25, 100) - 5e-3 * (1.0 + 0.5f64.sqrt()) / 2.0).abs() < 1e-15);
        assert!(learning_rate(LrSchedule::Cosine, 5e-3, 100, 100) < 1e-18);
        assert_eq!(learning_rate(LrSchedule::Constant, 1e-3, 77, 100), 1e-3);
    }
}
