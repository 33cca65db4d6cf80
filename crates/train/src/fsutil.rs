//! Writing files so that a crash never leaves a half-written file where a good one was.

use std::path::Path;

use anyhow::Result;

/// [`tasks::write_atomic`] for the binary's `anyhow` errors: a temporary file beside `path`,
/// flushed to disk, then renamed over `path`. The error names the file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    Ok(tasks::write_atomic(path, bytes)?)
}
