//! `C ← C + A·B` or `C ← A·B` over f32 slices, with the `gemm` crate doing the work.
//!
//! `gemm::gemm` takes raw pointers and strides. [`MatRef`] checks once, when it is made, that
//! every element its shape and strides can reach lies inside its slice, and [`matmul`] checks
//! that the shapes agree and that the destination is exactly `m·n` long. That is all the crate's
//! contract asks, so the one `unsafe` call below is sound for every input a caller can build.
#![allow(unsafe_code)]

use gemm::Parallelism;

/// A read-only matrix view: `rows × cols` elements of `data`, element (i, j) at
/// `i·row_stride + j·col_stride`.
#[derive(Clone, Copy, Debug)]
pub struct MatRef<'a> {
    data: &'a [f32],
    rows: usize,
    cols: usize,
    row_stride: usize,
    col_stride: usize,
}

impl<'a> MatRef<'a> {
    /// A row-major `rows × cols` matrix filling `data` exactly.
    ///
    /// # Panics
    /// When `data.len() != rows·cols` (a programming error in the caller, not a user input).
    pub fn row_major(data: &'a [f32], rows: usize, cols: usize) -> Self {
        assert_eq!(data.len(), rows * cols, "a {rows}×{cols} matrix needs {} elements", rows * cols);
        Self { data, rows, cols, row_stride: cols, col_stride: 1 }
    }

    /// The transpose, as a view of the same elements.
    pub fn t(self) -> Self {
        Self { rows: self.cols, cols: self.rows, row_stride: self.col_stride, col_stride: self.row_stride, ..self }
    }

    /// Rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Columns.
    pub fn cols(&self) -> usize {
        self.cols
    }
}

/// Products below this many multiply-adds run on the calling thread: at L-MNIST's 8·252·252
/// (0.5 M) the hand-off to rayon costs more than it saves.
const PARALLEL_FROM: usize = 1 << 20;

/// `dst ← dst + lhs·rhs` when `accumulate`, else `dst ← lhs·rhs`; `dst` is row-major
/// `lhs.rows × rhs.cols`. Large products are split across rayon's threads; a caller that
/// already runs one part of a batch per thread uses [`matmul_serial`].
///
/// # Panics
/// When the shapes disagree (a programming error in the caller).
pub fn matmul(dst: &mut [f32], accumulate: bool, lhs: MatRef<'_>, rhs: MatRef<'_>) {
    let threaded = lhs.rows * lhs.cols * rhs.cols >= PARALLEL_FROM;
    product(dst, accumulate, lhs, rhs, if threaded { Parallelism::Rayon(0) } else { Parallelism::None });
}

/// [`matmul_serial`] when `serial` (the caller already runs one batch part per thread), else
/// [`matmul`].
pub fn matmul_in_part(serial: bool, dst: &mut [f32], accumulate: bool, lhs: MatRef<'_>, rhs: MatRef<'_>) {
    if serial { matmul_serial(dst, accumulate, lhs, rhs) } else { matmul(dst, accumulate, lhs, rhs) }
}

/// [`matmul`] on the calling thread only.
pub fn matmul_serial(dst: &mut [f32], accumulate: bool, lhs: MatRef<'_>, rhs: MatRef<'_>) {
    product(dst, accumulate, lhs, rhs, Parallelism::None);
}

fn product(dst: &mut [f32], accumulate: bool, lhs: MatRef<'_>, rhs: MatRef<'_>, parallelism: Parallelism) {
    let (m, k, n) = (lhs.rows, lhs.cols, rhs.cols);
    assert_eq!(rhs.rows, k, "inner dimensions {k} and {} differ", rhs.rows);
    assert_eq!(dst.len(), m * n, "the destination of a {m}×{n} product needs {} elements", m * n);
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            dst.fill(0.0);
        }
        return;
    }
    // SAFETY: `MatRef::row_major` and `t` keep every reachable index
    // (rows−1)·row_stride + (cols−1)·col_stride inside `data`; `dst` holds exactly m·n elements
    // with strides (n, 1); all strides are non-negative and fit isize (they are at most a slice
    // length). `read_dst = false` lets gemm ignore what `dst` held before.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            lhs.data.as_ptr(),
            lhs.col_stride as isize,
            lhs.row_stride as isize,
            rhs.data.as_ptr(),
            rhs.col_stride as isize,
            rhs.row_stride as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(a: &[f32], b: &[f32], m: usize, k: usize, n: usize) -> Vec<f32> {
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                c[i * n + j] = (0..k).map(|l| a[i * k + l] * b[l * n + j]).sum();
            }
        }
        c
    }

    #[test]
    fn products_and_transposes_match_the_definition() {
        let (m, k, n) = (5, 7, 3);
        let a: Vec<f32> = (0..m * k).map(|i| (i as f32 * 0.37).sin()).collect();
        let b: Vec<f32> = (0..k * n).map(|i| (i as f32 * 0.91).cos()).collect();
        let want = naive(&a, &b, m, k, n);
        let mut c = vec![9.0; m * n];
        matmul(&mut c, false, MatRef::row_major(&a, m, k), MatRef::row_major(&b, k, n));
        for (x, y) in c.iter().zip(&want) {
            assert!((x - y).abs() < 1e-5, "{c:?} vs {want:?}");
        }
        // Accumulate, with Aᵀ given as the transpose of a stored k×m matrix.
        let at: Vec<f32> = (0..k * m).map(|i| a[(i % m) * k + i / m]).collect();
        matmul(&mut c, true, MatRef::row_major(&at, k, m).t(), MatRef::row_major(&b, k, n));
        for (x, y) in c.iter().zip(&want) {
            assert!((x - 2.0 * y).abs() < 1e-5, "{c:?} vs 2·{want:?}");
        }
    }

    #[test]
    #[should_panic(expected = "inner dimensions")]
    fn mismatched_shapes_are_refused() {
        let a = [0.0; 6];
        let mut c = [0.0; 4];
        matmul(&mut c, false, MatRef::row_major(&a, 2, 3), MatRef::row_major(&a, 2, 3));
    }
}
