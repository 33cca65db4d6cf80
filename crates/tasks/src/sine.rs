//! Sine pattern generation (`datasets/sine.py` of GLIFS_ASC, after Sussillo & Barak 2013):
//! six sequences of 100 steps at dt = 0.05 ms (5 ms). Sequence i (0..6) has a constant scalar
//! input `offset_i = i/6 + 0.25` and the target `sin(2π f_i t) + offset_i` at `t = k·dt`,
//! with `f_i` log-spaced from 0.08 to 0.6 kHz. Regression: MSE over every step. The train
//! set is also the test set.

use burn::data::dataset::{Dataset, DatasetError};

use crate::{SequenceItem, Target, out_of_range};

/// Number of sequences.
pub const SINE_SEQUENCES: usize = 6;

/// The sine task's parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct SinePatterns {
    /// Steps per sequence (100 in the paper).
    pub steps: usize,
    /// Step in ms (0.05).
    pub dt: f64,
    /// Lowest frequency, kHz (0.08).
    pub min_frequency: f64,
    /// Highest frequency, kHz (0.6).
    pub max_frequency: f64,
}

impl Default for SinePatterns {
    fn default() -> Self {
        Self { steps: 100, dt: 0.05, min_frequency: 0.08, max_frequency: 0.6 }
    }
}

impl SinePatterns {
    /// `f_i = exp(linspace(ln f_min, ln f_max, 6))`, kHz.
    pub fn frequencies(&self) -> Vec<f64> {
        let (lo, hi) = (self.min_frequency.ln(), self.max_frequency.ln());
        (0..SINE_SEQUENCES).map(|i| (lo + (hi - lo) * i as f64 / (SINE_SEQUENCES - 1) as f64).exp()).collect()
    }
}

impl Dataset<SequenceItem> for SinePatterns {
    fn get(&self, index: usize) -> Result<SequenceItem, DatasetError> {
        if index >= SINE_SEQUENCES {
            return Err(out_of_range(index, SINE_SEQUENCES));
        }
        let frequency = self.frequencies()[index];
        let offset = index as f64 / SINE_SEQUENCES as f64 + 0.25;
        let target = (0..self.steps)
            .map(|k| {
                let t = k as f64 * self.dt;
                ((2.0 * std::f64::consts::PI * frequency * t).sin() + offset) as f32
            })
            .collect();
        Ok(SequenceItem {
            input: vec![offset as f32; self.steps],
            steps: self.steps,
            features: 1,
            target: Target::Sequence { values: target, features: 1 },
        })
    }

    fn len(&self) -> usize {
        SINE_SEQUENCES
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frequencies_offsets_and_targets_match_the_spec() {
        let task = SinePatterns::default();
        let f = task.frequencies();
        let expected = [0.08, 0.1197, 0.1791, 0.268, 0.401, 0.6];
        for (a, b) in f.iter().zip(expected) {
            assert!((a - b).abs() < 6e-4, "{a} vs {b}");
        }
        let last = task.get(5).unwrap();
        assert!((last.input[0] - (5.0 / 6.0 + 0.25) as f32).abs() < 1e-7);
        let Target::Sequence { values, .. } = last.target else { panic!("regression target") };
        assert_eq!(values.len(), 100);
        // t = 0 → offset; a quarter period of 0.6 kHz is 0.41667 ms, not on the grid; step 10
        // (t = 0.5 ms) gives sin(2π·0.6·0.5) = sin(0.6π) = 0.951057.
        assert!((values[0] - 1.083_333).abs() < 1e-6);
        assert!((values[10] - (0.951_056_5 + 1.083_333)).abs() < 1e-5);
        assert!(task.get(6).is_err());
    }
}
