//! Writing files so that a crash never leaves a half-written file where a good one was, and
//! no command writes over what the user had.

use std::path::Path;

use anyhow::{Context, Result};

/// [`tasks::write_atomic`] for the binary's `anyhow` errors: a temporary file beside `path`,
/// flushed to disk, then renamed over `path`. The error names the file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    Ok(tasks::write_atomic(path, bytes)?)
}

/// Refuses an output folder that already holds files unless `force`: a command never writes
/// over what the user had (an `import --out` pointed at a run's checkpoint folder replaced it).
pub fn ensure_output_folder(out: &Path, force: bool) -> Result<()> {
    if out.exists() {
        anyhow::ensure!(out.is_dir(), "{} exists and is not a folder", out.display());
        let occupied = std::fs::read_dir(out).with_context(|| format!("cannot read {}", out.display()))?.next();
        anyhow::ensure!(
            occupied.is_none() || force,
            "{} already holds files; pass --force to overwrite them",
            out.display()
        );
    }
    Ok(())
}
