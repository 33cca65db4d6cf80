//! The Pathfinder generator of Linsley, Kim et al. (2018; github drewlinsley/pathfinder,
//! `snakes2.py` and `snakes.py`) as LRA configured it (spec data.md §4), image by image:
//!
//! 1. Draw the label, and a paddle margin `m` from the list.
//! 2. **Two target snakes.** Seed paddle 1 on a free pixel at least 2·`seed_distance` from the
//!    border, with a random integer orientation. Seed paddle 2 `seed_distance` from paddle 1's
//!    tail, at a random angle. Then extend the two snakes in turn, to `contour_length` paddles
//!    each. Each extension:
//!    * moves the pivot `L + 2m` along the heading (`L` = paddle length);
//!    * weighs the integer points of the circle of radius `L + m` around it by
//!      `cos²(min(|Δθ|·continuity, π/2)) · (1 − occupancy dilated by a disc of radius m)`;
//!    * samples one, and draws the paddle from it back towards the pivot.
//!
//!    A paddle that overlaps the occupancy mask (`mask + new > 1.8`) is redrawn (up to
//!    `max_paddle_retrial` more times). Any failure restarts the pair.
//! 3. **Distractors**: `num_distractor_snakes` snakes of `distractor_length` paddles, grown the
//!    same way, each retried up to `max_distractor_retrial` more times and else left out. Once
//!    less than 1 % of the mask is free, no distractor can be seeded.
//! 4. **Rendering**: each paddle is a PIL line of width `thickness·aa` drawn at `aa`× scale,
//!    Lanczos-downsampled and scaled by its contrast; the canvas is the pixel-wise max.
//! 5. **Markers**: discs of radius `marker_radius` (drawn at `aa`×, Lanczos-downsampled) at the
//!    origin tip of one target snake, and at the terminal tip of the same snake (label 1) or of
//!    the other one (label 0).
//! 6. The image is bytescaled to 8 bits, as `scipy.misc.imsave` does.
//!
//! Quirks of the original are kept:
//! * the occupancy mask takes a paddle in only when the *next* paddle of its snake is accepted;
//! * after the two targets, only the second target's last paddle joins the mask;
//! * candidate points are truncated, not rounded; seed 2 is rounded half to even (`np.round_`).
//!
//! Randomness is ours (a seeded ChaCha per image), so the images are not numpy's. Where the
//! original draws each label with p = ½, we balance the labels exactly within each folder.
//!
//! Just over 600 lines: the generator is one algorithm, kept in the order the original runs it,
//! with its tests.

use std::collections::HashMap;
use std::rc::Rc;

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use super::render::{Grid, bytescale, dilate, dilated_at, disc, kernel_offsets, resize_lanczos, wide_line};

/// The generator's parameters (names of `snakes2_wrapper.py`).
#[derive(Clone, Debug, PartialEq)]
pub struct GeneratorParams {
    /// Image side in pixels.
    pub size: usize,
    /// Paddles per target snake (6, 9, 14 for easy, intermediate, hard).
    pub contour_length: usize,
    /// Paddles per distractor snake (`contour_length / 3`, integer division as in Python 2).
    pub distractor_length: usize,
    /// Distractor snakes (`35 / distractor_length`, integer division; the count LRA states).
    pub num_distractor_snakes: usize,
    /// Paddle length in pixels.
    pub paddle_length: usize,
    /// Paddle width in pixels (`thickness · antialias` must be whole).
    pub paddle_thickness: f64,
    /// Margins around paddles; one is drawn per image.
    pub paddle_margins: Vec<usize>,
    /// Distance between the two target seeds.
    pub seed_distance: usize,
    /// Radius of the two marker discs.
    pub marker_radius: usize,
    /// Super-sampling factor of the rendering.
    pub antialias: usize,
    /// How strongly a snake keeps its heading.
    pub continuity: f64,
    /// Contrast of every snake (markers are at 1.0).
    pub snake_contrast: f64,
    /// Occupied border, pixels.
    pub padding: usize,
    /// Extra attempts at a paddle.
    pub max_paddle_retrial: usize,
    /// Extra attempts at a distractor snake.
    pub max_distractor_retrial: usize,
}

/// Contour length of a difficulty level.
pub fn contour_length(difficulty: tasks::pathfinder::Difficulty) -> usize {
    match difficulty {
        tasks::pathfinder::Difficulty::Easy => 6,
        tasks::pathfinder::Difficulty::Intermediate => 9,
        tasks::pathfinder::Difficulty::Hard => 14,
    }
}

impl GeneratorParams {
    /// LRA's parameters. For 128 (Path-X) they are the ones LRA's TFDS docstring gives. For the
    /// other sizes LRA published none; the paddle geometry is scaled with the image so that a
    /// hard snake still fits (our choice, stated in the README).
    pub fn lra(size: usize, difficulty: tasks::pathfinder::Difficulty) -> Self {
        let (paddle_length, paddle_thickness, paddle_margins, seed_distance, marker_radius) = match size {
            0..=32 => (1, 1.0, vec![1], 5, 1),
            33..=64 => (3, 1.5, vec![1, 2], 10, 2),
            65..=128 => (5, 1.5, vec![2, 3], 20, 3),
            _ => (5, 1.5, vec![2, 3], 40, 3),
        };
        let contour_length = contour_length(difficulty);
        let distractor_length = contour_length / 3;
        GeneratorParams {
            size,
            contour_length,
            distractor_length,
            num_distractor_snakes: 35 / distractor_length,
            paddle_length,
            paddle_thickness,
            paddle_margins,
            seed_distance,
            marker_radius,
            antialias: 2,
            continuity: 1.8,
            snake_contrast: 0.9,
            padding: 1,
            max_paddle_retrial: 2,
            max_distractor_retrial: 4,
        }
    }

    /// Checks the values the algorithm needs, naming the parameter.
    pub fn validate(&self) -> Result<(), String> {
        let blown = self.paddle_thickness * self.antialias as f64;
        if blown.round() != blown || blown < 1.0 {
            return Err(format!(
                "paddle thickness {} × antialias {} must be a whole number of pixels",
                self.paddle_thickness, self.antialias
            ));
        }
        if self.size < 8 || self.contour_length < 2 || self.paddle_length < 1 || self.antialias < 1 {
            return Err("size ≥ 8, contour length ≥ 2, paddle length ≥ 1 and antialias ≥ 1 are needed".into());
        }
        if self.paddle_margins.is_empty() {
            return Err("at least one paddle margin is needed".into());
        }
        if 4 * self.seed_distance >= self.size {
            return Err(format!("seed distance {} leaves no room in a {}-pixel image", self.seed_distance, self.size));
        }
        if !(0.0..=1.0).contains(&self.snake_contrast) {
            return Err(format!("snake contrast {} must be in [0, 1]", self.snake_contrast));
        }
        Ok(())
    }
}

/// A point (row, column).
pub type Point = (i64, i64);

/// One paddle: from its start point along its orientation (radians, `atan2(dy, dx)`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Paddle {
    /// Where the line starts.
    pub start: Point,
    /// Its direction.
    pub orientation: f64,
}

/// A snake as drawn.
#[derive(Clone, Debug, PartialEq)]
pub struct Snake {
    /// Its paddles in growth order.
    pub paddles: Vec<Paddle>,
    /// The tail of the seed paddle (where an origin marker goes).
    pub origin_tip: Point,
    /// The head of the last paddle (where a terminal marker goes).
    pub terminal_tip: Point,
}

/// One generated image and how it was made.
#[derive(Clone, Debug)]
pub struct GeneratedImage {
    /// Row-major 8-bit pixels.
    pub pixels: Vec<u8>,
    /// 1: the markers lie on one snake.
    pub label: u8,
    /// The paddle margin drawn for this image.
    pub margin: usize,
    /// The two target snakes.
    pub targets: [Snake; 2],
    /// The distractor snakes that were completed.
    pub distractors: Vec<Snake>,
    /// Marker centres: the origin tip of `targets[origin]` and a terminal tip.
    pub markers: [Point; 2],
    /// Which target snake carries the origin marker.
    pub origin: usize,
}

/// A rendered paddle, placed: its line and its occupancy mask, in a square window whose
/// top-left corner is at `corner` (possibly outside the image).
#[derive(Clone, Debug)]
struct PaddlePatch {
    corner: Point,
    line: Grid<f64>,
    mask: Grid<f64>,
}

/// `translate_coord`: `dist` along `orientation`, rounded up.
fn translate(p: Point, orientation: f64, dist: f64) -> Point {
    ((p.0 as f64 + dist * orientation.sin()).ceil() as i64, (p.1 as f64 + dist * orientation.cos()).ceil() as i64)
}

fn flip_by_pi(o: f64) -> f64 {
    if o < 0.0 { o + std::f64::consts::PI } else { o - std::f64::consts::PI }
}

struct Canvas {
    image: Grid<f64>,
    mask: Grid<f64>,
}

impl Canvas {
    fn inside(&self, p: Point) -> bool {
        p.0 >= 0 && p.1 >= 0 && (p.0 as usize) < self.mask.height && (p.1 as usize) < self.mask.width
    }

    /// `target = max(target, patch)` over the patch's window.
    fn max_into(target: &mut Grid<f64>, patch: &Grid<f64>, corner: Point) {
        for py in 0..patch.height {
            for px in 0..patch.width {
                let (y, x) = (corner.0 + py as i64, corner.1 + px as i64);
                if y >= 0 && x >= 0 && (y as usize) < target.height && (x as usize) < target.width {
                    let v = patch.at(py, px);
                    if v > target.at(y as usize, x as usize) {
                        target.set(y as usize, x as usize, v);
                    }
                }
            }
        }
    }

    /// Whether `max(mask + patch) ≥ 1.8`: the paddle would cross an occupied place.
    fn overlaps(&self, patch: &PaddlePatch) -> bool {
        // Outside the window the sum is the mask alone, which never exceeds 1.
        let mut peak = 0.0f64;
        for py in 0..patch.mask.height {
            for px in 0..patch.mask.width {
                let (y, x) = (patch.corner.0 + py as i64, patch.corner.1 + px as i64);
                if self.inside((y, x)) {
                    peak = peak.max(self.mask.at(y as usize, x as usize) + patch.mask.at(py, px));
                }
            }
        }
        peak >= 1.8
    }
}

/// A rendered paddle at unit contrast, and the offsets of the seed kernel of its orientation.
#[derive(Debug)]
struct RenderedPaddle {
    line: Grid<f64>,
    mask: Grid<f64>,
}

/// Paddles depend only on their orientation (for fixed parameters and margin), and a snake's
/// orientations come from a small set (integer degrees for seeds, the directions to the
/// integer points of a circle for extensions): rendering each once makes a retry cheap.
#[derive(Debug, Default)]
struct PaddleCache {
    paddles: HashMap<u64, Rc<RenderedPaddle>>,
    seed_kernels: HashMap<u64, Rc<Vec<(i64, i64)>>>,
}

struct Generator<'a> {
    p: &'a GeneratorParams,
    margin: usize,
    large_disc: Grid<bool>,
    small_disc_offsets: Vec<(i64, i64)>,
    rng: StdRng,
    cache: PaddleCache,
}

impl Generator<'_> {
    /// Half the side of a paddle's window: `L + ceil(thickness) + m`.
    fn half(&self) -> usize {
        self.p.paddle_length + self.p.paddle_thickness.ceil() as usize + self.margin
    }

    /// `draw_line_n_mask`: the paddle starting at `start` (its window centred there).
    fn paddle(&mut self, start: Point, orientation: f64, contrast: f64) -> PaddlePatch {
        let half = self.half() as i64;
        let rendered = match self.cache.paddles.get(&orientation.to_bits()) {
            Some(r) => r.clone(),
            None => {
                let r = Rc::new(self.render_paddle(orientation));
                self.cache.paddles.insert(orientation.to_bits(), r.clone());
                r
            }
        };
        let line = if contrast == 1.0 {
            rendered.line.clone()
        } else {
            Grid {
                height: rendered.line.height,
                width: rendered.line.width,
                data: rendered.line.data.iter().map(|v| v * contrast).collect(),
            }
        };
        PaddlePatch { corner: (start.0 - half, start.1 - half), line, mask: rendered.mask.clone() }
    }

    fn render_paddle(&self, orientation: f64) -> RenderedPaddle {
        let aa = self.p.antialias;
        let half = self.half();
        let blown_side = half * 2 * aa + 1;
        let centre = (half * aa) as i64;
        let head = translate((centre, centre), orientation, (self.p.paddle_length * aa) as f64);
        let mut blown = Grid::<f64>::new(blown_side, blown_side);
        let width = (self.p.paddle_thickness * aa as f64).round() as usize;
        wide_line(&mut blown, (centre, centre), (head.1, head.0), width, 255.0);
        let side = half * 2 + 1;
        // imresize of the 0/255 float image: bytescale leaves it as it is.
        let line8 = resize_lanczos(&bytescale(&blown), side, side);
        let line = Grid { height: side, width: side, data: line8.data.iter().map(|&v| v as f64 / 255.0).collect() };
        let dilated = dilate(&blown, &self.large_disc);
        let dilated8 =
            Grid { height: blown_side, width: blown_side, data: dilated.data.iter().map(|&v| v as u8).collect() };
        let mask8 = resize_lanczos(&dilated8, side, side);
        let mask = Grid { height: side, width: side, data: mask8.data.iter().map(|&v| v as f64 / 255.0).collect() };
        RenderedPaddle { line, mask }
    }

    /// The head-centric kernel a seed paddle dilates the mask with (where its mask is whole),
    /// as offsets from the kernel's centre.
    fn seed_kernel(&mut self, orientation: f64) -> Rc<Vec<(i64, i64)>> {
        if let Some(k) = self.cache.seed_kernels.get(&orientation.to_bits()) {
            return k.clone();
        }
        let lm = self.p.paddle_length + self.margin;
        let side = lm * 2 + 1;
        let head = (lm as i64 + 1, lm as i64 + 1);
        let patch = self.paddle(head, orientation, 1.0);
        let mut kernel = Grid::<f64>::new(side, side);
        Canvas::max_into(&mut kernel, &patch.mask, patch.corner);
        let kernel = Grid { height: side, width: side, data: kernel.data.iter().map(|&v| v >= 1.0).collect() };
        let offsets = Rc::new(kernel_offsets(&kernel));
        self.cache.seed_kernels.insert(orientation.to_bits(), offsets.clone());
        offsets
    }

    fn random_orientation(&mut self) -> f64 {
        self.rng.random_range(-180i64..180) as f64 * std::f64::consts::PI / 180.0
    }

    /// `seed_snake` / the first half of `initialize_two_seeds`: a seed paddle on a free pixel,
    /// the mask's border widened to `border` first. Returns (tail, pivot, orientation, mask).
    fn seed(
        &mut self,
        canvas: &mut Canvas,
        border: usize,
        stop_below: Option<f64>,
    ) -> Option<(Paddle, Point, PaddlePatch)> {
        let (h, w) = (canvas.mask.height, canvas.mask.width);
        let (l, m) = (self.p.paddle_length as f64, self.margin as f64);
        if let Some(stop) = stop_below {
            let free = canvas.mask.data.iter().filter(|&&v| v <= 0.3).count();
            if (free as f64) / ((h * w) as f64) < stop {
                return None;
            }
        }
        let mut trial = 0;
        while trial <= self.p.max_paddle_retrial {
            let orientation = self.random_orientation();
            let reversed = flip_by_pi(orientation);
            let kernel = self.seed_kernel(orientation);
            let in_band = |y: usize, x: usize| y < border || x < border || y + border >= h || x + border >= w;
            // The mask with its border widened, dilated by the kernel, at one pixel.
            let blocked = |i: usize| {
                let (y, x) = ((i / w) as i64, (i % w) as i64);
                let mut best = 0.0f64;
                for &(dy, dx) in kernel.iter() {
                    let (sy, sx) = (y + dy, x + dx);
                    if sy >= 0 && sx >= 0 && (sy as usize) < h && (sx as usize) < w {
                        let (sy, sx) = (sy as usize, sx as usize);
                        best = best.max(if in_band(sy, sx) { 1.0 } else { canvas.mask.at(sy, sx) });
                    }
                }
                best > 0.3
            };
            // A uniform draw among the free pixels: by rejection while that is quick, else by
            // listing them all (which also finds that there are none).
            let mut found = (0..64).map(|_| self.rng.random_range(0..h * w)).find(|&i| !blocked(i));
            if found.is_none() {
                let available: Vec<usize> = (0..h * w).filter(|&i| !blocked(i)).collect();
                if available.is_empty() {
                    return None;
                }
                found = Some(available[self.rng.random_range(0..available.len())]);
            }
            let i = found.expect("a free pixel");
            let tail = ((i / w) as i64, (i % w) as i64);
            let head = translate(tail, orientation, l);
            let pivot = translate(head, reversed, l + m);
            if !canvas.inside(head) || !canvas.inside(pivot) {
                trial += 1;
                continue;
            }
            let patch = self.paddle(tail, orientation, self.p.snake_contrast);
            Canvas::max_into(&mut canvas.image, &patch.line, patch.corner);
            return Some((Paddle { start: tail, orientation }, pivot, patch));
        }
        None
    }

    /// `extend_snake`: the next paddle after the one with `pivot` and `orientation`.
    /// Returns (pivot, orientation, head, paddle drawn, its mask).
    fn extend(
        &mut self,
        canvas: &mut Canvas,
        pivot: Point,
        orientation: f64,
        last_mask: &PaddlePatch,
    ) -> Option<(Point, f64, Point, Paddle, PaddlePatch)> {
        let (l, m) = (self.p.paddle_length as f64, self.margin as f64);
        let new_pivot = translate(pivot, orientation, l + 2.0 * m);
        let step = l + m;
        let (h, w) = (canvas.mask.height as f64, canvas.mask.width as f64);
        let degrees_per_pixel = 360.0 / (2.0 * step * std::f64::consts::PI);
        let count = (360.0 / degrees_per_pixel).ceil() as usize;
        let mut coords: Vec<Point> = (0..count)
            .filter_map(|k| {
                let a = (k as f64 * degrees_per_pixel) * std::f64::consts::PI / 180.0;
                let (y, x) = (new_pivot.0 as f64 + step * a.sin(), new_pivot.1 as f64 + step * a.cos());
                (y < h && y >= 0.0 && x < w && x >= 0.0).then_some((y as i64, x as i64))
            })
            .collect();
        coords.sort_unstable();
        coords.dedup();
        if coords.is_empty() {
            return None;
        }
        let pi = std::f64::consts::PI;
        let orientations: Vec<f64> =
            coords.iter().map(|c| ((c.0 - new_pivot.0) as f64).atan2((c.1 - new_pivot.1) as f64)).collect();
        let pmf: Vec<f64> = coords
            .iter()
            .zip(&orientations)
            .map(|(c, o)| {
                let d = (o - orientation).abs();
                let delta = (d.min(2.0 * pi - d) * self.p.continuity).min(0.5 * pi);
                let weight = delta.cos().max(0.0).powi(2);
                let occupied = dilated_at(&canvas.mask, &self.small_disc_offsets, c.0, c.1);
                (1.0 - occupied) * weight
            })
            .collect();
        let total: f64 = pmf.iter().sum();
        if total < 1e-4 {
            return None;
        }
        let mut cmf = Vec::with_capacity(pmf.len());
        let mut acc = 0.0;
        for p in &pmf {
            acc += p / total;
            cmf.push(acc);
        }
        for _ in 0..=self.p.max_paddle_retrial {
            let r: f64 = self.rng.random();
            let index = cmf.iter().position(|&c| c - r > 0.0).unwrap_or(0);
            let (new_orientation, head) = (orientations[index], coords[index]);
            let flipped = flip_by_pi(new_orientation);
            let patch = self.paddle(head, flipped, self.p.snake_contrast);
            if !canvas.overlaps(&patch) {
                Canvas::max_into(&mut canvas.image, &patch.line, patch.corner);
                Canvas::max_into(&mut canvas.mask, &last_mask.mask, last_mask.corner);
                return Some((new_pivot, new_orientation, head, Paddle { start: head, orientation: flipped }, patch));
            }
        }
        None
    }

    /// `two_snakes`: both target snakes, or `None` when any step fails.
    fn two_snakes(&mut self) -> Option<(Canvas, [Snake; 2])> {
        let s = self.p.size;
        let mut mask = Grid::<f64>::new(s, s);
        for y in 0..s {
            for x in 0..s {
                let pad = self.p.padding;
                if y < pad || x < pad || y >= s - pad || x >= s - pad {
                    mask.set(y, x, 1.0);
                }
            }
        }
        let mut canvas = Canvas { image: Grid::new(s, s), mask };
        let (first, pivot1, mask1) = self.seed(&mut canvas, 2 * self.p.seed_distance, None)?;
        let (l, m) = (self.p.paddle_length as f64, self.margin as f64);
        let mut second = None;
        for _ in 0..=self.p.max_paddle_retrial {
            let orientation = self.random_orientation();
            let reversed = flip_by_pi(orientation);
            let angle = self.rng.random_range(0i64..360) as f64 * std::f64::consts::PI / 180.0;
            let sd = self.p.seed_distance as f64;
            let tail = (
                (first.start.0 as f64 + sd * angle.sin()).round_ties_even() as i64,
                (first.start.1 as f64 + sd * angle.cos()).round_ties_even() as i64,
            );
            let head = translate(tail, orientation, l);
            let pivot = translate(head, reversed, l + m);
            if canvas.inside(head) && canvas.inside(pivot) {
                second = Some((Paddle { start: tail, orientation }, pivot));
                break;
            }
        }
        let (second, pivot2) = second?;
        let patch2 = self.paddle(second.start, second.orientation, self.p.snake_contrast);
        Canvas::max_into(&mut canvas.image, &patch2.line, patch2.corner);

        let mut state = [(pivot1, first.orientation, mask1), (pivot2, second.orientation, patch2)];
        let mut snakes = [first, second].map(|p| Snake { paddles: vec![p], origin_tip: p.start, terminal_tip: (0, 0) });
        for _ in 0..self.p.contour_length - 1 {
            for (snake, (pivot, orientation, last)) in snakes.iter_mut().zip(state.iter_mut()) {
                let (new_pivot, new_orientation, head, paddle, patch) =
                    self.extend(&mut canvas, *pivot, *orientation, last)?;
                (*pivot, *orientation, *last) = (new_pivot, new_orientation, patch);
                snake.paddles.push(paddle);
                snake.terminal_tip = head;
            }
        }
        let last = &state[1].2;
        Canvas::max_into(&mut canvas.mask, &last.mask, last.corner);
        Some((canvas, snakes))
    }

    /// `make_snake` for a distractor: all of it, or nothing (the canvas is left as it was).
    fn distractor(&mut self, canvas: &mut Canvas) -> Option<Snake> {
        let mut trial = Canvas { image: canvas.image.clone(), mask: canvas.mask.clone() };
        let (seed, mut pivot, mut last) = self.seed(&mut trial, 1, Some(0.01))?;
        let mut orientation = seed.orientation;
        let mut snake = Snake { paddles: vec![seed], origin_tip: seed.start, terminal_tip: seed.start };
        for _ in 0..self.p.distractor_length.saturating_sub(1) {
            let (p, o, head, paddle, patch) = self.extend(&mut trial, pivot, orientation, &last)?;
            (pivot, orientation, last) = (p, o, patch);
            snake.paddles.push(paddle);
            snake.terminal_tip = head;
        }
        Canvas::max_into(&mut trial.mask, &last.mask, last.corner);
        *canvas = trial;
        Some(snake)
    }

    /// `draw_circle`: a disc drawn at `aa`× and Lanczos-downsampled, as 8 bits.
    fn marker(&self, centre: Point) -> Grid<u8> {
        let (s, aa) = (self.p.size, self.p.antialias as i64);
        let big = s * aa as usize;
        let r2 = (self.p.marker_radius as i64 * aa).pow(2);
        let mut disc = Grid::<f64>::new(big, big);
        for i in 0..big as i64 {
            for j in 0..big as i64 {
                let (y, x) = (i - centre.0 * aa, j - centre.1 * aa);
                if x * x + y * y <= r2 {
                    disc.set(i as usize, j as usize, 1.0);
                }
            }
        }
        resize_lanczos(&bytescale(&disc), s, s)
    }
}

/// Generates one image with `label` from `seed`. Fails only when no pair of target snakes
/// can be placed in 100,000 attempts (parameters that leave no room).
pub fn generate_image(params: &GeneratorParams, label: u8, seed: u64) -> Result<GeneratedImage, String> {
    let mut rng = StdRng::seed_from_u64(seed);
    let margin = params.paddle_margins[rng.random_range(0..params.paddle_margins.len())];
    let mut g = Generator {
        p: params,
        margin,
        large_disc: disc(margin * params.antialias),
        small_disc_offsets: kernel_offsets(&disc(margin)),
        rng,
        cache: PaddleCache::default(),
    };
    let mut attempt = 0;
    let (mut canvas, targets) = loop {
        if let Some(found) = g.two_snakes() {
            break found;
        }
        attempt += 1;
        if attempt >= 100_000 {
            return Err(format!(
                "no two target snakes of {} paddles fit in a {}-pixel image after 100,000 attempts",
                params.contour_length, params.size
            ));
        }
    };
    let mut distractors = Vec::new();
    for _ in 0..params.num_distractor_snakes {
        for _ in 0..=params.max_distractor_retrial {
            if let Some(snake) = g.distractor(&mut canvas) {
                distractors.push(snake);
                break;
            }
        }
    }
    let origin = g.rng.random_range(0..2usize);
    let terminal = if label == 0 { 1 - origin } else { origin };
    let markers = [targets[origin].origin_tip, targets[terminal].terminal_tip];
    let (a, b) = (g.marker(markers[0]), g.marker(markers[1]));
    let mut marked = canvas.image;
    for (i, v) in marked.data.iter_mut().enumerate() {
        *v = v.max(a.data[i].max(b.data[i]) as f64 / 255.0);
    }
    Ok(GeneratedImage { pixels: bytescale(&marked).data, label, margin, targets, distractors, markers, origin })
}

/// Exactly balanced labels for `count` images, in a seeded order (an odd count gets one
/// extra label drawn at random).
pub fn balanced_labels(count: usize, seed: u64) -> Vec<u8> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut labels: Vec<u8> = (0..count).map(|i| (i % 2) as u8).collect();
    if count % 2 == 1 {
        labels[count - 1] = rng.random_range(0..2u8);
    }
    labels.shuffle(&mut rng);
    labels
}
