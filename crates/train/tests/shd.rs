//! SHD and SHD-Adding from a config through training, on the h5py-written fixture (three
//! recordings, one of them empty) installed as both the training and the test file.

use std::path::Path;

use engine::config::RunConfig;
use engine::data::{Part, TaskDataset, build_dataset};
use engine::runner::{TrainOptions, train};

fn config(runs: &Path, data: &Path, adding: bool) -> RunConfig {
    let text = format!(
        r#"
name = "shd-{adding}"
device = "flex"
runs_dir = "{runs}"

[model]
kind = "elm"
hidden_size = 4
dt = 100.0
input_dropout = 0.5

[task]
kind = "shd"
data_dir = "{data}"
bin_ms = 100.0
adding = {adding}
download = false
validation_fraction = 0.0
adding_train_pairs = 6
adding_eval_pairs = 4

[training]
epochs = 2
batch_size = 2
learning_rate = 0.005
optimizer = "adamax"
"#,
        runs = runs.display(),
        data = data.display()
    );
    RunConfig::from_toml(&text, "test").unwrap()
}

#[test]
fn shd_and_shd_adding_train_from_a_config() {
    let data = tempfile::tempdir().unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tasks/tests/fixtures/shd");
    // The gzip download as the training file, the plain file as the test file.
    std::fs::copy(fixture.join("shd_f16.h5.gz"), data.path().join("shd_train.h5.gz")).unwrap();
    std::fs::copy(fixture.join("shd_f16.h5"), data.path().join("shd_test.h5")).unwrap();
    let runs = tempfile::tempdir().unwrap();

    let digits = config(runs.path(), data.path(), false);
    assert_eq!((digits.task.io_sizes(), digits.task.sequence_length()), ((700, 20), 10));
    let TaskDataset::Shd(test) = build_dataset(&digits.task, Part::Test, 2).unwrap() else { panic!("not SHD") };
    use burn::data::dataset::Dataset;
    assert_eq!(test.len(), 3);
    // Sample 0 at 100 ms bins: three spikes on channel 5 and one on 699 in bin 0.
    let item = test.get(0).unwrap();
    assert_eq!((item.steps, item.features, item.input[5], item.input[699]), (10, 700, 3.0, 1.0));
    let summary = train(&digits, &TrainOptions { quiet: true, ..Default::default() }).unwrap();
    assert_eq!((summary.epochs, summary.test.samples), (2, 3));
    assert!(summary.test.loss.is_finite() && summary.task.starts_with("SHD,"), "{summary:?}");

    let adding = config(runs.path(), data.path(), true);
    assert_eq!((adding.task.io_sizes(), adding.task.sequence_length()), ((700, 19), 20));
    let summary = train(&adding, &TrainOptions { quiet: true, ..Default::default() }).unwrap();
    assert_eq!(summary.test.samples, 4);
    assert!(summary.task.starts_with("SHD-Adding"), "{}", summary.task);

    // Without the files (and without downloading), the error says where to put them.
    let empty = tempfile::tempdir().unwrap();
    let offline = RunConfig::from_toml(
        &toml::to_string(&config(runs.path(), empty.path(), false))
            .unwrap()
            .replace("download = true", "download = false"),
        "offline",
    )
    .unwrap();
    let e = build_dataset(&offline.task, Part::Train, 2).unwrap_err();
    let e = format!("{e:#}");
    assert!(e.contains("shd_train.h5") && e.contains("zenkelab.org"), "{e}");
}

#[test]
fn runs_on_shd_synthetic_say_so_in_name_and_summary() {
    use datagen::shd_write::{SpeakerInfo, write_shd};
    use tasks::shd::ShdFile;
    let data = tempfile::tempdir().unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tasks/tests/fixtures/shd/shd_f16.h5");
    let real = ShdFile::read(&fixture).unwrap();
    for part in ["train", "test"] {
        let path = data.path().join(format!("shd_{part}.h5"));
        let mark = [("dataset", datagen::shd_synth::DATASET_NAME)];
        write_shd(&path, &real.samples, &real.keys, &SpeakerInfo::default(), &mark).unwrap();
    }
    let runs = tempfile::tempdir().unwrap();
    // A name that does not say "synthetic" is refused before anything is written.
    let unnamed = config(runs.path(), data.path(), false);
    let e = format!("{:#}", train(&unnamed, &TrainOptions { quiet: true, ..Default::default() }).unwrap_err());
    assert!(e.contains("SHD-synthetic") && e.contains("name"), "{e}");
    assert!(!runs.path().join("shd-false").exists());
    // "synth" alone is not the name the README and the refusal ask for.
    let mut abbreviated = config(runs.path(), data.path(), false);
    abbreviated.name = "shd-synth".into();
    assert!(train(&abbreviated, &TrainOptions { quiet: true, ..Default::default() }).is_err());
    let mut named = config(runs.path(), data.path(), true);
    named.name = "shd-synthetic-adding".into();
    let summary = train(&named, &TrainOptions { quiet: true, ..Default::default() }).unwrap();
    assert!(summary.task.starts_with("SHD-synthetic-Adding (generated"), "{}", summary.task);
    assert_eq!(engine::runner::describe_task(&named, None), summary.task);
}
