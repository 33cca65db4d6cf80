//! The conversion chain that made SHD from audio: a port of `lauscher` 1.0.1
//! (`lauscher.transformations.Wave2Spike`, Cramer et al. 2022; spec data.md §3).
//!
//! 1. **Normalise**: scale to RMS 0.3, then a Hann ramp up over the first half and down over
//!    the second (`np.hanning(2·⌊N/2⌋)`; the middle sample of an odd length is untouched).
//! 2. **Basilar membrane** (Sieroka, Dosch & Rupp 2006, a hydrodynamic shallow-water model):
//!    with `S = fft(wave)[:M]`, `M = ⌊N/2⌋ + 1`, angular frequencies
//!    `ω = 2π·linspace(1, ⌊fs/2⌋, M)` and 700 places `c = linspace(0, 3.5, 700)`, the velocity at
//!    place c is `real(ifft(v(ω, c)·S))`, M samples at rate ⌊fs/2⌋ (lauscher's halving of the
//!    rate is kept). `v = 2ω/ξ(ω,c) · p(ω,c)/p(ω,0) · z(ω)`, with the stiffness
//!    `s = c0·e^{−αc} − a`, damping `r = de·√(c0·m)·e^{−αc/2}`, `ξ = s − mω² − iωr`,
//!    `g = ω·√(ρ/(hξ))`, `p = √(G/g)·H₀⁽¹⁾(G)` with G the WKB phase (see [`phase`]) and the
//!    stapes impedance `z(ω)` of Bessel functions of `4πf/α·√(2/(h·c0))`.
//! 3. **Inner hair cell**: the Meddis (1986/88) transmitter pools, sample by sample from their
//!    resting state; the output `c·h/fs` is a spike probability per sample.
//! 4. **Bushy cell**: 40 fibres per channel, each a Bernoulli process with that probability
//!    and a 1 ms dead time, drive one LIF neuron (τ_syn 0.5 ms, τ_mem 1 ms, 1 ms refractory,
//!    weight 13e3/40). Its spikes are the channel's output, at times `sample/⌊fs/2⌋`.
//!
//! # Where the port differs, and why
//! - **Fibres are drawn by their first-passage time**, not sample by sample: the next kept
//!   spike of a fibre is the first Bernoulli success at least one dead time after its last,
//!   found by inverting the cumulative hazard `Σ −ln(1 − p)`. It has exactly the
//!   distribution of lauscher's draw-then-delete (`_sample` + `_correct`), at the cost of the
//!   spikes rather than of channels × samples × 40 random numbers (10.7 GB per second of
//!   48 kHz audio in lauscher). The random numbers are not numpy's, so single spikes differ;
//!   `scripts/compare_lauscher.py` compares spike counts per channel.
//! - **Lengths may be padded** ([`wave_to_spikes`] with a longer [`Membrane`]): the transfer
//!   function depends on the length only through the frequency grid, so the generator pads
//!   each wave with silence to one of a few FFT-friendly lengths, reuses that length's
//!   transfer matrix, and keeps the first `⌊N/2⌋ + 1` output samples. A membrane made for
//!   the wave's own length is lauscher's own grid (`neurozoo gen shd-synth --wav`).
//! - The LIF sums its 40 synaptic currents before decaying them (one current, not 40: the
//!   same sum).

use std::sync::Arc;

use complex_bessel::{besselj, bessely, hankel1_scaled};
use rand::Rng;
use rustfft::num_complex::Complex64;
use rustfft::{Fft, FftPlanner};

/// Basilar-membrane places (SHD's 700 channels).
pub const CHANNELS: usize = 700;

/// Parameters of the chain, lauscher's defaults (`BasilarMembrane`, `HairCell`, `BushyCell`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CochleaParams {
    /// RMS the wave is normalised to (`RmsNormalizer(0.3)`).
    pub rms: f64,
    /// Membrane: a, α, ρ, extent of the places (3.5), c0, de, h, m.
    pub a: f64,
    pub alpha: f64,
    pub rho: f64,
    pub extent: f64,
    pub c0: f64,
    pub de: f64,
    pub h: f64,
    pub m: f64,
    /// Meddis hair cell: y, g, l, r, x, a, b, h, m.
    pub ihc_y: f64,
    pub ihc_g: f64,
    pub ihc_l: f64,
    pub ihc_r: f64,
    pub ihc_x: f64,
    pub ihc_a: f64,
    pub ihc_b: f64,
    pub ihc_h: f64,
    pub ihc_m: f64,
    /// Bushy cell: fibres per channel, τ_mem, τ_syn, refractory period (s), total weight.
    pub fibres: usize,
    pub tau_mem: f64,
    pub tau_syn: f64,
    pub tau_refrac: f64,
    pub weight: f64,
}

impl Default for CochleaParams {
    fn default() -> Self {
        CochleaParams {
            rms: 0.3,
            a: 3500.0,
            alpha: 3.0,
            rho: 1.0,
            extent: 3.5,
            c0: 10e8,
            de: 0.15,
            h: 0.1,
            m: 0.05,
            ihc_y: 5.05,
            ihc_g: 2000.0,
            ihc_l: 2500.0,
            ihc_r: 6580.0,
            ihc_x: 66.3,
            ihc_a: 5.0,
            ihc_b: 300.0,
            ihc_h: 50000.0,
            ihc_m: 1.0,
            fibres: 40,
            tau_mem: 1e-3,
            tau_syn: 5e-4,
            tau_refrac: 1e-3,
            weight: 13e3,
        }
    }
}

/// `numpy.linspace(start, stop, n)`.
fn linspace(start: f64, stop: f64, n: usize) -> impl Iterator<Item = f64> {
    let step = if n > 1 { (stop - start) / (n - 1) as f64 } else { 0.0 };
    (0..n).map(move |i| if i + 1 == n && n > 1 { stop } else { start + i as f64 * step })
}

/// The membrane's place coordinates, `linspace(0, extent, 700)`.
pub fn places(params: &CochleaParams) -> Vec<f64> {
    linspace(0.0, params.extent, CHANNELS).collect()
}

/// G(ω, c) of `BasilarMembrane._p`, term for term.
pub fn phase(p: &CochleaParams, omega: f64, c: f64) -> Complex64 {
    let i = Complex64::i();
    let r = p.de * (p.c0 * p.m).sqrt();
    let g0 = g(p, omega, 0.0);
    let root_am = (p.a + p.m * omega * omega).sqrt();
    let numerator = -p.alpha * (Complex64::from(-p.a + p.c0) - omega * (p.m * omega + i * r)).sqrt()
        + i * p.alpha * (2.0 * p.a + omega * (2.0 * p.m * omega + i * r)) / (2.0 * root_am);
    let decay = (-p.alpha * c / 2.0).exp();
    let denominator = 0.5
        * p.alpha
        * (p.alpha * c / 2.0).exp()
        * (-2.0
            * (Complex64::from(-p.a + p.c0 * (-p.alpha * c).exp() - p.m * omega * omega) - i * decay * omega * r)
                .sqrt()
            + i * (2.0 * p.a + omega * (2.0 * p.m * omega + i * decay * r)) / root_am);
    2.0 * g0 / p.alpha
        - 1.0 / (p.alpha * (p.h * 2.0 * (p.m * omega * omega + p.a)).sqrt())
            * (2.0 * i * 2f64.sqrt() * omega * (numerator / denominator).ln())
}

/// ξ(ω, c) = s(c) − mω² − iω·r(c).
fn xi(p: &CochleaParams, omega: f64, c: f64) -> Complex64 {
    let r = p.de * (p.c0 * p.m).sqrt() * (-p.alpha * c / 2.0).exp();
    Complex64::new(p.c0 * (-p.alpha * c).exp() - p.a - p.m * omega * omega, -omega * r)
}

fn g(p: &CochleaParams, omega: f64, c: f64) -> Complex64 {
    omega * (p.rho / (p.h * xi(p, omega, c))).sqrt()
}

/// The stapes impedance z(ω).
fn stapes(p: &CochleaParams, omega: f64) -> Complex64 {
    let f = omega / (2.0 * std::f64::consts::PI);
    let x = Complex64::from(4.0 * std::f64::consts::PI * f / p.alpha * (2.0 / (p.h * p.c0)).sqrt());
    let i = Complex64::i();
    let bessel =
        |v: Result<Complex64, _>| v.map(|z: Complex64| Complex64::from(z.re)).unwrap_or(Complex64::from(f64::NAN));
    let (j0, y0) = (bessel(besselj(0.0, x)), bessel(bessely(0.0, x)));
    let (j1, y1) = (bessel(besselj(1.0, x)), bessel(bessely(1.0, x)));
    (2.0 * p.c0 / p.h).sqrt() * (i * j0 + y0) / (j1 - i * y1)
}

/// `√(G/g)·H₀⁽¹⁾(G)` as (prefactor·scaled Hankel, G): H₀⁽¹⁾(G) = e^{iG}·scaled, and the
/// ratio p(ω,c)/p(ω,0) is formed from the scaled values so that neither overflows.
fn pressure_parts(p: &CochleaParams, omega: f64, c: f64) -> (Complex64, Complex64) {
    let big_g = phase(p, omega, c);
    let scaled = hankel1_scaled(0.0, big_g).unwrap_or(Complex64::new(f64::NAN, f64::NAN));
    ((big_g / g(p, omega, c)).sqrt() * scaled, big_g)
}

/// What v(ω, c) shares across places at one frequency: p(ω, 0) (scaled, with its phase) and
/// the stapes impedance.
#[derive(Clone, Copy, Debug)]
pub struct BaseTerms {
    omega: f64,
    pressure_at_base: Complex64,
    phase_at_base: Complex64,
    stapes: Complex64,
}

impl BaseTerms {
    /// The terms at angular frequency `omega`.
    pub fn new(p: &CochleaParams, omega: f64) -> Self {
        let (pressure_at_base, phase_at_base) = pressure_parts(p, omega, 0.0);
        BaseTerms { omega, pressure_at_base, phase_at_base, stapes: stapes(p, omega) }
    }
}

/// The membrane's transfer function v(ω, c) at place `c`.
pub fn transfer(p: &CochleaParams, base: &BaseTerms, c: f64) -> Complex64 {
    let omega = base.omega;
    let (at_c, phase_c) = pressure_parts(p, omega, c);
    let ratio = at_c / base.pressure_at_base * (Complex64::i() * (phase_c - base.phase_at_base)).exp();
    2.0 * omega / xi(p, omega, c) * ratio * base.stapes
}

/// The frequency grid of a wave of `samples` samples at `rate` Hz.
pub fn frequency_grid(samples: usize, rate: u32) -> Vec<f64> {
    let m = samples / 2 + 1;
    linspace(1.0, f64::from(rate / 2), m).map(|f| 2.0 * std::f64::consts::PI * f).collect()
}

/// The transfer matrix of one wave length (700 × M), with the FFT plans of that length.
#[derive(Clone)]
pub struct Membrane {
    samples: usize,
    transfer: Vec<Vec<Complex64>>,
    forward: Arc<dyn Fft<f64>>,
    inverse: Arc<dyn Fft<f64>>,
}

impl std::fmt::Debug for Membrane {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Membrane").field("samples", &self.samples).field("places", &self.transfer.len()).finish()
    }
}

impl Membrane {
    /// The membrane for waves of `samples` samples at `rate` Hz; `threads` share the work.
    pub fn new(params: &CochleaParams, samples: usize, rate: u32, threads: usize) -> Self {
        let bases: Vec<BaseTerms> = frequency_grid(samples, rate).iter().map(|&w| BaseTerms::new(params, w)).collect();
        let places = places(params);
        let transfer: Vec<Vec<Complex64>> = crate::parallel::parallel_collect(places.len(), threads, |k| {
            bases.iter().map(|b| transfer(params, b, places[k])).collect()
        });
        let mut planner = FftPlanner::new();
        Membrane {
            samples,
            forward: planner.plan_fft_forward(samples),
            inverse: planner.plan_fft_inverse(bases.len()),
            transfer,
        }
    }

    /// Wave length this membrane was made for.
    pub fn samples(&self) -> usize {
        self.samples
    }

    /// The first ⌊N/2⌋ + 1 bins of the wave's spectrum (lauscher's `stim_fft`).
    pub fn spectrum(&self, wave: &[f64]) -> Vec<Complex64> {
        assert_eq!(wave.len(), self.samples, "the membrane was made for {} samples", self.samples);
        let mut spectrum: Vec<Complex64> = wave.iter().map(|&x| Complex64::from(x)).collect();
        self.forward.process(&mut spectrum);
        spectrum.truncate(self.samples / 2 + 1);
        spectrum
    }

    /// Membrane velocity at places `first` and `second` (M samples each at half the wave's
    /// rate), from one complex inverse FFT: lauscher keeps only `real(ifft(X))`, which is the
    /// (real) inverse of X's Hermitian part `(X_k + conj(X_{M−k}))/2`, so one channel's part
    /// rides in the real and the other's in the imaginary half of a single transform.
    pub fn velocity_pair(&self, spectrum: &[Complex64], first: usize, second: usize) -> (Vec<f64>, Vec<f64>) {
        let m = spectrum.len();
        let x: Vec<Complex64> = self.transfer[first].iter().zip(spectrum).map(|(v, s)| v * s).collect();
        let y: Vec<Complex64> = self.transfer[second].iter().zip(spectrum).map(|(v, s)| v * s).collect();
        let hermitian = |z: &[Complex64], k: usize| (z[k] + z[(m - k) % m].conj()) * 0.5;
        let mut buffer: Vec<Complex64> = (0..m).map(|k| hermitian(&x, k) + Complex64::i() * hermitian(&y, k)).collect();
        self.inverse.process(&mut buffer);
        let scale = 1.0 / m as f64;
        (buffer.iter().map(|z| z.re * scale).collect(), buffer.iter().map(|z| z.im * scale).collect())
    }
}

/// RMS normalisation and the Hann ramps, in place.
pub fn prepare_wave(wave: &mut [f64], params: &CochleaParams) {
    let rms = (wave.iter().map(|x| x * x).sum::<f64>() / wave.len() as f64).sqrt();
    if rms > 0.0 {
        wave.iter_mut().for_each(|x| *x *= params.rms / rms);
    }
    let half = wave.len() / 2;
    // np.hanning(2·half)[:half]: 0.5 − 0.5·cos(2πn/(2·half − 1)).
    let window = |n: usize| 0.5 - 0.5 * (2.0 * std::f64::consts::PI * n as f64 / (2 * half - 1) as f64).cos();
    let len = wave.len();
    for n in 0..half {
        wave[n] *= window(n);
        wave[len - 1 - n] *= window(n);
    }
}

/// The Meddis hair cell over one channel's velocity at `rate` Hz: spike probability per sample.
pub fn hair_cell(velocity: &[f64], rate: f64, p: &CochleaParams) -> Vec<f64> {
    let ymdt = p.ihc_y * p.ihc_m / rate;
    let xdt = p.ihc_x / rate;
    let ydt = p.ihc_y / rate;
    let rdt = p.ihc_r / rate;
    let gdt = p.ihc_g / rate;
    let hdt = p.ihc_h / rate;
    let lplusrdt = (p.ihc_l + p.ihc_r) / rate;
    // The resting state (zero input).
    let kt = p.ihc_g * p.ihc_a / (p.ihc_a + p.ihc_b);
    let mut cleft = p.ihc_m * p.ihc_y * kt / (p.ihc_l * kt + p.ihc_y * (p.ihc_l + p.ihc_r));
    let mut free = cleft * (p.ihc_l + p.ihc_r) / kt;
    let mut reprocessing = cleft * p.ihc_r / p.ihc_x;
    velocity
        .iter()
        .map(|&v| {
            let kt = if v + p.ihc_a > 0.0 { gdt * (v + p.ihc_a) / (v + p.ihc_a + p.ihc_b) } else { 0.0 };
            let replenish = if free < p.ihc_m { ymdt - ydt * free } else { 0.0 };
            let eject = kt * free;
            let reuptake_and_loss = lplusrdt * cleft;
            let reuptake = rdt * cleft;
            let reprocess = xdt * reprocessing;
            free = (free + replenish - eject + reprocess).max(0.0);
            cleft = (cleft + eject - reuptake_and_loss).max(0.0);
            reprocessing = (reprocessing + reuptake - reprocess).max(0.0);
            cleft * hdt
        })
        .collect()
}

/// −ln(1 − p), the hazard of a Bernoulli(p) sample: a series below 0.05 (relative error
/// < 1e-8, and no log per sample), the log above, and a hazard no exponential draw reaches in
/// practice (e^{−700}) for a certain spike.
fn hazard_of(p: f64) -> f64 {
    if p < 0.05 {
        let p = p.max(0.0);
        p * (1.0 + p * (0.5 + p * (1.0 / 3.0 + p * (0.25 + p * (0.2 + p / 6.0)))))
    } else if p < 1.0 {
        -(-p).ln_1p()
    } else {
        700.0
    }
}

/// Spike counts per sample of `fibres` fibres firing with `probability` per sample and a dead
/// time of `dead_samples` (a spike at j keeps the next one from coming before j + dead).
pub fn fibre_input(probability: &[f64], fibres: usize, dead_samples: usize, rng: &mut impl Rng) -> Vec<u32> {
    // hazard[j] = Σ_{i<j} −ln(1 − p_i); a certain spike (p ≥ 1) gets a hazard no exponential
    // draw reaches in practice (e^{−700}).
    let mut hazard = Vec::with_capacity(probability.len() + 1);
    hazard.push(0.0);
    let mut total = 0.0;
    for &p in probability {
        total += hazard_of(p);
        hazard.push(total);
    }
    let mut counts = vec![0u32; probability.len()];
    for _ in 0..fibres {
        let mut start = 0;
        while start < probability.len() {
            // P(no spike in start..=j) = exp(−(hazard[j+1] − hazard[start])).
            let target = hazard[start] - (1.0 - rng.random::<f64>()).ln();
            // First j ≥ start with hazard[j + 1] ≥ target: gallop, then bisect the bracket
            // (the next spike is usually a few hundred samples away).
            let rest = &hazard[start + 1..];
            let mut high = 1;
            while high < rest.len() && rest[high - 1] < target {
                high *= 2;
            }
            let low = high / 2;
            let high = high.min(rest.len());
            let j = start + low + rest[low..high].partition_point(|&h| h < target);
            if j >= probability.len() {
                break;
            }
            counts[j] += 1;
            start = j + dead_samples;
        }
    }
    counts
}

/// lauscher's bushy-cell LIF over the summed fibre input; returns the spiking samples.
pub fn bushy_cell(input: &[u32], rate: f64, p: &CochleaParams) -> Vec<usize> {
    let dt = 1.0 / rate;
    let weight = p.weight / p.fibres as f64;
    let mem_decay = (-dt / p.tau_mem).exp();
    let syn_decay = (-dt / p.tau_syn).exp();
    let refractory = p.tau_refrac * rate;
    let mut spikes = Vec::new();
    let (mut v, mut current, mut refrac_counter) = (0.0f64, 0.0f64, 0.0f64);
    for (step, &n) in input.iter().enumerate() {
        let mut next_v = 0.0;
        if step > 0 {
            if refrac_counter <= 0.0 {
                if v < 1.0 {
                    next_v = v * mem_decay;
                } else {
                    refrac_counter = refractory;
                    spikes.push(step - 1);
                }
            }
            current *= syn_decay;
        }
        current += f64::from(n);
        if refrac_counter <= 0.0 {
            next_v += current * weight * dt;
        }
        v = next_v.min(1.0);
        refrac_counter -= 1.0;
    }
    spikes
}

/// One recording as SHD stores it: spike times (s) and channels, ordered by time then channel.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SpikeTrain {
    /// Spike times in seconds.
    pub times: Vec<f64>,
    /// Channel of each spike.
    pub units: Vec<u16>,
}

/// Runs the whole chain on `wave` (sampled at `rate` Hz). With a `membrane` made for a longer
/// length, the prepared wave is padded with silence to that length and the output cut back to
/// the wave's own `⌊N/2⌋ + 1` samples.
pub fn wave_to_spikes(
    wave: &[f64],
    rate: u32,
    membrane: &Membrane,
    params: &CochleaParams,
    rng: &mut impl Rng,
) -> SpikeTrain {
    assert!(wave.len() <= membrane.samples(), "a {}-sample membrane for {} samples", membrane.samples(), wave.len());
    let mut prepared = wave.to_vec();
    prepare_wave(&mut prepared, params);
    prepared.resize(membrane.samples(), 0.0);
    let kept = wave.len() / 2 + 1;
    let out_rate = f64::from(rate / 2);
    let dead = (params.tau_refrac * out_rate - 1e-9).ceil() as usize;
    let mut spikes: Vec<(usize, u16)> = Vec::new();
    let spectrum = membrane.spectrum(&prepared);
    for first in (0..CHANNELS).step_by(2) {
        let second = (first + 1).min(CHANNELS - 1);
        let (a, b) = membrane.velocity_pair(&spectrum, first, second);
        for (channel, mut velocity) in [(first, a), (second, b)].into_iter().take(if second > first { 2 } else { 1 }) {
            velocity.truncate(kept);
            let probability = hair_cell(&velocity, out_rate, params);
            let input = fibre_input(&probability, params.fibres, dead.max(1), rng);
            spikes.extend(bushy_cell(&input, out_rate, params).into_iter().map(|s| (s, channel as u16)));
        }
    }
    spikes.sort_unstable();
    SpikeTrain {
        times: spikes.iter().map(|&(s, _)| s as f64 / out_rate).collect(),
        units: spikes.iter().map(|&(_, u)| u).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn transfer_function_matches_lauscher() {
        // lauscher 1.0.1 (numpy 2, scipy 1.16):
        //   bm = BasilarMembrane(); w = 2*np.pi*np.array([100., 1000., 8000.])
        //   for c in [0.5, 2.0]: print(bm._v(w, c))
        let expected = [
            (100.0, 0.5, 0.04711350740999221, 0.11872677686462624),
            (1000.0, 0.5, 1.963717339398962, 3.85379266305613),
            (8000.0, 0.5, 10.94919717531214, -59.10014297253713),
            (100.0, 2.0, -2.8286436358644584, 4.203676672915068),
            (1000.0, 2.0, -6.703915508639889, -169.94807922198248),
            (8000.0, 2.0, 6.984556052769967e-10, 1.8438461147231658e-09),
        ];
        let p = CochleaParams::default();
        for (f, c, re, im) in expected {
            let v = transfer(&p, &BaseTerms::new(&p, 2.0 * std::f64::consts::PI * f), c);
            let want = Complex64::new(re, im);
            assert!((v - want).norm() <= 1e-9 * want.norm(), "v({f} Hz, {c}) = {v}, lauscher {want}");
        }
    }

    #[test]
    fn wave_preparation_matches_lauscher() {
        // x = np.array([0.1, -0.4, 0.25, 0.8, -0.3]); x *= 0.3/np.sqrt(np.mean(x**2))
        // n = 2; w = np.hanning(4)[:n]; x[:n] *= w; x[-n:] *= w[::-1]
        let mut x = [0.1, -0.4, 0.25, 0.8, -0.3];
        prepare_wave(&mut x, &CochleaParams::default());
        let expected = [0.0, -0.2051290376273483, 0.1709408646894569, 0.4102580752546966, 0.0];
        for (a, b) in x.iter().zip(expected) {
            assert!((a - b).abs() < 1e-15, "{x:?}");
        }
    }

    #[test]
    fn paired_inverse_transforms_equal_lauschers_real_part_of_each() {
        // real(ifft(X)) per channel, by a direct O(M²) sum, against the paired transform.
        let p = CochleaParams::default();
        let samples = 40;
        let membrane = Membrane::new(&p, samples, 48_000, 1);
        let wave: Vec<f64> = (0..samples).map(|i| ((i * 7 % 11) as f64 - 5.0) / 5.0).collect();
        let spectrum = membrane.spectrum(&wave);
        let m = spectrum.len();
        for (first, second) in [(0, 1), (350, 351), (698, 699)] {
            let (a, b) = membrane.velocity_pair(&spectrum, first, second);
            for (channel, got) in [(first, a), (second, b)] {
                for (n, value) in got.iter().enumerate() {
                    let direct: Complex64 = (0..m)
                        .map(|k| {
                            let angle = 2.0 * std::f64::consts::PI * (k * n) as f64 / m as f64;
                            membrane.transfer[channel][k] * spectrum[k] * Complex64::from_polar(1.0, angle)
                        })
                        .sum::<Complex64>()
                        / m as f64;
                    assert!((value - direct.re).abs() < 1e-9 * (1.0 + direct.re.abs()), "channel {channel}, n {n}");
                }
            }
        }
    }

    #[test]
    fn hair_cell_rests_at_its_spontaneous_probability() {
        // The Meddis pools start at their zero-input fixed point, so silence keeps them there:
        // kt = g·a/(a+b) = 2000·5/305, c = m·y·kt/(l·kt + y·(l+r)), probability c·h/fs.
        let p = CochleaParams::default();
        let kt: f64 = 2000.0 * 5.0 / 305.0;
        let cleft = 5.05 * kt / (2500.0 * kt + 5.05 * (2500.0 + 6580.0));
        let expected: f64 = cleft * 50000.0 / 24000.0; // ≈ 0.0026986
        let out = hair_cell(&[0.0; 2000], 24000.0, &p);
        assert!((expected - 0.0026986).abs() < 1e-7);
        for (j, &v) in out.iter().enumerate() {
            assert!((v - expected).abs() < 1e-15, "sample {j}: {v} vs {expected}");
        }
        // A loud tone, against lauscher's own loop:
        //   tone = 2000*np.sin(np.arange(2000)*0.3); hc = HairCell()._meddis(tone, 24000)
        //   hc[[0, 1, 10, 100, 1999]]
        let tone: Vec<f64> = (0..2000).map(|j| 2000.0 * (j as f64 * 0.3).sin()).collect();
        let loud = hair_cell(&tone, 24000.0, &p);
        let lauscher = [
            (0, 0.0026986549946257754),
            (1, 0.043106231451810695),
            (10, 0.06923962596165412),
            (100, 0.0007020498899508893),
            (1999, 0.008658514564628678),
        ];
        for (j, want) in lauscher {
            assert!((loud[j] - want).abs() < 1e-12 * want.max(1e-3), "sample {j}: {} vs {want}", loud[j]);
        }
    }

    #[test]
    fn fibres_fire_at_the_renewal_rate_with_their_dead_time() {
        // Certain spikes: one every dead time, from sample 0.
        let counts = fibre_input(&[1.0; 100], 1, 24, &mut StdRng::seed_from_u64(1));
        let at: Vec<usize> = (0..100).filter(|&j| counts[j] > 0).collect();
        assert_eq!(at, [0, 24, 48, 72, 96]);
        // p = 0.01: intervals are the dead time plus a geometric wait, mean 24 + 0.99/0.01 = 123
        // samples, so 40 fibres over 200 000 samples fire ≈ 40·200000/123 ≈ 65 041 times.
        let counts = fibre_input(&vec![0.01; 200_000], 40, 24, &mut StdRng::seed_from_u64(2));
        let total: u32 = counts.iter().sum();
        assert!((f64::from(total) / 65_041.0 - 1.0).abs() < 0.01, "{total} spikes");
        // One fibre never fires twice within its dead time.
        let counts = fibre_input(&vec![0.2; 50_000], 1, 24, &mut StdRng::seed_from_u64(3));
        let at: Vec<usize> = (0..counts.len()).filter(|&j| counts[j] > 0).collect();
        assert!(at.windows(2).all(|w| w[1] - w[0] >= 24));
        assert!(counts.iter().all(|&c| c <= 1));
    }

    #[test]
    fn bushy_cell_follows_lauschers_lif_step_by_step() {
        // Each case also run through lauscher's own LIF:
        //   s = np.zeros((50, 40)); s[0, :] = n/40; np.where(BushyCell()._lif(s, 24000))[0]
        // n = 74 → [0], 73 → [1], 10 → []; np.full((100, 40), 1000/40) → [0 25 50 75].
        let p = CochleaParams::default();
        // 74 fibre spikes at once: v = 74·325/24000 > 1, clipped to 1; the threshold is seen
        // on the next step, which records the spike at the step before (lauscher's
        // `spikes[step − 1]`).
        let mut input = vec![0u32; 50];
        input[0] = 74;
        assert_eq!(bushy_cell(&input, 24000.0, &p), [0]);
        // 73: v0 = 0.98854 stays below 1; the decayed current (73·e^{−1/12}) pushes v over at
        // step 1.
        input[0] = 73;
        assert_eq!(bushy_cell(&input, 24000.0, &p), [1]);
        // Saturating input: after a spike at s, the step s + 1 resets and starts 24 samples of
        // refractoriness (s + 1 … s + 24), so the next spike is at s + 25.
        assert_eq!(bushy_cell(&[1000; 100], 24000.0, &p), [0, 25, 50, 75]);
        // 10 spikes: v peaks near 0.41 and decays; no output.
        input[0] = 10;
        assert!(bushy_cell(&input, 24000.0, &p).is_empty());
    }
}
