//! The `[model]` table as it was before the tagged enum: one flat struct holding every kind's
//! fields. Every run saved its config and checkpoints in this form, with the fields of other
//! kinds at their defaults, and the shipped configs of that time wrote some of them too
//! (`synaptic_delay_ms = 0.0` on the LSTM). Such a table converts to the tagged
//! [`ModelConfig`] only where each field of another kind holds its default, so nothing that
//! loaded before changes meaning, and a value the old code would have ignored is refused by
//! name. Frozen: new fields go into the tagged variants only.

use std::path::PathBuf;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer};

use super::model::{
    CellConfig, ElmNeuronConfig, GlifrCellConfig, InitKind, LeakInit, LstmCellConfig, ModelConfig, ModelKind,
    RnnCellConfig, default_init, default_leak_init, default_resistance,
};
use super::{elm_table, one, yes};

impl<'de> Deserialize<'de> for ModelConfig {
    /// The tagged form; failing that, the flat form every run saved before it, which converts
    /// only where each field of another kind holds its default. An error is the tagged form's
    /// unless the table is a flat one.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let table = toml::Table::deserialize(deserializer)?;
        let tagged_error = match ModelConfig::from_tagged(&table) {
            Ok(model) => return Ok(model),
            Err(e) => e,
        };
        match FlatModelConfig::deserialize(toml::Value::Table(table)) {
            Ok(flat) => flat.into_tagged().map_err(D::Error::custom),
            Err(_) => Err(D::Error::custom(tagged_error)),
        }
    }
}

/// The flat `[model]` of configs and checkpoints written before the tagged enum.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FlatModelConfig {
    kind: ModelKind,
    hidden_size: usize,
    #[serde(default)]
    input_size: Option<usize>,
    #[serde(default)]
    output_size: Option<usize>,
    #[serde(default)]
    dt: Option<f64>,
    #[serde(default)]
    synaptic_delay_ms: f64,
    #[serde(default)]
    dropout: f64,
    #[serde(default)]
    num_ascs: usize,
    #[serde(default = "yes")]
    learn_neuronal_params: bool,
    #[serde(default = "default_init")]
    init: InitKind,
    #[serde(default)]
    het_source: Option<PathBuf>,
    #[serde(default)]
    tau: Option<f64>,
    #[serde(default = "one")]
    sigma_v: f64,
    #[serde(default)]
    sigma_v_anneal_to: Option<f64>,
    #[serde(default = "default_resistance")]
    resistance: f64,
    #[serde(default)]
    i0: f64,
    #[serde(default)]
    v_reset: f64,
    #[serde(default = "default_leak_init")]
    membrane_leak_init: LeakInit,
    #[serde(default)]
    chrono_init: Option<[f64; 2]>,
    #[serde(default)]
    input_dropout: f64,
    #[serde(default = "yes")]
    input_dropout_in_eval: bool,
    /// Its keys were `ElmConfig`'s options then as now.
    #[serde(default)]
    elm: Option<toml::Table>,
    #[serde(default = "yes")]
    fused: bool,
}

impl FlatModelConfig {
    /// The tagged config, or the first field that belongs to another kind and does not hold
    /// its default.
    pub(super) fn into_tagged(self) -> Result<ModelConfig, String> {
        let f = self;
        let glifr = GlifrCellConfig {
            synaptic_delay_ms: f.synaptic_delay_ms,
            dropout: f.dropout,
            num_ascs: f.num_ascs,
            learn_neuronal_params: f.learn_neuronal_params,
            init: f.init,
            het_source: f.het_source,
            tau: f.tau,
            sigma_v: f.sigma_v,
            sigma_v_anneal_to: f.sigma_v_anneal_to,
            resistance: f.resistance,
            i0: f.i0,
            v_reset: f.v_reset,
            membrane_leak_init: f.membrane_leak_init,
        };
        let refuse = |field: &str, applies: &str| Err(format!("`model.{field}` {applies}"));
        if f.kind != ModelKind::Glifr {
            let d = GlifrCellConfig::default();
            let glifr_only = [
                ("num_ascs", glifr.num_ascs != d.num_ascs),
                ("init = \"het\"", glifr.init != d.init),
                ("het_source", glifr.het_source != d.het_source),
                ("learn_neuronal_params", glifr.learn_neuronal_params != d.learn_neuronal_params),
                ("tau", glifr.tau != d.tau),
                ("sigma_v", glifr.sigma_v != d.sigma_v),
                ("sigma_v_anneal_to", glifr.sigma_v_anneal_to != d.sigma_v_anneal_to),
                ("resistance", glifr.resistance != d.resistance),
                ("i0", glifr.i0 != d.i0),
                ("v_reset", glifr.v_reset != d.v_reset),
                ("membrane_leak_init", glifr.membrane_leak_init != d.membrane_leak_init),
            ];
            if let Some((field, _)) = glifr_only.iter().find(|(_, set)| *set) {
                return refuse(field, "applies to GLIFR only");
            }
        }
        if f.kind != ModelKind::Lstm && f.chrono_init.is_some() {
            return refuse("chrono_init", "applies to the LSTM only");
        }
        if f.kind != ModelKind::Elm && f.elm.is_some() {
            return Err("`[model.elm]` applies to `kind = \"elm\"` only".into());
        }
        let cell = match f.kind {
            ModelKind::Glifr => CellConfig::Glifr(glifr),
            ModelKind::Rnn => {
                CellConfig::Rnn(RnnCellConfig { synaptic_delay_ms: f.synaptic_delay_ms, dropout: f.dropout })
            }
            ModelKind::Lstm if f.synaptic_delay_ms != 0.0 => {
                return refuse("synaptic_delay_ms", "does not apply to the LSTM (it has no synaptic delay)");
            }
            ModelKind::Lstm => CellConfig::Lstm(LstmCellConfig { dropout: f.dropout, chrono_init: f.chrono_init }),
            ModelKind::Elm if f.synaptic_delay_ms != 0.0 => {
                return refuse("synaptic_delay_ms", "does not apply to the ELM");
            }
            ModelKind::Elm if f.dropout != 0.0 => {
                return refuse("dropout", "does not apply to the ELM (use `model.input_dropout`)");
            }
            ModelKind::Elm => {
                let elm = match f.elm {
                    Some(table) => elm_table::deserialize(toml::Value::Table(table)).map_err(|e| e.to_string())?,
                    None => elm_table::defaults(),
                };
                CellConfig::Elm(ElmNeuronConfig { elm })
            }
        };
        Ok(ModelConfig {
            cell,
            hidden_size: f.hidden_size,
            input_size: f.input_size,
            output_size: f.output_size,
            dt: f.dt,
            input_dropout: f.input_dropout,
            input_dropout_in_eval: f.input_dropout_in_eval,
            fused: f.fused,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::RunConfig;
    use crate::model::SavedModel;

    fn fixture(name: &str) -> String {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/legacy").join(name);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    /// Files written before the tagged enum (flat, every kind's fields at their defaults) load,
    /// and mean what they meant: a run's saved LSTM config, a het GLIFR checkpoint, an imported
    /// Branch-ELM, and the shipped LSTM config of that time. Each written again is the tagged
    /// form, which reads back equal.
    #[test]
    fn configs_and_checkpoints_from_before_the_enum_load_unchanged() {
        let run = RunConfig::from_toml(&fixture("sine-lstm-run-config.toml"), "run config").unwrap();
        let CellConfig::Lstm(lstm) = &run.model.cell else { panic!("{:?}", run.model) };
        assert_eq!((run.model.hidden_size, lstm.dropout, lstm.chrono_init), (63, 0.0, None));
        let rheta: SavedModel = toml::from_str(&fixture("rheta-checkpoint-model.toml")).unwrap();
        let glifr = rheta.model.glifr().unwrap();
        assert_eq!((glifr.num_ascs, glifr.init, glifr.synaptic_delay_ms), (2, InitKind::Het, 1.0));
        assert_eq!(glifr.het_source.as_deref(), Some(Path::new("runs/lmnist-table/lheta-trial0")));
        assert_eq!(
            (rheta.model.hidden_size, rheta.model.input_size, rheta.model.output_size),
            (252, Some(28), Some(10))
        );
        let branch: SavedModel = toml::from_str(&fixture("branch-elm-import-model.toml")).unwrap();
        let elm = branch.model.elm().unwrap();
        assert_eq!((elm.num_branch, elm.synapses_per_branch, elm.routing), (Some(45), 100, elm::RoutingKind::Neuronio));
        assert_eq!(
            (elm.version, elm.mlp_activation, elm.memory_tau_max),
            (elm::ElmVersion::V1, elm::MlpActivation::Silu, 150.0)
        );
        let shipped = RunConfig::from_toml(&fixture("lmnist-lstm-shipped.toml"), "old lstm.toml").unwrap();
        let now =
            RunConfig::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs/lmnist/lstm.toml")).unwrap();
        assert_eq!(shipped, now);
        for m in [&run.model, &rheta.model, &branch.model] {
            // Written again, it is the tagged form alone (GLIFR's fields only on GLIFR).
            let written = toml::Value::try_from(m).unwrap();
            assert_eq!(written.get("sigma_v").is_some(), m.kind() == ModelKind::Glifr, "{written}");
            assert_eq!(&ModelConfig::deserialize(written.clone()).unwrap(), m, "{written}");
        }
    }
}
