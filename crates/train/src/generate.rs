//! `neurozoo gen`: data sets made here, where the real ones cannot be had. Everything it writes
//! is marked synthetic (metadata, PNG text chunks, `generator.txt`), and runs on it say so.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use tasks::pathfinder::generate::GeneratorParams;
use tasks::pathfinder::write::{GenerateOptions, write_dataset, write_grid};
use tasks::pathfinder::{Difficulty, PathfinderIndex, read_png};

/// Difficulty on the command line.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum DifficultyArg {
    /// 6 paddles per contour (`curv_baseline`).
    Easy,
    /// 9 paddles (`curv_contour_length_9`).
    Inter,
    /// 14 paddles (`curv_contour_length_14`, LRA's Pathfinder and Path-X).
    Hard,
}

impl From<DifficultyArg> for Difficulty {
    fn from(d: DifficultyArg) -> Self {
        match d {
            DifficultyArg::Easy => Difficulty::Easy,
            DifficultyArg::Inter => Difficulty::Intermediate,
            DifficultyArg::Hard => Difficulty::Hard,
        }
    }
}

/// `neurozoo gen pathfinder`.
#[derive(Args, Debug)]
pub struct PathfinderArgs {
    /// Image side: 32 (Pathfinder), 64, 128 (Path-X) or 256.
    #[arg(long)]
    pub size: usize,
    /// Contour length level.
    #[arg(long, value_enum, default_value = "hard")]
    pub difficulty: DifficultyArg,
    /// Images to write.
    #[arg(long)]
    pub count: usize,
    /// Root folder: images go to `<out>/pathfinder<size>/<level>/`.
    #[arg(long)]
    pub out: PathBuf,
    /// Seed (the same seed writes the same bytes).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Images per `imgs/<k>/` folder and metadata file.
    #[arg(long, default_value_t = 1000)]
    pub per_folder: usize,
    /// Distractor snakes (default: LRA's 35 / distractor length).
    #[arg(long)]
    pub distractors: Option<usize>,
    /// Contrast of the snakes, markers being 1 (default: LRA's 0.9; a third-party
    /// reproduction suggests ≈0.77 for the released Path-X).
    #[arg(long)]
    pub contrast: Option<f64>,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Also write a preview grid of the first images (framed green: connected, red: not).
    #[arg(long)]
    pub grid: Option<PathBuf>,
    /// Images in the preview grid.
    #[arg(long, default_value_t = 16)]
    pub grid_count: usize,
}

/// Generates the data set and prints what was written and how fast.
pub fn gen_pathfinder(args: &PathfinderArgs) -> Result<()> {
    if !matches!(args.size, 32 | 64 | 128 | 256) {
        bail!("--size {} is not an LRA size (32, 64, 128 or 256)", args.size);
    }
    if args.count == 0 || args.per_folder == 0 {
        bail!("--count and --per-folder must be at least 1");
    }
    let mut params = GeneratorParams::lra(args.size, args.difficulty.into());
    if let Some(n) = args.distractors {
        params.num_distractor_snakes = n;
    }
    if let Some(c) = args.contrast {
        params.snake_contrast = c;
    }
    params.validate().map_err(|e| anyhow::anyhow!("invalid generator parameters: {e}"))?;
    let threads = args.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())).max(1);
    let options = GenerateOptions {
        params,
        difficulty: args.difficulty.into(),
        count: args.count,
        per_folder: args.per_folder,
        seed: args.seed,
        threads,
    };
    let started = Instant::now();
    let report = write_dataset(&args.out, &options).context("generating Pathfinder")?;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "wrote {} SYNTHETIC Pathfinder images ({} connected) to {} in {seconds:.1} s: {:.1} images/s on {threads} threads",
        report.images,
        report.connected,
        report.dir.display(),
        report.images as f64 / seconds
    );
    if let Some(path) = &args.grid {
        // The first images written, read back as a loader sees them.
        let index = PathfinderIndex::read(&report.dir)?;
        let images = index
            .entries
            .iter()
            .take(args.grid_count)
            .map(|e| Ok((read_png(&index.dir.join(&e.image), args.size)?, e.label)))
            .collect::<Result<Vec<_>>>()?;
        write_grid(path, &images, args.size, 4).with_context(|| format!("writing {}", path.display()))?;
        println!("preview: {}", path.display());
    }
    Ok(())
}
