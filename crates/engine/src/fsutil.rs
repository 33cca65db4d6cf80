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

/// An exclusive claim on a run while one process trains it; released when dropped.
///
/// Two writers of one run (a second `train --resume`, a requeued Slurm task while the first
/// still runs) would interleave checkpoints and metrics. The claim is an OS file lock (`flock`)
/// on `<runs_dir>/.<name>.lock`, which holds the owner's pid for the message. The kernel drops
/// the lock when its process ends in any way, `kill -9` included, so a leftover file never
/// blocks a later run. The file sits beside the run folder, not in it, because a run that fails
/// before its first checkpoint removes the folder it created.
#[derive(Debug)]
pub struct RunLock {
    _file: std::fs::File,
}

/// Claims `run_dir` for this process, or names the process that holds it.
pub fn lock_run(run_dir: &Path) -> Result<RunLock> {
    use std::io::Write as _;
    let parent = run_dir.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = run_dir.file_name().with_context(|| format!("{} names no run", run_dir.display()))?;
    std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
    let path = parent.join(format!(".{}.lock", name.to_string_lossy()));
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .with_context(|| format!("cannot open the run lock {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => {
            file.set_len(0).and_then(|()| write!(file, "{}", std::process::id())).and_then(|()| file.flush()).ok();
            Ok(RunLock { _file: file })
        }
        Err(std::fs::TryLockError::WouldBlock) => {
            let owner = std::fs::read_to_string(&path).unwrap_or_default();
            let owner = if owner.trim().is_empty() {
                "another process".to_string()
            } else {
                format!("process {}", owner.trim())
            };
            anyhow::bail!(
                "{} is being trained by {owner} (lock {}); wait for it to finish or stop it",
                run_dir.display(),
                path.display()
            )
        }
        Err(std::fs::TryLockError::Error(e)) => Err(e).with_context(|| format!("cannot lock {}", path.display())),
    }
}

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

    #[test]
    fn a_run_has_one_writer_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let run = dir.path().join("runs").join("lheta-trial0");
        let first = lock_run(&run).unwrap();
        let lock_file = dir.path().join("runs/.lheta-trial0.lock");
        assert_eq!(std::fs::read_to_string(&lock_file).unwrap(), std::process::id().to_string());
        let e = lock_run(&run).unwrap_err().to_string();
        assert!(
            e.contains("lheta-trial0 is being trained by process") && e.contains(&std::process::id().to_string()),
            "{e}"
        );
        // Another run in the same folder is free.
        let _other = lock_run(&dir.path().join("runs").join("rheta-trial0")).unwrap();
        drop(first);
        let _again = lock_run(&run).unwrap();
    }
}
