//! The IDX format of the MNIST files (LeCun et al.): a 4-byte magic `0 0 type rank`, then
//! `rank` big-endian u32 dimensions, then the data, row-major. Raw or gzip-compressed (a file
//! whose name ends in `.gz`). Only unsigned bytes (type `0x08`) occur in MNIST and are
//! accepted; everything else is a clear error naming the file.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use flate2::read::GzDecoder;

use crate::DataError;

/// A decoded IDX array of unsigned bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdxArray {
    /// Extents, outermost first.
    pub dims: Vec<usize>,
    /// Row-major values.
    pub data: Vec<u8>,
}

/// Reads the whole file, transparently gunzipping a `.gz` one.
pub fn read_file_bytes(path: &Path) -> Result<Vec<u8>, DataError> {
    let io = |source| DataError::Io { path: path.to_path_buf(), source };
    let mut file = File::open(path).map_err(io)?;
    let mut bytes = Vec::new();
    if path.extension().is_some_and(|e| e == "gz") {
        GzDecoder::new(file).read_to_end(&mut bytes).map_err(|e| DataError::Corrupt {
            path: path.to_path_buf(),
            reason: format!("not a valid gzip stream: {e}"),
        })?;
    } else {
        file.read_to_end(&mut bytes).map_err(io)?;
    }
    Ok(bytes)
}

/// Parses IDX bytes; `path` only names the file in errors.
pub fn parse_idx(bytes: &[u8], path: &Path) -> Result<IdxArray, DataError> {
    let corrupt = |reason: String| DataError::Corrupt { path: PathBuf::from(path), reason };
    if bytes.len() < 4 {
        return Err(corrupt(format!("{} bytes, shorter than the 4-byte IDX magic", bytes.len())));
    }
    if bytes[0] != 0 || bytes[1] != 0 {
        return Err(corrupt(format!(
            "bad IDX magic {:02x} {:02x} {:02x} {:02x} (expected 00 00 08 <rank>)",
            bytes[0], bytes[1], bytes[2], bytes[3]
        )));
    }
    if bytes[2] != 0x08 {
        return Err(corrupt(format!("IDX element type 0x{:02x}; only unsigned bytes (0x08) are supported", bytes[2])));
    }
    let rank = bytes[3] as usize;
    if rank == 0 {
        return Err(corrupt("IDX rank 0".into()));
    }
    let header = 4 + 4 * rank;
    if bytes.len() < header {
        return Err(corrupt(format!("truncated header: {} bytes, rank {rank} needs {header}", bytes.len())));
    }
    let dims: Vec<usize> = (0..rank)
        .map(|i| {
            let at = 4 + 4 * i;
            u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]) as usize
        })
        .collect();
    let expected = dims
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .ok_or_else(|| corrupt(format!("dimensions {dims:?} overflow")))?;
    let body = bytes.len() - header;
    if body < expected {
        return Err(corrupt(format!("truncated: dimensions {dims:?} need {expected} data bytes, file has {body}")));
    }
    if body > expected {
        return Err(corrupt(format!(
            "{} trailing bytes after the {expected} data bytes of dimensions {dims:?}",
            body - expected
        )));
    }
    Ok(IdxArray { dims, data: bytes[header..].to_vec() })
}

/// Reads and parses an IDX file (raw or `.gz`).
pub fn read_idx(path: &Path) -> Result<IdxArray, DataError> {
    parse_idx(&read_file_bytes(path)?, path)
}

/// Encodes an unsigned-byte IDX array (used to write fixtures and subsets).
pub fn encode_idx(dims: &[usize], data: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0, 0x08, dims.len() as u8];
    for &d in dims {
        out.extend_from_slice(&(d as u32).to_be_bytes());
    }
    out.extend_from_slice(data);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn name() -> &'static Path {
        Path::new("fixture-idx3-ubyte")
    }

    #[test]
    fn reads_a_hand_written_file() {
        // magic, 2 images of 2×3 pixels.
        let bytes = [0u8, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
        let array = parse_idx(&bytes, name()).unwrap();
        assert_eq!(array.dims, vec![2, 2, 3]);
        assert_eq!(array.data, (1..=12).collect::<Vec<u8>>());
        assert_eq!(encode_idx(&array.dims, &array.data), bytes.to_vec());
    }

    #[test]
    fn truncated_data_is_an_error_naming_the_file() {
        let mut bytes = encode_idx(&[3, 2], &[1, 2, 3, 4, 5, 6]);
        bytes.pop();
        let err = parse_idx(&bytes, name()).unwrap_err().to_string();
        assert!(err.contains("fixture-idx3-ubyte") && err.contains("truncated"), "{err}");
        let err = parse_idx(&bytes[..9], name()).unwrap_err().to_string();
        assert!(err.contains("truncated header"), "{err}");
    }

    #[test]
    fn corrupt_magic_type_and_trailing_bytes_are_errors() {
        let good = encode_idx(&[2], &[1, 2]);
        let mut bad = good.clone();
        bad[0] = 0x1f;
        assert!(parse_idx(&bad, name()).unwrap_err().to_string().contains("bad IDX magic"));
        let mut bad = good.clone();
        bad[2] = 0x0d;
        assert!(parse_idx(&bad, name()).unwrap_err().to_string().contains("element type 0x0d"));
        let mut bad = good;
        bad.push(0);
        assert!(parse_idx(&bad, name()).unwrap_err().to_string().contains("trailing"));
        assert!(parse_idx(&[0, 0], name()).is_err());
    }

    #[test]
    fn gzip_files_are_read_and_broken_gzip_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = encode_idx(&[2, 2], &[9, 8, 7, 6]);
        let path = dir.path().join("a-idx1-ubyte.gz");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(&bytes).unwrap();
        std::fs::write(&path, enc.finish().unwrap()).unwrap();
        assert_eq!(read_idx(&path).unwrap().data, vec![9, 8, 7, 6]);

        let broken = dir.path().join("b-idx1-ubyte.gz");
        std::fs::write(&broken, b"not gzip at all").unwrap();
        let err = read_idx(&broken).unwrap_err().to_string();
        assert!(err.contains("gzip") && err.contains("b-idx1-ubyte.gz"), "{err}");
        let missing = read_idx(&dir.path().join("missing")).unwrap_err().to_string();
        assert!(missing.contains("missing"), "{missing}");
    }
}
