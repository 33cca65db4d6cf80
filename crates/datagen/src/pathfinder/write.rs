//! Writing generated Pathfinder data in the release layout, and a preview grid.

use std::path::{Path, PathBuf};

use super::generate::{GeneratedImage, GeneratorParams, balanced_labels, generate_image};
use crate::parallel::parallel_map;
use tasks::DataError;
use tasks::pathfinder::{Difficulty, SYNTHETIC_MARK, write_png};
use tasks::write_atomic;

/// What to generate.
#[derive(Clone, Debug)]
pub struct GenerateOptions {
    /// The algorithm's parameters (size and contour length included).
    pub params: GeneratorParams,
    /// The level folder the images go into.
    pub difficulty: Difficulty,
    /// Images in all.
    pub count: usize,
    /// Images per `imgs/<k>/` folder and `metadata/<k>.npy` file.
    pub per_folder: usize,
    /// Seed of everything; the same seed gives the same bytes.
    pub seed: u64,
    /// Worker threads.
    pub threads: usize,
}

/// What was written.
#[derive(Clone, Debug)]
pub struct GenerateReport {
    /// The level folder.
    pub dir: PathBuf,
    /// Images written.
    pub images: usize,
    /// Of which connected.
    pub connected: usize,
}

/// The seed of image `n` of folder `k`.
pub fn image_seed(seed: u64, folder: usize, n: usize) -> u64 {
    tasks::mix(&[seed, 0x7A7B_F1ED, folder as u64, n as u64])
}

/// The metadata line of one image: the generator's eleven fields, then `synthetic`.
pub fn metadata_line(params: &GeneratorParams, folder: usize, n: usize, image: &GeneratedImage) -> String {
    format!(
        "imgs/{folder} sample_{n}.png {n} {} {:?} {} {} {} {:?} {} 1 {SYNTHETIC_MARK}",
        image.label,
        params.continuity,
        params.contour_length,
        params.distractor_length,
        params.paddle_length,
        params.paddle_thickness,
        image.margin
    )
}

/// Generates `options.count` images under `root/pathfinder<size>/<level>/` (images, metadata,
/// and `generator.txt` with the parameters). Refuses to overwrite an existing metadata file;
/// each metadata file is written after all of its images, so an interrupted run leaves no
/// folder that looks complete.
pub fn write_dataset(root: &Path, options: &GenerateOptions) -> Result<GenerateReport, DataError> {
    let p = &options.params;
    let dir = root.join(format!("pathfinder{}", p.size)).join(options.difficulty.folder());
    let meta_dir = dir.join("metadata");
    let folders = options.count.div_ceil(options.per_folder.max(1));
    for k in 0..folders {
        let path = meta_dir.join(format!("{k}.npy"));
        if path.exists() {
            return Err(DataError::Corrupt {
                path,
                reason: "already exists; generating would mix two data sets (choose another --out)".into(),
            });
        }
    }
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| DataError::Write { path, source }
    };
    std::fs::create_dir_all(&meta_dir).map_err(io(&meta_dir))?;
    write_atomic(&dir.join("generator.txt"), describe(options).as_bytes())?;
    let mut connected = 0;
    for k in 0..folders {
        let n_here = options.per_folder.min(options.count - k * options.per_folder);
        let img_dir = dir.join("imgs").join(k.to_string());
        std::fs::create_dir_all(&img_dir).map_err(io(&img_dir))?;
        let labels = balanced_labels(n_here, image_seed(options.seed, k, usize::MAX));
        let lines = parallel_map(n_here, options.threads, |n| {
            let image = generate_image(p, labels[n], image_seed(options.seed, k, n))
                .map_err(|reason| DataError::Corrupt { path: img_dir.clone(), reason })?;
            let file = img_dir.join(format!("sample_{n}.png"));
            write_png(&file, &image.pixels, p.size, "neurozoo synthetic Pathfinder (not LRA data)")?;
            Ok(metadata_line(p, k, n, &image))
        })?;
        connected += labels.iter().filter(|&&l| l == 1).count();
        let text: String = lines.into_iter().map(|l| l + "\n").collect();
        write_atomic(&meta_dir.join(format!("{k}.npy")), text.as_bytes())?;
    }
    Ok(GenerateReport { dir, images: options.count, connected })
}

fn describe(options: &GenerateOptions) -> String {
    let p = &options.params;
    format!(
        "# Synthetic Pathfinder written by neurozoo (Linsley et al. 2018 algorithm, LRA settings).\n\
         # Not the LRA release: results on it are never LRA numbers.\n\
         synthetic = true\nsize = {}\ndifficulty = {:?}\ncount = {}\nseed = {}\ncontour_length = {}\n\
         distractor_length = {}\nnum_distractor_snakes = {}\npaddle_length = {}\npaddle_thickness = {}\n\
         paddle_margins = {:?}\nseed_distance = {}\nmarker_radius = {}\nantialias = {}\ncontinuity = {}\n\
         snake_contrast = {}\npadding = {}\n",
        p.size,
        options.difficulty,
        options.count,
        options.seed,
        p.contour_length,
        p.distractor_length,
        p.num_distractor_snakes,
        p.paddle_length,
        p.paddle_thickness,
        p.paddle_margins,
        p.seed_distance,
        p.marker_radius,
        p.antialias,
        p.continuity,
        p.snake_contrast,
        p.padding
    )
}

/// A preview: images in a grid of `columns`, each framed green (connected) or red, as an RGB
/// PNG.
pub fn write_grid(path: &Path, images: &[(Vec<u8>, u8)], side: usize, columns: usize) -> Result<(), DataError> {
    let columns = columns.clamp(1, images.len().max(1));
    let rows = images.len().div_ceil(columns);
    let (frame, cell) = (2, side + 4);
    let (w, h) = (columns * cell, rows * cell);
    let mut rgb = vec![255u8; w * h * 3];
    for (i, (pixels, label)) in images.iter().enumerate() {
        let (oy, ox) = ((i / columns) * cell + 1, (i % columns) * cell + 1);
        let colour = if *label == 1 { [40, 170, 60] } else { [200, 40, 40] };
        for y in 0..side + 2 * frame - 2 {
            for x in 0..side + 2 * frame - 2 {
                let (yy, xx) = (oy + y, ox + x);
                let inner = (y >= frame - 1 && y < side + frame - 1) && (x >= frame - 1 && x < side + frame - 1);
                let px = if inner { [pixels[(y + 1 - frame) * side + x + 1 - frame]; 3] } else { colour };
                rgb[(yy * w + xx) * 3..(yy * w + xx) * 3 + 3].copy_from_slice(&px);
            }
        }
    }
    tasks::write_png(path, &rgb, (w, h), png::ColorType::Rgb, None)
}
