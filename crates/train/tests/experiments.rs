//! The GLIFR paper's experiment commands end to end on the sine task (no data to fetch, a
//! fraction of a second per epoch): `experiment sine-table` trains the het model after its
//! trial's source, resumes instead of retraining, extends runs, and refuses to shrink them;
//! `clusters` writes the parameters it reads from the checkpoint, with ids, scores and plots.

use std::path::Path;

use burn::prelude::Device;
use engine::config::RunConfig;
use engine::model::{Model, load_checkpoint, resolve_checkpoint};
use glifr::Cell;
use glifr::analysis::neuron_parameters;
use paper::clusters::clusters;
use paper::experiment::{ExperimentOptions, Table, mean_sd, run_experiment};

fn options(out: &Path, epochs: usize) -> ExperimentOptions {
    ExperimentOptions {
        trials: 2,
        first_trial: 0,
        models: Some(vec!["rheta".into()]),
        epochs: Some(epochs),
        batch_size: None,
        threads: None,
        out: out.into(),
        data_dir: None,
        device: Some("flex".into()),
        set: Vec::new(),
        quiet: true,
    }
}

fn modified(path: &Path) -> std::time::SystemTime {
    std::fs::metadata(path).unwrap().modified().unwrap()
}

#[test]
fn sine_table_trains_in_order_resumes_and_clusters() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sine-table");

    let results = run_experiment(Table::Sine, &options(&out, 2)).unwrap();
    let order: Vec<(usize, &str)> = results.iter().map(|r| (r.trial, r.model.as_str())).collect();
    assert_eq!(order, [(0, "lheta"), (0, "rheta"), (1, "lheta"), (1, "rheta")]);
    assert!(results.iter().all(|r| r.trained_now && r.epochs == 2 && r.metric.is_finite() && r.metric > 0.0));
    assert_eq!(results.iter().map(|r| r.seed).collect::<Vec<_>>(), [0, 0, 1, 1]);
    // Distinct seeds give distinct runs.
    assert_ne!(results[0].metric, results[2].metric);
    let rheta1 = RunConfig::load(&out.join("rheta-trial1/config.toml")).unwrap();
    assert_eq!(rheta1.model.glifr().unwrap().het_source.as_deref(), Some(out.join("lheta-trial1").as_path()));

    // table.csv: mean and SD of the two trials' metrics.
    let csv = std::fs::read_to_string(out.join("table.csv")).unwrap();
    let row = csv.lines().find(|l| l.starts_with("rheta,")).unwrap();
    let fields: Vec<&str> = row.split(',').collect();
    let (mean, sd) = mean_sd(&[results[1].metric, results[3].metric]);
    assert_eq!(fields[2], "2");
    assert!((fields[4].parse::<f64>().unwrap() - mean).abs() < 1e-12, "{row}");
    assert!((fields[5].parse::<f64>().unwrap() - sd.unwrap()).abs() < 1e-12, "{row}");
    assert_eq!(fields[6], "0.0121", "the paper's RHetA MSE");
    let md = std::fs::read_to_string(out.join("table.md")).unwrap();
    assert!(md.contains("| RHetA |") && md.contains(".0121 (.0017)"), "{md}");
    // The learning curves: per model, the test MSE of every evaluated epoch averaged over the
    // trials; the last point is the table's mean, and the figure is a real PNG.
    let lines = paper::experiment::learning_curve_points(Table::Sine, &results).unwrap();
    let labels: Vec<&str> = lines.iter().map(|(label, _)| label.as_str()).collect();
    assert_eq!(labels, ["LHetA (2 trials)", "RHetA (2 trials)"]);
    let (last_epoch, last_mean) = *lines[1].1.last().unwrap();
    assert_eq!(last_epoch, 2.0);
    assert!((last_mean - mean).abs() < 1e-12, "{last_mean} vs the table's {mean}");
    let png = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(out.join("learning_curves.png")).unwrap()));
    let info = png.read_info().unwrap();
    assert_eq!((info.info().width, info.info().height), (900, 560));

    // Again: everything is read back, nothing retrained.
    let summary = out.join("rheta-trial0/summary.json");
    let before = modified(&summary);
    let again = run_experiment(Table::Sine, &options(&out, 2)).unwrap();
    assert!(again.iter().all(|r| !r.trained_now));
    assert_eq!(
        again.iter().map(|r| r.metric).collect::<Vec<_>>(),
        results.iter().map(|r| r.metric).collect::<Vec<_>>()
    );
    assert_eq!(modified(&summary), before);

    // More epochs continue the runs from their checkpoints.
    let longer = run_experiment(Table::Sine, &ExperimentOptions { trials: 1, ..options(&out, 3) }).unwrap();
    assert!(longer.iter().filter(|r| r.trial == 0).all(|r| r.trained_now && r.epochs == 3));
    let metrics = std::fs::read_to_string(out.join("rheta-trial0/metrics.csv")).unwrap();
    assert_eq!(metrics.lines().count(), 1 + 3, "{metrics}");
    // The table still covers trial 1, trained earlier at 2 epochs.
    let csv = std::fs::read_to_string(out.join("trials.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 4, "{csv}");

    // Fewer epochs than a finished run has is refused, naming the run.
    let e = run_experiment(Table::Sine, &ExperimentOptions { trials: 1, ..options(&out, 1) }).unwrap_err();
    assert!(format!("{e:#}").contains("lheta-trial0") && format!("{e:#}").contains("3 epochs"), "{e:#}");

    // Clusters of trial 0's LHetA: one row per neuron, the checkpoint's own parameters.
    let run = out.join("lheta-trial0");
    let report = clusters(&run, None, Some("flex")).unwrap();
    let (_, model) = load_checkpoint(&resolve_checkpoint(&run).unwrap(), &Device::flex()).unwrap();
    let Model::Recurrent(network) = model else { panic!("not a recurrent network") };
    let Cell::Glifr(layer) = network.cell else { panic!("not GLIFR") };
    let expected = neuron_parameters(&layer);
    assert_eq!(report.neurons, expected.len());
    assert_eq!(report.parameters, ["theta", "k_m", "r_1", "r_2", "k_1", "k_2", "a_1", "a_2"]);
    let written = std::fs::read_to_string(run.join("clusters/clusters.csv")).unwrap();
    let lines: Vec<&str> = written.lines().collect();
    assert_eq!(lines[0], "neuron,theta,k_m,r_1,r_2,k_1,k_2,a_1,a_2,cluster");
    assert_eq!(lines.len(), 1 + expected.len());
    for (line, want) in lines[1..].iter().zip(&expected) {
        let got: Vec<f64> = line.split(',').skip(1).take(8).map(|v| v.parse().unwrap()).collect();
        assert_eq!(&got, want, "{line}");
        let id: usize = line.rsplit(',').next().unwrap().parse().unwrap();
        assert!(id < report.clustering.reported.max(1), "{line}");
    }
    let ks: Vec<usize> = report.clustering.scores.iter().map(|s| s.0).collect();
    assert_eq!(ks, (2..=11).collect::<Vec<_>>());
    assert_eq!(report.sizes.iter().sum::<usize>(), expected.len());
    let fi = std::fs::read_to_string(run.join("clusters/f_i_curves.csv")).unwrap();
    assert_eq!(fi.lines().count(), 1 + 200, "I0 from −10000 to 9900 in steps of 100");
    for png in ["parameter_histograms.png", "f_i_curves.png"] {
        let bytes = std::fs::read(run.join("clusters").join(png)).unwrap();
        assert_eq!(&bytes[1..4], b"PNG", "{png}");
    }
}
