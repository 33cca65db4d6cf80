//! `[model.elm]` is [`ElmConfig`] read field by field onto its defaults: the elm crate
//! declares each option once, with its default and documentation, and this module adds none.
//! What `[model]`, the task and the run decide (the sizes, Δt, the routing seed) is refused
//! here by name, so it cannot be set in two places.
use elm::ElmConfig;
use serde::de::{Error as _, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serializer};

/// Fields of `ElmConfig` set elsewhere, with what sets them.
const SET_ELSEWHERE: [(&str, &str); 5] = [
    ("input_size", "the task"),
    ("output_size", "the task"),
    ("memory_size", "`model.hidden_size`"),
    ("dt", "`model.dt`"),
    ("routing_seed", "the run's `seed`"),
];

/// `ElmConfig`'s defaults (the placeholders of [`SET_ELSEWHERE`] included).
pub fn defaults() -> ElmConfig {
    ElmConfig::new(1, 1)
}

/// `config` with what is set elsewhere at its default.
pub fn without_placeholders(config: &ElmConfig) -> ElmConfig {
    let d = defaults();
    ElmConfig {
        input_size: d.input_size,
        output_size: d.output_size,
        memory_size: d.memory_size,
        dt: d.dt,
        routing_seed: d.routing_seed,
        ..config.clone()
    }
}

/// The options a `[model.elm]` table may hold: `ElmConfig`'s fields less those set
/// elsewhere, as its own `Deserialize` names them.
pub fn option_names() -> Vec<&'static str> {
    let mut names = Vec::new();
    let _ = ElmConfig::deserialize(FieldNames(&mut names));
    names.retain(|name| !SET_ELSEWHERE.iter().any(|(set, _)| set == name));
    names
}

/// The options in `ElmConfig`'s order (an absent option is `None`).
pub fn serialize<S: Serializer>(config: &ElmConfig, serializer: S) -> Result<S::Ok, S::Error> {
    let table = toml::Table::try_from(config).map_err(serde::ser::Error::custom)?;
    let names = option_names();
    let mut map = serializer.serialize_map(Some(names.len()))?;
    for (name, value) in names.iter().filter_map(|name| Some((name, table.get(*name)?))) {
        map.serialize_entry(name, value)?;
    }
    map.end()
}

pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<ElmConfig, D::Error> {
    let given = toml::Table::deserialize(deserializer)?;
    let names = option_names();
    let mut table = toml::Table::try_from(defaults()).map_err(D::Error::custom)?;
    for (key, value) in given {
        if let Some((_, owner)) = SET_ELSEWHERE.iter().find(|(set, _)| *set == key) {
            return Err(D::Error::custom(format!("`model.elm.{key}` cannot be set here: {owner} sets it")));
        }
        if !names.contains(&key.as_str()) {
            return Err(D::Error::custom(format!(
                "unknown field `{key}` in `[model.elm]`, expected one of: {}",
                names.join(", ")
            )));
        }
        // One field at a time onto the defaults, so that an error names its field.
        let mut probe = toml::Table::try_from(defaults()).map_err(D::Error::custom)?;
        probe.insert(key.clone(), value.clone());
        if let Err(e) = ElmConfig::deserialize(toml::Value::Table(probe)) {
            return Err(D::Error::custom(format!("`model.elm.{key}` = {value}: {}", e.message().trim())));
        }
        table.insert(key, value);
    }
    ElmConfig::deserialize(toml::Value::Table(table)).map_err(|e| D::Error::custom(e.message().trim()))
}

/// A deserializer that only records the field names a struct asks for.
struct FieldNames<'a>(&'a mut Vec<&'static str>);

impl<'de> Deserializer<'de> for FieldNames<'_> {
    type Error = serde::de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(Self::Error::custom("only field names are read"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.extend_from_slice(fields);
        Err(Self::Error::custom("only field names are read"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}
