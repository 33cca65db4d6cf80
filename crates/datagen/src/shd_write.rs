//! Writing SHD files in the layout of the published ones (spec data.md §2), which
//! `tasks::shd::ShdFile` reads back: for SHD-synthetic, and for the tests' fixtures.

use std::path::Path;

use tasks::DataError;
use tasks::shd::ShdSample;

/// Per-speaker metadata for `/extra/meta_info` (indexed by `/extra/speaker`).
#[derive(Clone, Debug, Default)]
pub struct SpeakerInfo {
    /// "male" / "female".
    pub gender: Vec<String>,
    /// Age in years (0: not applicable).
    pub age: Vec<u16>,
    /// Body height in cm (0: not applicable).
    pub body_height: Vec<u16>,
}

/// Writes `samples` in the layout of the published files (spec data.md §2): vlen float16
/// `spikes/times`, vlen uint16 `spikes/units`, uint8 `labels`, uint16 `extra/speaker`,
/// `extra/keys`, `extra/meta_info/*`; `attributes` go on the root group. Written atomically.
pub fn write_shd(
    path: &Path,
    samples: &[ShdSample],
    keys: &[String],
    speakers: &SpeakerInfo,
    attributes: &[(&str, &str)],
) -> Result<(), DataError> {
    use crate::hdf5_write::{Group, NumberType, Values};
    let sequences = |f: &dyn Fn(&ShdSample) -> Vec<u8>| samples.iter().map(f).collect::<Vec<_>>();
    let strings = |values: &[String]| Values::Strings {
        len: values.iter().map(String::len).max().unwrap_or(1).max(1),
        values: values.to_vec(),
    };
    let mut root = Group::new();
    root.dataset(
        "spikes/times",
        Values::Sequences {
            ty: NumberType::F16,
            sequences: sequences(&|s| s.times.iter().flat_map(|&t| half::f16::from_f64(t).to_le_bytes()).collect()),
        },
    )
    .dataset(
        "spikes/units",
        Values::Sequences {
            ty: NumberType::U16,
            sequences: sequences(&|s| s.units.iter().flat_map(|u| u.to_le_bytes()).collect()),
        },
    )
    .dataset("labels", Values::numbers(NumberType::U8, &samples.iter().map(|s| s.label).collect::<Vec<_>>(), |v| [v]))
    .dataset(
        "extra/speaker",
        Values::numbers(
            NumberType::U16,
            &samples.iter().map(|s| s.speaker.unwrap_or(0) as u16).collect::<Vec<_>>(),
            u16::to_le_bytes,
        ),
    )
    .dataset("extra/keys", strings(keys))
    .dataset("extra/meta_info/gender", strings(&speakers.gender))
    .dataset("extra/meta_info/age", Values::numbers(NumberType::U16, &speakers.age, u16::to_le_bytes))
    .dataset("extra/meta_info/body_height", Values::numbers(NumberType::U16, &speakers.body_height, u16::to_le_bytes));
    for (name, value) in attributes {
        root.attribute(name, value);
    }
    tasks::write_atomic(path, &root.to_bytes())
}
