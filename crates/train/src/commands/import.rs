//! `neurozoo import`: a checkpoint of an authors' implementation into a neurozoo checkpoint.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum ImportFormat {
    /// A GLIFS_ASC (PyTorch Lightning) GLIFR checkpoint (`--checkpoint`, optional `--hparams`).
    GlifsAsc,
    /// An AaronSpieler/elmneuron ELM `state_dict` (`--state`) with its `model_config.json`
    /// (`--config`), as the released NeuronIO models ship.
    Elmneuron,
}

/// Convert a checkpoint of an authors' implementation into a neurozoo checkpoint.
#[derive(clap::Args, Debug)]
pub struct ImportArgs {
    /// Source format.
    #[arg(long, value_enum)]
    pub from: ImportFormat,
    /// The checkpoint or state-dict file (a Lightning `.ckpt`, an elmneuron `model_state.pt`).
    #[arg(long, visible_alias = "state")]
    pub checkpoint: PathBuf,
    /// glifs-asc: the run's `hparams.yaml`; default: the checkpoint's own `hyper_parameters`.
    #[arg(long)]
    pub hparams: Option<PathBuf>,
    /// elmneuron: the model's `model_config.json`.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// elmneuron: 1 or 2; default: read from the state dict (`tau_s`: v1, `tau_b`: v2).
    #[arg(long)]
    pub elm_version: Option<u8>,
    /// Output checkpoint directory.
    #[arg(long)]
    pub out: PathBuf,
    /// Write into `--out` even if it holds files.
    #[arg(long)]
    pub force: bool,
}

/// `neurozoo import`.
pub fn run(args: ImportArgs) -> Result<()> {
    let ImportArgs { from, checkpoint, hparams, config, elm_version, out, force } = args;
    engine::fsutil::ensure_output_folder(&out, force)?;
    match from {
        ImportFormat::Elmneuron => {
            if hparams.is_some() {
                bail!("--hparams belongs to --from glifs-asc; an elmneuron model takes --config model_config.json");
            }
            let config = config.context("--from elmneuron needs --config (the model's model_config.json)")?;
            let (model, imported) = interop::import_elm::import_elmneuron(&checkpoint, &config, elm_version, &out)?;
            let version = model.elm().map_or(1, |e| u8::from(e.version));
            println!(
                "imported ELM v{} (in {}, d_m {}, out {}, {} trainable parameters) → {}",
                version,
                model.input_size.unwrap_or(0),
                model.hidden_size,
                model.output_size.unwrap_or(0),
                imported.num_trainable_params(),
                out.display()
            );
        }
        ImportFormat::GlifsAsc => {
            if config.is_some() || elm_version.is_some() {
                bail!("--config and --elm-version belong to --from elmneuron");
            }
            let model = interop::import::import_glifs_asc(&checkpoint, hparams.as_deref(), &out)?;
            println!(
                "imported GLIFR (in {}, H {}, out {}, {} ASCs) → {}",
                model.input_size.unwrap_or(0),
                model.hidden_size,
                model.output_size.unwrap_or(0),
                model.num_ascs(),
                out.display()
            );
        }
    }
    Ok(())
}
