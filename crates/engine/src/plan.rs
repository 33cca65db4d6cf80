//! A plan: the runs an `experiment` table or a `sweep` consists of, each with its full config
//! and the runs it needs first, before anything is trained.
//!
//! One plan serves three ends: `--plan`/`--plan-json` print it, the in-process commands train
//! it in order (skipping finished runs, continuing interrupted ones), and `--slurm` writes it
//! as job arrays, one per dependency level (`slurm.rs`). A run's level is 0 when it needs
//! nothing, else one more than the highest level it needs: in a GLIFR table, RNN … LHetA are
//! level 0 and FHet/RHet/FHetA/RHetA, whose het init reads their trial's LHet/LHetA
//! checkpoint, level 1.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Serialize;

use crate::config::RunConfig;
use crate::model::latest_checkpoint;
use crate::runner::{Summary, TrainOptions, train};

/// One run of a plan.
#[derive(Clone, Debug)]
pub struct PlannedRun {
    /// The whole config the run trains with (its name, folder, seed and epochs included).
    pub config: RunConfig,
    /// Where the config comes from and what the plan changed: `configs/sine/glifr-fhet.toml,
    /// seed 1` or `learning_rate=0.001 hidden_size=64, trial 0`.
    pub origin: String,
    /// Names of the runs whose results this one reads (its het init's source).
    pub depends_on: Vec<String>,
}

/// The runs of one table or sweep, in the order they train in-process.
#[derive(Clone, Debug)]
pub struct Plan {
    /// `sine-table`, `sweep of configs/sine/rnn.toml`.
    pub title: String,
    /// The folder of the runs and the collected results.
    pub out: PathBuf,
    /// Every run.
    pub runs: Vec<PlannedRun>,
    /// The `neurozoo` arguments that collect the finished runs into the table or CSV (the
    /// bundle's last job).
    pub collect_args: Vec<String>,
}

/// One run in `--plan-json`.
#[derive(Serialize)]
struct RunJson<'a> {
    name: &'a str,
    run_dir: PathBuf,
    level: usize,
    depends_on: &'a [String],
    origin: &'a str,
    seed: u64,
    epochs: usize,
    config_toml: String,
}

impl Plan {
    /// Each run's dependency level, in plan order. A dependency outside the plan, or a cycle,
    /// is an error (the planners never make one).
    pub fn levels(&self) -> Result<Vec<usize>> {
        let mut levels: Vec<Option<usize>> = vec![None; self.runs.len()];
        // Runs are planned after what they need, but do not rely on it: relax until settled.
        for _ in 0..=self.runs.len() {
            let mut changed = false;
            for (i, run) in self.runs.iter().enumerate() {
                let mut level = Some(0);
                for dep in &run.depends_on {
                    let j =
                        self.runs.iter().position(|r| &r.config.name == dep).with_context(|| {
                            format!("run {} needs {dep}, which is not in the plan", run.config.name)
                        })?;
                    level = match (level, levels[j]) {
                        (Some(l), Some(d)) => Some(l.max(d + 1)),
                        _ => None,
                    };
                }
                if level != levels[i] {
                    levels[i] = level;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        levels
            .into_iter()
            .zip(&self.runs)
            .map(|(l, r)| l.with_context(|| format!("run {} is part of a dependency cycle", r.config.name)))
            .collect()
    }

    /// The number of levels (0 for an empty plan).
    pub fn level_count(&self) -> Result<usize> {
        Ok(self.levels()?.into_iter().max().map_or(0, |l| l + 1))
    }

    /// `--plan`: every run by level, with where its config comes from and what it needs.
    pub fn text(&self) -> Result<String> {
        let levels = self.levels()?;
        let count = self.level_count()?;
        let mut text =
            format!("# {}: {} runs in {count} level(s) → {}\n", self.title, self.runs.len(), self.out.display());
        let width = self.runs.iter().map(|r| r.config.name.len()).max().unwrap_or(0);
        for level in 0..count {
            let members: Vec<&PlannedRun> =
                self.runs.iter().zip(&levels).filter(|(_, l)| **l == level).map(|(r, _)| r).collect();
            let after = if level == 0 { "needs nothing".to_string() } else { format!("after level {}", level - 1) };
            let _ = writeln!(text, "level {level} ({} runs, {after})", members.len());
            for run in members {
                let c = &run.config;
                let _ =
                    write!(text, "  {:width$}  {}, seed {}, {} epochs", c.name, run.origin, c.seed, c.training.epochs);
                if !run.depends_on.is_empty() {
                    let _ = write!(text, "  ← {}", run.depends_on.join(", "));
                }
                text.push('\n');
            }
        }
        let _ = writeln!(text, "collect: neurozoo {}", shell_words(&self.collect_args));
        Ok(text)
    }

    /// `--plan-json`: the same, for tools, with each run's whole config as TOML.
    pub fn json(&self) -> Result<String> {
        let levels = self.levels()?;
        let mut runs = Vec::new();
        for (run, level) in self.runs.iter().zip(levels) {
            runs.push(RunJson {
                name: &run.config.name,
                run_dir: run.config.run_dir(),
                level,
                depends_on: &run.depends_on,
                origin: &run.origin,
                seed: run.config.seed,
                epochs: run.config.training.epochs,
                config_toml: toml::to_string_pretty(&run.config).context("serialising a config")?,
            });
        }
        let doc = serde_json::json!({
            "title": self.title,
            "out": self.out,
            "levels": self.level_count()?,
            "runs": runs,
            "collect": self.collect_args,
        });
        Ok(serde_json::to_string_pretty(&doc)?)
    }
}

/// Arguments joined for a shell, each quoted where it needs it.
pub fn shell_words(args: &[String]) -> String {
    args.iter().map(|a| shell_quote(a)).collect::<Vec<_>>().join(" ")
}

/// One word for a POSIX shell: as is when it is plain, else in single quotes.
pub fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty() && word.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=,:+@%".contains(c));
    if plain { word.to_string() } else { format!("'{}'", word.replace('\'', r"'\''")) }
}

/// A run's `summary.json`, if it has finished once.
pub fn read_summary(run_dir: &Path) -> Result<Option<Summary>> {
    let path = run_dir.join("summary.json");
    if !path.is_file() {
        return Ok(None);
    }
    let text = crate::fsutil::read_to_string_bounded(&path, crate::fsutil::MAX_TEXT_BYTES)?;
    Ok(Some(serde_json::from_str(&text).with_context(|| format!("{} is not a run summary", path.display()))?))
}

/// The summary of a run that has finished the epochs its config asks for; `None` when it has
/// not (yet). One trained for more epochs than asked is an error rather than a silent mix.
pub fn finished_summary(config: &RunConfig) -> Result<Option<Summary>> {
    let run_dir = config.run_dir();
    let epochs = config.training.epochs;
    match read_summary(&run_dir)? {
        Some(summary) if summary.epochs == epochs => Ok(Some(summary)),
        Some(summary) if summary.epochs > epochs => bail!(
            "{} was trained for {} epochs, more than the {epochs} asked for; ask for {} or use another --out",
            run_dir.display(),
            summary.epochs,
            summary.epochs
        ),
        _ => Ok(None),
    }
}

/// Trains a planned run unless it has finished: a run with checkpoints continues from its last
/// one. Returns its summary and whether it trained now. `position` is `(i, n)` for the log.
pub fn train_unless_finished(
    config: &RunConfig,
    device: Option<&str>,
    quiet: bool,
    position: (usize, usize),
) -> Result<(Summary, bool)> {
    if let Some(summary) = finished_summary(config)? {
        return Ok((summary, false));
    }
    let run_dir = config.run_dir();
    if !quiet {
        let verb = if latest_checkpoint(&run_dir)?.is_some() { "continuing" } else { "training" };
        eprintln!(
            "[{}/{}] {verb} {} ({} epochs)",
            position.0 + 1,
            position.1,
            run_dir.display(),
            config.training.epochs
        );
    }
    let options = TrainOptions { device: device.map(str::to_string), resume: true, quiet };
    let summary = train(config, &options).with_context(|| format!("training {}", run_dir.display()))?;
    Ok((summary, true))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DEFAULT_CONFIG;

    fn run(name: &str, deps: &[&str]) -> PlannedRun {
        let mut config = RunConfig::from_toml(DEFAULT_CONFIG, "default").unwrap();
        config.name = name.into();
        PlannedRun { config, origin: "test".into(), depends_on: deps.iter().map(|d| d.to_string()).collect() }
    }

    fn plan(runs: Vec<PlannedRun>) -> Plan {
        Plan { title: "t".into(), out: "runs/t".into(), runs, collect_args: vec!["x".into()] }
    }

    #[test]
    fn levels_follow_dependencies_in_any_order() {
        let p = plan(vec![run("c", &["b"]), run("a", &[]), run("b", &["a"]), run("d", &["a", "c"])]);
        assert_eq!(p.levels().unwrap(), vec![2, 0, 1, 3]);
        assert_eq!(p.level_count().unwrap(), 4);
        let text = p.text().unwrap();
        assert!(text.contains("4 runs in 4 level(s)") && text.contains("← a, c"), "{text}");
        let missing = plan(vec![run("a", &["z"])]).levels().unwrap_err().to_string();
        assert!(missing.contains("needs z"), "{missing}");
        let cycle = plan(vec![run("a", &["b"]), run("b", &["a"])]).levels().unwrap_err().to_string();
        assert!(cycle.contains("cycle"), "{cycle}");
    }

    #[test]
    fn shell_quoting_keeps_words_whole() {
        assert_eq!(shell_quote("training.epochs=5"), "training.epochs=5");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
    }
}
