//! One file per command: its arguments (clap's help text) and a thin `run` over the engine,
//! interop and paper crates. What more than one command needs is here.

use std::path::PathBuf;

use anyhow::{Result, bail};
use engine::config::{DEFAULT_CONFIG, Override, RunConfig};

pub mod bench;
pub mod clusters;
pub mod eval;
pub mod eval_neuronio;
pub mod experiment;
pub mod generate;
pub mod grads;
pub mod import;
pub mod info;
pub mod predict;
pub mod silence;
pub mod sweep;
pub mod train;

/// The config at `path` (the built-in default without one), changed by `set`.
fn load_config(path: Option<&PathBuf>, set: &[Override]) -> Result<RunConfig> {
    match path {
        Some(path) => RunConfig::load_with(path, set),
        None => RunConfig::from_toml_with(DEFAULT_CONFIG, "(built-in default)", set),
    }
}

/// `--plan`, `--plan-json` or `--slurm`: prints the plan or writes the bundle; `false` when
/// none was asked for (the runs train in this process).
fn show_or_bundle(planned: &engine::plan::Plan, mode: &engine::slurm::ModeArgs, device: Option<&str>) -> Result<bool> {
    let slurm = &mode.slurm;
    if mode.plan {
        print!("{}", planned.text()?);
    } else if mode.plan_json {
        println!("{}", planned.json()?);
    } else if let Some(dir) = &slurm.slurm {
        let bundle = engine::slurm::write_bundle(planned, dir, &slurm.resources(), device, slurm.force)?;
        let sizes: Vec<String> = bundle.arrays.iter().map(ToString::to_string).collect();
        println!(
            "{}: {} runs as {} job array(s) of {} task(s), then a collect job ({} jobs) → {}",
            planned.title,
            planned.runs.len(),
            bundle.arrays.len(),
            sizes.join(" + "),
            bundle.jobs,
            bundle.dir.display()
        );
        println!("submit with: bash {}", bundle.dir.join("submit.sh").display());
    } else {
        return Ok(false);
    }
    Ok(true)
}

/// An error naming the planned runs that have not finished, if any.
fn unfinished(missing: &[String]) -> Result<()> {
    if !missing.is_empty() {
        let shown: Vec<&str> = missing.iter().take(10).map(String::as_str).collect();
        let more = if missing.len() > 10 { format!(" and {} more", missing.len() - 10) } else { String::new() };
        bail!("{} planned run(s) have not finished: {}{more}", missing.len(), shown.join(", "));
    }
    Ok(())
}
