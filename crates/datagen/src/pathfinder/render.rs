//! The raster operations of the Pathfinder generator, as the original (Python 2) code gets them
//! from PIL, scipy and OpenCV (github drewlinsley/pathfinder, `snakes.py`):
//!
//! * [`wide_line`]: PIL's `ImageDraw.line(..., width=w)`, the quadrilateral
//!   `ImagingDrawWideLine` builds, filled at integer pixel positions;
//! * [`resize_lanczos`]: PIL's `Image.resize(..., LANCZOS)` on an 8-bit image, which is what
//!   `scipy.misc.imresize(..., interp='lanczos')` calls: separable, horizontal pass first, with
//!   Pillow's fixed-point coefficients (22 fractional bits) and rounding to 8 bits after each pass;
//! * [`bytescale`]: scipy's `bytescale`, which `imresize` and `imsave` apply to float arrays;
//! * [`dilate`]: `cv2.dilate` with an arbitrary kernel, anchor at its centre, pixels outside the
//!   image ignored;
//! * [`disc`]: `generate_dilation_struct`, the disc `x² + y² ≤ r²`.

/// A row-major 2-D array.
#[derive(Clone, Debug, PartialEq)]
pub struct Grid<T> {
    /// Rows.
    pub height: usize,
    /// Columns.
    pub width: usize,
    /// `height × width` values.
    pub data: Vec<T>,
}

impl<T: Copy + Default> Grid<T> {
    /// A grid of default values (zeros).
    pub fn new(height: usize, width: usize) -> Self {
        Grid { height, width, data: vec![T::default(); height * width] }
    }

    /// The value at row `y`, column `x`.
    pub fn at(&self, y: usize, x: usize) -> T {
        self.data[y * self.width + x]
    }

    /// Sets the value at row `y`, column `x`.
    pub fn set(&mut self, y: usize, x: usize, value: T) {
        self.data[y * self.width + x] = value;
    }
}

/// PIL's `ROUND_UP`/`ROUND_DOWN` of `ImagingDrawWideLine`: away from and towards zero after
/// adding ½ in magnitude.
fn round_up(f: f64) -> i64 {
    if f >= 0.0 { (f + 0.5).floor() as i64 } else { (f - 0.5).ceil() as i64 }
}
fn round_down(f: f64) -> i64 {
    if f >= 0.0 { (f - 0.5).ceil() as i64 } else { (f + 0.5).floor() as i64 }
}

/// Draws a line of `width` pixels from `(x0, y0)` to `(x1, y1)` into `grid` with value `ink`,
/// as Pillow's `ImagingDrawWideLine`: a quadrilateral offset by the rounded half-width across
/// the line (a single pixel for a zero-length line).
pub fn wide_line(grid: &mut Grid<f64>, (x0, y0): (i64, i64), (x1, y1): (i64, i64), width: usize, ink: f64) {
    let (dx, dy) = ((x1 - x0) as f64, (y1 - y0) as f64);
    let put = |grid: &mut Grid<f64>, x: i64, y: i64| {
        if x >= 0 && y >= 0 && (x as usize) < grid.width && (y as usize) < grid.height {
            grid.set(y as usize, x as usize, ink);
        }
    };
    if dx == 0.0 && dy == 0.0 {
        put(grid, x0, y0);
        return;
    }
    let big = dx.hypot(dy);
    let small = (width as f64 - 1.0) / 2.0;
    let ratio_max = round_up(small) as f64 / big;
    let ratio_min = round_down(small) as f64 / big;
    let dxmin = round_down(ratio_min * dy);
    let dxmax = round_down(ratio_max * dy);
    let dymin = round_down(ratio_min * dx);
    let dymax = round_down(ratio_max * dx);
    let quad = [(x0 - dxmin, y0 + dymax), (x1 - dxmin, y1 + dymax), (x1 + dxmax, y1 - dymin), (x0 + dxmax, y0 - dymin)];
    let (xs, ys): (Vec<i64>, Vec<i64>) = quad.iter().copied().unzip();
    let (xlo, xhi) = (*xs.iter().min().unwrap(), *xs.iter().max().unwrap());
    let (ylo, yhi) = (*ys.iter().min().unwrap(), *ys.iter().max().unwrap());
    for y in ylo..=yhi {
        for x in xlo..=xhi {
            if inside_convex(&quad, x, y) {
                put(grid, x, y);
            }
        }
    }
}

/// Whether the integer point lies in the convex polygon (boundary included), whichever way the
/// polygon winds.
fn inside_convex(poly: &[(i64, i64)], x: i64, y: i64) -> bool {
    let mut sign = 0i64;
    for i in 0..poly.len() {
        let (ax, ay) = poly[i];
        let (bx, by) = poly[(i + 1) % poly.len()];
        let cross = (bx - ax) * (y - ay) - (by - ay) * (x - ax);
        if cross != 0 {
            if sign != 0 && cross.signum() != sign {
                return false;
            }
            sign = cross.signum();
        }
    }
    true
}

/// The Lanczos-3 kernel of Pillow: `sinc(x)·sinc(x/3)` on |x| < 3.
fn lanczos(x: f64) -> f64 {
    fn sinc(x: f64) -> f64 {
        if x == 0.0 { 1.0 } else { (std::f64::consts::PI * x).sin() / (std::f64::consts::PI * x) }
    }
    if (-3.0..3.0).contains(&x) { sinc(x) * sinc(x / 3.0) } else { 0.0 }
}

const PRECISION_BITS: u32 = 32 - 8 - 2;

/// Pillow's `precompute_coeffs` for one axis, in its 8-bit fixed point: per output pixel the
/// first input pixel and the integer weights.
fn coefficients(in_size: usize, out_size: usize) -> Vec<(usize, Vec<i64>)> {
    let scale = in_size as f64 / out_size as f64;
    let filterscale = scale.max(1.0);
    let support = 3.0 * filterscale;
    (0..out_size)
        .map(|xx| {
            let center = (xx as f64 + 0.5) * scale;
            let xmin = ((center - support + 0.5) as i64).max(0) as usize;
            let xmax = ((center + support + 0.5) as i64).min(in_size as i64) as usize;
            let mut weights: Vec<f64> =
                (xmin..xmax).map(|x| lanczos((x as f64 - center + 0.5) / filterscale)).collect();
            let total: f64 = weights.iter().sum();
            if total != 0.0 {
                weights.iter_mut().for_each(|w| *w /= total);
            }
            let fixed = weights
                .iter()
                .map(|w| {
                    let v = w * (1u64 << PRECISION_BITS) as f64;
                    if v < 0.0 { (v - 0.5) as i64 } else { (v + 0.5) as i64 }
                })
                .collect();
            (xmin, fixed)
        })
        .collect()
}

fn clip8(acc: i64) -> u8 {
    (acc >> PRECISION_BITS).clamp(0, 255) as u8
}

/// Resizes an 8-bit image to `height × width` with Pillow's Lanczos filter.
pub fn resize_lanczos(image: &Grid<u8>, height: usize, width: usize) -> Grid<u8> {
    let horizontal = coefficients(image.width, width);
    let mut temp = Grid::<u8>::new(image.height, width);
    for y in 0..image.height {
        for (x, (first, weights)) in horizontal.iter().enumerate() {
            let mut acc = 1i64 << (PRECISION_BITS - 1);
            for (k, w) in weights.iter().enumerate() {
                acc += image.at(y, first + k) as i64 * w;
            }
            temp.set(y, x, clip8(acc));
        }
    }
    let vertical = coefficients(image.height, height);
    let mut out = Grid::<u8>::new(height, width);
    for (y, (first, weights)) in vertical.iter().enumerate() {
        for x in 0..width {
            let mut acc = 1i64 << (PRECISION_BITS - 1);
            for (k, w) in weights.iter().enumerate() {
                acc += temp.at(first + k, x) as i64 * w;
            }
            out.set(y, x, clip8(acc));
        }
    }
    out
}

/// scipy's `bytescale`: the range `[min, max]` of the values onto 0–255, rounded half up.
pub fn bytescale(values: &Grid<f64>) -> Grid<u8> {
    let lo = values.data.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.data.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let range = if hi - lo == 0.0 { 1.0 } else { hi - lo };
    let scale = 255.0 / range;
    let data = values.data.iter().map(|&v| (((v - lo) * scale).clamp(0.0, 255.0) + 0.5) as u8).collect();
    Grid { height: values.height, width: values.width, data }
}

/// The disc `x² + y² ≤ r²` in a `(2r+1)²` kernel.
pub fn disc(radius: usize) -> Grid<bool> {
    let n = 2 * radius + 1;
    let r = radius as i64;
    let mut kernel = Grid::new(n, n);
    for y in 0..n {
        for x in 0..n {
            let (dy, dx) = (y as i64 - r, x as i64 - r);
            kernel.set(y, x, dx * dx + dy * dy <= r * r);
        }
    }
    kernel
}

/// `cv2.dilate(image, kernel)`: the maximum of the image over the kernel's support, centred on
/// each pixel; outside the image counts as nothing.
pub fn dilate(image: &Grid<f64>, kernel: &Grid<bool>) -> Grid<f64> {
    let offsets = kernel_offsets(kernel);
    let mut out = Grid::new(image.height, image.width);
    for y in 0..image.height {
        for x in 0..image.width {
            out.set(y, x, dilated_at(image, &offsets, y as i64, x as i64));
        }
    }
    out
}

/// The dilation at one pixel, for callers that need only a few (the snake's candidates).
pub fn dilated_at(image: &Grid<f64>, offsets: &[(i64, i64)], y: i64, x: i64) -> f64 {
    let mut best = f64::NEG_INFINITY;
    for &(dy, dx) in offsets {
        let (sy, sx) = (y + dy, x + dx);
        if sy >= 0 && sx >= 0 && (sy as usize) < image.height && (sx as usize) < image.width {
            best = best.max(image.at(sy as usize, sx as usize));
        }
    }
    if best == f64::NEG_INFINITY { 0.0 } else { best }
}

/// The kernel's offsets from its centre, for [`dilated_at`].
pub fn kernel_offsets(kernel: &Grid<bool>) -> Vec<(i64, i64)> {
    let (ay, ax) = ((kernel.height / 2) as i64, (kernel.width / 2) as i64);
    (0..kernel.height)
        .flat_map(|ky| (0..kernel.width).map(move |kx| (ky, kx)))
        .filter(|&(ky, kx)| kernel.at(ky, kx))
        .map(|(ky, kx)| (ky as i64 - ay, kx as i64 - ax))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A horizontal line of width 3 from (1,2) to (5,2): ratio 1/4, offsets dxmin = dxmax = 0,
    /// dymin = dymax = round_down(1) = 1 (Pillow rounds 1·4/4 = 1.0 down to 1), so rows 1–3,
    /// columns 1–5.
    #[test]
    fn wide_line_is_the_pillow_quadrilateral() {
        let mut g = Grid::<f64>::new(5, 7);
        wide_line(&mut g, (1, 2), (5, 2), 3, 1.0);
        for y in 0..5 {
            for x in 0..7 {
                let want = (1..=3).contains(&y) && (1..=5).contains(&x);
                assert_eq!(g.at(y, x) == 1.0, want, "({y},{x})");
            }
        }
    }

    /// Upsampling a constant keeps it (the weights sum to one in fixed point); downsampling a
    /// 2-pixel-wide step by 2 gives the symmetric weights of Pillow's kernel.
    #[test]
    fn lanczos_resize_matches_hand_values() {
        let flat = Grid { height: 4, width: 4, data: vec![200u8; 16] };
        assert!(resize_lanczos(&flat, 9, 9).data.iter().all(|&v| v == 200));
        // 1-D: [0,0,255,255,0,0] → 3 pixels, scale 2, support 6: the middle output centre is
        // at 3.0, taps x = 0..6 at (x − 2.5)/2 = −1.25, −0.75, −0.25, 0.25, 0.75, 1.25.
        let step = Grid { height: 1, width: 6, data: vec![0u8, 0, 255, 255, 0, 0] };
        let out = resize_lanczos(&step, 1, 3);
        let w: Vec<f64> = [-1.25f64, -0.75, -0.25, 0.25, 0.75, 1.25].iter().map(|&x| lanczos(x)).collect();
        let middle = 255.0 * (w[2] + w[3]) / w.iter().sum::<f64>();
        assert_eq!(out.data[1], middle.round().clamp(0.0, 255.0) as u8, "{:?}", out.data);
        assert_eq!(out.data[0], out.data[2], "symmetric");
    }

    #[test]
    fn bytescale_maps_min_and_max() {
        let g = Grid { height: 1, width: 4, data: vec![0.0f64, 0.5, 0.9, 1.0] };
        assert_eq!(bytescale(&g).data, vec![0, 128, 230, 255]);
        let flat = Grid { height: 1, width: 2, data: vec![0.0f64, 0.0] };
        assert_eq!(bytescale(&flat).data, vec![0, 0]);
    }

    #[test]
    fn dilation_by_a_disc() {
        let mut g = Grid::<f64>::new(5, 5);
        g.set(2, 2, 1.0);
        let d = dilate(&g, &disc(1));
        let on: Vec<(usize, usize)> =
            (0..5).flat_map(|y| (0..5).map(move |x| (y, x))).filter(|&(y, x)| d.at(y, x) == 1.0).collect();
        assert_eq!(on, vec![(1, 2), (2, 1), (2, 2), (2, 3), (3, 2)]);
    }
}
