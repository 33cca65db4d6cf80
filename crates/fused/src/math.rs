//! `exp`, the logistic sigmoid and tanh as plain arithmetic, so that loops over them vectorise.
//!
//! `f32::exp` calls the C library once per element, which keeps the loops around it scalar;
//! in the fused GLIFR sequence that call was the largest single cost. This is Cephes' `expf`
//! (range reduction by ln 2 split in two parts, a degree-6 polynomial, and the power of two
//! put in the exponent bits): within 2 ulp of the exact value over the clamped range, which is
//! far inside the 1e-5 the fused paths are held to.

const LOG2_E: f32 = std::f32::consts::LOG2_E;
/// ln 2 split so that `n·LN2_HI` is exact for the n that occur.
const LN2_HI: f32 = 0.693_359_4;
const LN2_LO: f32 = -2.121_944_4e-4;

/// e^x. Inputs are clamped to [−87.3, 88.3], where e^x is a normal f32: below, the result is
/// about 1e-38 instead of a denormal or 0; above, about 2e38 instead of ∞.
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    let x = x.clamp(-87.3, 88.3);
    // Round to nearest by adding and removing 1.5·2²³ (an add, where `round` is a libm call
    // that keeps the loop scalar); |x·log2 e| < 2²² here, so it is exact.
    let n = (x * LOG2_E + 12_582_912.0) - 12_582_912.0;
    let r = x - n * LN2_HI - n * LN2_LO;
    let mut p = 1.987_569_1e-4;
    p = p * r + 1.398_2e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 0.166_666_65;
    p = p * r + 0.5;
    let y = p * r * r + r + 1.0;
    y * f32::from_bits(((n as i32 + 127) as u32) << 23)
}

/// `1/(1 + e^(−z))`.
#[inline(always)]
pub fn sigmoid(z: f32) -> f32 {
    1.0 / (1.0 + exp(-z))
}

/// `tanh(y) = 1 − 2/(e^{2y} + 1)`: the clamped exp keeps it finite and exactly ±1 far out.
#[inline(always)]
pub fn tanh(y: f32) -> f32 {
    1.0 - 2.0 / (exp(2.0 * y) + 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_is_within_two_ulp_of_the_library() {
        let mut worst = 0.0f64;
        let mut x = -87.0f32;
        while x < 88.0 {
            let (ours, libm) = (exp(x) as f64, (x as f64).exp());
            worst = worst.max(((ours - libm) / libm).abs());
            x += 0.0137;
        }
        assert!(worst < 2.5e-7, "largest relative error {worst}");
        assert_eq!(exp(0.0), 1.0);
        assert!(exp(-1000.0) > 0.0 && exp(-1000.0) < 1e-37);
        assert!(exp(1000.0).is_finite());
    }

    #[test]
    fn tanh_is_within_3e_7_of_the_library_and_saturates() {
        let mut x = -12.0f32;
        while x < 12.0 {
            assert!((tanh(x) - x.tanh()).abs() < 3e-7, "tanh({x}): {} vs {}", tanh(x), x.tanh());
            x += 0.0071;
        }
        assert_eq!(tanh(100.0), 1.0);
        assert_eq!(tanh(-100.0), -1.0);
        assert_eq!(tanh(0.0), 0.0);
    }

    #[test]
    fn sigmoid_matches_its_definition_and_saturates() {
        for z in [-30.0f32, -5.0, -0.3, 0.0, 0.7, 4.0, 30.0] {
            let want = 1.0 / (1.0 + (-(z as f64)).exp());
            assert!((sigmoid(z) as f64 - want).abs() < 1e-7, "σ({z}) = {} vs {want}", sigmoid(z));
        }
        assert_eq!(sigmoid(200.0), 1.0);
        assert!(sigmoid(-200.0) < 1e-37);
    }
}
