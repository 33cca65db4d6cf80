//! `--slurm DIR`: a plan written as a ready-to-submit Slurm bundle instead of being trained.
//!
//! The bundle holds, in `DIR`:
//! - `configs/<run>.toml`: every run's whole config (what `neurozoo train` reads);
//! - `level<k>.txt` and `level<k>.sbatch`: one job array per dependency level; array task `i`
//!   trains the `i`-th config of the list with `neurozoo train --config … --resume`, so a
//!   requeued or preempted task continues from its last checkpoint rather than restarting;
//! - `collect.sbatch`: the last job, which writes the table or `sweep.csv` from the finished runs;
//! - `submit.sh`: submits them in order, each level `--dependency=afterok` on the one before
//!   (a level starts only when every task of the previous one succeeded);
//! - `logs/`: one log per array task (`<job>-<array job id>_<task>.out`).
//!
//! Every job runs in the folder `--slurm` was given in (`#SBATCH --chdir`), so the configs'
//! relative paths (`data/mnist`, `runs/…`) mean what they meant there; the cluster must see that
//! folder (a shared file system, as clusters have). The binary is the one that wrote the bundle,
//! unless `NEUROZOO` is set at submission (sbatch passes the environment on).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, ensure};

use crate::fsutil::{ensure_output_folder, write_atomic};
use crate::plan::{Plan, shell_quote, shell_words};

/// What every job asks Slurm for. Nothing is cluster-specific by default: a partition, account
/// or GPU is asked for only when given.
#[derive(Clone, Debug)]
pub struct SlurmResources {
    /// `--partition`; default: the cluster's default partition.
    pub partition: Option<String>,
    /// `--time` of one training run, `[days-]hours:minutes:seconds`.
    pub time: String,
    /// `--cpus-per-task`; default: the most `training.threads` of any run (at least 1).
    pub cpus_per_task: Option<usize>,
    /// `--mem` per task (Slurm's units: `4G`, `16000M`).
    pub mem: String,
    /// `--gres`, e.g. `gpu:1`; default: none.
    pub gres: Option<String>,
    /// `--account`; default: the user's default account.
    pub account: Option<String>,
}

/// Default `--time` of one run: one day (a paper-length P-MNIST run on 2 CPU cores takes hours).
pub const DEFAULT_TIME: &str = "1-00:00:00";
/// Default `--mem` of one run.
pub const DEFAULT_MEM: &str = "4G";

impl Default for SlurmResources {
    fn default() -> Self {
        SlurmResources {
            partition: None,
            time: DEFAULT_TIME.into(),
            cpus_per_task: None,
            mem: DEFAULT_MEM.into(),
            gres: None,
            account: None,
        }
    }
}

impl SlurmResources {
    /// Refuses values that would make a broken script (a newline, a quote) or that Slurm
    /// could only reject later, one by one, from the queue.
    pub fn check(&self) -> Result<()> {
        let fields = [
            ("--partition", self.partition.as_deref()),
            ("--time", Some(self.time.as_str())),
            ("--mem", Some(self.mem.as_str())),
            ("--gres", self.gres.as_deref()),
            ("--account", self.account.as_deref()),
        ];
        for (flag, value) in fields {
            if let Some(v) = value {
                let ok = !v.is_empty() && v.chars().all(|c| c.is_ascii_alphanumeric() || "-_:.,=+".contains(c));
                ensure!(ok, "{flag} {v:?}: expected a Slurm value (letters, digits and - _ : . , = +)");
            }
        }
        let time_ok = self.time.split(['-', ':']).all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
        ensure!(time_ok, "--time {:?}: expected minutes or [days-]hours:minutes:seconds", self.time);
        ensure!(self.cpus_per_task != Some(0), "--cpus-per-task must be at least 1");
        Ok(())
    }
}

/// What `experiment` and `sweep` do with their plan instead of training it here.
#[derive(clap::Args, Clone, Debug)]
pub struct ModeArgs {
    /// Print every run (its config's origin, seed, epochs, what it needs first), then stop.
    #[arg(long, conflicts_with_all = ["plan_json", "collect", "slurm"])]
    pub plan: bool,
    /// The plan as JSON (each run's whole config included), then stop.
    #[arg(long, conflicts_with_all = ["collect", "slurm"])]
    pub plan_json: bool,
    /// Train nothing: collect the finished runs in --out into the results, naming those not
    /// finished (the Slurm bundle's last job).
    #[arg(long, conflicts_with = "slurm")]
    pub collect: bool,
    #[command(flatten)]
    pub slurm: SlurmArgs,
}

/// The command-line flags of `--slurm` (shared by `experiment` and `sweep`).
#[derive(clap::Args, Clone, Debug)]
pub struct SlurmArgs {
    /// Write a Slurm bundle to this folder instead of training: one job array per dependency
    /// level, a collect job and submit.sh (see the README's "On a cluster").
    #[arg(long, value_name = "DIR")]
    pub slurm: Option<PathBuf>,
    /// Slurm partition (default: the cluster's default).
    #[arg(long, requires = "slurm")]
    pub partition: Option<String>,
    /// Time limit of one run, [days-]hours:minutes:seconds.
    #[arg(long, requires = "slurm", default_value = DEFAULT_TIME)]
    pub time: String,
    /// CPUs per run (default: the most `training.threads` of any run).
    #[arg(long, requires = "slurm")]
    pub cpus_per_task: Option<usize>,
    /// Memory per run, in Slurm's units (4G, 16000M).
    #[arg(long, requires = "slurm", default_value = DEFAULT_MEM)]
    pub mem: String,
    /// Generic resources per run, e.g. gpu:1 (default: none).
    #[arg(long, requires = "slurm")]
    pub gres: Option<String>,
    /// Account to charge (default: the user's default).
    #[arg(long, requires = "slurm")]
    pub account: Option<String>,
    /// Write into a --slurm folder that already holds files.
    #[arg(long, requires = "slurm")]
    pub force: bool,
}

impl SlurmArgs {
    /// The resources the flags ask for.
    pub fn resources(&self) -> SlurmResources {
        SlurmResources {
            partition: self.partition.clone(),
            time: self.time.clone(),
            cpus_per_task: self.cpus_per_task,
            mem: self.mem.clone(),
            gres: self.gres.clone(),
            account: self.account.clone(),
        }
    }
}

/// What a bundle holds, for the command's report.
#[derive(Clone, Debug)]
pub struct Bundle {
    /// The bundle folder.
    pub dir: PathBuf,
    /// Runs per level.
    pub arrays: Vec<usize>,
    /// Jobs submitted in all: one array per level and the collect job.
    pub jobs: usize,
}

/// Writes `plan` as a Slurm bundle in `dir` (empty or new, unless `force`). `device` is passed
/// to every `neurozoo train`.
pub fn write_bundle(
    plan: &Plan,
    dir: &Path,
    resources: &SlurmResources,
    device: Option<&str>,
    force: bool,
) -> Result<Bundle> {
    resources.check()?;
    ensure!(!plan.runs.is_empty(), "the plan has no runs");
    let levels = plan.levels()?;
    let level_count = plan.level_count()?;
    ensure_output_folder(dir, force)?;
    let workdir = std::env::current_dir().context("the current folder")?;
    let dir = std::path::absolute(dir).with_context(|| format!("{}", dir.display()))?;
    let binary = std::env::current_exe().context("the path of this neurozoo binary")?;
    for sub in ["configs", "logs"] {
        std::fs::create_dir_all(dir.join(sub)).with_context(|| format!("cannot create {}", dir.join(sub).display()))?;
    }
    let cpus = resources
        .cpus_per_task
        .unwrap_or_else(|| plan.runs.iter().map(|r| r.config.training.threads).max().unwrap_or(1).max(1));
    let tag = job_tag(&plan.title);
    let mut arrays = Vec::new();
    for level in 0..level_count {
        let mut list = String::new();
        for (run, _) in plan.runs.iter().zip(&levels).filter(|(_, l)| **l == level) {
            let path = dir.join("configs").join(format!("{}.toml", run.config.name));
            let header = format!(
                "# {} — run {} of the Slurm bundle {}: {}.\n# Trained by level{level}.sbatch with `neurozoo train --config <this file> --resume`.\n",
                plan.title,
                run.config.name,
                dir.display(),
                run.origin
            );
            let body = toml::to_string_pretty(&run.config).context("serialising a config")?;
            write_atomic(&path, format!("{header}{body}").as_bytes())?;
            let _ = writeln!(list, "{}", path.display());
        }
        let count = list.lines().count();
        write_atomic(&dir.join(format!("level{level}.txt")), list.as_bytes())?;
        let script = level_script(&tag, level, count, &dir, &workdir, &binary, resources, cpus, device);
        write_atomic(&dir.join(format!("level{level}.sbatch")), script.as_bytes())?;
        arrays.push(count);
    }
    write_atomic(
        &dir.join("collect.sbatch"),
        collect_script(&tag, plan, &dir, &workdir, &binary, resources).as_bytes(),
    )?;
    let submit = submit_script(plan, level_count, &dir);
    let submit_path = dir.join("submit.sh");
    write_atomic(&submit_path, submit.as_bytes())?;
    make_executable(&submit_path)?;
    Ok(Bundle { dir, jobs: arrays.len() + 1, arrays })
}

/// A job name from the plan's title: `neurozoo-sine-table`.
fn job_tag(title: &str) -> String {
    let cleaned: String =
        title.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '-' }).collect();
    let mut tag = format!("neurozoo-{}", cleaned.trim_matches('-'));
    tag.truncate(60);
    tag
}

/// The `#SBATCH` lines every job shares.
fn resource_lines(resources: &SlurmResources, workdir: &Path) -> String {
    let mut lines = String::new();
    let _ = writeln!(lines, "#SBATCH --chdir={}", workdir.display());
    let _ = writeln!(lines, "#SBATCH --time={}", resources.time);
    let _ = writeln!(lines, "#SBATCH --mem={}", resources.mem);
    for (flag, value) in
        [("partition", &resources.partition), ("gres", &resources.gres), ("account", &resources.account)]
    {
        if let Some(v) = value {
            let _ = writeln!(lines, "#SBATCH --{flag}={v}");
        }
    }
    lines
}

#[allow(clippy::too_many_arguments)]
fn level_script(
    tag: &str,
    level: usize,
    count: usize,
    dir: &Path,
    workdir: &Path,
    binary: &Path,
    resources: &SlurmResources,
    cpus: usize,
    device: Option<&str>,
) -> String {
    let device_arg = device.map(|d| format!(" --device {}", shell_quote(d))).unwrap_or_default();
    format!(
        r#"#!/bin/bash
# Level {level} of the bundle: {count} independent training runs, one array task each.
# Task i trains the config on line i+1 of level{level}.txt. `--resume` makes a requeued or
# preempted task continue from its last checkpoint, and a finished run finish at once.
#SBATCH --job-name={tag}-L{level}
#SBATCH --array=0-{last}
#SBATCH --cpus-per-task={cpus}
#SBATCH --output={logs}/%x-%A_%a.out
#SBATCH --open-mode=append
#SBATCH --requeue
{resources}
set -euo pipefail
NEUROZOO="${{NEUROZOO:-{binary}}}"
config=$(sed -n "$((SLURM_ARRAY_TASK_ID + 1))p" {list})
echo "task $SLURM_ARRAY_TASK_ID on $(hostname): $config"
exec "$NEUROZOO" train --config "$config" --resume{device_arg}
"#,
        last = count - 1,
        logs = shell_quote(&dir.join("logs").display().to_string()),
        resources = resource_lines(resources, workdir).trim_end(),
        binary = shell_quote(&binary.display().to_string()),
        list = shell_quote(&dir.join(format!("level{level}.txt")).display().to_string()),
    )
}

fn collect_script(
    tag: &str,
    plan: &Plan,
    dir: &Path,
    workdir: &Path,
    binary: &Path,
    resources: &SlurmResources,
) -> String {
    // Collecting reads summaries and writes a few files: minutes and one CPU at most.
    let light = SlurmResources { time: "00:30:00".into(), mem: "1G".into(), gres: None, ..resources.clone() };
    format!(
        r#"#!/bin/bash
# The last job: collects the finished runs of {title} into its table or CSV in {out}.
#SBATCH --job-name={tag}-collect
#SBATCH --cpus-per-task=1
#SBATCH --output={logs}/%x-%j.out
{resources}
set -euo pipefail
NEUROZOO="${{NEUROZOO:-{binary}}}"
exec "$NEUROZOO" {args}
"#,
        title = plan.title,
        out = plan.out.display(),
        logs = shell_quote(&dir.join("logs").display().to_string()),
        resources = resource_lines(&light, workdir).trim_end(),
        binary = shell_quote(&binary.display().to_string()),
        args = shell_words(&plan.collect_args),
    )
}

fn submit_script(plan: &Plan, level_count: usize, dir: &Path) -> String {
    let mut s = format!(
        r#"#!/bin/bash
# Submits {title}: {runs} runs in {level_count} job array(s), one per dependency level, then the
# collect job. Each waits for the one before to succeed (afterok). To resume a partly finished
# bundle, run this again: finished runs finish at once, interrupted ones continue.
set -euo pipefail
cd {dir}
"#,
        title = plan.title,
        runs = plan.runs.len(),
        dir = shell_quote(&dir.display().to_string()),
    );
    s += "previous=\"\"\n";
    s += "after() { if [ -n \"$previous\" ]; then echo \"--dependency=afterok:$previous\"; fi; }\n";
    for level in 0..level_count {
        let _ = writeln!(s, "previous=$(sbatch --parsable $(after) level{level}.sbatch)");
        let _ = writeln!(s, "echo \"level {level}: job $previous\"");
    }
    s += "previous=$(sbatch --parsable $(after) collect.sbatch)\n";
    let _ = writeln!(s, "echo \"collect: job $previous (writes {})\"", plan.out.display());
    s
}

#[cfg(unix)]
fn make_executable(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .with_context(|| format!("cannot make {} executable", path.display()))
}

#[cfg(not(unix))]
fn make_executable(_: &Path) -> Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_that_would_break_a_script_are_refused() {
        assert!(SlurmResources::default().check().is_ok());
        let bad = |r: SlurmResources| r.check().unwrap_err().to_string();
        let e = bad(SlurmResources { partition: Some("gpu\n#SBATCH --x".into()), ..Default::default() });
        assert!(e.contains("--partition"), "{e}");
        let e = bad(SlurmResources { time: "soon".into(), ..Default::default() });
        assert!(e.contains("--time"), "{e}");
        let e = bad(SlurmResources { cpus_per_task: Some(0), ..Default::default() });
        assert!(e.contains("--cpus-per-task"), "{e}");
        for time in ["30", "4:00:00", "1-00:00:00"] {
            assert!(SlurmResources { time: time.into(), ..Default::default() }.check().is_ok(), "{time}");
        }
    }
}
