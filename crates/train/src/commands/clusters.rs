//! `neurozoo clusters`: the GLIFR paper's parameter clusters of a trained run.

use std::path::PathBuf;

use anyhow::Result;

/// Parameter clusters of a trained GLIFR run (GLIFR paper §3.8): Ward clustering of each
/// neuron's [θ, k_m, r_j, k_j, a_j], k by the Calinski–Harabasz score; writes clusters.csv,
/// cluster_scores.csv, parameter histograms and f–I curves by cluster.
#[derive(clap::Args, Debug)]
pub struct ClustersArgs {
    /// A GLIFR run directory (or checkpoint directory).
    #[arg(long)]
    pub run: PathBuf,
    /// Output folder (default: <run>/clusters).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Device override.
    #[arg(long)]
    pub device: Option<String>,
}

/// `neurozoo clusters`.
pub fn run(args: ClustersArgs) -> Result<()> {
    let ClustersArgs { run, out, device } = args;
    let report = paper::clusters::clusters(&run, out.as_deref(), device.as_deref())?;
    let c = &report.clustering;
    println!("k,calinski_harabasz");
    for (k, score) in &c.scores {
        println!("{k},{score:.2}");
    }
    let sizes: Vec<String> = report.sizes.iter().map(ToString::to_string).collect();
    println!(
        "{} neurons: best k = {} (Calinski–Harabasz {:.2}) → {} cluster(s), sizes {}",
        report.neurons,
        c.best_k,
        c.scores.iter().find(|(k, _)| *k == c.best_k).map_or(f64::NAN, |s| s.1),
        c.reported,
        sizes.join("/")
    );
    for (name, (mean, sd)) in report.parameters.iter().zip(&report.parameter_mean_sd) {
        println!("  {name}: {mean:.4} ± {sd:.4}");
    }
    println!("→ {}", out.unwrap_or_else(|| run.join("clusters")).display());
    Ok(())
}
