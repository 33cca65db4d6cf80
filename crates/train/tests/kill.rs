//! `kill -9` at pseudo-random moments of a short run, then `train --resume`, again and again
//! until the run finishes: `metrics.csv` must hold every epoch exactly once with the numbers of
//! an uninterrupted run, and the final model must compute the same numbers, bit for bit. (Issue 20: 11 epochs
//! were lost in 30 kills before checkpoints and their metrics rows were committed together.)

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

/// Kills before the run is let finish.
const KILLS: usize = 10;

fn train(dir: &Path, runs: &str) -> Command {
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs/sine/rnn.toml");
    let mut command = Command::new(env!("CARGO_BIN_EXE_neurozoo"));
    command
        .args(["train", "--resume", "--device", "flex", "--config"])
        .arg(config)
        .args(["--set", "model.hidden_size=16", "--set", "training.epochs=40", "--set", "training.eval_every=5"])
        .args(["--set", "training.checkpoint_every=1", "--set", &format!("runs_dir={runs}")])
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    command
}

/// metrics.csv without its seconds column.
fn metrics(run: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
    text.lines().map(|l| l.rsplit_once(',').unwrap().0.to_string()).collect()
}

/// The final model's readout of every step on a fixed input. (Not the bytes of `model.bpk`: a
/// Burn record also stores each parameter's id, drawn afresh by every process.)
fn final_outputs(run: &Path) -> Vec<f32> {
    use burn::prelude::*;
    let device = Device::flex();
    let (_, model) = engine::model::load_checkpoint(&engine::model::resolve_checkpoint(run).unwrap(), &device).unwrap();
    let input: Vec<f32> = (0..3 * 100).map(|i| ((i * 37 % 101) as f32 / 101.0) - 0.3).collect();
    let x = Tensor::<3>::from_data(TensorData::new(input, [3, 100, 1]), &device);
    model.forward(x).into_data().convert::<f32>().try_into_vec().unwrap()
}

#[test]
fn random_kills_lose_and_repeat_no_epoch() {
    let tmp = tempfile::tempdir().unwrap();
    assert!(train(tmp.path(), "clean").status().unwrap().success());

    // SplitMix64: the kill moments, reproducible from the seed.
    let mut state = 0x5eed_u64;
    let mut next = || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let mut kills = 0;
    let mut finished_early = 0;
    for _ in 0..KILLS {
        let mut child = train(tmp.path(), "killed").spawn().unwrap();
        std::thread::sleep(Duration::from_millis(50 + next() % 450));
        match child.try_wait().unwrap() {
            Some(status) => {
                assert!(status.success(), "a resumed run failed: {status}");
                finished_early += 1;
            }
            None => {
                child.kill().unwrap(); // SIGKILL
                child.wait().unwrap();
                kills += 1;
            }
        }
    }
    assert!(kills >= KILLS / 2, "only {kills} of {KILLS} starts were killed: the run is too short to test");
    assert!(train(tmp.path(), "killed").status().unwrap().success(), "the final resume failed");
    eprintln!("{kills} kills, {finished_early} starts that finished on their own");

    let (clean, killed) = (tmp.path().join("clean/sine-rnn"), tmp.path().join("killed/sine-rnn"));
    let (expected, got) = (metrics(&clean), metrics(&killed));
    assert_eq!(expected.len(), 41, "a header and 40 epochs");
    assert_eq!(got, expected, "metrics.csv after {kills} kills differs from the uninterrupted run's");
    let (a, b) = (final_outputs(&killed), final_outputs(&clean));
    assert_eq!(a.len(), 3 * 100);
    assert!(a == b, "the final model differs after {kills} kills (its outputs on a fixed input)");
    // Nothing half-written is left behind.
    let is_temporary = |p: &String| Path::new(p).file_name().is_some_and(|n| n.to_string_lossy().starts_with(".tmp"));
    let strays: Vec<String> = walk(&killed).into_iter().filter(is_temporary).collect();
    assert!(strays.is_empty(), "temporary files left after the kills: {strays:?}");
}

fn walk(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(walk(&path));
        } else {
            found.push(path.display().to_string());
        }
    }
    found
}
