//! Spoken digits from espeak-ng, and the little audio handling the chain needs: reading its
//! WAV output and band-limited resampling to the 48 kHz of the Heidelberg Digits recordings.

use std::path::Path;
use std::process::Command;

use rustfft::FftPlanner;
use rustfft::num_complex::Complex64;

use tasks::DataError;

/// The words of the 20 classes: English 0–9, then German 0–9 (SHD's order).
pub const WORDS: [&str; 20] = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "null", "eins", "zwei", "drei",
    "vier", "fünf", "sechs", "sieben", "acht", "neun",
];

/// The class names written to `/extra/keys`.
pub fn keys() -> Vec<String> {
    WORDS.iter().enumerate().map(|(i, w)| format!("{} {w}", if i < 10 { "english" } else { "german" })).collect()
}

/// How one utterance is spoken.
#[derive(Clone, Debug, PartialEq)]
pub struct Utterance {
    /// Class 0–19.
    pub label: u8,
    /// espeak-ng voice with variant, e.g. `en-us+m3`.
    pub voice: String,
    /// Words per minute (espeak-ng `-s`).
    pub speed: u32,
    /// Pitch 0–99 (`-p`).
    pub pitch: u32,
}

/// Speaks `utterance` with espeak-ng and returns (samples in [−1, 1], sample rate).
pub fn speak(espeak: &Path, utterance: &Utterance) -> Result<(Vec<f64>, u32), DataError> {
    let word = WORDS[utterance.label as usize];
    let output = Command::new(espeak)
        .args(["--stdout", "-v", &utterance.voice, "-s", &utterance.speed.to_string(), "-p"])
        .args([utterance.pitch.to_string().as_str(), word])
        .output()
        .map_err(|source| DataError::reading(espeak, "espeak-ng (Debian/Ubuntu: apt-get install espeak-ng)", source))?;
    if !output.status.success() {
        return Err(DataError::Corrupt {
            path: espeak.to_path_buf(),
            reason: format!(
                "espeak-ng failed for {word:?} with voice {}: {}",
                utterance.voice,
                String::from_utf8_lossy(&output.stderr).trim()
            ),
        });
    }
    read_wav(&output.stdout).map_err(|reason| DataError::Corrupt {
        path: espeak.to_path_buf(),
        reason: format!("its output for {word:?} ({}) is not a WAV espeak-ng writes: {reason}", utterance.voice),
    })
}

/// Reads 16-bit PCM mono WAV bytes. espeak-ng's `--stdout` header gives no real data size
/// (it streams), so the data chunk runs to the end of the bytes.
pub fn read_wav(bytes: &[u8]) -> Result<(Vec<f64>, u32), String> {
    if bytes.len() < 12 || &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return Err("no RIFF/WAVE header".into());
    }
    let u16_at = |i: usize| u16::from_le_bytes([bytes[i], bytes[i + 1]]);
    let u32_at = |i: usize| u32::from_le_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
    let mut at = 12;
    let mut format = None;
    while at + 8 <= bytes.len() {
        let (id, size) = (&bytes[at..at + 4], u32_at(at + 4) as usize);
        let body = at + 8;
        if id == b"fmt " {
            if body + 16 > bytes.len() {
                return Err("truncated fmt chunk".into());
            }
            format = Some((u16_at(body), u16_at(body + 2), u32_at(body + 4), u16_at(body + 14)));
        } else if id == b"data" {
            let Some((1, 1, rate, 16)) = format else {
                return Err(format!("expected 16-bit PCM mono, found (format, channels, rate, bits) {format:?}"));
            };
            let end = body.saturating_add(size).min(bytes.len());
            let samples = bytes[body..end]
                .chunks_exact(2)
                .map(|c| f64::from(i16::from_le_bytes([c[0], c[1]])) / 32768.0)
                .collect();
            return Ok((samples, rate));
        }
        at = body.saturating_add(size + (size & 1));
    }
    Err("no data chunk".into())
}

/// Samples of `samples` samples at `from` Hz resampled to `to` Hz (rounded up).
pub fn resampled_len(samples: usize, from: u32, to: u32) -> usize {
    (samples as u64 * u64::from(to)).div_ceil(u64::from(from)) as usize
}

/// Band-limited resampling by zero-padding or truncating the spectrum (`scipy.signal.resample`).
pub fn resample(wave: &[f64], from: u32, to: u32) -> Vec<f64> {
    if from == to || wave.is_empty() {
        return wave.to_vec();
    }
    let n = wave.len();
    let m = resampled_len(n, from, to);
    let mut planner = FftPlanner::new();
    let mut spectrum: Vec<Complex64> = wave.iter().map(|&x| Complex64::from(x)).collect();
    planner.plan_fft_forward(n).process(&mut spectrum);
    let mut out = vec![Complex64::default(); m];
    let keep = n.min(m);
    // Positive frequencies up to Nyquist of the shorter length, then the negative ones.
    let half = keep / 2;
    out[..=half.min(m - 1)].copy_from_slice(&spectrum[..=half.min(m - 1)]);
    for k in 1..keep - half {
        out[m - k] = spectrum[n - k];
    }
    if keep.is_multiple_of(2) && keep > 0 {
        // Split the shared Nyquist bin between the two sides, as scipy does.
        if m > n {
            out[half] = spectrum[half] * 0.5;
            out[m - half] = spectrum[n - half] * 0.5;
        } else {
            out[half] = spectrum[half];
        }
    }
    planner.plan_fft_inverse(m).process(&mut out);
    out.iter().map(|z| z.re / n as f64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resampling_keeps_a_sine_in_band() {
        // 500 Hz at 22050 Hz, 441 samples (ten whole periods), up to 48 kHz: 960 samples of
        // the same sine.
        let from: Vec<f64> =
            (0..441).map(|i| (2.0 * std::f64::consts::PI * 500.0 * i as f64 / 22050.0).sin()).collect();
        let up = resample(&from, 22050, 48000);
        assert_eq!(up.len(), 960);
        for (i, &y) in up.iter().enumerate() {
            let expected = (2.0 * std::f64::consts::PI * 500.0 * i as f64 / 48000.0).sin();
            assert!((y - expected).abs() < 1e-9, "sample {i}: {y} vs {expected}");
        }
    }

    #[test]
    fn wav_reader_takes_the_data_chunk_to_the_end_when_its_size_is_unknown() {
        let mut bytes = b"RIFF\xff\xff\xff\xffWAVEfmt ".to_vec();
        bytes.extend(16u32.to_le_bytes());
        bytes.extend(1u16.to_le_bytes()); // PCM
        bytes.extend(1u16.to_le_bytes()); // mono
        bytes.extend(22050u32.to_le_bytes());
        bytes.extend((22050u32 * 2).to_le_bytes());
        bytes.extend(2u16.to_le_bytes());
        bytes.extend(16u16.to_le_bytes());
        bytes.extend(b"data\xff\xff\xff\xff");
        bytes.extend([0x00, 0x40, 0x00, 0xc0]); // 16384, −16384
        let (samples, rate) = read_wav(&bytes).unwrap();
        assert_eq!((samples, rate), (vec![0.5, -0.5], 22050));
        assert!(read_wav(b"RIFF0000WAVE").unwrap_err().contains("no data chunk"));
    }
}
