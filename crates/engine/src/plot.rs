//! The learning-curve plot of a run: loss (left) and accuracy (right) per epoch, train and
//! test, drawn with plotters into a PNG. The font ships with the binary (DejaVu Sans Mono,
//! `assets/DejaVu-LICENSE`), so plots need no system fonts.

use std::path::Path;
use std::sync::Once;

use anyhow::{Result, anyhow};
use plotters::prelude::*;

use crate::metrics::EpochRecord;

static FONT: Once = Once::new();

fn register_font() {
    FONT.call_once(|| {
        let bytes: &'static [u8] = include_bytes!("../assets/DejaVuSansMono.ttf");
        // Registration fails only for a malformed font, which the test of this module catches.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, bytes);
    });
}

type Series = (String, Vec<(f64, f64)>, RGBColor);

/// matplotlib's tab10, so figures look like the papers'.
const COLORS: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// Draws into memory, encodes a PNG and writes it atomically, so a failed plot never leaves a
/// half-written file where a good one was.
fn draw_png(
    path: &Path,
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<BitMapBackend, plotters::coord::Shift>) -> Result<()>,
) -> Result<()> {
    register_font();
    let mut rgb = vec![0u8; size.0 as usize * size.1 as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, size).into_drawing_area();
        root.fill(&WHITE).map_err(|e| anyhow!("{e:?}"))?;
        draw(&root)?;
        root.present().map_err(|e| anyhow!("{e:?}"))?;
    }
    Ok(tasks::write_png(path, &rgb, (size.0 as usize, size.1 as usize), png::ColorType::Rgb, None)?)
}

fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    title: &str,
    series: &[Series],
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    panel_with(area, title, "epoch", 0.5, true, series)
}

fn panel_with<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    title: &str,
    x_desc: &str,
    x_pad: f64,
    integer_x: bool,
    series: &[Series],
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    // Only finite points are drawn: an inf or NaN loss (a diverged run) would make the axis
    // range infinite, and plotters then never finishes computing its key points.
    let series: Vec<Series> = series
        .iter()
        .map(|(name, pts, color)| {
            (name.clone(), pts.iter().copied().filter(|(x, y)| x.is_finite() && y.is_finite()).collect(), *color)
        })
        .collect();
    let points = series.iter().flat_map(|(_, p, _)| p.iter());
    let (mut x_max, mut y_min, mut y_max) = (if integer_x { 1.0f64 } else { 0.0 }, f64::INFINITY, f64::NEG_INFINITY);
    for &(x, y) in points {
        x_max = x_max.max(x);
        y_min = y_min.min(y);
        y_max = y_max.max(y);
    }
    if !y_min.is_finite() || !(y_max - y_min).is_finite() {
        (y_min, y_max) = if y_min.is_finite() { (y_min.max(-1e300), y_max.min(1e300)) } else { (0.0, 1.0) };
    }
    let pad = ((y_max - y_min) * 0.05).max(1e-6);
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(35)
        .y_label_area_size(60)
        .build_cartesian_2d(if integer_x { 0.0 } else { -x_pad }..x_max + x_pad, (y_min - pad)..(y_max + pad))
        .map_err(|e| anyhow!("{e:?}"))?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .x_label_formatter(&|x| {
            if integer_x { format!("{x:.0}") } else { format!("{x:.1}") }
        })
        .draw()
        .map_err(|e| anyhow!("{e:?}"))?;
    for (name, pts, color) in &series {
        if pts.is_empty() {
            continue;
        }
        let color = *color;
        chart
            .draw_series(LineSeries::new(pts.iter().copied(), color.stroke_width(2)))
            .map_err(|e| anyhow!("{e:?}"))?
            .label(name.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
        chart.draw_series(pts.iter().map(|&p| Circle::new(p, 3, color.filled()))).map_err(|e| anyhow!("{e:?}"))?;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|e| anyhow!("{e:?}"))?;
    Ok(())
}

/// Draws `records` into a PNG at `path` (written to a temporary file, then moved into place).
pub fn learning_curves(path: &Path, records: &[EpochRecord], title: &str) -> Result<()> {
    draw_png(path, (1200, 480), |root| {
        let root = root.titled(title, ("sans-serif", 22)).map_err(|e| anyhow!("{e:?}"))?;
        let (left, right) = root.split_horizontally(600);
        let pick = |f: fn(&EpochRecord) -> Option<f64>| -> Vec<(f64, f64)> {
            records.iter().filter_map(|r| f(r).map(|v| (r.epoch as f64, v))).collect()
        };
        panel(
            &left,
            "loss",
            &[("train".into(), pick(|r| Some(r.train_loss)), BLUE), ("test".into(), pick(|r| r.test_loss), RED)],
        )?;
        let accuracy =
            [("train".into(), pick(|r| r.train_accuracy), BLUE), ("test".into(), pick(|r| r.test_accuracy), RED)];
        if accuracy.iter().any(|(_, p, _)| !p.is_empty()) {
            panel(&right, "accuracy", &accuracy)?;
        }
        Ok(())
    })
}

/// One line per run: the mean metric against the fraction of neurons silenced.
pub fn silencing_curves(path: &Path, title: &str, metric: &str, lines: &[(String, Vec<(f64, f64)>)]) -> Result<()> {
    let series = colored(lines);
    draw_png(path, (720, 520), |root| {
        let root = root.titled(title, ("sans-serif", 22)).map_err(|e| anyhow!("{e:?}"))?;
        panel_with(&root, metric, "fraction of neurons silenced", 0.02, false, &series)
    })
}

/// One line per model of a table: its test metric against the epoch.
pub fn model_curves(path: &Path, title: &str, metric: &str, lines: &[(String, Vec<(f64, f64)>)]) -> Result<()> {
    let series = colored(lines);
    draw_png(path, (900, 560), |root| {
        let root = root.titled(title, ("sans-serif", 22)).map_err(|e| anyhow!("{e:?}"))?;
        panel(&root, metric, &series)
    })
}

/// Lines in matplotlib's tab10 order.
fn colored(lines: &[(String, Vec<(f64, f64)>)]) -> Vec<Series> {
    lines.iter().enumerate().map(|(i, (name, pts))| (name.clone(), pts.clone(), COLORS[i % COLORS.len()])).collect()
}

/// One histogram per parameter (columns of `points`), bars stacked by cluster.
pub fn parameter_histograms(path: &Path, names: &[String], points: &[Vec<f64>], labels: &[usize]) -> Result<()> {
    const BINS: usize = 20;
    let clusters = labels.iter().max().map_or(1, |m| m + 1);
    let columns = 4.min(names.len().max(1));
    let rows = names.len().div_ceil(columns).max(1);
    draw_png(path, (300 * columns as u32, 260 * rows as u32 + 40), |root| {
        let root =
            root.titled("learned parameters (stacked by cluster)", ("sans-serif", 20)).map_err(|e| anyhow!("{e:?}"))?;
        for (j, (area, name)) in root.split_evenly((rows, columns)).iter().zip(names).enumerate() {
            let values: Vec<f64> = points.iter().map(|p| p[j]).collect();
            let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let width = if hi > lo { (hi - lo) / BINS as f64 } else { 1.0 };
            let mut counts = vec![vec![0usize; clusters]; BINS];
            for (v, &l) in values.iter().zip(labels) {
                counts[(((v - lo) / width) as usize).min(BINS - 1)][l] += 1;
            }
            let top = counts.iter().map(|c| c.iter().sum::<usize>()).max().unwrap_or(1).max(1);
            let mut chart = ChartBuilder::on(area)
                .caption(name, ("sans-serif", 16))
                .margin(8)
                .x_label_area_size(28)
                .y_label_area_size(36)
                .build_cartesian_2d(lo..lo + width * BINS as f64, 0.0..top as f64 * 1.05)
                .map_err(|e| anyhow!("{e:?}"))?;
            chart
                .configure_mesh()
                .x_labels(4)
                .y_labels(4)
                .x_label_formatter(&|x| format!("{x:.3}"))
                .draw()
                .map_err(|e| anyhow!("{e:?}"))?;
            for (b, per_cluster) in counts.iter().enumerate() {
                let x0 = lo + b as f64 * width;
                let mut bottom = 0.0;
                for (c, &n) in per_cluster.iter().enumerate().filter(|(_, n)| **n > 0) {
                    let bar = Rectangle::new([(x0, bottom), (x0 + width, bottom + n as f64)], COLORS[c % 10].filled());
                    chart.draw_series(std::iter::once(bar)).map_err(|e| anyhow!("{e:?}"))?;
                    bottom += n as f64;
                }
            }
        }
        Ok(())
    })
}

/// f–I curves: the mean rate of every neuron against the bias current, coloured by cluster.
pub fn f_i_curves(path: &Path, currents: &[f64], rates: &[Vec<f64>], labels: &[usize]) -> Result<()> {
    draw_png(path, (760, 540), |root| {
        let x_lo = currents.iter().copied().fold(f64::INFINITY, f64::min);
        let x_hi = currents.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let mut chart = ChartBuilder::on(root)
            .caption("f–I curves by cluster", ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(55)
            .build_cartesian_2d(x_lo..x_hi.max(x_lo + 1.0), 0.0..1.0)
            .map_err(|e| anyhow!("{e:?}"))?;
        chart
            .configure_mesh()
            .x_desc("bias current I0")
            .y_desc("mean normalised rate")
            .draw()
            .map_err(|e| anyhow!("{e:?}"))?;
        let mut labelled = Vec::new();
        for (neuron, &cluster) in labels.iter().enumerate() {
            let color = COLORS[cluster % 10];
            let line = currents.iter().zip(rates).map(|(&c, row)| (c, row[neuron]));
            let series = chart.draw_series(LineSeries::new(line, color.mix(0.6))).map_err(|e| anyhow!("{e:?}"))?;
            if !labelled.contains(&cluster) {
                labelled.push(cluster);
                series
                    .label(format!("cluster {cluster}"))
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
            }
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(|e| anyhow!("{e:?}"))?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A diverged run (losses inf, −inf and NaN among finite ones, and one near f64::MAX)
    /// still gets its plot, in bounded time: plotters used to spin forever on an infinite axis.
    #[test]
    fn non_finite_losses_are_left_out_not_hung_on() {
        let dir = tempfile::tempdir().unwrap();
        let losses = [0.9, f64::INFINITY, f64::NAN, 1e307, f64::NEG_INFINITY];
        let records: Vec<EpochRecord> = losses
            .iter()
            .enumerate()
            .map(|(i, &loss)| EpochRecord {
                epoch: i + 1,
                train_loss: loss,
                train_accuracy: Some(0.5),
                test_loss: Some(f64::NAN),
                test_accuracy: None,
                seconds: 1.0,
            })
            .collect();
        let path = dir.path().join("curves.png");
        let (done, finished) = std::sync::mpsc::channel();
        let target = path.clone();
        std::thread::spawn(move || done.send(learning_curves(&target, &records, "diverged").is_ok()));
        let ok = finished.recv_timeout(std::time::Duration::from_secs(60)).expect("the plot finishes within a minute");
        assert!(ok, "the plot is drawn");
        assert_eq!(&std::fs::read(&path).unwrap()[1..4], b"PNG");
    }

    #[test]
    fn draws_a_png_with_text() {
        let dir = tempfile::tempdir().unwrap();
        let records: Vec<EpochRecord> = (1..=3)
            .map(|e| EpochRecord {
                epoch: e,
                train_loss: 1.0 / e as f64,
                train_accuracy: Some(0.5 + 0.1 * e as f64),
                test_loss: Some(1.1 / e as f64),
                test_accuracy: Some(0.45 + 0.1 * e as f64),
                seconds: 1.0,
            })
            .collect();
        let path = dir.path().join("curves.png");
        learning_curves(&path, &records, "test run").unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(&bytes[1..4], b"PNG");
        assert!(bytes.len() > 5_000, "{} bytes", bytes.len());
        // Only the plot is left: no temporary beside it.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        // It decodes to an RGB image that is mostly white paper with dark text and coloured lines.
        let mut reader = png::Decoder::new(std::io::Cursor::new(bytes)).read_info().unwrap();
        let mut rgb = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut rgb).unwrap();
        assert_eq!(info.color_type, png::ColorType::Rgb);
        let pixels: Vec<&[u8]> = rgb[..info.buffer_size()].chunks(3).collect();
        let white = pixels.iter().filter(|p| p.iter().all(|&c| c == 255)).count();
        let dark = pixels.iter().filter(|p| p.iter().all(|&c| c < 64)).count();
        let coloured = pixels.iter().filter(|p| p.iter().max().unwrap() - p.iter().min().unwrap() > 100).count();
        assert!(white > pixels.len() / 2 && dark > 100 && coloured > 100, "{white} {dark} {coloured}");
    }
}
