#!/usr/bin/env python3
"""Times the ELM authors' NeuronIO evaluation on one full-size simulation file, to compare with
`neurozoo eval-neuronio` on the same file.

Usage:
    python3 scripts/bench_neuronio_eval.py --elmneuron PATH/TO/elmneuron \
        --released ../shared/elmneuron-models/models --dir /tmp/nio_big [--threads 2]
    /usr/bin/time -v neurozoo eval-neuronio --checkpoint MODEL_DIR --data /tmp/nio_big --batch-size 32

The file (`DIR/Data_test/sim__big.p`, ~100 MB, written once) has the real layout and size: 639
segments, 128 simulations of 6 s, input spikes at 0.3 % per channel and ms as numpy int64
scalars, float16 traces (see make_neuronio_fixtures.py). MODEL_DIR is the released
num_memory_10 model imported with `neurozoo import --from elmneuron`. The script prints the
authors' parse, prediction and metric times and their AUC and RMSE, which eval-neuronio must
match.
"""
import argparse
import json
import os
import sys
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--elmneuron", required=True)
    ap.add_argument("--released", required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    sys.path.insert(0, args.elmneuron)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import numpy as np
    import torch

    import make_neuronio_fixtures as fixtures
    from src.expressive_leaky_memory_neuron import ELM
    from src.neuronio import neuronio_data_utils as data_utils
    from src.neuronio import neuronio_eval_utils as eval_utils

    path = os.path.join(args.dir, "Data_test", "sim__big.p")
    if not os.path.exists(path):
        rng = np.random.default_rng(0)
        sims = [fixtures.simulation(rng, 639, 6000, 0.003, int(rng.integers(0, 20))) for _ in range(128)]
        fixtures.dump(fixtures.experiment(sims, 639, 6), path, python2=True)

    torch.set_num_threads(args.threads)
    model_dir = os.path.join(args.released, "num_memory_10")
    model = ELM(**json.load(open(os.path.join(model_dir, "model_config.json"))))
    model.load_state_dict(torch.load(os.path.join(model_dir, "neuronio_best_model_state.pt"), map_location="cpu"))
    model.eval()

    class EvalForward:
        def neuronio_eval_forward(self, X):
            out = model(X)
            return torch.stack([torch.sigmoid(out[..., 0]), out[..., 1] / 0.1], -1)

    t0 = time.time()
    X, y_spike, y_soma = data_utils.parse_sim_experiment_file(path)
    t1 = time.time()
    preds = eval_utils.compute_test_predictions(EvalForward(), X, y_spike, y_soma, burn_in_time=150, input_window_size=500)
    t2 = time.time()
    results = eval_utils.filter_and_extract_core_results(*preds)
    t3 = time.time()
    print(f"parse {t1 - t0:.1f} s, predict {t2 - t1:.1f} s, metrics {t3 - t2:.1f} s, total {t3 - t0:.1f} s; "
          f"AUC {results['AUC']:.9f}, soma RMSE {results['soma_RMSE']:.6f}")


if __name__ == "__main__":
    main()
