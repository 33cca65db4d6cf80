//! LRA Pathfinder and Path-X (spec data.md §4, elm.md §2.3): the release layout, a seeded
//! 80/10/10 split, pixel encodings, and a generator of data in the same layout.
//!
//! The Long Range Arena release holds `pathfinder{32,64,128,256}/` with one folder per
//! difficulty: `curv_baseline` (easy), `curv_contour_length_9` (intermediate) and
//! `curv_contour_length_14` (hard). Each folder has `imgs/<k>/sample_<n>.png` (8-bit grey) and
//! `metadata/<k>.npy`. Despite the extension, the metadata files are text with one line per
//! image: field 0 + field 1 is the image path and field 3 the label (1: the two markers are
//! connected). Pathfinder is `pathfinder32` hard; Path-X is `pathfinder128` hard.
//!
//! Images are read when a batch needs them, never all at once: the index of 200,000 images is
//! a few MB, while Path-X's pixels would be 3.3 GB.

use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use burn::data::dataset::{Dataset, DatasetError};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use crate::{DataError, SequenceItem, Target, out_of_range};

/// The three difficulty levels of the release.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Difficulty {
    /// Contours of 6 paddles (`curv_baseline`).
    Easy,
    /// Contours of 9 paddles (`curv_contour_length_9`).
    Intermediate,
    /// Contours of 14 paddles (`curv_contour_length_14`): what LRA and the ELM paper use.
    Hard,
}

impl Difficulty {
    /// The folder of this level.
    pub fn folder(self) -> &'static str {
        match self {
            Difficulty::Easy => "curv_baseline",
            Difficulty::Intermediate => "curv_contour_length_9",
            Difficulty::Hard => "curv_contour_length_14",
        }
    }
}

/// The folder of one size and difficulty under `root`, which may be the folder holding
/// `pathfinder<size>/` or the `lra_release` folder's parent.
pub fn level_dir(root: &Path, size: usize, difficulty: Difficulty) -> PathBuf {
    let direct = root.join(format!("pathfinder{size}")).join(difficulty.folder());
    let nested = root.join("lra_release").join(format!("pathfinder{size}")).join(difficulty.folder());
    if !direct.is_dir() && nested.is_dir() { nested } else { direct }
}

/// One image of the index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathfinderEntry {
    /// Path relative to the level folder (`imgs/<k>/sample_<n>.png`).
    pub image: String,
    /// 1: connected.
    pub label: u8,
}

/// Every usable image of one level, in the order of the metadata files (sorted by their
/// integer names, as S4 sorts them) and of their lines.
#[derive(Clone, Debug)]
pub struct PathfinderIndex {
    /// The level folder.
    pub dir: PathBuf,
    /// The images.
    pub entries: Vec<PathfinderEntry>,
    /// Empty image files left out, as LRA leaves them out.
    pub skipped_empty: usize,
    /// Whether the metadata marks the images as generated (`synthetic` as a last field).
    pub synthetic: bool,
}

/// The marker our generator appends to each metadata line.
pub const SYNTHETIC_MARK: &str = "synthetic";

impl PathfinderIndex {
    /// Reads the metadata of the level folder `dir` and checks that every image it names is
    /// there. Errors name the file and, for metadata, the line.
    pub fn read(dir: &Path) -> Result<Self, DataError> {
        let metadata = dir.join("metadata");
        let listing = std::fs::read_dir(&metadata).map_err(|_| DataError::Missing {
            path: metadata.clone(),
            hint: "a Pathfinder level folder holds `metadata/<k>.npy` and `imgs/<k>/`".into(),
        })?;
        let mut files = Vec::new();
        for entry in listing {
            let path = entry.map_err(|source| DataError::Io { path: metadata.clone(), source })?.path();
            if path.extension().is_none_or(|e| e != "npy") {
                continue;
            }
            let key =
                path.file_stem().and_then(|s| s.to_str()).and_then(|s| s.parse::<u64>().ok()).ok_or_else(|| {
                    DataError::Corrupt {
                        path: path.clone(),
                        reason: "metadata files are named by an integer batch number (`<k>.npy`)".into(),
                    }
                })?;
            files.push((key, path));
        }
        if files.is_empty() {
            return Err(DataError::Missing { path: metadata.join("0.npy"), hint: "no metadata files".into() });
        }
        files.sort();
        let mut index =
            PathfinderIndex { dir: dir.to_path_buf(), entries: Vec::new(), skipped_empty: 0, synthetic: false };
        for (_, path) in files {
            index.read_metadata(&path)?;
        }
        if index.entries.is_empty() {
            return Err(DataError::Corrupt { path: metadata, reason: "the metadata names no non-empty image".into() });
        }
        Ok(index)
    }

    fn read_metadata(&mut self, path: &Path) -> Result<(), DataError> {
        let bytes = std::fs::read(path).map_err(|source| DataError::Io { path: path.to_path_buf(), source })?;
        let text = String::from_utf8(bytes).map_err(|e| DataError::Corrupt {
            path: path.to_path_buf(),
            reason: format!(
                "not text (byte {}): Pathfinder metadata are text lines despite the `.npy` name",
                e.utf8_error().valid_up_to()
            ),
        })?;
        for (number, line) in text.lines().enumerate().map(|(i, l)| (i + 1, l)) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.is_empty() {
                continue;
            }
            let corrupt = |reason: String| DataError::Corrupt {
                path: path.to_path_buf(),
                reason: format!("line {number}: {reason}"),
            };
            if fields.len() < 4 {
                return Err(corrupt(format!(
                    "{} fields, expected at least 4 (subfolder, file name, index, label, ...)",
                    fields.len()
                )));
            }
            let label = match fields[3] {
                "0" => 0,
                "1" => 1,
                other => return Err(corrupt(format!("label (field 4) is {other:?}, expected 0 or 1"))),
            };
            let image = format!("{}/{}", fields[0].trim_end_matches('/'), fields[1]);
            if image.split('/').any(|part| part == "..") || image.starts_with('/') {
                return Err(corrupt(format!("image path {image:?} leaves the level folder")));
            }
            let file = self.dir.join(&image);
            let size = std::fs::metadata(&file)
                .map_err(|_| DataError::Missing {
                    path: file.clone(),
                    hint: format!("named by {} line {number}", path.display()),
                })?
                .len();
            self.synthetic |= fields.last() == Some(&SYNTHETIC_MARK);
            if size == 0 {
                self.skipped_empty += 1;
                continue;
            }
            self.entries.push(PathfinderEntry { image, label });
        }
        Ok(())
    }

    /// The indices of one part of a seeded 80/10/10 split: a shuffle of all images by `seed`,
    /// then validation and test take `⌊n/10⌋` each and training the rest (S4's proportions).
    pub fn split(&self, part: PathfinderPart, seed: u64) -> Vec<usize> {
        let n = self.entries.len();
        let mut order: Vec<usize> = (0..n).collect();
        order.shuffle(&mut StdRng::seed_from_u64(seed));
        let tenth = n / 10;
        let train = n - 2 * tenth;
        match part {
            PathfinderPart::Train => order[..train].to_vec(),
            PathfinderPart::Valid => order[train..train + tenth].to_vec(),
            PathfinderPart::Test => order[train + tenth..].to_vec(),
        }
    }
}

/// A part of the split.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathfinderPart {
    /// 80 %.
    Train,
    /// 10 %.
    Valid,
    /// 10 %.
    Test,
}

/// How a grey value becomes the input of one step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PixelEncoding {
    /// The ELM paper's: the value quantised to `levels` equal bins (`v·levels/256`, i.e.
    /// `v // 16` for 16 levels) and one-hot encoded; `levels` inputs per step.
    OneHot {
        /// Bins (16 for Pathfinder, 8 for Path-X in the paper).
        levels: usize,
    },
    /// One input per step, `(v/255 − 0.5)/0.5` in [−1, 1] (S4's normalisation).
    Grey,
}

impl PixelEncoding {
    /// Inputs per step.
    pub fn features(self) -> usize {
        match self {
            PixelEncoding::OneHot { levels } => levels,
            PixelEncoding::Grey => 1,
        }
    }

    /// The `[pixels, features]` row-major input of an image's pixels (row-major order).
    pub fn encode(self, pixels: &[u8]) -> Vec<f32> {
        match self {
            PixelEncoding::OneHot { levels } => {
                let mut out = vec![0.0f32; pixels.len() * levels];
                for (i, &v) in pixels.iter().enumerate() {
                    out[i * levels + v as usize * levels / 256] = 1.0;
                }
                out
            }
            PixelEncoding::Grey => pixels.iter().map(|&v| (v as f32 / 255.0 - 0.5) / 0.5).collect(),
        }
    }
}

/// Decodes a PNG into `side × side` 8-bit grey pixels, row-major. Colour images are turned to
/// grey as PIL's `convert("L")` does (ITU-R 601-2 luma in 16-bit fixed point); 16-bit samples
/// keep their high byte.
pub fn read_png(path: &Path, side: usize) -> Result<Vec<u8>, DataError> {
    let file = std::fs::File::open(path).map_err(|source| DataError::Io { path: path.to_path_buf(), source })?;
    let corrupt = |reason: String| DataError::Corrupt { path: path.to_path_buf(), reason };
    let mut decoder = png::Decoder::new(BufReader::new(file));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().map_err(|e| corrupt(format!("not a readable PNG: {e}")))?;
    let mut buffer = vec![0u8; reader.output_buffer_size().ok_or_else(|| corrupt("image too large".into()))?];
    let info = reader.next_frame(&mut buffer).map_err(|e| corrupt(format!("truncated or damaged PNG: {e}")))?;
    if (info.width as usize, info.height as usize) != (side, side) {
        return Err(corrupt(format!("image is {}×{}, expected {side}×{side}", info.width, info.height)));
    }
    let channels = info.color_type.samples();
    let mut grey = Vec::with_capacity(side * side);
    for row in buffer[..info.buffer_size()].chunks(info.line_size) {
        for px in row[..side * channels].chunks(channels) {
            grey.push(match channels {
                1 | 2 => px[0],
                _ => ((px[0] as u32 * 19595 + px[1] as u32 * 38470 + px[2] as u32 * 7471 + 0x8000) >> 16) as u8,
            });
        }
    }
    Ok(grey)
}

/// One part of a Pathfinder level as a dataset of pixel sequences (`side²` steps, a class on
/// the last one). Each item is read from its PNG when asked for.
#[derive(Clone, Debug)]
pub struct PathfinderSequences {
    dir: Arc<PathBuf>,
    entries: Arc<Vec<PathfinderEntry>>,
    indices: Arc<Vec<usize>>,
    side: usize,
    encoding: PixelEncoding,
    synthetic: bool,
}

impl PathfinderSequences {
    /// The images `indices` of `index`, each `side × side`.
    pub fn new(index: &PathfinderIndex, indices: Vec<usize>, side: usize, encoding: PixelEncoding) -> Self {
        PathfinderSequences {
            dir: Arc::new(index.dir.clone()),
            entries: Arc::new(index.entries.clone()),
            indices: Arc::new(indices),
            side,
            encoding,
            synthetic: index.synthetic,
        }
    }

    /// Whether the images were made by our generator.
    pub fn synthetic(&self) -> bool {
        self.synthetic
    }

    /// Only the first `limit` items (quick runs).
    pub fn with_limit(mut self, limit: Option<usize>) -> Self {
        if let Some(n) = limit.filter(|&n| n < self.indices.len()) {
            self.indices = Arc::new(self.indices[..n].to_vec());
        }
        self
    }

    /// The entry behind item `index`.
    pub fn entry(&self, index: usize) -> Option<&PathfinderEntry> {
        self.indices.get(index).map(|&i| &self.entries[i])
    }
}

impl Dataset<SequenceItem> for PathfinderSequences {
    fn get(&self, index: usize) -> Result<SequenceItem, DatasetError> {
        let entry = self.entry(index).ok_or_else(|| out_of_range(index, self.indices.len()))?;
        let pixels = read_png(&self.dir.join(&entry.image), self.side).map_err(DatasetError::new)?;
        Ok(SequenceItem {
            input: self.encoding.encode(&pixels),
            steps: pixels.len(),
            features: self.encoding.features(),
            target: Target::Class(entry.label as usize),
        })
    }

    fn len(&self) -> usize {
        self.indices.len()
    }
}

/// Writes an 8-bit grey PNG, with a text chunk saying where it came from.
pub fn write_png(path: &Path, pixels: &[u8], side: usize, source: &str) -> Result<(), DataError> {
    crate::write_png(path, pixels, (side, side), png::ColorType::Grayscale, Some(source))
}
