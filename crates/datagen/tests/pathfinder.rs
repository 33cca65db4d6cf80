//! Pathfinder: the release layout read back, the loader on hand-made files, the encodings
//! against hand-computed values, and the generator's invariants.

use std::path::Path;

use burn::data::dataset::Dataset;
use datagen::pathfinder::generate::{GeneratorParams, balanced_labels, generate_image};
use datagen::pathfinder::write::{GenerateOptions, image_seed, write_dataset};
use tasks::pathfinder::{Difficulty, PathfinderIndex, PathfinderPart, PathfinderSequences, PixelEncoding, read_png};
use tasks::{DataError, Target};

fn options(size: usize, count: usize, per_folder: usize, seed: u64) -> GenerateOptions {
    GenerateOptions {
        params: GeneratorParams::lra(size, Difficulty::Hard),
        difficulty: Difficulty::Hard,
        count,
        per_folder,
        seed,
        threads: 2,
    }
}

/// Generate, then load: every image, label and pixel is the generator's own record.
#[test]
fn generated_layout_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let opts = options(32, 25, 10, 7);
    let report = write_dataset(dir.path(), &opts).unwrap();
    assert_eq!(report.dir, dir.path().join("pathfinder32/curv_contour_length_14"));
    assert_eq!(report.images, 25);
    let index = PathfinderIndex::read(&report.dir).unwrap();
    assert!(index.synthetic);
    assert_eq!(index.entries.len(), 25);
    assert_eq!(index.skipped_empty, 0);
    // Folders 0, 1, 2 with 10, 10, 5 images; metadata sorted by integer name.
    assert_eq!(index.entries[0].image, "imgs/0/sample_0.png");
    assert_eq!(index.entries[24].image, "imgs/2/sample_4.png");
    for (k, n_here) in [(0usize, 10usize), (1, 10), (2, 5)] {
        let labels = balanced_labels(n_here, image_seed(7, k, usize::MAX));
        for (n, &label) in labels.iter().enumerate() {
            let entry = &index.entries[k * 10 + n];
            let image = generate_image(&opts.params, label, image_seed(7, k, n)).unwrap();
            assert_eq!(entry.label, image.label);
            let pixels = read_png(&report.dir.join(&entry.image), 32).unwrap();
            assert_eq!(pixels, image.pixels, "{}", entry.image);
        }
    }
    let meta = std::fs::read_to_string(report.dir.join("metadata/0.npy")).unwrap();
    let first: Vec<&str> = meta.lines().next().unwrap().split(' ').collect();
    assert_eq!(&first[..3], &["imgs/0", "sample_0.png", "0"]);
    assert_eq!(&first[4..], &["1.8", "14", "4", "1", "1.0", "1", "1", "synthetic"]);
    // The same seed gives the same bytes; the folder is never written over.
    let again = tempfile::tempdir().unwrap();
    write_dataset(again.path(), &opts).unwrap();
    let a = std::fs::read(report.dir.join("imgs/1/sample_3.png")).unwrap();
    let b = std::fs::read(again.path().join("pathfinder32/curv_contour_length_14/imgs/1/sample_3.png")).unwrap();
    assert_eq!(a, b);
    let err = write_dataset(dir.path(), &opts).unwrap_err().to_string();
    assert!(err.contains("metadata/0.npy") && err.contains("already exists"), "{err}");
}

#[test]
fn split_is_seeded_disjoint_and_80_10_10() {
    let dir = tempfile::tempdir().unwrap();
    let report = write_dataset(dir.path(), &options(32, 30, 30, 3)).unwrap();
    let index = PathfinderIndex::read(&report.dir).unwrap();
    let parts: Vec<Vec<usize>> =
        [PathfinderPart::Train, PathfinderPart::Valid, PathfinderPart::Test].map(|p| index.split(p, 42)).to_vec();
    assert_eq!(parts.iter().map(Vec::len).collect::<Vec<_>>(), vec![24, 3, 3]);
    let mut all: Vec<usize> = parts.concat();
    all.sort();
    assert_eq!(all, (0..30).collect::<Vec<_>>());
    assert_eq!(index.split(PathfinderPart::Train, 42), parts[0]);
    assert_ne!(index.split(PathfinderPart::Train, 43), parts[0]);
}

fn png_bytes(width: u32, height: u32, color: png::ColorType, data: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, width, height);
    encoder.set_color(color);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.write_header().unwrap().write_image_data(data).unwrap();
    bytes
}

/// A level folder written by hand: a grey and an RGB PNG, an empty one, blank lines.
fn hand_level(root: &Path, metadata: impl AsRef<[u8]>) {
    std::fs::create_dir_all(root.join("metadata")).unwrap();
    std::fs::create_dir_all(root.join("imgs/0")).unwrap();
    let grey: Vec<u8> = vec![0, 15, 16, 255];
    std::fs::write(root.join("imgs/0/sample_0.png"), png_bytes(2, 2, png::ColorType::Grayscale, &grey)).unwrap();
    // RGB (10, 200, 30): PIL's L = (10·19595 + 200·38470 + 30·7471 + 32768) >> 16 = 124.
    let rgb: Vec<u8> = [10u8, 200, 30].repeat(4);
    std::fs::write(root.join("imgs/0/sample_1.png"), png_bytes(2, 2, png::ColorType::Rgb, &rgb)).unwrap();
    std::fs::write(root.join("imgs/0/sample_2.png"), b"").unwrap();
    std::fs::write(root.join("metadata/0.npy"), metadata).unwrap();
}

#[test]
fn loader_reads_hand_written_files() {
    let dir = tempfile::tempdir().unwrap();
    let meta = "imgs/0 sample_0.png 0 1 1.8 14 4 5 1.5 2 1\n\nimgs/0 sample_1.png 1 0 1.8 14 4 5 1.5 3 1\nimgs/0 sample_2.png 2 1 1.8 14 4 5 1.5 2 1\n";
    hand_level(dir.path(), meta);
    let index = PathfinderIndex::read(dir.path()).unwrap();
    assert!(!index.synthetic);
    assert_eq!(index.skipped_empty, 1, "the empty PNG is left out, as LRA does");
    assert_eq!(index.entries.iter().map(|e| e.label).collect::<Vec<_>>(), vec![1, 0]);
    let data = PathfinderSequences::new(&index, vec![0, 1], 2, PixelEncoding::OneHot { levels: 16 });
    let item = data.get(0).unwrap();
    assert_eq!((item.steps, item.features, item.target.clone()), (4, 16, Target::Class(1)));
    let hot: Vec<usize> = item.input.chunks(16).map(|row| row.iter().position(|&v| v == 1.0).unwrap()).collect();
    assert_eq!(hot, vec![0, 0, 1, 15], "v // 16 for 0, 15, 16, 255");
    assert_eq!(item.input.iter().sum::<f32>(), 4.0);
    assert_eq!(read_png(&dir.path().join("imgs/0/sample_1.png"), 2).unwrap(), vec![124; 4]);
    assert!(data.get(2).is_err());
}

#[test]
fn encodings_match_hand_values() {
    let eight = PixelEncoding::OneHot { levels: 8 };
    let hot = |v: u8| eight.encode(&[v]).iter().position(|&x| x == 1.0).unwrap();
    assert_eq!([0, 31, 32, 127, 128, 255].map(hot), [0, 0, 1, 3, 4, 7], "v // 32");
    assert_eq!(eight.features(), 8);
    let grey = PixelEncoding::Grey.encode(&[0, 51, 255]);
    for (g, w) in grey.iter().zip([-1.0f32, -0.6, 1.0]) {
        assert!((g - w).abs() < 1e-6, "{grey:?}");
    }
}

fn error_of(metadata: impl AsRef<[u8]>) -> String {
    let dir = tempfile::tempdir().unwrap();
    hand_level(dir.path(), metadata);
    PathfinderIndex::read(dir.path()).unwrap_err().to_string()
}

#[test]
fn bad_files_are_named() {
    let e = error_of("imgs/0 sample_0.png 0 1\nimgs/0 sample_9.png 9 1\n");
    assert!(e.contains("sample_9.png") && e.contains("0.npy line 2"), "{e}");
    let e = error_of("imgs/0 sample_0.png 0\n");
    assert!(e.contains("0.npy") && e.contains("line 1") && e.contains("3 fields"), "{e}");
    let e = error_of("imgs/0 sample_0.png 0 yes\n");
    assert!(e.contains("line 1") && e.contains("\"yes\""), "{e}");
    let e = error_of("../../etc passwd 0 1\n");
    assert!(e.contains("leaves the level folder"), "{e}");
    let e = error_of(b"\x93NUMPY binary\xff\n");
    assert!(e.contains("not text"), "{e}");
    let e = error_of("imgs/0 sample_2.png 2 1\n");
    assert!(e.contains("no non-empty image"), "{e}");
    let empty = tempfile::tempdir().unwrap();
    let e = PathfinderIndex::read(empty.path()).unwrap_err();
    assert!(matches!(e, DataError::Missing { .. }) && e.to_string().contains("metadata"), "{e}");

    let dir = tempfile::tempdir().unwrap();
    hand_level(dir.path(), "imgs/0 sample_0.png 0 1\n");
    let png = dir.path().join("imgs/0/sample_0.png");
    let e = read_png(&png, 3).unwrap_err().to_string();
    assert!(e.contains("sample_0.png") && e.contains("2×2, expected 3×3"), "{e}");
    let bytes = std::fs::read(&png).unwrap();
    std::fs::write(&png, &bytes[..bytes.len() - 20]).unwrap();
    let e = read_png(&png, 2).unwrap_err().to_string();
    assert!(e.contains("sample_0.png") && e.contains("PNG"), "{e}");
    std::fs::write(&png, b"not a png at all").unwrap();
    let e = read_png(&png, 2).unwrap_err().to_string();
    assert!(e.contains("sample_0.png") && e.contains("not a readable PNG"), "{e}");
}

/// The generator's record: target snakes of `contour_length` paddles, complete distractors
/// of `distractor_length`, the seeds `seed_distance` apart, the markers on one snake's two
/// tips for label 1 and on different snakes for label 0, drawn at full intensity.
#[test]
fn generator_invariants() {
    for (size, seeds) in [(32usize, 0..12u64), (128, 0..3)] {
        let p = GeneratorParams::lra(size, Difficulty::Hard);
        p.validate().unwrap();
        assert_eq!((p.contour_length, p.distractor_length, p.num_distractor_snakes), (14, 4, 8));
        for seed in seeds {
            let label = (seed % 2) as u8;
            let g = generate_image(&p, label, seed).unwrap();
            assert_eq!(g.label, label);
            assert_eq!(g.pixels.len(), size * size);
            for snake in &g.targets {
                assert_eq!(snake.paddles.len(), 14);
                assert_eq!(snake.origin_tip, snake.paddles[0].start);
                assert_eq!(snake.terminal_tip, snake.paddles[13].start, "the last paddle is drawn from its head");
            }
            assert!(g.distractors.len() <= 8);
            assert!(g.distractors.iter().all(|d| d.paddles.len() == 4));
            let (a, b) = (g.targets[0].origin_tip, g.targets[1].origin_tip);
            let d = (((a.0 - b.0).pow(2) + (a.1 - b.1).pow(2)) as f64).sqrt();
            assert!((d - p.seed_distance as f64).abs() <= 1.0, "seeds {d} apart");
            let other = if label == 1 { g.origin } else { 1 - g.origin };
            assert_eq!(g.markers, [g.targets[g.origin].origin_tip, g.targets[other].terminal_tip]);
            // Markers are drawn at 1.0 (Lanczos ringing may take a unit off), snakes at 0.9.
            for m in g.markers {
                assert!(g.pixels[m.0 as usize * size + m.1 as usize] >= 250, "marker centre at {m:?}");
            }
            assert!(g.pixels.iter().filter(|&&v| v >= 250).count() >= 2);
        }
    }
    let labels = balanced_labels(101, 5);
    assert_eq!(labels.iter().filter(|&&l| l == 1).count() / 10, 5, "50 or 51 of 101");
    let mut bad = GeneratorParams::lra(32, Difficulty::Easy);
    bad.paddle_thickness = 1.25;
    assert!(bad.validate().unwrap_err().contains("thickness"));
    assert_eq!(GeneratorParams::lra(32, Difficulty::Easy).num_distractor_snakes, 17);
    assert_eq!(GeneratorParams::lra(32, Difficulty::Intermediate).num_distractor_snakes, 11);
}
