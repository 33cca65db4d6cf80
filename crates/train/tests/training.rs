//! Training end to end on a small subset of the real MNIST (fetched by the binary's own code
//! when missing): the loss falls, the run directory is complete, `--resume` continues exactly
//! as an uninterrupted run, and `eval` reproduces the final test numbers.

mod common;

use train::config::RunConfig;
use train::runner::{TrainOptions, read_metrics, train};

fn config(name: &str, runs: &std::path::Path, epochs: usize) -> RunConfig {
    let text = format!(
        r#"
name = "{name}"
seed = 7
device = "flex"
runs_dir = "{runs}"

[model]
kind = "glifr"
hidden_size = 32
num_ascs = 2
synaptic_delay_ms = 0.25

[task]
kind = "mnist"
sequence = "line"
data_dir = "{data}"
train_limit = 768
test_limit = 500

[training]
epochs = {epochs}
batch_size = 32
learning_rate = 0.01
eval_batch_size = 250
"#,
        runs = runs.display(),
        data = common::mnist_dir().display()
    );
    RunConfig::from_toml(&text, "test").unwrap()
}

#[test]
fn loss_falls_and_resume_is_exact() {
    let runs = tempfile::tempdir().unwrap();
    let quiet = TrainOptions { quiet: true, ..Default::default() };

    let full = train(&config("full", runs.path(), 3), &quiet).unwrap();
    let dir = runs.path().join("full");
    let metrics = read_metrics(&dir.join("metrics.csv")).unwrap();
    assert_eq!(metrics.len(), 3);
    assert!(
        metrics[2].train_loss < 0.8 * metrics[0].train_loss,
        "loss did not fall: {:?}",
        metrics.iter().map(|m| m.train_loss).collect::<Vec<_>>()
    );
    let accuracy = full.test.accuracy.unwrap();
    assert!(accuracy > 0.4, "test accuracy {accuracy} after 3 epochs (chance 0.1)");
    for file in ["config.toml", "metrics.csv", "summary.json", "learning_curves.png", "checkpoints/latest"] {
        assert!(dir.join(file).is_file(), "{file} missing");
    }
    assert_eq!(full.trainable_parameters, 32 * 32 + 32 * (28 + 10 + 6 + 2) + 10);

    // Interrupted after 2 epochs, then resumed to 3: the same numbers as the run above.
    let mut first = config("resumed", runs.path(), 2);
    train(&first, &quiet).unwrap();
    let again = train(&first, &quiet).unwrap_err().to_string();
    assert!(again.contains("--resume"), "{again}");
    let mut changed = first.clone();
    changed.training.learning_rate = 0.02;
    let err = train(&changed, &TrainOptions { resume: true, quiet: true, ..Default::default() }).unwrap_err();
    assert!(format!("{err:#}").contains("differs"), "{err:#}");
    first.training.epochs = 3;
    let resumed = train(&first, &TrainOptions { resume: true, quiet: true, ..Default::default() }).unwrap();
    let resumed_metrics = read_metrics(&runs.path().join("resumed/metrics.csv")).unwrap();
    assert_eq!(resumed_metrics.len(), 3);
    for (a, b) in metrics.iter().zip(&resumed_metrics) {
        assert_eq!(a.train_loss, b.train_loss, "epoch {}", a.epoch);
        assert_eq!(a.test_accuracy, b.test_accuracy, "epoch {}", a.epoch);
    }
    assert_eq!(resumed.test.accuracy, full.test.accuracy);

    let evaluation = train::predict::eval_run(&dir, Some("flex")).unwrap();
    assert_eq!(evaluation.accuracy, full.test.accuracy);
    assert!((evaluation.loss - full.test.loss).abs() < 1e-6);
}
