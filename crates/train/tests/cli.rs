//! The `neurozoo` binary end to end: import → predict reproduces the golden readout, and bad
//! input gets a clear one-line error (exit 1, no panic).

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{assert_forward_close, golden_cases};
use interop::npy::{read_npy, write_npy};

fn neurozoo(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_neurozoo"))
        .args(args)
        .current_dir(cwd)
        .env("BURN_DEVICE", "flex")
        .output()
        .expect("the binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn assert_clean_failure(o: &Output, expected: &[&str]) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(1), "exit code; stderr: {err}");
    assert!(!err.contains("panicked") && !err.contains("RUST_BACKTRACE"), "a panic: {err}");
    for e in expected {
        assert!(err.contains(e), "stderr lacks {e:?}: {err}");
    }
}

/// `neurozoo import --from elmneuron --state STATE --config CONFIG --out OUT`, run in `cwd`.
fn import_elmneuron(state: &Path, config: &Path, out: &str, cwd: &Path) -> Output {
    neurozoo(
        &[
            "import",
            "--from",
            "elmneuron",
            "--state",
            state.to_str().unwrap(),
            "--config",
            config.to_str().unwrap(),
            "--out",
            out,
        ],
        cwd,
    )
}

#[test]
fn import_then_predict_reproduces_every_golden_case() {
    let tmp = tempfile::tempdir().unwrap();
    for case in golden_cases("glifr") {
        let out = tmp.path().join(case.file_name().unwrap());
        let ckpt = case.join("model.ckpt");
        let o = neurozoo(
            &["import", "--from", "glifs-asc", "--checkpoint", ckpt.to_str().unwrap(), "--out", out.to_str().unwrap()],
            tmp.path(),
        );
        assert!(o.status.success(), "import: {}", stderr(&o));
        let y = out.join("y.npy");
        let v = out.join("v.npy");
        let o = neurozoo(
            &[
                "predict",
                "--device",
                "flex",
                "--checkpoint",
                out.to_str().unwrap(),
                "--input",
                case.join("x.npy").to_str().unwrap(),
                "--output",
                y.to_str().unwrap(),
                "--voltage",
                v.to_str().unwrap(),
            ],
            tmp.path(),
        );
        assert!(o.status.success(), "predict: {}", stderr(&o));
        for (ours, theirs) in [(y, "y.npy"), (v, "voltage.npy")] {
            let ours = read_npy(&ours).unwrap();
            let reference = read_npy(&case.join(theirs)).unwrap();
            assert_eq!(ours.shape, reference.shape);
            assert_forward_close(&format!("{} {theirs}", case.display()), &ours.data, &reference);
        }
    }
}

#[test]
fn bad_inputs_give_clear_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let case = &golden_cases("glifr")[0];
    let out = tmp.path().join("model");
    let ckpt = case.join("model.ckpt");
    assert!(
        neurozoo(
            &["import", "--from", "glifs-asc", "--checkpoint", ckpt.to_str().unwrap(), "--out", "model"],
            tmp.path()
        )
        .status
        .success()
    );

    // An import never replaces a folder that holds files (a run's checkpoint) without --force.
    let import_again = |extra: &[&str]| {
        let mut args = vec!["import", "--from", "glifs-asc", "--checkpoint", ckpt.to_str().unwrap(), "--out", "model"];
        args.extend_from_slice(extra);
        neurozoo(&args, tmp.path())
    };
    assert_clean_failure(&import_again(&[]), &["model already holds files", "--force"]);
    assert!(import_again(&["--force"]).status.success());

    // Outputs never replace the input, nor an existing file without --force.
    std::fs::copy(case.join("x.npy"), tmp.path().join("good.npy")).unwrap();
    let predict = |output: &str, extra: &[&str]| {
        let mut args = vec!["predict", "--checkpoint", "model", "--input", "good.npy", "--output", output];
        args.extend_from_slice(extra);
        neurozoo(&args, tmp.path())
    };
    assert_clean_failure(&predict("good.npy", &[]), &["good.npy is the input"]);
    assert_clean_failure(&predict("./good.npy", &["--force"]), &["is the input"]);
    assert_clean_failure(&predict("p.npy", &["--voltage", "p.npy"]), &["two outputs"]);
    assert!(predict("p.npy", &[]).status.success());
    assert_clean_failure(&predict("p.npy", &[]), &["p.npy exists", "--force"]);
    assert!(predict("p.npy", &["--force"]).status.success());
    assert_eq!(read_npy(&tmp.path().join("good.npy")).unwrap().shape, read_npy(&case.join("x.npy")).unwrap().shape);

    // Wrong input width.
    let x = tmp.path().join("x.npy");
    write_npy(&x, &[1, 5, 99], &vec![0.0; 5 * 99]).unwrap();
    let o = neurozoo(
        &["predict", "--checkpoint", "model", "--input", "x.npy", "--output", "y.npy", "--device", "flex"],
        tmp.path(),
    );
    assert_clean_failure(&o, &["x.npy", "[1, 5, 99]", "expects [batch, steps,"]);
    assert!(!tmp.path().join("y.npy").exists());

    // A NaN inside an otherwise good input is named with its index.
    let mut values = read_npy(&case.join("x.npy")).unwrap();
    values.data[values.shape[2] + 1] = f32::NAN;
    write_npy(&tmp.path().join("nan.npy"), &values.shape, &values.data).unwrap();
    let o = neurozoo(&["predict", "--checkpoint", "model", "--input", "nan.npy", "--output", "n.npy"], tmp.path());
    assert_clean_failure(&o, &["nan.npy holds NaN at [0, 1, 1]", "finite"]);
    assert!(!tmp.path().join("n.npy").exists());

    // Truncated input file.
    std::fs::write(&x, b"\x93NUMPY").unwrap();
    let o = neurozoo(
        &["predict", "--checkpoint", "model", "--input", "x.npy", "--output", "y.npy", "--device", "flex"],
        tmp.path(),
    );
    assert_clean_failure(&o, &["x.npy"]);

    // Missing and corrupt checkpoints.
    let o = neurozoo(&["import", "--from", "glifs-asc", "--checkpoint", "nope.ckpt", "--out", "m2"], tmp.path());
    assert_clean_failure(&o, &["nope.ckpt"]);
    let bad = tmp.path().join("bad.ckpt");
    let bytes = std::fs::read(&ckpt).unwrap();
    std::fs::write(&bad, &bytes[..bytes.len() / 2]).unwrap();
    let o = neurozoo(&["import", "--from", "glifs-asc", "--checkpoint", "bad.ckpt", "--out", "m3"], tmp.path());
    assert_clean_failure(&o, &["bad.ckpt"]);
    let o = neurozoo(
        &["predict", "--checkpoint", "m3", "--input", "x.npy", "--output", "y.npy", "--device", "flex"],
        tmp.path(),
    );
    assert_clean_failure(&o, &["m3"]);

    // A config with an unknown key, and a device this build lacks.
    std::fs::write(tmp.path().join("c.toml"), "name = \"x\"\nsed = 1\n").unwrap();
    let o = neurozoo(&["train", "--config", "c.toml"], tmp.path());
    assert_clean_failure(&o, &["c.toml", "unknown field `sed`"]);
    let o = neurozoo(
        &["predict", "--checkpoint", "model", "--input", "x.npy", "--output", "y.npy", "--device", "tpu"],
        tmp.path(),
    );
    assert_clean_failure(&o, &["tpu"]);
    assert!(out.join("model.toml").is_file());
}

/// The released NeuronIO model in the golden set, imported through the binary, predicts the
/// reference readout; `info` prints the reference parameter count of that model's shape.
#[test]
fn elmneuron_import_predict_and_info() {
    let case = common::golden_root().join("elm/neuronio-dm10");
    let tmp = tempfile::tempdir().unwrap();
    let o = import_elmneuron(&case.join("model_state.pt"), &case.join("model_config.json"), "elm", tmp.path());
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("5852 trainable parameters"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    let o = neurozoo(
        &[
            "predict",
            "--checkpoint",
            "elm",
            "--input",
            case.join("x.npy").to_str().unwrap(),
            "--output",
            "y.npy",
            "--memory",
            "m.npy",
            "--device",
            "flex",
        ],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let ours = interop::npy::read_npy(&tmp.path().join("y.npy")).unwrap();
    let reference = interop::npy::read_npy(&case.join("y.npy")).unwrap();
    assert_forward_close("neuronio-dm10 via the binary", &ours.data, &reference);
    assert_eq!(interop::npy::read_npy(&tmp.path().join("m.npy")).unwrap().shape, vec![2, 120, 10]);
    let o = neurozoo(
        &[
            "predict",
            "--checkpoint",
            "elm",
            "--input",
            case.join("x.npy").to_str().unwrap(),
            "--output",
            "y2.npy",
            "--voltage",
            "v.npy",
            "--device",
            "flex",
        ],
        tmp.path(),
    );
    assert_clean_failure(&o, &["--voltage needs a GLIFR model"]);
    let o = neurozoo(
        &["import", "--from", "elmneuron", "--state", case.join("model_state.pt").to_str().unwrap(), "--out", "x"],
        tmp.path(),
    );
    assert_clean_failure(&o, &["--config"]);

    let root = common::workspace_root();
    let o = neurozoo(&["info", "--config", "configs/bench/branch-elm-neuronio-dm20.toml"], &root);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("trainable parameters: 8002"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
}

/// All 15 released NeuronIO models through `import` and `info --checkpoint`: the parameter
/// counts of the authors' table (spec elm.md §3.1; the best model 54,002).
#[test]
fn released_models_import_and_info_prints_the_authors_parameter_counts() {
    let models = common::workspace_root().join("../shared/elmneuron-models/models");
    let table = [
        ("num_memory_1", 4601),
        ("num_memory_2", 4708),
        ("num_memory_3", 4823),
        ("num_memory_5", 5077),
        ("num_memory_7", 5363),
        ("num_memory_10", 5852),
        ("num_memory_15", 6827),
        ("num_memory_20", 8002),
        ("num_memory_25", 9377),
        ("num_memory_30", 10952),
        ("num_memory_40", 14702),
        ("num_memory_50", 19252),
        ("num_memory_75", 34127),
        ("num_memory_100", 54002),
        ("best_elm_neuron", 54002),
    ];
    let tmp = tempfile::tempdir().unwrap();
    for (name, params) in table {
        let dir = models.join(name);
        let o = import_elmneuron(
            &dir.join("neuronio_best_model_state.pt"),
            &dir.join("model_config.json"),
            name,
            tmp.path(),
        );
        assert!(o.status.success(), "{name}: {}", stderr(&o));
        let o = neurozoo(&["info", "--checkpoint", name], tmp.path());
        assert!(o.status.success(), "{name}: {}", stderr(&o));
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(out.contains(&format!("trainable parameters: {params}\n")), "{name}: {out}");
    }
}

#[test]
fn eval_neuronio_writes_its_report_and_refuses_bad_data() {
    let root = common::workspace_root();
    let fixtures = root.join("crates/tasks/tests/fixtures/neuronio");
    let tmp = tempfile::tempdir().unwrap();
    let model = root.join("../shared/elmneuron-models/models/num_memory_10");
    let o = import_elmneuron(
        &model.join("neuronio_best_model_state.pt"),
        &model.join("model_config.json"),
        "m10",
        tmp.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let data = fixtures.join("eval");
    let o = neurozoo(
        &[
            "eval-neuronio",
            "--checkpoint",
            "m10",
            "--data",
            data.to_str().unwrap(),
            "--out",
            "r.json",
            "--device",
            "flex",
        ],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(tmp.path().join("r.json")).unwrap()).unwrap();
    let expected: serde_json::Value =
        serde_json::from_slice(&std::fs::read(data.join("expected.json")).unwrap()).unwrap();
    assert!((report["AUC"].as_f64().unwrap() - expected["AUC"].as_f64().unwrap()).abs() < 1e-9);

    // A folder without simulation files, a truncated file, a model of the wrong input size.
    let o = neurozoo(&["eval-neuronio", "--checkpoint", "m10", "--data", ".", "--device", "flex"], tmp.path());
    assert_clean_failure(&o, &["no simulation file", "sim__"]);
    let bytes = std::fs::read(data.join("Data_test/sim__eval.p")).unwrap();
    std::fs::write(tmp.path().join("sim__cut.p"), &bytes[..bytes.len() - 1000]).unwrap();
    let o = neurozoo(&["eval-neuronio", "--checkpoint", "m10", "--data", "sim__cut.p", "--device", "flex"], tmp.path());
    assert_clean_failure(&o, &["sim__cut.p is corrupt"]);
    let small = fixtures.join("layout/Data_test/sim__test.p");
    let o = neurozoo(
        &["eval-neuronio", "--checkpoint", "m10", "--data", small.to_str().unwrap(), "--device", "flex"],
        tmp.path(),
    );
    assert_clean_failure(&o, &["8 input channels", "takes 1278"]);
}

/// Every file `neurozoo grads` wrote in `out` against the case's `grads/` (same names, shapes,
/// values within 1e-4 of the largest) and its loss against `case.json`.
fn assert_grads_match_case(out: &Path, case: &Path) {
    let loss: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("loss.json")).unwrap()).unwrap();
    let reference_loss = common::case_json(case)["loss"].as_f64().unwrap();
    let loss = loss["loss"].as_f64().unwrap();
    assert!((loss - reference_loss).abs() <= 1e-5 * reference_loss.abs().max(1.0), "loss {loss} vs {reference_loss}");
    let mut reference_names: Vec<_> =
        std::fs::read_dir(case.join("grads")).unwrap().map(|e| e.unwrap().file_name()).collect();
    let mut written: Vec<_> = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_str().unwrap().ends_with(".npy"))
        .collect();
    reference_names.sort();
    written.sort();
    assert_eq!(written, reference_names, "{}: the files written", case.display());
    for name in written {
        let ours = read_npy(&out.join(&name)).unwrap();
        let reference = read_npy(&case.join("grads").join(&name)).unwrap();
        assert_eq!(ours.shape, reference.shape, "{name:?}");
        let scale = common::max_abs(&reference.data);
        let diff = common::max_abs_diff(&ours.data, &reference.data);
        assert!(diff <= 1e-4 * scale + 1e-8, "{} {name:?}: {diff:e} (scale {scale:e})", case.display());
    }
}

/// `neurozoo grads` on an imported GLIFS_ASC case and an elmneuron case writes the reference's
/// loss and gradients under the authors' state_dict names; bad labels and an occupied output
/// folder get one-line errors.
#[test]
fn grads_writes_the_reference_gradients_under_the_authors_names() {
    let tmp = tempfile::tempdir().unwrap();
    let glifr_case = golden_cases("glifr").into_iter().find(|c| c.join("grads").is_dir()).unwrap();
    let ckpt = glifr_case.join("model.ckpt");
    let o =
        neurozoo(&["import", "--from", "glifs-asc", "--checkpoint", ckpt.to_str().unwrap(), "--out", "g"], tmp.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let x = glifr_case.join("x.npy");
    let labels = glifr_case.join("labels.npy");
    let grads = |extra: &[&str], out: &str, labels: &Path| {
        let mut args = vec!["grads", "--checkpoint", "g", "--input", x.to_str().unwrap()];
        args.extend(["--labels", labels.to_str().unwrap(), "--out", out, "--device", "flex"]);
        args.extend(extra);
        neurozoo(&args, tmp.path())
    };
    for (extra, out) in [(&[][..], "fused"), (&["--per-step"][..], "per-step")] {
        let o = grads(extra, out, &labels);
        assert!(o.status.success(), "{}", stderr(&o));
        assert_grads_match_case(&tmp.path().join(out), &glifr_case);
    }
    // Integer labels give the same loss; an occupied folder needs --force.
    let as_int = tmp.path().join("labels_i64.npy");
    let float_labels = read_npy(&labels).unwrap();
    let mut bytes = Vec::new();
    {
        use npyz::WriterBuilder;
        let mut w = npyz::WriteOptions::new()
            .default_dtype()
            .shape(&[float_labels.data.len() as u64])
            .writer(&mut bytes)
            .begin_nd()
            .unwrap();
        w.extend(float_labels.data.iter().map(|&l| l as i64)).unwrap();
        w.finish().unwrap();
    }
    std::fs::write(&as_int, bytes).unwrap();
    assert_clean_failure(&grads(&[], "fused", &as_int), &["fused", "--force"]);
    let o = grads(&["--force"], "fused", &as_int);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_grads_match_case(&tmp.path().join("fused"), &glifr_case);
    let bad = tmp.path().join("bad_labels.npy");
    write_npy(&bad, &[float_labels.data.len()], &vec![99.0; float_labels.data.len()]).unwrap();
    assert_clean_failure(&grads(&[], "bad", &bad), &["bad_labels.npy", "label 0 is 99", "outputs"]);
    assert!(!tmp.path().join("bad").exists());

    let elm_case = common::golden_root().join("elm/vanilla-v1");
    let o = import_elmneuron(&elm_case.join("model_state.pt"), &elm_case.join("model_config.json"), "e", tmp.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let o = neurozoo(
        &[
            "grads",
            "--checkpoint",
            "e",
            "--input",
            elm_case.join("x.npy").to_str().unwrap(),
            "--labels",
            elm_case.join("labels.npy").to_str().unwrap(),
            "--out",
            "elm-grads",
            "--device",
            "flex",
        ],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_grads_match_case(&tmp.path().join("elm-grads"), &elm_case);
}

/// A run whose loss diverges (learning rate 1e20) stops at the batch where the loss stops
/// being finite, with a one-line error naming the epoch and batch (it used to hang in the plot
/// after epoch 1; `plot`'s own test bounds that in time).
#[test]
fn a_diverging_run_stops_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let config = r#"
name = "diverges"
runs_dir = "runs"
[model]
kind = "glifr"
hidden_size = 8
[task]
kind = "sine"
steps = 20
[training]
epochs = 50
batch_size = 6
learning_rate = 1e20
eval_batch_size = 6
"#;
    std::fs::write(dir.path().join("run.toml"), config).unwrap();
    let o = neurozoo(&["train", "--config", "run.toml"], dir.path());
    assert_clean_failure(&o, &["training loss became", "epoch", "batch", "learning rate"]);
    // Epoch 1 (one batch) was finite and is checkpointed; that checkpoint stays `latest`.
    assert!(stderr(&o).contains("epoch 2"), "{}", stderr(&o));
    let latest = std::fs::read_to_string(dir.path().join("runs/diverges/checkpoints/latest")).unwrap();
    assert_eq!(latest.trim(), "epoch-0001");

    // The same run checkpointing every 5 epochs fails before its first checkpoint: it leaves
    // no folder behind.
    let early = config.replace("diverges", "early") + "checkpoint_every = 5\n";
    std::fs::write(dir.path().join("early.toml"), early).unwrap();
    let o = neurozoo(&["train", "--config", "early.toml"], dir.path());
    assert_clean_failure(&o, &["training loss became"]);
    assert!(!dir.path().join("runs/early").exists(), "a failed start leaves its folder");
}
