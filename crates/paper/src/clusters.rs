//! `neurozoo clusters`: the parameter clustering of the GLIFR paper (spec glifr.md §3.8,
//! `examples/cluster.py:12-33`).
//!
//! Each hidden neuron of a trained GLIFR run is one point `[θ, k_m, r_1, r_2, k_1, k_2, a_1,
//! a_2]` in the paper's units, not standardised (as the reference). The points are clustered
//! agglomeratively with Ward linkage on Euclidean distances (the `kodama` crate, a port of
//! fastcluster, which is what scipy and sklearn's Ward tree compute); the tree is cut at every
//! k = 2..11 and the k with the highest Calinski–Harabasz score wins. As in the reference, a
//! best k of 2 is reported as one cluster. Writes the parameters with cluster ids, the scores,
//! histograms of each parameter and the f–I curves coloured by cluster.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Result, bail, ensure};
use glifr::Cell;
use glifr::analysis::{f_i_curves, neuron_parameters, parameter_names};
use serde::Serialize;

use engine::device::DeviceChoice;
use engine::fsutil::write_atomic;
use engine::model::{Model, load_checkpoint, resolve_checkpoint};

/// The Ward tree of `points` (Euclidean distances), as `kodama` builds it.
pub fn ward_tree(points: &[Vec<f64>]) -> kodama::Dendrogram<f64> {
    let n = points.len();
    let mut condensed = Vec::with_capacity(n * n.saturating_sub(1) / 2);
    for i in 0..n {
        for j in i + 1..n {
            let d2: f64 = points[i].iter().zip(&points[j]).map(|(a, b)| (a - b).powi(2)).sum();
            condensed.push(d2.sqrt());
        }
    }
    kodama::linkage(&mut condensed, n, kodama::Method::Ward)
}

/// Cluster ids of the `n` observations when `tree` is cut into `k` clusters: the first
/// `n − k` merges are applied. Ids are numbered by each cluster's first observation, so the
/// same partition always gets the same ids.
pub fn cut_tree(tree: &kodama::Dendrogram<f64>, n: usize, k: usize) -> Vec<usize> {
    assert!(k >= 1 && k <= n, "cannot cut {n} observations into {k} clusters");
    // parent[c] for every cluster label, observations 0..n and merges n.. as kodama labels them.
    let mut parent: Vec<usize> = (0..2 * n - 1).collect();
    for (i, step) in tree.steps().iter().take(n - k).enumerate() {
        parent[step.cluster1] = n + i;
        parent[step.cluster2] = n + i;
    }
    let root = |mut c: usize| {
        while parent[c] != c {
            c = parent[c];
        }
        c
    };
    let mut ids: Vec<(usize, usize)> = Vec::new();
    (0..n)
        .map(|i| {
            let r = root(i);
            match ids.iter().find(|(root, _)| *root == r) {
                Some(&(_, id)) => id,
                None => {
                    ids.push((r, ids.len()));
                    ids.len() - 1
                }
            }
        })
        .collect()
}

/// The Calinski–Harabasz score: between-cluster over within-cluster dispersion, each over
/// its degrees of freedom, `[tr(B)/(k − 1)] / [tr(W)/(n − k)]`. As sklearn: 1 when every
/// cluster is a single point repeated (no within-cluster dispersion).
pub fn calinski_harabasz(points: &[Vec<f64>], labels: &[usize]) -> f64 {
    let n = points.len();
    let k = labels.iter().max().map_or(0, |m| m + 1);
    let dim = points.first().map_or(0, Vec::len);
    let mean = |members: &mut dyn Iterator<Item = &Vec<f64>>| {
        let mut sum = vec![0.0; dim];
        let mut count = 0.0;
        for p in members {
            sum.iter_mut().zip(p).for_each(|(s, v)| *s += v);
            count += 1.0;
        }
        (sum.into_iter().map(|s| s / count).collect::<Vec<f64>>(), count)
    };
    let (centre, _) = mean(&mut points.iter());
    let (mut between, mut within) = (0.0, 0.0);
    for c in 0..k {
        let members = || points.iter().zip(labels).filter(move |(_, l)| **l == c).map(|(p, _)| p);
        let (centroid, count) = mean(&mut members());
        between += count * centroid.iter().zip(&centre).map(|(a, b)| (a - b).powi(2)).sum::<f64>();
        within += members().map(|p| p.iter().zip(&centroid).map(|(a, b)| (a - b).powi(2)).sum::<f64>()).sum::<f64>();
    }
    if within == 0.0 { 1.0 } else { between * (n - k) as f64 / (within * (k - 1) as f64) }
}

/// The clustering of one layer.
#[derive(Clone, Debug, Serialize)]
pub struct Clustering {
    /// `(k, Calinski–Harabasz score)` for every k tried.
    pub scores: Vec<(usize, f64)>,
    /// The k with the highest score.
    pub best_k: usize,
    /// Clusters reported: `best_k`, or 1 when it is 2 (`cluster.py:25-27`).
    pub reported: usize,
    /// Cluster id of each point at `best_k`.
    pub labels: Vec<usize>,
}

/// Ward clustering for k in `ks`, chosen by the Calinski–Harabasz score (the first k on ties).
pub fn cluster(points: &[Vec<f64>], ks: std::ops::RangeInclusive<usize>) -> Result<Clustering> {
    let n = points.len();
    let ks: Vec<usize> = ks.filter(|&k| k >= 2 && k < n).collect();
    ensure!(!ks.is_empty(), "{n} neurons are too few to cluster (k from 2 to n − 1)");
    let tree = ward_tree(points);
    let mut cuts: Vec<(usize, f64, Vec<usize>)> = ks
        .iter()
        .map(|&k| {
            let labels = cut_tree(&tree, n, k);
            (k, calinski_harabasz(points, &labels), labels)
        })
        .collect();
    let scores: Vec<(usize, f64)> = cuts.iter().map(|(k, score, _)| (*k, *score)).collect();
    // The first k on ties.
    let best = (0..cuts.len()).fold(0, |best, i| if cuts[i].1 > cuts[best].1 { i } else { best });
    let (best_k, _, labels) = cuts.swap_remove(best);
    Ok(Clustering { scores, best_k, reported: if best_k == 2 { 1 } else { best_k }, labels })
}

/// What `neurozoo clusters` reports.
#[derive(Clone, Debug, Serialize)]
pub struct ClusterReport {
    /// The run or checkpoint analysed.
    pub checkpoint: PathBuf,
    /// Neurons clustered.
    pub neurons: usize,
    /// Parameter names (the CSV's columns).
    pub parameters: Vec<String>,
    /// Mean and SD of each parameter over the neurons.
    pub parameter_mean_sd: Vec<(f64, f64)>,
    /// The clustering.
    pub clustering: Clustering,
    /// Neurons per cluster at the best k.
    pub sizes: Vec<usize>,
}

/// The paper's f–I sweep: I0 from −10000 to 9900 in steps of 100 (`analyzer.py:115-170`).
pub fn paper_currents() -> Vec<f64> {
    (-100..100).map(|i| i as f64 * 100.0).collect()
}

/// Clusters the GLIFR neurons of `run` (a run or checkpoint directory) and writes
/// `clusters.csv`, `cluster_scores.csv`, `f_i_curves.csv`, `clusters.json`,
/// `parameter_histograms.png` and `f_i_curves.png` into `out` (default `<run>/clusters`).
pub fn clusters(run: &Path, out: Option<&Path>, device: Option<&str>) -> Result<ClusterReport> {
    let device = DeviceChoice::resolve(device, None)?.device();
    let checkpoint = resolve_checkpoint(run)?;
    let (_, model) = load_checkpoint(&checkpoint, &device)?;
    let layer = match model {
        Model::Recurrent(network) => match network.cell {
            Cell::Glifr(layer) => layer,
            _ => bail!("{}: the clustering applies to GLIFR neurons, not to an RNN or LSTM", run.display()),
        },
        _ => bail!("{}: the clustering applies to GLIFR neurons, not to an ELM", run.display()),
    };
    let names = parameter_names(layer.num_ascs());
    let points = neuron_parameters(&layer);
    ensure!(
        points.iter().flatten().all(|v| v.is_finite()),
        "{}: the learned parameters hold NaN or infinity",
        checkpoint.display()
    );
    let clustering = cluster(&points, 2..=11)?;
    let labels_out: Vec<usize> =
        if clustering.reported == 1 { vec![0; points.len()] } else { clustering.labels.clone() };
    let mut sizes = vec![0; labels_out.iter().max().map_or(0, |m| m + 1)];
    labels_out.iter().for_each(|&l| sizes[l] += 1);

    let out = out.map(Path::to_path_buf).unwrap_or_else(|| run.join("clusters"));
    let mut csv = format!("neuron,{},cluster\n", names.join(","));
    for (i, (p, l)) in points.iter().zip(&labels_out).enumerate() {
        let values: Vec<String> = p.iter().map(ToString::to_string).collect();
        let _ = writeln!(csv, "{i},{},{l}", values.join(","));
    }
    write_atomic(&out.join("clusters.csv"), csv.as_bytes())?;
    let mut scores = String::from("k,calinski_harabasz\n");
    for (k, s) in &clustering.scores {
        let _ = writeln!(scores, "{k},{s}");
    }
    write_atomic(&out.join("cluster_scores.csv"), scores.as_bytes())?;

    let currents = paper_currents();
    // 5 ms of simulation, as the reference's sweep.
    let steps = (5.0 / layer.dt).round() as usize;
    let rates = f_i_curves(&layer, &currents, steps, &device);
    let mut fi = String::from("current");
    (0..points.len()).for_each(|i| fi += &format!(",neuron_{i}"));
    fi.push('\n');
    for (c, row) in currents.iter().zip(&rates) {
        let values: Vec<String> = row.iter().map(ToString::to_string).collect();
        let _ = writeln!(fi, "{c},{}", values.join(","));
    }
    write_atomic(&out.join("f_i_curves.csv"), fi.as_bytes())?;

    let parameter_mean_sd = (0..names.len())
        .map(|j| {
            let column: Vec<f64> = points.iter().map(|p| p[j]).collect();
            let (mean, sd) = crate::experiment::mean_sd(&column);
            (mean, sd.unwrap_or(0.0))
        })
        .collect();
    let report = ClusterReport {
        checkpoint,
        neurons: points.len(),
        parameters: names.clone(),
        parameter_mean_sd,
        clustering,
        sizes,
    };
    write_atomic(&out.join("clusters.json"), serde_json::to_string_pretty(&report)?.as_bytes())?;
    engine::plot::parameter_histograms(&out.join("parameter_histograms.png"), &names, &points, &labels_out)?;
    engine::plot::f_i_curves(&out.join("f_i_curves.png"), &currents, &rates, &labels_out)?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(xs: &[f64]) -> Vec<Vec<f64>> {
        xs.iter().map(|&x| vec![x]).collect()
    }

    /// Points 0, 1, 10, 12, 30 on a line. By hand: {0,1} merge at 1, {10,12} at 2; then the
    /// Ward distance √(2·|A||B|/(|A|+|B|))·|c_A − c_B| is √2·10.5 = 14.85 for {0,1}–{10,12},
    /// √(4/3)·19 = 21.94 for {10,12}–{30} and √(4/3)·29.5 = 34.06 for {0,1}–{30}: the
    /// four-point cluster forms third, at 14.85, and the last merge joins 30.
    #[test]
    fn ward_merges_in_the_hand_computed_order() {
        let points = line(&[0.0, 1.0, 10.0, 12.0, 30.0]);
        let tree = ward_tree(&points);
        let heights: Vec<f64> = tree.steps().iter().map(|s| s.dissimilarity).collect();
        assert!((heights[0] - 1.0).abs() < 1e-12 && (heights[1] - 2.0).abs() < 1e-12, "{heights:?}");
        assert!((heights[2] - 2f64.sqrt() * 10.5).abs() < 1e-9, "{heights:?}");
        assert_eq!(cut_tree(&tree, 5, 3), [0, 0, 1, 1, 2]);
        assert_eq!(cut_tree(&tree, 5, 2), [0, 0, 0, 0, 1]);
        assert_eq!(cut_tree(&tree, 5, 5), [0, 1, 2, 3, 4]);
        assert_eq!(cut_tree(&tree, 5, 1), [0; 5]);
    }

    /// {0, 1} and {10, 11}: centroids 0.5 and 10.5 around 5.5, so tr(B) = 2·25 + 2·25 = 100
    /// and tr(W) = 4·0.25 = 1; CH = (100/1)/(1/2) = 200.
    #[test]
    fn calinski_harabasz_of_two_pairs() {
        let points = line(&[0.0, 1.0, 10.0, 11.0]);
        assert!((calinski_harabasz(&points, &[0, 0, 1, 1]) - 200.0).abs() < 1e-9);
        // A worse split scores lower: {0}, {1, 10, 11}: centroid 22/3, tr(B) = 1·5.5² + 3·(11/6)²
        // = 40.333, tr(W) = (19/3)² + (8/3)² + (11/3)² = 60.667; CH = 40.333·2/60.667 = 1.32967.
        assert!((calinski_harabasz(&points, &[0, 1, 1, 1]) - 1.329670).abs() < 1e-5);
        assert_eq!(calinski_harabasz(&line(&[3.0, 3.0, 5.0, 5.0]), &[0, 0, 1, 1]), 1.0);
    }

    #[test]
    fn best_k_by_the_score_and_two_reported_as_one() {
        // Three tight groups: k = 3 wins.
        let three = line(&[0.0, 0.1, 0.2, 10.0, 10.1, 10.2, 20.0, 20.1, 20.2]);
        let c = cluster(&three, 2..=11).unwrap();
        assert_eq!((c.best_k, c.reported), (3, 3));
        assert_eq!(c.labels, [0, 0, 0, 1, 1, 1, 2, 2, 2]);
        assert_eq!(c.scores.first().unwrap().0, 2);
        assert_eq!(c.scores.last().unwrap().0, 8, "k stops below n");
        // Two groups: k = 2 wins and is reported as one cluster.
        let two = line(&[0.0, 0.1, 0.2, 10.0, 10.1, 10.2]);
        let c = cluster(&two, 2..=11).unwrap();
        assert_eq!((c.best_k, c.reported), (2, 1));
        assert!(cluster(&line(&[0.0, 1.0]), 2..=11).is_err());
    }
}
