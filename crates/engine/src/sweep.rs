//! `neurozoo sweep`: a grid over config keys, every combination × N trials, each an independent
//! resumable run, collected into one `sweep.csv`.
//!
//! `--grid training.learning_rate=1e-3,1e-4 --grid model.hidden_size=64,128` uses the keys and
//! values of `--set` (`config/overrides.rs`); `--set` changes every run. A run is named from its
//! values, `learning_rate-0.001_hidden_size-64_trial0`, in `<out>/`, and trial `t` runs with seed
//! `config seed + t`, as in `experiment`. Runs train one after another here, or as one Slurm job
//! array with `--slurm` (grid runs need nothing from each other, so the bundle has one level).

use std::fmt::Write as _;
use std::path::PathBuf;
use std::str::FromStr;

use anyhow::{Context, Result, ensure};

use crate::config::{Override, RunConfig, parse_key, parse_value};
use crate::fsutil::write_atomic;
use crate::plan::{Plan, PlannedRun, finished_summary, train_unless_finished};
use crate::runner::Summary;

/// One `--grid key=v1,v2,…`.
#[derive(Clone, Debug, PartialEq)]
pub struct Grid {
    /// Dotted config key.
    pub key: String,
    /// Its values, parsed as TOML (a bare word: a string).
    pub values: Vec<toml::Value>,
}

impl FromStr for Grid {
    type Err = anyhow::Error;

    fn from_str(text: &str) -> Result<Self> {
        let (key, values) =
            text.split_once('=').with_context(|| format!("`{text}` is not key=v1,v2 (e.g. training.epochs=5,10)"))?;
        let key = parse_key(key)?;
        let values: Vec<toml::Value> = split_top_level(values).iter().map(|v| parse_value(v)).collect();
        ensure!(
            values.iter().all(|v| !matches!(v, toml::Value::String(s) if s.is_empty())),
            "--grid {key}: an empty value"
        );
        for (i, v) in values.iter().enumerate() {
            ensure!(!values[..i].contains(v), "--grid {key}: the value {v} is given twice");
        }
        Ok(Grid { key, values })
    }
}

/// Splits at commas outside brackets and quotes: `1,[2,3],"a,b"` → `1`, `[2,3]`, `"a,b"`.
fn split_top_level(text: &str) -> Vec<String> {
    let (mut parts, mut current, mut depth, mut quote) = (Vec::new(), String::new(), 0i32, None);
    for c in text.chars() {
        match (c, quote) {
            ('"' | '\'', None) => quote = Some(c),
            (q, Some(open)) if q == open => quote = None,
            ('[' | '{', None) => depth += 1,
            (']' | '}', None) => depth -= 1,
            (',', None) if depth == 0 => {
                parts.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    parts.push(current);
    parts
}

/// Options of `neurozoo sweep`.
#[derive(Clone, Debug)]
pub struct SweepOptions {
    /// The base config.
    pub config: PathBuf,
    /// The grid: every combination of its values is a run.
    pub grid: Vec<Grid>,
    /// Trials of each combination.
    pub trials: usize,
    /// Index of the first trial.
    pub first_trial: usize,
    /// `--set` overrides of every run.
    pub set: Vec<Override>,
    /// The folder of the runs and `sweep.csv` (default: `runs/sweep-<config name>`).
    pub out: Option<PathBuf>,
    /// Device override.
    pub device: Option<String>,
    /// Print nothing but errors.
    pub quiet: bool,
}

/// One combination of grid values.
type Point = Vec<Override>;

fn points(grid: &[Grid]) -> Vec<Point> {
    let mut points: Vec<Point> = vec![Vec::new()];
    for g in grid {
        points = points
            .into_iter()
            .flat_map(|p| {
                g.values.iter().map(move |v| {
                    let mut q = p.clone();
                    q.push(Override { key: g.key.clone(), value: v.clone() });
                    q
                })
            })
            .collect();
    }
    points
}

/// The last segment of each key, or the whole key where two grid keys share a last segment.
fn short_names(grid: &[Grid]) -> Vec<String> {
    let last = |k: &str| k.rsplit('.').next().unwrap_or(k).to_string();
    grid.iter()
        .map(|g| {
            let clash = grid.iter().filter(|h| last(&h.key) == last(&g.key)).count() > 1;
            if clash { g.key.replace('.', "-") } else { last(&g.key) }
        })
        .collect()
}

/// A value as part of a folder name: `0.001`, `64`, `true`, `flex`; other characters become `_`.
fn value_slug(value: &toml::Value) -> String {
    let text = match value {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    text.chars().map(|c| if c.is_ascii_alphanumeric() || "._+-".contains(c) { c } else { '_' }).collect()
}

fn run_name(names: &[String], point: &Point, trial: usize) -> String {
    let mut name = String::new();
    for (short, o) in names.iter().zip(point) {
        let _ = write!(name, "{short}-{}_", value_slug(&o.value));
    }
    format!("{name}trial{trial}")
}

/// The sweep's folder.
pub fn out_dir(options: &SweepOptions, base: &RunConfig) -> PathBuf {
    options.out.clone().unwrap_or_else(|| PathBuf::from("runs").join(format!("sweep-{}", base.name)))
}

/// Every run of the sweep, each config checked: a value the config refuses fails here, before
/// anything trains.
pub fn plan(options: &SweepOptions) -> Result<Plan> {
    ensure!(!options.grid.is_empty(), "give at least one --grid key=v1,v2");
    ensure!(options.trials > 0, "--trials must be at least 1");
    for (i, g) in options.grid.iter().enumerate() {
        ensure!(!options.grid[..i].iter().any(|h| h.key == g.key), "--grid {} is given twice", g.key);
    }
    let base = RunConfig::load_with(&options.config, &options.set)?;
    let out = out_dir(options, &base);
    let names = short_names(&options.grid);
    let mut runs = Vec::new();
    for point in points(&options.grid) {
        for trial in options.first_trial..options.first_trial + options.trials {
            let mut set = options.set.clone();
            set.extend(point.iter().cloned());
            let mut config = RunConfig::load_with(&options.config, &set)?;
            config.name = run_name(&names, &point, trial);
            config.runs_dir = out.clone();
            config.seed += trial as u64;
            config.validate().with_context(|| format!("run {}", config.name))?;
            let values: Vec<String> = point.iter().map(ToString::to_string).collect();
            let origin = format!("{} with {}, trial {trial}", options.config.display(), values.join(" "));
            runs.push(PlannedRun { config, origin, depends_on: Vec::new() });
        }
    }
    for (i, r) in runs.iter().enumerate() {
        let clash = runs[..i].iter().find(|s| s.config.name == r.config.name);
        ensure!(
            clash.is_none(),
            "two grid points share the run name {}; use values that differ as text",
            r.config.name
        );
    }
    let mut collect_args = vec!["sweep".into(), "--config".into(), options.config.display().to_string()];
    for g in &options.grid {
        let values: Vec<String> = g.values.iter().map(ToString::to_string).collect();
        collect_args.push("--grid".into());
        collect_args.push(format!("{}={}", g.key, values.join(",")));
    }
    for (flag, value) in [("--trials", options.trials.to_string()), ("--first-trial", options.first_trial.to_string())]
    {
        collect_args.push(flag.into());
        collect_args.push(value);
    }
    for o in &options.set {
        collect_args.push("--set".into());
        collect_args.push(o.to_string());
    }
    collect_args.extend(["--out".into(), out.display().to_string(), "--collect".into()]);
    Ok(Plan { title: format!("sweep of {}", options.config.display()), out, runs, collect_args })
}

/// Trains every run of the sweep's `plan` (from [`plan`]) that has not finished, continuing
/// interrupted ones, then writes `sweep.csv`.
pub fn run_sweep(options: &SweepOptions, plan: &Plan) -> Result<Vec<String>> {
    std::fs::create_dir_all(&plan.out).with_context(|| format!("cannot create {}", plan.out.display()))?;
    let n = plan.runs.len();
    for (i, run) in plan.runs.iter().enumerate() {
        train_unless_finished(&run.config, options.device.as_deref(), options.quiet, (i, n))?;
    }
    collect(options, plan)
}

/// Writes `<out>/sweep.csv` from the finished runs of `plan`: the run, its trial and swept
/// values, the final metrics and the training time. Returns the names of the runs that have not
/// finished (left out of the CSV).
pub fn collect(options: &SweepOptions, plan: &Plan) -> Result<Vec<String>> {
    ensure!(plan.out.is_dir(), "{} does not exist: nothing has been trained there", plan.out.display());
    let names = short_names(&options.grid);
    let mut csv = String::from("run,trial");
    for g in &options.grid {
        let _ = write!(csv, ",{}", g.key);
    }
    csv += ",epochs,train_loss,train_accuracy,test_loss,test_accuracy,seconds\n";
    let mut missing = Vec::new();
    let points = points(&options.grid);
    for point in &points {
        for trial in options.first_trial..options.first_trial + options.trials {
            let name = run_name(&names, point, trial);
            let run = plan.runs.iter().find(|r| r.config.name == name).expect("the plan has every point");
            let Some(summary) = finished_summary(&run.config)? else {
                missing.push(name);
                continue;
            };
            csv += &csv_row(&name, trial, point, &summary);
        }
    }
    write_atomic(&plan.out.join("sweep.csv"), csv.as_bytes())?;
    Ok(missing)
}

fn csv_row(name: &str, trial: usize, point: &Point, s: &Summary) -> String {
    let optional = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
    let mut row = format!("{name},{trial}");
    for o in point {
        let text = match &o.value {
            toml::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        // A value with a comma or quote (a list, a string) is quoted, as CSV wants.
        if text.contains([',', '"']) {
            let _ = write!(row, ",\"{}\"", text.replace('"', "\"\""));
        } else {
            let _ = write!(row, ",{text}");
        }
    }
    let _ = writeln!(
        row,
        ",{},{},{},{},{},{:.1}",
        s.epochs,
        s.train_loss,
        optional(s.train_accuracy),
        s.test.loss,
        optional(s.test.accuracy),
        s.seconds
    );
    row
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grids_parse_lists_and_strings_whole() {
        let g: Grid = "training.learning_rate=1e-3,1e-4".parse().unwrap();
        assert_eq!(g.values, vec![toml::Value::Float(1e-3), toml::Value::Float(1e-4)]);
        let g: Grid = r#"model.x=[1,2],"a,b",flex"#.parse().unwrap();
        assert_eq!(g.values.len(), 3);
        assert_eq!(g.values[1], toml::Value::String("a,b".into()));
        assert_eq!(g.values[2], toml::Value::String("flex".into()));
        assert!("training.epochs=5,5".parse::<Grid>().is_err());
        assert!("training.epochs=5,".parse::<Grid>().is_err());
        assert!("training.epochs".parse::<Grid>().is_err());
    }

    #[test]
    fn every_combination_gets_a_name_from_its_values() {
        let grid: Vec<Grid> = ["training.learning_rate=0.001,0.0001", "model.hidden_size=64,128"]
            .iter()
            .map(|g| g.parse().unwrap())
            .collect();
        let all = points(&grid);
        assert_eq!(all.len(), 4);
        let names = short_names(&grid);
        let named: Vec<String> = all.iter().map(|p| run_name(&names, p, 0)).collect();
        assert_eq!(
            named,
            [
                "learning_rate-0.001_hidden_size-64_trial0",
                "learning_rate-0.001_hidden_size-128_trial0",
                "learning_rate-0.0001_hidden_size-64_trial0",
                "learning_rate-0.0001_hidden_size-128_trial0",
            ]
        );
        // Keys that end alike are named in full.
        let clash: Vec<Grid> = ["model.dt=0.05", "task.dt=0.1"].iter().map(|g| g.parse().unwrap()).collect();
        assert_eq!(short_names(&clash), ["model-dt", "task-dt"]);
    }
}
