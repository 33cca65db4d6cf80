//! `neurozoo silence`: the GLIFR paper's random-silencing curves.

use std::path::PathBuf;

use anyhow::Result;

/// Random-silencing robustness (GLIFR paper §3.7): silence a fraction of hidden neurons,
/// evaluate the test set, mean and SD over draws; writes silencing.csv and silencing.png.
#[derive(clap::Args, Debug)]
pub struct SilenceArgs {
    /// Run directories (one line each in the plot).
    #[arg(long, required = true)]
    pub run: Vec<PathBuf>,
    /// Fractions of hidden neurons to silence.
    #[arg(long, value_delimiter = ',', default_value = "0,0.2,0.4,0.6,0.8,1")]
    pub fractions: Vec<f64>,
    /// Random draws per fraction.
    #[arg(long, default_value_t = 10)]
    pub draws: usize,
    /// Seed of the draws.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Folder for silencing.csv and silencing.png (default: the first run's directory).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Device override.
    #[arg(long)]
    pub device: Option<String>,
}

/// `neurozoo silence`.
pub fn run(args: SilenceArgs) -> Result<()> {
    let SilenceArgs { run, fractions, draws, seed, out, device } = args;
    let options = paper::silence::SilenceOptions { fractions, draws, seed, device };
    let points = paper::silence::silence(&run, out.as_deref(), &options)?;
    println!("run,fraction,silenced,draws,mean,sd");
    for p in points {
        println!("{},{},{},{},{:.4},{:.4}", p.run, p.fraction, p.silenced, p.draws, p.mean, p.sd);
    }
    Ok(())
}
