#!/usr/bin/env python3
"""Writes small NeuronIO simulation files in the authors' pickle format, with what the authors'
own code makes of them.

Usage:
    python3 scripts/make_neuronio_fixtures.py --elmneuron PATH/TO/elmneuron \
        --released ../shared/elmneuron-models/models --out crates/tasks/tests/fixtures/neuronio

The files follow Beniaguev et al.'s simulation script (neuron_as_deep_net, as NeuronIO was
made): one pickle (protocol 2) of {'Params': {...}, 'Results': {'listOfSingleSimulationDicts':
[...]}}, each simulation a dict with `exInputSpikeTimes` / `inhInputSpikeTimes` (segment ->
spike times in ms, numpy int64 scalars as `bin2dict` makes them), `outputSpikeTimes` and
`somaVoltageLowRes` (float16 arrays). Two encodings of the same content are written: the one
Python 2 wrote (the released data: `str` as BINSTRING, numpy raw bytes inside them, module
names `numpy.core.multiarray` and `__builtin__`) and Python 3's protocol 2 (bytes through
`_codecs.encode`). No writer of ours is involved.

What is written:
* `parse/<variant>/sim__tiny.p` (4 segments, 3 simulations of 1 s: one with numpy scalars, one
  with plain ints and no output spike, one with 30 output spikes) and `parse/expected_*.npy`:
  X, y_spike and y_soma exactly as the authors' `parse_sim_experiment_file` returns them.
* `layout/{full_ergodic_train_batch_2,full_ergodic_train_batch_1,Data_test}/`: the split
  folders the authors' training script reads, with small files (4 segments, 8 simulations).
* `eval/Data_test/sim__eval.p` (639 segments, 4 simulations of 1 s) and `eval/expected.json`:
  the authors' evaluation (`compute_test_predictions` + `filter_and_extract_core_results`,
  window 500, burn-in 150) of their released d_m = 10 model on that file, plus
  `eval/expected_spikes_hat.npy` / `eval/expected_soma_hat.npy`. Needs torch, numpy and
  scikit-learn; the authors' eval code is imported from the checkout, never copied here.
"""
import argparse
import io
import json
import os
import pickle
import struct
import sys

import numpy as np


class Python2Pickler(pickle._Pickler):
    """Writes what Python 2's cPickle wrote at protocol 2: byte strings and ASCII `str` as
    (SHORT_)BINSTRING, so numpy's raw array bytes sit inside a `str`, as in the released files."""

    dispatch = dict(pickle._Pickler.dispatch)

    def save_py2_string(self, obj):
        data = obj if isinstance(obj, bytes) else obj.encode("ascii")
        if len(data) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(data)]) + data)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(data)) + data)
        self.memoize(obj)

    def save_bytes(self, obj):
        self.save_py2_string(obj)

    def save_str(self, obj):
        if obj.isascii():
            self.save_py2_string(obj)
        else:
            pickle._Pickler.save_str(self, obj)

    dispatch[bytes] = save_bytes
    dispatch[str] = save_str


def dump(obj, path, python2):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if python2:
        buf = io.BytesIO()
        Python2Pickler(buf, protocol=2).dump(obj)
        data = buf.getvalue().replace(b"numpy._core.multiarray\n", b"numpy.core.multiarray\n")
    else:
        data = pickle.dumps(obj, protocol=2)
    with open(path, "wb") as f:
        f.write(data)


def bin2dict(bin_spikes_matrix):
    """As Beniaguev's simulation script stores input spikes: numpy int64 keys and times."""
    rows, times = np.nonzero(bin_spikes_matrix)
    out = {}
    for row, t in zip(rows, times):
        out.setdefault(row, []).append(t)
    return out


def simulation(rng, num_segments, duration_ms, density, num_output_spikes, numpy_scalars=True):
    ex = rng.random((num_segments, duration_ms)) < density
    inh = rng.random((num_segments, duration_ms)) < density
    ex_map, inh_map = bin2dict(ex), bin2dict(inh)
    if not numpy_scalars:
        ex_map = {int(k): [int(t) for t in v] for k, v in ex_map.items()}
        inh_map = {}
    # Output spikes at sub-millisecond times, as the high-resolution trace gives them.
    out = np.sort(rng.choice(duration_ms * 8, size=num_output_spikes, replace=False) / 8.0 + 0.3)
    soma = -70.0 + np.cumsum(rng.normal(0.0, 0.6, duration_ms))
    soma = np.clip(soma, -85.0, -20.0)
    for t in out:
        i = min(int(t), duration_ms - 1)
        soma[i] = 20.0  # a spike, which the loaders clip at -55 mV
    return {
        "exInputSpikeTimes": ex_map,
        "inhInputSpikeTimes": inh_map,
        "outputSpikeTimes": out.astype(np.float16),
        "somaVoltageLowRes": soma.astype(np.float16),
        "recordingTimeLowRes": np.arange(duration_ms).astype(np.float32),
    }


def experiment(sims, num_segments, seconds):
    params = {
        "allSegmentsType": ["basal" if i % 3 else "apical" for i in range(num_segments)],
        "totalSimDurationInSec": seconds,
        "allSegments_DistFromSoma": [float(10 * i) for i in range(num_segments)],
        "numOutputSpikesPerSim": [len(s["outputSpikeTimes"]) for s in sims],
        "listOfISIs": [np.float64(3.5), np.float64(12.25)],
        "randomSeed": 100520,
    }
    return {"Params": params, "Results": {"listOfSingleSimulationDicts": sims}}


def write_parse_fixtures(out, authors):
    rng = np.random.default_rng(7)
    sims = [
        simulation(rng, 4, 1000, 0.01, 3),
        simulation(rng, 4, 1000, 0.01, 0, numpy_scalars=False),
        simulation(rng, 4, 1000, 0.01, 30),
    ]
    # Edge times: a spike at 0.3 ms goes to bin 0 ((0.3 - 0.5) truncates to 0), one at 999.75.
    sims[0]["outputSpikeTimes"] = np.array([0.3, 250.9, 999.75], dtype=np.float16)
    exp = experiment(sims, 4, 1)
    for variant, python2 in (("python2", True), ("python3", False)):
        dump(exp, os.path.join(out, "parse", variant, "sim__tiny.p"), python2)
    X, y_spike, y_soma = authors.parse_sim_experiment_file(os.path.join(out, "parse", "python2", "sim__tiny.p"))
    np.save(os.path.join(out, "parse", "expected_X.npy"), X.astype(np.uint8))
    np.save(os.path.join(out, "parse", "expected_y_spike.npy"), y_spike)
    np.save(os.path.join(out, "parse", "expected_y_soma.npy"), y_soma)


def write_layout_fixtures(out):
    rng = np.random.default_rng(11)
    for folder, name in (("full_ergodic_train_batch_2", "sim__train_a.p"), ("full_ergodic_train_batch_3", "sim__train_b.p"),
                         ("full_ergodic_train_batch_1", "sim__valid.p"), ("Data_test", "sim__test.p")):
        sims = [simulation(rng, 4, 1000, 0.02, int(rng.integers(0, 5))) for _ in range(8)]
        dump(experiment(sims, 4, 1), os.path.join(out, "layout", folder, name), python2=True)
    # A file the glob `*sim__*` must skip.
    with open(os.path.join(out, "layout", "Data_test", "README.txt"), "w") as f:
        f.write("not a simulation file\n")


def write_eval_fixture(out, authors_eval, authors_data, released):
    import torch
    from src.expressive_leaky_memory_neuron import ELM

    model_dir = os.path.join(released, "num_memory_10")
    with open(os.path.join(model_dir, "model_config.json")) as f:
        config = json.load(f)
    model = ELM(**config)
    model.load_state_dict(torch.load(os.path.join(model_dir, "neuronio_best_model_state.pt"), map_location="cpu"))
    model.eval()

    class EvalForward:  # the released class's `neuronio_eval_forward`
        def neuronio_eval_forward(self, X, y_train_soma_scale=authors_data.DEFAULT_Y_TRAIN_SOMA_SCALE):
            outputs = model(X)
            spike_pred = torch.sigmoid(outputs[..., 0])
            soma_pred = 1 / y_train_soma_scale * outputs[..., 1]
            return torch.stack([spike_pred, soma_pred], dim=-1)

    # Ground truth that the model half-predicts, so that every metric is away from its
    # degenerate value: output spikes where the full-length prediction peaks (and a few
    # elsewhere), soma = the predicted trace plus noise.
    rng = np.random.default_rng(3)
    # The simulation without output spikes gets sparser input, so that its predictions stay low.
    sims = [simulation(rng, 639, 1000, density, 0) for density in (0.004, 0.001, 0.004, 0.004)]
    path = os.path.join(out, "eval", "Data_test", "sim__eval.p")
    dump(experiment(sims, 639, 1), path, python2=True)
    X, y_spike, y_soma = authors_data.parse_sim_experiment_file(path)
    windowed = authors_eval.compute_test_predictions(EvalForward(), X, y_spike, y_soma, burn_in_time=150,
                                                     input_window_size=500)
    for k, (sim, count) in enumerate(zip(sims, (6, 0, 30, 10))):
        spike_pred, soma_pred = windowed[1][k], windowed[3][k]
        peaks = 500 + np.argsort(-spike_pred[500:])[: count // 2]  # after the 500 ms the metrics drop
        others = rng.choice(1000, size=count - len(peaks), replace=False)
        times = np.unique(np.concatenate([peaks, others]))
        sim["outputSpikeTimes"] = (times + 0.625).astype(np.float16)
        soma = soma_pred + authors_data.DEFAULT_Y_TRAIN_SOMA_BIAS + rng.normal(0.0, 0.5, 1000)
        soma[times] = 25.0
        sim["somaVoltageLowRes"] = soma.astype(np.float16)
    path = os.path.join(out, "eval", "Data_test", "sim__eval.p")
    dump(experiment(sims, 639, 1), path, python2=True)

    X, y_spike, y_soma = authors_data.parse_sim_experiment_file(path)
    preds = authors_eval.compute_test_predictions(EvalForward(), X, y_spike, y_soma, burn_in_time=150,
                                                  input_window_size=500)
    results = authors_eval.filter_and_extract_core_results(*preds, desired_FP_list=[0.0025, 0.0100])
    np.save(os.path.join(out, "eval", "expected_spikes_hat.npy"), preds[1])
    np.save(os.path.join(out, "eval", "expected_soma_hat.npy"), preds[3])
    results = {k: float(v) for k, v in results.items()}
    results["model"] = "num_memory_10"
    results["window"] = 500
    results["burn_in"] = 150
    with open(os.path.join(out, "eval", "expected.json"), "w") as f:
        json.dump(results, f, indent=2, sort_keys=True)
    print(json.dumps(results, indent=2, sort_keys=True))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--elmneuron", required=True, help="checkout of AaronSpieler/elmneuron")
    ap.add_argument("--released", required=True, help="the authors' models/ folder")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    sys.path.insert(0, args.elmneuron)
    from src.neuronio import neuronio_data_utils as authors_data
    from src.neuronio import neuronio_eval_utils as authors_eval

    write_parse_fixtures(args.out, authors_data)
    write_layout_fixtures(args.out)
    write_eval_fixture(args.out, authors_eval, authors_data, args.released)


if __name__ == "__main__":
    main()
