//! Reading and writing float arrays as `.npy` files (npyz), the exchange format with NumPy.

use std::path::Path;

use anyhow::{Context, Result, bail};
use npyz::WriterBuilder;

/// A dense row-major f32 array.
#[derive(Clone, Debug, PartialEq)]
pub struct Array {
    /// Extents, outermost first.
    pub shape: Vec<usize>,
    /// Row-major values.
    pub data: Vec<f32>,
}

/// Reads an `.npy` file of f32 (or f64, converted) values in C order.
pub fn read_npy(path: &Path) -> Result<Array> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    header_size_fits(path, &bytes)?;
    let file =
        npyz::NpyFile::new(&bytes[..]).with_context(|| format!("{} is not a valid .npy file", path.display()))?;
    if file.order() != npyz::Order::C {
        bail!("{}: Fortran-order arrays are not supported; save with np.ascontiguousarray", path.display());
    }
    let shape: Vec<usize> = file.shape().iter().map(|&d| d as usize).collect();
    let descr = file.dtype().descr().trim_matches('\'').to_string();
    let data: Vec<f32> = match descr.as_str() {
        "<f4" => file.into_vec::<f32>(),
        "<f8" => file.into_vec::<f64>().map(|v| v.into_iter().map(|x| x as f32).collect()),
        other => bail!("{}: element type {other}, expected float32 (<f4) or float64 (<f8)", path.display()),
    }
    .with_context(|| format!("{} is truncated or corrupt", path.display()))?;
    Ok(Array { shape, data })
}

/// A header's shape must describe no more elements than the file has bytes (each element
/// takes at least one): a forged shape like (2⁶², 2⁶², 4) would otherwise overflow or ask for
/// exabytes before a single value is read.
/// Checked before npyz parses the file: npyz multiplies the shape itself, which overflows.
fn header_size_fits(path: &Path, bytes: &[u8]) -> Result<()> {
    match header_shape(bytes) {
        Some(shape) => declared_size_fits(path, &shape, bytes.len()),
        None => Ok(()), // not a readable header: npyz names the problem
    }
}

/// The `shape` tuple of a `.npy` header, if the header can be read as text.
fn header_shape(bytes: &[u8]) -> Option<Vec<u64>> {
    let (start, len) = match bytes.get(6)? {
        1 => (10usize, u16::from_le_bytes([*bytes.get(8)?, *bytes.get(9)?]) as usize),
        _ => (12, u32::from_le_bytes(bytes.get(8..12)?.try_into().ok()?) as usize),
    };
    let header = std::str::from_utf8(bytes.get(start..start.checked_add(len)?)?).ok()?;
    let after = &header[header.find("'shape'")?..];
    let tuple = &after[after.find('(')? + 1..after.find(')')?];
    tuple.split(',').map(str::trim).filter(|d| !d.is_empty()).map(|d| d.parse().ok()).collect()
}

fn declared_size_fits(path: &Path, shape: &[u64], file_bytes: usize) -> Result<()> {
    let count = shape.iter().try_fold(1u64, |n, &d| n.checked_mul(d));
    match count {
        Some(n) if n <= file_bytes as u64 => Ok(()),
        _ => bail!(
            "{}: the header declares shape {shape:?}, more values than the file's {file_bytes} bytes hold",
            path.display()
        ),
    }
}

/// Reads class labels `[B]`: integers of any width, or floats holding whole numbers (the golden
/// cases store them as float32). Rejects fractional, negative or non-finite values.
pub fn read_class_labels(path: &Path) -> Result<Vec<i64>> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    header_size_fits(path, &bytes)?;
    let file =
        npyz::NpyFile::new(&bytes[..]).with_context(|| format!("{} is not a valid .npy file", path.display()))?;
    let shape: Vec<u64> = file.shape().to_vec();
    if shape.len() != 1 {
        bail!("{}: labels must be one-dimensional [batch], found shape {shape:?}", path.display());
    }
    let descr = file.dtype().descr().trim_matches('\'').to_string();
    let corrupt = || format!("{} is truncated or corrupt", path.display());
    let as_f64: Vec<f64> = match descr.as_str() {
        "<f4" => file.into_vec::<f32>().with_context(corrupt)?.into_iter().map(f64::from).collect(),
        "<f8" => file.into_vec::<f64>().with_context(corrupt)?,
        "|i1" => file.into_vec::<i8>().with_context(corrupt)?.into_iter().map(f64::from).collect(),
        "|u1" => file.into_vec::<u8>().with_context(corrupt)?.into_iter().map(f64::from).collect(),
        "<i4" => file.into_vec::<i32>().with_context(corrupt)?.into_iter().map(f64::from).collect(),
        "<i8" => file.into_vec::<i64>().with_context(corrupt)?.into_iter().map(|v| v as f64).collect(),
        other => bail!("{}: element type {other}, expected integer or float class ids", path.display()),
    };
    as_f64
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            if v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v < 2f64.powi(53) {
                Ok(v as i64)
            } else {
                bail!("{}: label {i} is {v}, expected a non-negative whole class id", path.display())
            }
        })
        .collect()
}

/// Writes an f32 array as `.npy` (to a temporary file first, then moved into place).
pub fn write_npy(path: &Path, shape: &[usize], data: &[f32]) -> Result<()> {
    let mut bytes = Vec::new();
    {
        let shape: Vec<u64> = shape.iter().map(|&d| d as u64).collect();
        let mut writer = npyz::WriteOptions::new().default_dtype().shape(&shape).writer(&mut bytes).begin_nd()?;
        writer.extend(data.iter().copied())?;
        writer.finish()?;
    }
    engine::fsutil::write_atomic(path, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.npy");
        write_npy(&path, &[2, 1, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.5]).unwrap();
        let a = read_npy(&path).unwrap();
        assert_eq!(a.shape, vec![2, 1, 3]);
        assert_eq!(a.data, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.5]);
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 4]).unwrap();
        let e = format!("{:#}", read_npy(&path).unwrap_err());
        assert!(e.contains("a.npy"), "{e}");
        std::fs::write(&path, b"hello").unwrap();
        assert!(format!("{:#}", read_npy(&path).unwrap_err()).contains("not a valid .npy"));

        // A forged header shape (2⁶², 2⁶², 4): refused before anything is allocated. The new
        // shape takes the place of header padding, so the header keeps its length.
        write_npy(&path, &[2, 1, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.5]).unwrap();
        let mut bytes = std::fs::read(&path).unwrap();
        let header_end = bytes.iter().position(|&b| b == b'\n').unwrap() + 1;
        // The dict after the 10-byte preamble (magic, version, header length).
        let header = String::from_utf8(bytes[10..header_end].to_vec()).unwrap();
        let start = header.find("'shape': (").unwrap() + "'shape': ".len();
        let end = start + header[start..].find(')').unwrap() + 1;
        let forged = "(4611686018427387904, 4611686018427387904, 4)";
        let grown = forged.len() - (end - start);
        let header = format!("{}{forged}{}", &header[..start], &header[end..]).replacen(&" ".repeat(grown), "", 1);
        assert_eq!(header.len(), header_end - 10, "{header:?}");
        bytes.splice(10..header_end, header.bytes());
        std::fs::write(&path, &bytes).unwrap();
        let e = format!("{:#}", read_npy(&path).unwrap_err());
        assert!(e.contains("a.npy") && e.contains("more values than the file"), "{e}");
        let e = format!("{:#}", read_class_labels(&path).unwrap_err());
        assert!(e.contains("more values than the file"), "{e}");
    }

    fn write_typed<T: npyz::Serialize + npyz::AutoSerialize + Copy>(path: &Path, shape: &[u64], data: &[T]) {
        let mut bytes = Vec::new();
        let mut writer = npyz::WriteOptions::new().default_dtype().shape(shape).writer(&mut bytes).begin_nd().unwrap();
        writer.extend(data.iter().copied()).unwrap();
        writer.finish().unwrap();
        std::fs::write(path, bytes).unwrap();
    }

    #[test]
    fn class_labels_from_floats_and_integers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("labels.npy");
        write_npy(&path, &[3], &[2.0, 0.0, 9.0]).unwrap();
        assert_eq!(read_class_labels(&path).unwrap(), vec![2, 0, 9]);
        write_typed(&path, &[3], &[7i64, 1, 3]);
        assert_eq!(read_class_labels(&path).unwrap(), vec![7, 1, 3]);
        write_typed(&path, &[2], &[4i32, 5]);
        assert_eq!(read_class_labels(&path).unwrap(), vec![4, 5]);
        write_typed(&path, &[2], &[6u8, 0]);
        assert_eq!(read_class_labels(&path).unwrap(), vec![6, 0]);
        write_npy(&path, &[2], &[1.0, 2.5]).unwrap();
        let e = format!("{:#}", read_class_labels(&path).unwrap_err());
        assert!(e.contains("labels.npy") && e.contains("label 1 is 2.5"), "{e}");
        write_typed(&path, &[1], &[-1i64]);
        assert!(format!("{:#}", read_class_labels(&path).unwrap_err()).contains("label 0 is -1"));
        write_npy(&path, &[1, 2], &[1.0, 2.0]).unwrap();
        assert!(format!("{:#}", read_class_labels(&path).unwrap_err()).contains("one-dimensional"));
    }
}
