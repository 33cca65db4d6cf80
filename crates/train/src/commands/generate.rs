//! `neurozoo gen`: data sets made here, where the real ones cannot be had. Everything it writes
//! is marked synthetic (metadata, PNG text chunks, `generator.txt`), and runs on it say so.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use datagen::pathfinder::generate::GeneratorParams;
use datagen::pathfinder::write::{GenerateOptions, write_dataset, write_grid};
use tasks::pathfinder::{Difficulty, PathfinderIndex, read_png};

/// Generate synthetic data in a real data set's layout.
#[derive(Subcommand, Debug)]
pub enum GenCommand {
    /// LRA Pathfinder / Path-X images in the release layout (Linsley et al. 2018 algorithm,
    /// LRA's settings), marked synthetic.
    Pathfinder(PathfinderArgs),
    /// SHD-synthetic: espeak-ng digits (English, German) through a port of SHD's cochlea
    /// chain (lauscher), written as shd_train.h5 / shd_test.h5 in SHD's layout.
    #[command(name = "shd-synth")]
    ShdSynth(ShdSynthArgs),
}

/// `neurozoo gen`.
pub fn run(command: GenCommand) -> Result<()> {
    match command {
        GenCommand::Pathfinder(args) => gen_pathfinder(&args),
        GenCommand::ShdSynth(args) => gen_shd_synth(&args),
    }
}

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
        "wrote {} SYNTHETIC Pathfinder images ({} connected) to {} in {seconds:.1} s: {:.1} images/s on {}",
        report.images,
        report.connected,
        report.dir.display(),
        report.images as f64 / seconds,
        on_threads(threads)
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

/// `neurozoo gen shd-synth`.
#[derive(Args, Debug)]
pub struct ShdSynthArgs {
    /// Folder for shd_train.h5 and shd_test.h5 (existing files there are not overwritten).
    #[arg(long, required_unless_present = "wav")]
    pub out: Option<PathBuf>,
    /// Samples in shd_train.h5 (SHD has 8156).
    #[arg(long, default_value_t = 8156)]
    pub train: usize,
    /// Samples in shd_test.h5 (SHD has 2264; at least 2/12 of all, for the held-out speakers).
    #[arg(long, default_value_t = 2264)]
    pub test: usize,
    /// Seed of prosody, split and spikes.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// The espeak-ng program.
    #[arg(long, default_value = "espeak-ng")]
    pub espeak: PathBuf,
    /// Instead: convert one 16-bit mono WAV file with the chain at its own length (as lauscher
    /// does) and write its spikes as `time,unit` lines to --spikes (for
    /// scripts/compare_lauscher.py).
    #[arg(long, requires = "spikes")]
    pub wav: Option<PathBuf>,
    /// Output of --wav.
    #[arg(long)]
    pub spikes: Option<PathBuf>,
}

/// Generates SHD-synthetic, or converts one WAV file with `--wav`.
pub fn gen_shd_synth(args: &ShdSynthArgs) -> Result<()> {
    use datagen::shd_synth::{self, DATASET_NAME, SPEAKERS, SynthOptions, cochlea, speech};
    use datagen::shd_write::{SpeakerInfo, write_shd};
    let threads = args.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())).max(1);
    let params = cochlea::CochleaParams::default();
    if let (Some(wav), Some(out)) = (&args.wav, &args.spikes) {
        let bytes = std::fs::read(wav).with_context(|| format!("cannot read {}", wav.display()))?;
        let (wave, rate) = speech::read_wav(&bytes).map_err(|e| anyhow::anyhow!("{}: {e}", wav.display()))?;
        let started = Instant::now();
        let membrane = cochlea::Membrane::new(&params, wave.len(), rate, threads);
        let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(args.seed);
        let spikes = cochlea::wave_to_spikes(&wave, rate, &membrane, &params, &mut rng);
        let text: String = spikes.times.iter().zip(&spikes.units).map(|(t, u)| format!("{t},{u}\n")).collect();
        engine::fsutil::write_atomic(out, text.as_bytes())?;
        println!(
            "{}: {} spikes in {:.2} s -> {}",
            wav.display(),
            spikes.times.len(),
            started.elapsed().as_secs_f64(),
            out.display()
        );
        return Ok(());
    }
    let out = args.out.as_ref().context("--out is required")?;
    let paths = [out.join("shd_train.h5"), out.join("shd_test.h5")];
    if let Some(existing) = paths.iter().find(|p| p.exists()) {
        bail!("{} exists; choose another --out or remove it", existing.display());
    }
    if args.train == 0 || args.test == 0 {
        bail!("--train and --test must be at least 1");
    }
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let options = SynthOptions {
        train: args.train,
        test: args.test,
        seed: args.seed,
        threads,
        espeak: args.espeak.clone(),
        params,
    };
    let planned = shd_synth::plan(&options)?;
    let started = Instant::now();
    let bar = indicatif::ProgressBar::new(planned.len() as u64).with_style(
        indicatif::ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {pos}/{len} utterances, eta {eta}")
            .expect("a valid template"),
    );
    // Off a terminal the bar is hidden: a line every 500 utterances instead, for logs.
    let hidden = bar.is_hidden();
    let samples = shd_synth::generate(&options, &planned, &|done, total| {
        bar.set_position(done as u64);
        if hidden && (done % 500 == 0 || done == total) {
            eprintln!("{done}/{total} utterances, {:.0} s", started.elapsed().as_secs_f64());
        }
    })?;
    bar.finish();
    let seconds = started.elapsed().as_secs_f64();
    let speakers = SpeakerInfo {
        gender: SPEAKERS.iter().map(|s| s.gender.to_string()).collect(),
        age: vec![0; SPEAKERS.len()],
        body_height: vec![0; SPEAKERS.len()],
    };
    let generator = format!(
        "neurozoo gen shd-synth --train {} --test {} --seed {} (espeak-ng voices through a port of lauscher 1.0.1); \
         NOT the Spiking Heidelberg Digits",
        args.train, args.test, args.seed
    );
    let keys = speech::keys();
    let utterances = samples.len();
    let (test, train): (Vec<_>, Vec<_>) = samples.into_iter().zip(&planned).partition(|(_, p)| p.test);
    for (path, part) in paths.iter().zip([train, test]) {
        let part: Vec<_> = part.into_iter().map(|(s, _)| s).collect();
        write_shd(path, &part, &keys, &speakers, &[("dataset", DATASET_NAME), ("generator", &generator)])?;
        println!("wrote {} ({} samples)", path.display(), part.len());
    }
    println!(
        "{DATASET_NAME}: {utterances} utterances in {seconds:.0} s ({:.2} s each on {})",
        seconds / utterances as f64,
        on_threads(threads)
    );
    Ok(())
}

/// "1 thread" / "2 threads", for the generators' closing lines.
fn on_threads(threads: usize) -> String {
    if threads == 1 { "1 thread".into() } else { format!("{threads} threads") }
}
