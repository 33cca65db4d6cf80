//! The authors' NeuronIO evaluation (`src/neuronio/neuronio_eval_utils.py`, after Beniaguev et
//! al.'s `evaluate_CNN_test.py`), with scikit-learn's metrics re-derived exactly:
//!
//! 1. [`windowed_predictions`]: each simulation is cut into windows of `window` steps with
//!    stride `window − burn_in`; the first window's outputs are kept whole, later windows' after
//!    their burn-in; the last window is zero-padded.
//! 2. [`align_soma`]: the predicted soma (mV above −67.7) is z-scored and rescaled to the mean
//!    and SD of the clipped ground truth, over the whole file (a legacy convention the authors
//!    keep for comparability).
//! 3. [`score`]: simulations with more than 24 output spikes are dropped, the first 500 ms of
//!    every simulation too; then spike ROC-AUC, TP and partial AUC at 0.25 % and 1 % FP, and
//!    soma explained variance (%), RMSE and MAE (mV).

use serde::Serialize;

/// Predictions or ground truth of one file: `[simulations][ms]`.
pub type Traces = Vec<Vec<f64>>;

/// Runs `predict` over each window and stitches the outputs as the authors do. `predict` gets
/// the window's start and length (the caller pads past `duration`) and returns, per
/// simulation, `window` spike probabilities and soma values.
pub fn windowed_predictions<E>(
    simulations: usize,
    duration: usize,
    window: usize,
    burn_in: usize,
    mut predict: impl FnMut(usize) -> Result<(Traces, Traces), E>,
) -> Result<(Traces, Traces), E> {
    assert!(burn_in < window, "the burn-in must be shorter than the window");
    let stride = window - burn_in;
    // int(2 + (T - W) / (W - B)) in Python: float division, truncation toward zero.
    let splits = (2.0 + (duration as f64 - window as f64) / stride as f64).trunc().max(1.0) as usize;
    let mut spikes = vec![vec![0.0; duration]; simulations];
    let mut soma = vec![vec![0.0; duration]; simulations];
    for k in 0..splits {
        let start = k * stride;
        let (spike_out, soma_out) = predict(start)?;
        // The first window is kept whole; later ones lose their burn-in. Every kept step t
        // comes from the window's own step t − start.
        let from = if k == 0 { 0 } else { start + burn_in };
        let to = (start + window).min(duration);
        for s in 0..simulations {
            for t in from..to {
                spikes[s][t] = spike_out[s][t - start];
                soma[s][t] = soma_out[s][t - start];
            }
        }
    }
    Ok((spikes, soma))
}

fn mean_std(values: &[Vec<f64>]) -> (f64, f64) {
    let n = values.iter().map(Vec::len).sum::<usize>() as f64;
    let mean = values.iter().flatten().sum::<f64>() / n;
    let var = values.iter().flatten().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
    (mean, var.sqrt())
}

/// Rescales `predicted` to the mean and (population) SD of `truth`, over all of the file.
pub fn align_soma(predicted: &mut Traces, truth: &Traces) {
    let (m_dst, s_dst) = mean_std(truth);
    let (m_src, s_src) = mean_std(predicted);
    for v in predicted.iter_mut().flatten() {
        *v = s_dst * ((*v - m_src) / s_src) + m_dst;
    }
}

/// scikit-learn's `roc_curve(y, score)` (with `drop_intermediate=True`): false and true
/// positive rates from the highest threshold down, starting at (0, 0).
pub fn roc_curve(labels: &[bool], scores: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    // Cumulative counts at the last index of each distinct score.
    let (mut fps, mut tps) = (Vec::new(), Vec::new());
    let mut tp = 0.0;
    for (i, &idx) in order.iter().enumerate() {
        if labels[idx] {
            tp += 1.0;
        }
        let last_of_value = i + 1 == order.len() || scores[order[i + 1]] != scores[idx];
        if last_of_value {
            tps.push(tp);
            fps.push((i + 1) as f64 - tp);
        }
    }
    // Drop points collinear with their neighbours (second differences both zero).
    if fps.len() > 2 {
        let keep: Vec<bool> = (0..fps.len())
            .map(|i| {
                i == 0
                    || i + 1 == fps.len()
                    || fps[i + 1] - 2.0 * fps[i] + fps[i - 1] != 0.0
                    || tps[i + 1] - 2.0 * tps[i] + tps[i - 1] != 0.0
            })
            .collect();
        let filter = |v: Vec<f64>| v.into_iter().zip(&keep).filter(|(_, k)| **k).map(|(v, _)| v).collect::<Vec<_>>();
        fps = filter(fps);
        tps = filter(tps);
    }
    fps.insert(0, 0.0);
    tps.insert(0, 0.0);
    let (fn_total, tp_total) = (*fps.last().unwrap(), *tps.last().unwrap());
    (fps.iter().map(|f| f / fn_total).collect(), tps.iter().map(|t| t / tp_total).collect())
}

/// Trapezoidal area under (x, y), x non-decreasing (scikit-learn's `auc`).
pub fn auc(x: &[f64], y: &[f64]) -> f64 {
    x.windows(2).zip(y.windows(2)).map(|(x, y)| (x[1] - x[0]) * (y[1] + y[0]) / 2.0).sum()
}

/// numpy's `interp(x, xp, fp)` for non-decreasing `xp`: at a repeated `xp` value, the last one.
fn interp(x: f64, xp: &[f64], fp: &[f64]) -> f64 {
    let j = xp.partition_point(|&v| v <= x);
    if j == 0 {
        return fp[0];
    }
    let j = j - 1;
    if j == xp.len() - 1 || xp[j] == x {
        return fp[j];
    }
    let slope = (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j]);
    slope * (x - xp[j]) + fp[j]
}

fn argmin_abs(values: impl Iterator<Item = f64>, target: f64) -> usize {
    let mut best = (0, f64::INFINITY);
    for (i, v) in values.enumerate() {
        let d = (v - target).abs();
        if d < best.1 {
            best = (i, d);
        }
    }
    best.0
}

/// True positive rate at the ROC point whose FP rate is nearest `fp` (`calc_TP_at_desired_FP`).
pub fn tp_at_fp(fpr: &[f64], tpr: &[f64], fp: f64) -> f64 {
    let i = argmin_abs(fpr.iter().copied(), fp).max(1);
    tpr[i]
}

/// Mean TPR over 20,000 evenly spaced FP rates up to (not including) the one nearest `fp`
/// (`calc_AUC_at_desired_FP`; not normalised, as the authors report it).
pub fn auc_at_fp(fpr: &[f64], tpr: &[f64], fp: f64) -> f64 {
    const N: usize = 20_000;
    let grid = |i: usize| {
        if i == N - 1 { 1.0 } else { i as f64 * (1.0 / (N - 1) as f64) }
    };
    let end = argmin_abs((0..N).map(grid), fp).clamp(1, N - 1);
    (0..end).map(|i| interp(grid(i), fpr, tpr)).sum::<f64>() / end as f64
}

/// The authors' metrics, keyed as their results dict.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NeuronioScores {
    /// Spike ROC-AUC.
    #[serde(rename = "AUC")]
    pub auc: f64,
    /// TPR at 0.25 % false positives.
    #[serde(rename = "TP @ 0.0025 FP")]
    pub tp_at_0_0025: f64,
    /// Partial AUC up to 0.25 % false positives.
    #[serde(rename = "AUC @ 0.0025 FP")]
    pub auc_at_0_0025: f64,
    /// TPR at 1 % false positives.
    #[serde(rename = "TP @ 0.0100 FP")]
    pub tp_at_0_01: f64,
    /// Partial AUC up to 1 % false positives.
    #[serde(rename = "AUC @ 0.0100 FP")]
    pub auc_at_0_01: f64,
    /// Explained variance of the soma, in percent.
    pub soma_explained_variance_percent: f64,
    /// Soma RMSE, mV.
    #[serde(rename = "soma_RMSE")]
    pub soma_rmse: f64,
    /// Soma mean absolute error, mV.
    #[serde(rename = "soma_MAE")]
    pub soma_mae: f64,
    /// Simulations scored (after the spike-count filter).
    pub simulations_scored: usize,
    /// Simulations in the files.
    pub simulations_total: usize,
}

/// One file's stitched, aligned predictions beside its ground truth.
#[derive(Clone, Debug, Default)]
pub struct Predictions {
    /// Spike ground truth, 0/1.
    pub spike_truth: Traces,
    /// Predicted spike probabilities.
    pub spike_predicted: Traces,
    /// Soma ground truth, mV above −67.7 (clipped at −55 mV).
    pub soma_truth: Traces,
    /// Predicted soma, aligned.
    pub soma_predicted: Traces,
}

impl Predictions {
    /// Appends another file's predictions (the authors `vstack` files before scoring).
    pub fn extend(&mut self, other: Predictions) {
        self.spike_truth.extend(other.spike_truth);
        self.spike_predicted.extend(other.spike_predicted);
        self.soma_truth.extend(other.soma_truth);
        self.soma_predicted.extend(other.soma_predicted);
    }
}

/// Filters and scores predictions (`filter_and_extract_core_results`): simulations with at most
/// `max_spikes` output spikes, steps from `ignore_ms` on. `None` when nothing is left to score
/// or the kept part has no spike (a ROC curve needs both classes).
pub fn score(p: &Predictions, ignore_ms: usize, max_spikes: usize) -> Option<NeuronioScores> {
    let keep: Vec<usize> =
        (0..p.spike_truth.len()).filter(|&s| p.spike_truth[s].iter().sum::<f64>() <= max_spikes as f64).collect();
    let cut = |traces: &Traces| -> Vec<f64> {
        keep.iter().flat_map(|&s| traces[s].get(ignore_ms..).unwrap_or(&[]).iter().copied()).collect()
    };
    let labels: Vec<bool> = cut(&p.spike_truth).into_iter().map(|v| v > 0.5).collect();
    let scores = cut(&p.spike_predicted);
    let (truth, pred) = (cut(&p.soma_truth), cut(&p.soma_predicted));
    let positives = labels.iter().filter(|&&l| l).count();
    if positives == 0 || positives == labels.len() {
        return None;
    }
    let (fpr, tpr) = roc_curve(&labels, &scores);
    let n = truth.len() as f64;
    let errors: Vec<f64> = truth.iter().zip(&pred).map(|(t, p)| t - p).collect();
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let var = |v: &[f64]| {
        let m = mean(v);
        v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / v.len() as f64
    };
    let (var_err, var_truth) = (var(&errors), var(&truth));
    // scikit-learn's `force_finite`: a constant truth scores 1 when matched exactly, else 0.
    let explained = if var_truth == 0.0 { if var_err == 0.0 { 1.0 } else { 0.0 } } else { 1.0 - var_err / var_truth };
    Some(NeuronioScores {
        auc: auc(&fpr, &tpr),
        tp_at_0_0025: tp_at_fp(&fpr, &tpr, 0.0025),
        auc_at_0_0025: auc_at_fp(&fpr, &tpr, 0.0025),
        tp_at_0_01: tp_at_fp(&fpr, &tpr, 0.01),
        auc_at_0_01: auc_at_fp(&fpr, &tpr, 0.01),
        soma_explained_variance_percent: 100.0 * explained,
        soma_rmse: (errors.iter().map(|e| e * e).sum::<f64>() / n).sqrt(),
        soma_mae: errors.iter().map(|e| e.abs()).sum::<f64>() / n,
        simulations_scored: keep.len(),
        simulations_total: p.spike_truth.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roc_and_auc_match_the_textbook_example() {
        // scikit-learn's documented example: y = [0, 0, 1, 1], scores [.1, .4, .35, .8]
        // -> fpr [0, 0, .5, .5, 1], tpr [0, .5, .5, 1, 1], AUC 0.75.
        let (fpr, tpr) = roc_curve(&[false, false, true, true], &[0.1, 0.4, 0.35, 0.8]);
        assert_eq!(fpr, vec![0.0, 0.0, 0.5, 0.5, 1.0]);
        assert_eq!(tpr, vec![0.0, 0.5, 0.5, 1.0, 1.0]);
        assert_eq!(auc(&fpr, &tpr), 0.75);
        // Tied scores form one point; collinear points are dropped.
        let (fpr, tpr) = roc_curve(&[true, false, true, false, false], &[0.9, 0.5, 0.5, 0.2, 0.1]);
        assert_eq!(fpr, vec![0.0, 0.0, 1.0 / 3.0, 1.0]);
        assert_eq!(tpr, vec![0.0, 0.5, 1.0, 1.0]);
    }

    #[test]
    fn soma_metrics_by_hand() {
        // truth [1,2,3,4] (kept after ignore_ms = 1 of 5 steps), prediction [1,2,3,6]:
        // errors [0,0,0,-2]: RMSE 1, MAE 0.5; var(err) 0.75, var(truth) 1.25 -> EV 40 %.
        let p = Predictions {
            spike_truth: vec![vec![0.0, 0.0, 1.0, 0.0, 0.0]],
            spike_predicted: vec![vec![0.0, 0.2, 0.9, 0.1, 0.3]],
            soma_truth: vec![vec![9.0, 1.0, 2.0, 3.0, 4.0]],
            soma_predicted: vec![vec![-9.0, 1.0, 2.0, 3.0, 6.0]],
        };
        let s = score(&p, 1, 24).unwrap();
        assert!((s.soma_rmse - 1.0).abs() < 1e-12);
        assert!((s.soma_mae - 0.5).abs() < 1e-12);
        assert!((s.soma_explained_variance_percent - 40.0).abs() < 1e-9);
        assert_eq!(s.auc, 1.0, "the spike has the highest score");
        // More than `max_spikes` spikes: the simulation is not scored.
        assert!(score(&p, 1, 0).is_none());
    }

    #[test]
    fn alignment_matches_mean_and_sd() {
        let truth = vec![vec![1.0, 3.0], vec![5.0, 7.0]];
        let mut pred = vec![vec![10.0, 20.0], vec![30.0, 40.0]];
        align_soma(&mut pred, &truth);
        // An affine image of the truth is mapped onto it exactly.
        for (p, t) in pred.iter().flatten().zip(truth.iter().flatten()) {
            assert!((p - t).abs() < 1e-12, "{pred:?}");
        }
    }

    #[test]
    fn windows_stitch_like_the_authors() {
        // A predictor that returns the absolute time of each step: stitching must put every
        // step's own value back, whatever window it came from (T = 1000, W = 500, B = 150:
        // windows at 0, 350, 700; the last padded).
        let (spikes, soma) = windowed_predictions::<()>(2, 1000, 500, 150, |start| {
            let w: Vec<f64> = (start..start + 500).map(|t| t as f64).collect();
            Ok((vec![w.clone(), w.clone()], vec![w.clone(), w]))
        })
        .unwrap();
        let expected: Vec<f64> = (0..1000).map(|t| t as f64).collect();
        assert_eq!(spikes[1], expected);
        assert_eq!(soma[0], expected);
        // Which window fills which step: burn-in steps of later windows are never used.
        let mut used = Vec::new();
        windowed_predictions::<()>(1, 1000, 500, 150, |start| {
            used.push(start);
            let w: Vec<f64> = (0..500).map(|i| if i < 150 && start > 0 { f64::NAN } else { 1.0 }).collect();
            Ok((vec![w.clone()], vec![w]))
        })
        .map(|(s, _)| assert!(s[0].iter().all(|v| *v == 1.0)))
        .unwrap();
        assert_eq!(used, vec![0, 350, 700]);
    }
}
