//! The learning-curve plot of a run: loss (left) and accuracy (right) per epoch, train and
//! test, drawn with plotters into a PNG. The font ships with the binary (DejaVu Sans Mono,
//! `assets/DejaVu-LICENSE`), so plots need no system fonts.

use std::path::Path;
use std::sync::Once;

use anyhow::{Result, anyhow};
use plotters::prelude::*;

use crate::runner::EpochRecord;

static FONT: Once = Once::new();

fn register_font() {
    FONT.call_once(|| {
        let bytes: &'static [u8] = include_bytes!("../assets/DejaVuSansMono.ttf");
        // Registration fails only for a malformed font, which the test of this module catches.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, bytes);
    });
}

type Series = (String, Vec<(f64, f64)>, RGBColor);

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
    let points = series.iter().flat_map(|(_, p, _)| p.iter());
    let (mut x_max, mut y_min, mut y_max) = (if integer_x { 1.0f64 } else { 0.0 }, f64::INFINITY, f64::NEG_INFINITY);
    for &(x, y) in points {
        x_max = x_max.max(x);
        y_min = y_min.min(y);
        y_max = y_max.max(y);
    }
    if !y_min.is_finite() {
        (y_min, y_max) = (0.0, 1.0);
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
    for (name, pts, color) in series {
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
    register_font();
    let tmp = path.with_extension("png.partial.png");
    {
        let root = BitMapBackend::new(&tmp, (1200, 480)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| anyhow!("{e:?}"))?;
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
        root.present().map_err(|e| anyhow!("{e:?}"))?;
    }
    std::fs::rename(&tmp, path).map_err(|e| anyhow!("cannot move {} into place: {e}", tmp.display()))?;
    Ok(())
}

/// One line per run: the mean metric against the fraction of neurons silenced.
pub fn silencing_curves(path: &Path, title: &str, metric: &str, lines: &[(String, Vec<(f64, f64)>)]) -> Result<()> {
    register_font();
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
    let series: Vec<Series> = lines
        .iter()
        .enumerate()
        .map(|(i, (name, pts))| (name.clone(), pts.clone(), COLORS[i % COLORS.len()]))
        .collect();
    let tmp = path.with_extension("png.partial.png");
    {
        let root = BitMapBackend::new(&tmp, (720, 520)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| anyhow!("{e:?}"))?;
        let root = root.titled(title, ("sans-serif", 22)).map_err(|e| anyhow!("{e:?}"))?;
        panel_with(&root, metric, "fraction of neurons silenced", 0.02, false, &series)?;
        root.present().map_err(|e| anyhow!("{e:?}"))?;
    }
    std::fs::rename(&tmp, path).map_err(|e| anyhow!("cannot move {} into place: {e}", tmp.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
