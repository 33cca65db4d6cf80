//! NeuronIO end to end: the authors' evaluation of their released d_m = 10 model reproduced on
//! a file in their format (`scripts/make_neuronio_fixtures.py` ran their own code on it),
//! window stitching against a full-length forward pass, and training on the split layout.

use std::path::{Path, PathBuf};

use burn::prelude::*;
use engine::config::RunConfig;
use engine::model::build_model;
use paper::eval_neuronio::{NeuronioEvalOptions, eval_neuronio, file_predictions};
use tasks::neuronio::SimulationFile;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tasks/tests/fixtures/neuronio")
}

fn released(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/elmneuron-models/models").join(name)
}

fn npy_f64(path: &Path) -> Vec<f64> {
    npyz::NpyFile::new(std::fs::File::open(path).unwrap()).unwrap().into_vec::<f64>().unwrap()
}

#[test]
fn the_authors_evaluation_of_their_released_model_is_reproduced() {
    let dir = tempfile::tempdir().unwrap();
    let model_dir = released("num_memory_10");
    interop::import_elm::import_elmneuron(
        &model_dir.join("neuronio_best_model_state.pt"),
        &model_dir.join("model_config.json"),
        None,
        dir.path(),
    )
    .unwrap();
    let device = Device::flex();
    let eval = fixtures().join("eval");
    let report = eval_neuronio(dir.path(), &eval, NeuronioEvalOptions::default(), &device, true).unwrap();
    let expected: serde_json::Value =
        serde_json::from_slice(&std::fs::read(eval.join("expected.json")).unwrap()).unwrap();
    let ours = serde_json::to_value(&report.scores).unwrap();
    for key in ["AUC", "TP @ 0.0025 FP", "AUC @ 0.0025 FP", "TP @ 0.0100 FP", "AUC @ 0.0100 FP"] {
        let (a, b) = (ours[key].as_f64().unwrap(), expected[key].as_f64().unwrap());
        assert!((a - b).abs() < 1e-9, "{key}: ours {a}, the authors' {b}");
    }
    for key in ["soma_explained_variance_percent", "soma_RMSE", "soma_MAE"] {
        let (a, b) = (ours[key].as_f64().unwrap(), expected[key].as_f64().unwrap());
        assert!((a - b).abs() <= 1e-5 * b.abs().max(1.0), "{key}: ours {a}, the authors' {b}");
    }
    assert!(expected["AUC @ 0.0025 FP"].as_f64().unwrap() > 0.0, "the fixture exercises the partial AUC");
    // One simulation has 30 output spikes and is left out, as in the authors' filter.
    assert_eq!((report.scores.simulations_scored, report.scores.simulations_total), (3, 4));

    // The stitched, aligned traces themselves, step by step.
    let (saved, model) = engine::model::load_checkpoint(dir.path(), &device).unwrap();
    assert_eq!(saved.model.input_size, Some(1278));
    let file = SimulationFile::read(&eval.join("Data_test/sim__eval.p")).unwrap();
    let p = file_predictions(&model.valid(), &file, &NeuronioEvalOptions::default(), &device).unwrap();
    let spikes = npy_f64(&eval.join("expected_spikes_hat.npy"));
    let soma = npy_f64(&eval.join("expected_soma_hat.npy"));
    let ours_spikes: Vec<f64> = p.spike_predicted.concat();
    let ours_soma: Vec<f64> = p.soma_predicted.concat();
    let worst = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max);
    assert!(worst(&ours_spikes, &spikes) < 1e-7, "spike probabilities differ by {}", worst(&ours_spikes, &spikes));
    assert!(worst(&ours_soma, &soma) < 1e-4, "soma (mV) differs by {}", worst(&ours_soma, &soma));
}

fn short_memory_elm(runs: &Path, data: &Path, segments: usize) -> RunConfig {
    let text = format!(
        r#"
name = "neuronio-test"
seed = 3
device = "flex"
runs_dir = "{runs}"

[model]
kind = "elm"
hidden_size = 6
dt = 1.0

[model.elm]
memory_tau_min = 1.0
memory_tau_max = 4.0
synapse_tau = 2.0
{routing}

[task]
kind = "neuronio"
data_dir = "{data}"
segments = {segments}
window = 100
batches_per_epoch = 12
valid_batches = 2

[training]
epochs = 2
batch_size = 4
eval_batch_size = 4
learning_rate = 0.005
lr_schedule = "cosine"
"#,
        runs = runs.display(),
        data = data.display(),
        // The small layout files have 8 channels: 3 branches of 4 synapses cover them.
        routing = if segments == 4 { "num_branch = 3\nsynapses_per_branch = 4\nrouting = \"neuronio\"" } else { "" }
    );
    RunConfig::from_toml(&text, "test").unwrap()
}

#[test]
fn stitched_windows_equal_a_full_length_pass_when_memory_is_short() {
    // With every time constant at most 4 ms, 150 steps of burn-in forget the state a window
    // starts without (e^{-150/4} ≈ 5e-17): stitched windows must equal one pass over all 1000 ms,
    // and any off-by-one in which steps come from which window would show.
    let runs = tempfile::tempdir().unwrap();
    let config = short_memory_elm(runs.path(), &fixtures().join("layout"), 639);
    let device = Device::flex();
    // The per-step path: this test is about window stitching, and the fused op's GEMMs sum
    // in an order that depends on the batch size (windows vs whole sequences), which over
    // long windows moved the soma beyond this test's 1e-4 (not yet measured how far).
    let mut resolved = config.resolved_model();
    resolved.fused = false;
    let model = build_model(&resolved, 11, &device).unwrap();
    let file = SimulationFile::read(&fixtures().join("eval/Data_test/sim__eval.p")).unwrap();
    let p =
        file_predictions(&model, &file, &NeuronioEvalOptions { batch_size: 3, ..Default::default() }, &device).unwrap();

    let (sims, steps, channels) = (file.simulations.len(), file.duration_ms, file.channels());
    let mut input = vec![0.0f32; sims * steps * channels];
    for s in 0..sims {
        file.write_inputs(s, 0, steps, &mut input[s * steps * channels..(s + 1) * steps * channels]);
    }
    let out: Vec<f32> = model
        .forward(Tensor::<3>::from_data(TensorData::new(input, [sims, steps, channels]), &device))
        .into_data()
        .convert::<f32>()
        .try_into_vec()
        .unwrap();
    let mut full_soma: Vec<Vec<f64>> = vec![Vec::new(); sims];
    for s in 0..sims {
        for t in 0..steps {
            let o = &out[(s * steps + t) * 2..(s * steps + t) * 2 + 2];
            let spike = f64::from(1.0 / (1.0 + (-o[0]).exp()));
            assert!(
                (p.spike_predicted[s][t] - spike).abs() < 1e-6,
                "sim {s} step {t}: {} vs {spike}",
                p.spike_predicted[s][t]
            );
            full_soma[s].push(f64::from(o[1] * 10.0));
        }
    }
    tasks::neuronio::metrics::align_soma(&mut full_soma, &p.soma_truth);
    // Relative to the soma's size (tens of mV): the windows' and the full pass's products sum
    // in different orders, and Flex's threading may split them differently from run to run
    // (an absolute 1e-4 failed once in CI, and 1e-5 relative by 1.0e-4 at 8.3 mV, with the
    // cores shared); a stitching error is of order one, 1,000 times this bound.
    for s in 0..sims {
        for t in 0..steps {
            let (got, want) = (p.soma_predicted[s][t], full_soma[s][t]);
            assert!((got - want).abs() <= 1e-4 * want.abs().max(10.0), "soma sim {s} step {t}: {got} vs {want}");
        }
    }
}

#[test]
fn a_branch_elm_trains_on_the_split_layout_and_is_evaluated() {
    let runs = tempfile::tempdir().unwrap();
    let config = short_memory_elm(runs.path(), &fixtures().join("layout"), 4);
    let options = engine::runner::TrainOptions { device: None, resume: false, quiet: true };
    let summary = engine::runner::train(&config, &options).unwrap();
    let records = engine::metrics::read_metrics(&config.run_dir().join("metrics.csv")).unwrap();
    assert_eq!(records.len(), 2);
    // 0.5·BCE + 0.5·MSE is positive and finite; the validation windows are the same each epoch,
    // so the two epochs' validation losses differ only through training.
    for r in &records {
        assert!(r.train_loss.is_finite() && r.train_loss > 0.0);
        assert!(r.test_loss.unwrap().is_finite());
    }
    assert!(records[1].test_loss.unwrap() < records[0].test_loss.unwrap(), "{records:?}");
    assert_eq!(summary.test.samples, 2 * 4, "valid_batches × eval_batch_size windows");
    // The trained checkpoint goes through the authors' evaluation on the test folder.
    let report = eval_neuronio(
        &config.run_dir(),
        &fixtures().join("layout"),
        NeuronioEvalOptions { window: 200, burn_in: 50, ..Default::default() },
        &Device::flex(),
        true,
    )
    .unwrap();
    assert_eq!(report.files.len(), 1);
    assert!(report.files[0].ends_with("Data_test/sim__test.p"));
    assert!(report.scores.auc.is_finite() && report.scores.soma_rmse.is_finite());
}

#[test]
fn the_loss_is_half_bce_half_mse() {
    // Two steps: logits (0, 2), spike targets (1, 0); soma outputs (1, 3), targets (0, 3).
    // BCE: [ln 2, 2 + ln(1 + e^-2)] mean = (0.693147 + 2.126928) / 2 = 1.410038
    // MSE: [1, 0] mean = 0.5 → loss 0.5·1.410038 + 0.5·0.5 = 0.955019
    let device = Device::flex();
    let output = Tensor::<3>::from_data(TensorData::new(vec![0.0f32, 1.0, 2.0, 3.0], [1, 2, 2]), &device);
    let target = Tensor::<3>::from_data(TensorData::new(vec![1.0f32, 0.0, 0.0, 3.0], [1, 2, 2]), &device);
    let loss: f64 = engine::loss::spike_and_soma_loss(output, target).into_scalar::<f64>();
    let bce = (2f64.ln() + 2.0 + (1.0 + (-2f64).exp()).ln()) / 2.0;
    assert!((loss - (0.5 * bce + 0.25)).abs() < 1e-6, "{loss}");
}

#[test]
fn the_cli_reports_errors_for_missing_data() {
    let runs = tempfile::tempdir().unwrap();
    let config = short_memory_elm(runs.path(), &runs.path().join("nowhere"), 4);
    let options = engine::runner::TrainOptions { device: None, resume: false, quiet: true };
    let e = format!("{:#}", engine::runner::train(&config, &options).unwrap_err());
    assert!(e.contains("NeuronIO is not in") && e.contains("full_ergodic_train_batch"), "{e}");
}
