//! Pathfinder end to end: `neurozoo gen pathfinder` writes the release layout, a run trains on
//! it (with segment recomputation) and its summary says the data are synthetic; bad configs
//! and missing data get clear errors.

use std::path::Path;
use std::process::{Command, Output};

fn neurozoo(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_neurozoo")).args(args).current_dir(cwd).output().expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const RUN: &str = r#"
name = "pf"
seed = 1
device = "flex"

[model]
kind = "elm"
hidden_size = 6
dt = 1.0

[model.elm]
memory_tau_max = 100.0
learn_memory_tau = true

[task]
kind = "pathfinder"
data_dir = "data"
size = 32
levels = 16
train_limit = 8
test_limit = 3

[training]
epochs = 1
batch_size = 4
learning_rate = 0.01
eval_batch_size = 3
recompute_segment = 100
"#;

#[test]
fn generate_then_train_on_synthetic_pathfinder() {
    let dir = tempfile::tempdir().unwrap();
    let o = neurozoo(
        &[
            "gen",
            "pathfinder",
            "--size",
            "32",
            "--count",
            "20",
            "--per-folder",
            "8",
            "--out",
            "data",
            "--grid",
            "grid.png",
        ],
        dir.path(),
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(out.contains("wrote 20 SYNTHETIC Pathfinder images (10 connected)"), "{out}");
    let level = dir.path().join("data/pathfinder32/curv_contour_length_14");
    for file in ["metadata/0.npy", "metadata/2.npy", "imgs/2/sample_3.png", "generator.txt"] {
        assert!(level.join(file).is_file(), "{file}");
    }
    let grid = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(dir.path().join("grid.png")).unwrap()))
        .read_info()
        .unwrap();
    assert_eq!((grid.info().width, grid.info().height), (4 * 36, 4 * 36), "16 images of 32 + 4 px frames");

    std::fs::write(dir.path().join("run.toml"), RUN).unwrap();
    let o = neurozoo(&["train", "--config", "run.toml"], dir.path());
    assert!(o.status.success(), "{}", text(&o.stderr));
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("runs/pf/summary.json")).unwrap()).unwrap();
    let task = summary["task"].as_str().unwrap();
    assert!(task.contains("pathfinder32 hard") && task.contains("SYNTHETIC"), "{task}");
    // 20 images split 16/2/2: the test part has 2 (test_limit 3 does not add any).
    assert_eq!(summary["test"]["samples"], 2);
    let accuracy = summary["test"]["accuracy"].as_f64().unwrap();
    assert!([0.0, 0.5, 1.0].contains(&accuracy), "{accuracy}");

    let o = neurozoo(&["bench-data", "--config", "run.toml"], dir.path());
    assert!(o.status.success(), "{}", text(&o.stderr));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["split_items"], 8, "train_limit");
    assert_eq!(report["items"], 8);
}

#[test]
fn bad_pathfinder_configs_and_missing_data_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let check = |config: &str, expected: &[&str]| {
        std::fs::write(dir.path().join("bad.toml"), config).unwrap();
        let o = neurozoo(&["train", "--config", "bad.toml"], dir.path());
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{err}");
        assert!(!err.contains("panicked"), "{err}");
        for e in expected {
            assert!(err.contains(e), "stderr lacks {e:?}: {err}");
        }
    };
    check(&RUN.replace("size = 32", "size = 48"), &["task.size", "48"]);
    check(&RUN.replace("levels = 16", "levels = 1"), &["task.levels"]);
    check(
        &RUN.replace("recompute_segment = 100", "recompute_segment = 0"),
        &["training.recompute_segment", "at least 1"],
    );
    check(RUN, &["pathfinder32/curv_contour_length_14", "neurozoo gen pathfinder --size 32"]);
    let o = neurozoo(&["gen", "pathfinder", "--size", "48", "--count", "2", "--out", "x"], dir.path());
    assert!(text(&o.stderr).contains("--size 48"), "{}", text(&o.stderr));
}
