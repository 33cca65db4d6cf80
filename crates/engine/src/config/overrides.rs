//! `--set key=value`: one config value changed from the command line, as Hydra and Lightning
//! CLI do it, e.g. `--set training.epochs=5 --set model.hidden_size=128`.
//!
//! The key is the value's dotted path in the TOML file (`training.learning_rate`, `task.steps`,
//! `model.elm.num_branches`); the value is parsed as TOML (`5`, `1e-3`, `true`, `[1, 2]`,
//! `"text"`), and a bare word that is not TOML is taken as a string, so `--set device=flex`
//! needs no quotes. The override is applied to the parsed file before it is checked, so an
//! unknown key or an impossible value is refused exactly as it would be in the file, and the
//! run's saved `config.toml` records the result (a later `--resume` compares it like any other
//! change). `neurozoo sweep --grid` uses the same keys.

use std::fmt;
use std::str::FromStr;

use anyhow::{Context, Result, bail, ensure};

use super::RunConfig;

/// One `key=value`.
#[derive(Clone, Debug, PartialEq)]
pub struct Override {
    /// Dotted path: `training.epochs`.
    pub key: String,
    /// The value, parsed as TOML.
    pub value: toml::Value,
}

impl fmt::Display for Override {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.key, self.value)
    }
}

impl FromStr for Override {
    type Err = anyhow::Error;

    fn from_str(text: &str) -> Result<Self> {
        let (key, value) =
            text.split_once('=').with_context(|| format!("`{text}` is not key=value (e.g. training.epochs=5)"))?;
        Ok(Override { key: parse_key(key)?, value: parse_value(value) })
    }
}

/// Checks a dotted key: non-empty segments of letters, digits and `_`.
pub fn parse_key(key: &str) -> Result<String> {
    let key = key.trim();
    let ok = !key.is_empty()
        && key.split('.').all(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
    ensure!(ok, "`{key}` is not a config key (dotted names, e.g. training.learning_rate)");
    Ok(key.to_string())
}

/// A value as TOML, or as a string when it is not TOML (`flex`, `data/mnist`).
pub fn parse_value(text: &str) -> toml::Value {
    let text = text.trim();
    match toml::from_str::<toml::Table>(&format!("v = {text}")) {
        Ok(mut table) => table.remove("v").unwrap_or_else(|| toml::Value::String(text.into())),
        Err(_) => toml::Value::String(text.into()),
    }
}

/// Sets `key` in `doc`, creating the tables on its path that the file leaves out (a section
/// that only has defaults). A path through a value that is not a table is refused.
pub fn apply(doc: &mut toml::Table, o: &Override) -> Result<()> {
    let mut segments: Vec<&str> = o.key.split('.').collect();
    let leaf = segments.pop().expect("parse_key refuses an empty key");
    let mut table = doc;
    let mut path = String::new();
    for segment in segments {
        path = if path.is_empty() { segment.to_string() } else { format!("{path}.{segment}") };
        let entry = table.entry(segment).or_insert_with(|| toml::Value::Table(toml::Table::new()));
        match entry {
            toml::Value::Table(t) => table = t,
            other => bail!("--set {o}: `{path}` is {}, not a section", other.type_str()),
        }
    }
    table.insert(leaf.to_string(), o.value.clone());
    Ok(())
}

impl RunConfig {
    /// Parses TOML text, applies `overrides` in order, then checks the result; `origin` names
    /// the text in errors, and the overrides are named too.
    pub fn from_toml_with(text: &str, origin: &str, overrides: &[Override]) -> Result<Self> {
        if overrides.is_empty() {
            return Self::from_toml(text, origin);
        }
        let mut doc: toml::Table = toml::from_str(text).with_context(|| format!("invalid config {origin}"))?;
        for o in overrides {
            apply(&mut doc, o)?;
        }
        let named: Vec<String> = overrides.iter().map(|o| format!("--set {o}")).collect();
        let origin = format!("{origin} with {}", named.join(" "));
        let config: RunConfig =
            toml::Value::Table(doc).try_into().with_context(|| format!("invalid config {origin}"))?;
        config.validate().with_context(|| format!("invalid config {origin}"))?;
        Ok(config)
    }

    /// Reads a config file and applies `overrides` (see [`RunConfig::from_toml_with`]).
    pub fn load_with(path: &std::path::Path, overrides: &[Override]) -> Result<Self> {
        let text = crate::fsutil::read_to_string_bounded(path, crate::fsutil::MAX_TEXT_BYTES)
            .with_context(|| format!("config {}", path.display()))?;
        Self::from_toml_with(&text, &path.display().to_string(), overrides)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{DEFAULT_CONFIG, TaskConfig};

    fn set(list: &[&str]) -> Vec<Override> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    #[test]
    fn values_parse_as_toml_or_as_bare_strings() {
        assert_eq!(parse_value("5"), toml::Value::Integer(5));
        assert_eq!(parse_value("1e-3"), toml::Value::Float(1e-3));
        assert_eq!(parse_value("true"), toml::Value::Boolean(true));
        assert_eq!(parse_value("\"a b\""), toml::Value::String("a b".into()));
        assert_eq!(parse_value("flex"), toml::Value::String("flex".into()));
        assert_eq!(parse_value("data/mnist"), toml::Value::String("data/mnist".into()));
        let list = parse_value("[1, 2]");
        assert_eq!(list.as_array().map(Vec::len), Some(2));
        let o: Override = "training.learning_rate=0.001".parse().unwrap();
        assert_eq!(o.to_string(), "training.learning_rate=0.001");
    }

    #[test]
    fn overrides_change_the_config_as_the_file_would() {
        let base = RunConfig::from_toml(DEFAULT_CONFIG, "default").unwrap();
        let changed = RunConfig::from_toml_with(
            DEFAULT_CONFIG,
            "default",
            &set(&["training.epochs=5", "model.hidden_size=64", "device=flex", "name=short", "seed=3"]),
        )
        .unwrap();
        assert_eq!(changed.training.epochs, 5);
        assert_eq!(changed.model.hidden_size, 64);
        assert_eq!(changed.device.as_deref(), Some("flex"));
        assert_eq!((changed.name.as_str(), changed.seed), ("short", 3));
        // Everything else is untouched.
        let mut expected = base.clone();
        expected.training.epochs = 5;
        expected.model.hidden_size = 64;
        expected.device = Some("flex".into());
        expected.name = "short".into();
        expected.seed = 3;
        assert_eq!(changed, expected);
        // The last of two settings of one key wins, as on a Hydra command line.
        let twice = RunConfig::from_toml_with(DEFAULT_CONFIG, "d", &set(&["training.epochs=5", "training.epochs=7"]));
        assert_eq!(twice.unwrap().training.epochs, 7);
        let TaskConfig::Mnist { data_dir, .. } =
            RunConfig::from_toml_with(DEFAULT_CONFIG, "d", &set(&["task.data_dir=/data/m"])).unwrap().task
        else {
            panic!("the default task is MNIST")
        };
        assert_eq!(data_dir, std::path::PathBuf::from("/data/m"));
    }

    #[test]
    fn bad_overrides_are_named() {
        let error =
            |list: &[&str]| format!("{:#}", RunConfig::from_toml_with(DEFAULT_CONFIG, "d", &set(list)).unwrap_err());
        let e = error(&["model.hiden_size=64"]);
        assert!(e.contains("hiden_size") && e.contains("--set model.hiden_size=64"), "{e}");
        let e = error(&["training.epochs=0"]);
        assert!(e.contains("epochs") && e.contains("--set training.epochs=0"), "{e}");
        let e = error(&["training.learning_rate=fast"]);
        assert!(e.contains("learning_rate") || e.contains("fast"), "{e}");
        let e = error(&["name.first=x"]);
        assert!(e.contains("`name` is string, not a section"), "{e}");
        for bad in ["epochs", "=5", "training..epochs=5", "training.ep chs=5"] {
            assert!(bad.parse::<Override>().is_err(), "{bad}");
        }
    }
}
