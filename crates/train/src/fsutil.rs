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

/// Reads a text file of at most `max_bytes`: a bigger file, or one without end such as
/// `/dev/zero`, is refused after reading `max_bytes + 1` bytes, never read whole. The error
/// names the file.
pub fn read_to_string_bounded(path: &Path, max_bytes: u64) -> Result<String> {
    use std::io::Read;
    let file = std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(max_bytes + 1).read_to_end(&mut bytes).with_context(|| format!("cannot read {}", path.display()))?;
    anyhow::ensure!(
        bytes.len() as u64 <= max_bytes,
        "{} is larger than {max_bytes} bytes, more than such a file ever holds",
        path.display()
    );
    String::from_utf8(bytes)
        .map_err(|e| anyhow::anyhow!("{} is not UTF-8 text (byte {})", path.display(), e.utf8_error().valid_up_to()))
}

/// Text files we read whole (configs, hparams, pointers): a megabyte is far above any real one.
pub const MAX_TEXT_BYTES: u64 = 1 << 20;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_reads_refuse_endless_and_oversized_files() {
        let dir = tempfile::tempdir().unwrap();
        let small = dir.path().join("small.toml");
        std::fs::write(&small, "a = 1\n").unwrap();
        assert_eq!(read_to_string_bounded(&small, 6).unwrap(), "a = 1\n");
        let e = read_to_string_bounded(&small, 5).unwrap_err().to_string();
        assert!(e.contains("small.toml is larger than 5 bytes"), "{e}");
        if Path::new("/dev/zero").exists() {
            let e = read_to_string_bounded(Path::new("/dev/zero"), 1024).unwrap_err().to_string();
            assert!(e.contains("/dev/zero is larger than 1024 bytes"), "{e}");
        }
        std::fs::write(&small, [b'a', 0xff, b'b']).unwrap();
        let e = read_to_string_bounded(&small, 100).unwrap_err().to_string();
        assert!(e.contains("is not UTF-8 text (byte 1)"), "{e}");
    }
}
