//! Mutation fuzzing of every reader of user-supplied files (issue 20): each starts from a valid
//! file, applies a few random mutations (bit flips, bytes set to boundary values, truncation,
//! deletion, insertion, duplicated chunks, and for text formats tokens such as `nan`, `-1`,
//! `1e309` or `[]` spliced in) and reads the result. The reader may accept or refuse it, but must
//! not panic, abort or hang, and a refusal must name the file it refuses.
//!
//! proptest drives the mutations with a fixed seed, so a CI failure reproduces locally; on a
//! failure it shrinks the mutation list to the fewest mutations that still fail and prints it.
//! `NEUROZOO_FUZZ_CASES` sets the inputs per reader (default below), `NEUROZOO_FUZZ_SEED`
//! another seed, to explore beyond what CI sees; `NEUROZOO_FUZZ_DUMP=<folder>` writes each
//! reader's slowest input there.

use std::path::{Path, PathBuf};

use burn::prelude::Device;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

mod common;

/// One change to a file's bytes.
#[derive(Clone, Debug)]
enum Mutation {
    FlipBit(Index, u8),
    SetByte(Index, u8),
    /// A 1/2/4/8-byte little- or big-endian boundary value (0, 1, -1, i32::MAX, …), where
    /// lengths, counts and offsets live in binary headers.
    Boundary(Index, usize, u64, bool),
    Truncate(Index),
    Delete(Index, usize),
    Insert(Index, Vec<u8>),
    Duplicate(Index, usize, Index),
    /// Replaces up to `n` bytes by a token that text formats read as a number or structure.
    Token(Index, usize, &'static str),
}

const BOUNDARIES: [u64; 9] = [0, 1, 0x7f, 0x80, 0xff, 0x7fff_ffff, 0x8000_0000, u64::MAX, 1 << 40];
const TOKENS: [&str; 24] = [
    "0",
    "-1",
    "1e309",
    "-1e309",
    "nan",
    ".nan",
    "NaN",
    "inf",
    "-inf",
    "1e12",
    "4294967296",
    "18446744073709551616",
    "\"\"",
    "\"abc\"",
    "[]",
    "{}",
    "null",
    "true",
    "\n",
    "=",
    ":",
    "[[",
    "\u{fffd}",
    "0.0",
];

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<Index>(), 0u8..8).prop_map(|(i, b)| Mutation::FlipBit(i, b)),
        (any::<Index>(), any::<u8>()).prop_map(|(i, v)| Mutation::SetByte(i, v)),
        (
            any::<Index>(),
            prop::sample::select(vec![1usize, 2, 4, 8]),
            prop::sample::select(BOUNDARIES.to_vec()),
            any::<bool>()
        )
            .prop_map(|(i, w, v, big)| Mutation::Boundary(i, w, v, big)),
        any::<Index>().prop_map(Mutation::Truncate),
        (any::<Index>(), 1usize..64).prop_map(|(i, n)| Mutation::Delete(i, n)),
        (any::<Index>(), prop::collection::vec(any::<u8>(), 1..16)).prop_map(|(i, b)| Mutation::Insert(i, b)),
        (any::<Index>(), 1usize..256, any::<Index>()).prop_map(|(from, n, to)| Mutation::Duplicate(from, n, to)),
        (any::<Index>(), 0usize..8, prop::sample::select(TOKENS.to_vec()))
            .prop_map(|(i, n, t)| Mutation::Token(i, n, t)),
    ]
}

/// A position in `0..=len`.
fn at(index: &Index, len: usize) -> usize {
    index.index(len + 1)
}

fn apply(bytes: &mut Vec<u8>, mutation: &Mutation) {
    let len = bytes.len();
    match mutation {
        Mutation::FlipBit(i, bit) if len > 0 => bytes[i.index(len)] ^= 1 << bit,
        Mutation::SetByte(i, value) if len > 0 => bytes[i.index(len)] = *value,
        Mutation::Boundary(i, width, value, big) => {
            let start = at(i, len).min(len.saturating_sub(*width));
            let encoded = if *big { value.to_be_bytes() } else { value.to_le_bytes() };
            let encoded = if *big { &encoded[8 - width..] } else { &encoded[..*width] };
            let end = (start + width).min(len);
            bytes.splice(start..end, encoded.iter().copied());
        }
        Mutation::Truncate(i) => bytes.truncate(at(i, len)),
        Mutation::Delete(i, n) => {
            let start = at(i, len);
            bytes.drain(start..(start + n).min(len));
        }
        Mutation::Insert(i, new) => {
            let start = at(i, len);
            bytes.splice(start..start, new.iter().copied());
        }
        Mutation::Duplicate(from, n, to) => {
            let start = at(from, len);
            let chunk = bytes[start..(start + n).min(len)].to_vec();
            let to = at(to, len);
            bytes.splice(to..to, chunk);
        }
        Mutation::Token(i, n, token) => {
            let start = at(i, len);
            bytes.splice(start..(start + n).min(len), token.bytes());
        }
        _ => {}
    }
}

/// How many mutated inputs each reader sees.
fn cases(default: u32) -> u32 {
    std::env::var("NEUROZOO_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Runs `read` on `cases` mutations of one of `seeds` (chosen per case; `read` gets its index
/// and the bytes). `read` returns the refusal's message, or `None` when the input was accepted;
/// a refusal must contain `names`.
fn fuzz(
    reader: &str,
    seeds: &[Vec<u8>],
    default_cases: u32,
    names: &str,
    read: impl Fn(usize, &[u8]) -> Option<String>,
) {
    assert!(!seeds.is_empty() && seeds.iter().all(|s| !s.is_empty()), "{reader}: no seed input");
    let seed: u64 = std::env::var("NEUROZOO_FUZZ_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(20);
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    key[8..8 + reader.len().min(24)].copy_from_slice(&reader.as_bytes()[..reader.len().min(24)]);
    let config =
        Config { cases: cases(default_cases), failure_persistence: None, max_shrink_iters: 2000, ..Config::default() };
    let mut runner = TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &key));
    let strategy = (0..seeds.len(), prop::collection::vec(mutation(), 1..6));
    let (accepted, refused) = (std::cell::Cell::new(0u32), std::cell::Cell::new(0u32));
    // The slowest input, reported (not asserted: timings are no test's business) so that a
    // reader that crawls on some input shows up in the log.
    let slowest = std::cell::RefCell::new((std::time::Duration::ZERO, Vec::new(), Vec::new()));
    let result = runner.run(&strategy, |(which, mutations)| {
        let mut bytes = seeds[which].clone();
        for m in &mutations {
            apply(&mut bytes, m);
        }
        let started = std::time::Instant::now();
        let outcome = read(which, &bytes);
        let took = started.elapsed();
        if took > slowest.borrow().0 {
            *slowest.borrow_mut() = (took, mutations.clone(), bytes.clone());
        }
        match outcome {
            None => accepted.set(accepted.get() + 1),
            Some(message) => {
                refused.set(refused.get() + 1);
                prop_assert!(message.contains(names), "{reader}: the error does not name {names:?}: {message}");
            }
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{reader}: {e}");
    }
    let (took, mutations, bytes) = slowest.into_inner();
    if let Some(dir) = std::env::var_os("NEUROZOO_FUZZ_DUMP") {
        std::fs::write(Path::new(&dir).join(reader.replace([' ', '/'], "_")), &bytes).unwrap();
    }
    eprintln!(
        "{reader}: {} mutated inputs, {} accepted, {} refused; slowest {:.0} ms after {mutations:?}",
        cases(default_cases),
        accepted.get(),
        refused.get(),
        took.as_secs_f64() * 1e3
    );
}

/// A scratch folder, removed when dropped.
fn scratch() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// `bytes` written to `name` under `dir` (its folders created); the file's path.
fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&path, bytes).unwrap();
    path
}

fn refusal<T, E: std::fmt::Display>(result: Result<T, E>) -> Option<String> {
    result.err().map(|e| e.to_string())
}

fn refusal_chain<T>(result: anyhow::Result<T>) -> Option<String> {
    result.err().map(|e| format!("{e:#}"))
}

fn fixture(relative: &str) -> Vec<u8> {
    let path = common::workspace_root().join(relative);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// MNIST's IDX files, raw and gzipped, through the loader that checks their header, sizes and
/// labels: three 28×28 images and their labels.
#[test]
fn fuzz_mnist_idx() {
    let mut images = vec![0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 28, 0, 0, 0, 28];
    images.extend((0..3 * 784).map(|i| (i * 7 % 256) as u8));
    let labels = vec![0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 9];
    let dir = scratch();
    let (image_name, label_name) = ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte");
    fuzz("IDX images", &[images.clone()], 3000, image_name, |_, bytes| {
        write(dir.path(), image_name, bytes);
        write(dir.path(), label_name, &labels);
        refusal(tasks::mnist::MnistImages::load(dir.path(), tasks::mnist::Split::Test, false))
    });
    fuzz("IDX labels", &[labels.clone()], 2000, label_name, |_, bytes| {
        write(dir.path(), image_name, &images);
        write(dir.path(), label_name, bytes);
        refusal(tasks::mnist::MnistImages::load(dir.path(), tasks::mnist::Split::Test, false))
    });
    let gz = scratch();
    fuzz("IDX .gz", &[gzip(&images)], 2000, image_name, |_, bytes| {
        write(gz.path(), &format!("{image_name}.gz"), bytes);
        write(gz.path(), label_name, &labels);
        refusal(tasks::mnist::MnistImages::load(gz.path(), tasks::mnist::Split::Test, false))
    });
}

/// SHD's HDF5 files (three element types, and the gzip and zip wrappers).
#[test]
fn fuzz_shd_hdf5() {
    let root = "crates/tasks/tests/fixtures/shd/";
    let seeds: Vec<Vec<u8>> =
        ["shd_f16.h5", "shd_f32_u8.h5", "shd_f64_i32.h5"].iter().map(|f| fixture(&format!("{root}{f}"))).collect();
    let dir = scratch();
    fuzz("SHD .h5", &seeds, 3000, "shd.h5", |_, bytes| {
        refusal(tasks::shd::ShdFile::read(&write(dir.path(), "shd.h5", bytes)))
    });
    fuzz("SHD .h5.gz", &[fixture(&format!("{root}shd_f16.h5.gz"))], 1000, "shd.h5.gz", |_, bytes| {
        refusal(tasks::shd::ShdFile::read(&write(dir.path(), "shd.h5.gz", bytes)))
    });
    fuzz("SHD .h5.zip", &[fixture(&format!("{root}shd_f16.h5.zip"))], 1000, "shd.h5.zip", |_, bytes| {
        refusal(tasks::shd::ShdFile::read(&write(dir.path(), "shd.h5.zip", bytes)))
    });
}

/// NeuronIO simulation pickles, as Python 2 and Python 3 wrote them.
#[test]
fn fuzz_neuronio_pickle() {
    let root = "crates/tasks/tests/fixtures/neuronio/parse/";
    let seeds = [fixture(&format!("{root}python2/sim__tiny.p")), fixture(&format!("{root}python3/sim__tiny.p"))];
    let path = Path::new("sim__fuzzed.p");
    fuzz("NeuronIO pickle", &seeds, 3000, "sim__fuzzed.p", |_, bytes| {
        refusal(tasks::neuronio::SimulationFile::from_bytes(path, bytes))
    });
}

/// A Pathfinder level: the metadata text (which names the images) and the PNGs themselves.
#[test]
fn fuzz_pathfinder() {
    let side = 8;
    let dir = scratch();
    let level = dir.path();
    for k in 0..3 {
        let pixels: Vec<u8> = (0..side * side).map(|i| ((i * 37 + k * 11) % 256) as u8).collect();
        tasks::pathfinder::write_png(&level.join(format!("imgs/0/sample_{k}.png")), &pixels, side, "fuzz").unwrap();
    }
    let metadata: String =
        (0..3).map(|k| format!("imgs/0 sample_{k}.png {k} {} 4 6 1.5 0.8 synthetic\n", k % 2)).collect();
    fuzz("Pathfinder metadata", &[metadata.into_bytes()], 3000, "metadata", |_, bytes| {
        write(level, "metadata/0.npy", bytes);
        refusal(tasks::pathfinder::PathfinderIndex::read(level))
    });
    let png = std::fs::read(level.join("imgs/0/sample_0.png")).unwrap();
    let images = scratch();
    fuzz("Pathfinder PNG", &[png], 3000, "fuzzed.png", |_, bytes| {
        refusal(tasks::pathfinder::read_png(&write(images.path(), "fuzzed.png", bytes), side))
    });
}

/// GLIFS_ASC Lightning checkpoints and their `hparams.yaml`.
#[test]
fn fuzz_glifs_asc() {
    let case = common::golden_root().join("glifr/asc2-delay5");
    let (checkpoint, hparams) =
        (std::fs::read(case.join("model.ckpt")).unwrap(), std::fs::read(case.join("hparams.yaml")).unwrap());
    let dir = scratch();
    let device = Device::flex();
    fuzz("GLIFS_ASC .ckpt", &[checkpoint.clone()], 2000, "model.ckpt", |_, bytes| {
        let ckpt = write(dir.path(), "model.ckpt", bytes);
        let yaml = write(dir.path(), "hparams.yaml", &hparams);
        refusal_chain(interop::import::read_glifs_asc(&ckpt, Some(&yaml), &device))
    });
    fuzz("GLIFS_ASC hparams.yaml", &[hparams.clone()], 3000, "hparams.yaml", |_, bytes| {
        let ckpt = write(dir.path(), "model.ckpt", &checkpoint);
        let yaml = write(dir.path(), "hparams.yaml", bytes);
        refusal_chain(interop::import::read_glifs_asc(&ckpt, Some(&yaml), &device))
    });
}

/// elmneuron state dicts (`.pt`) and their `model_config.json`.
#[test]
fn fuzz_elmneuron() {
    let root = "crates/train/tests/fixtures/elm/";
    let states = [
        fixture(&format!("{root}vanilla-v2-silu/model_state.pt")),
        fixture(&format!("{root}routed-v1-two-layers/model_state.pt")),
    ];
    let configs = [
        fixture(&format!("{root}vanilla-v2-silu/model_config.json")),
        fixture(&format!("{root}routed-v1-two-layers/model_config.json")),
    ];
    let dir = scratch();
    let device = Device::flex();
    fuzz("elmneuron .pt", &states, 2000, "model_state.pt", |which, bytes| {
        let state = write(dir.path(), "model_state.pt", bytes);
        let config = write(dir.path(), "model_config.json", &configs[which]);
        refusal_chain(interop::import_elm::read_elmneuron(&state, &config, None, &device))
    });
    fuzz("elmneuron model_config.json", &configs, 3000, "model_config.json", |which, bytes| {
        // Each config beside its own state dict: mutations that keep the shapes must be caught
        // by what the config says, not by a shape mismatch.
        let state = write(dir.path(), "model_state.pt", &states[which]);
        let config = write(dir.path(), "model_config.json", bytes);
        refusal_chain(interop::import_elm::read_elmneuron(&state, &config, None, &device))
    });
}

/// `.npy` arrays: float32 and float64 inputs, and class labels.
#[test]
fn fuzz_npy() {
    let dir = scratch();
    let f32_array = dir.path().join("seed-f32.npy");
    interop::npy::write_npy(&f32_array, &[2, 3, 4], &(0..24).map(|i| i as f32 * 0.5 - 3.0).collect::<Vec<_>>())
        .unwrap();
    let golden = common::golden_root().join("glifr/asc2-delay5");
    let seeds = [std::fs::read(&f32_array).unwrap(), std::fs::read(golden.join("x.npy")).unwrap()];
    fuzz(".npy array", &seeds, 3000, "fuzzed.npy", |_, bytes| {
        refusal_chain(interop::npy::read_npy(&write(dir.path(), "fuzzed.npy", bytes)))
    });
    fuzz(".npy labels", &[std::fs::read(golden.join("labels.npy")).unwrap()], 2000, "labels.npy", |_, bytes| {
        refusal_chain(interop::npy::read_class_labels(&write(dir.path(), "labels.npy", bytes)))
    });
}

/// Every shipped TOML config, parsed and validated as `train --config` does.
#[test]
fn fuzz_toml_configs() {
    let mut seeds = Vec::new();
    let root = common::workspace_root().join("configs");
    for folder in std::fs::read_dir(&root).unwrap() {
        let folder = folder.unwrap().path();
        for file in std::fs::read_dir(&folder).into_iter().flatten() {
            let file = file.unwrap().path();
            if file.extension().is_some_and(|e| e == "toml") {
                seeds.push(std::fs::read(&file).unwrap());
            }
        }
    }
    assert!(seeds.len() > 20, "{} configs under {}", seeds.len(), root.display());
    let dir = scratch();
    fuzz("TOML config", &seeds, 4000, "fuzzed.toml", |_, bytes| {
        let path = write(dir.path(), "fuzzed.toml", bytes);
        refusal_chain(engine::config::RunConfig::load(&path).map(|c| c.resolved_model()))
    });
}

/// Our own checkpoint folder (`model.toml` + `model.bpk`), for a GLIFR and an ELM model.
#[test]
fn fuzz_checkpoint_folder() {
    use engine::config::RunConfig;
    let device = Device::flex();
    let glifr = RunConfig::from_toml(engine::config::DEFAULT_CONFIG, "default").unwrap();
    let elm_text = std::fs::read_to_string(common::workspace_root().join("configs/bench/elm-shd-like.toml")).unwrap();
    let elm = RunConfig::from_toml(&elm_text, "elm").unwrap();
    let seeds_dir = scratch();
    let mut tomls = Vec::new();
    let mut weights = Vec::new();
    for (name, config) in [("glifr", glifr), ("elm", elm)] {
        let mut model = config.resolved_model();
        model.hidden_size = model.hidden_size.min(6);
        let network = engine::model::build_model(&model, 0, &device).unwrap();
        let dir = seeds_dir.path().join(name);
        engine::model::save_checkpoint(&dir, &engine::model::SavedModel { origin: "fuzz".into(), model }, &network)
            .unwrap();
        tomls.push(std::fs::read(dir.join("model.toml")).unwrap());
        weights.push(std::fs::read(dir.join("model.bpk")).unwrap());
    }
    let dir = scratch();
    let checkpoint = dir.path().join("epoch-0001");
    fuzz("checkpoint model.toml", &tomls, 2000, "model.toml", |which, bytes| {
        write(&checkpoint, "model.toml", bytes);
        write(&checkpoint, "model.bpk", &weights[which]);
        refusal_chain(engine::model::load_checkpoint(&checkpoint, &device))
    });
    fuzz("checkpoint model.bpk", &weights, 2000, "model.bpk", |which, bytes| {
        write(&checkpoint, "model.toml", &tomls[which]);
        write(&checkpoint, "model.bpk", bytes);
        refusal_chain(engine::model::load_checkpoint(&checkpoint, &device))
    });
}
