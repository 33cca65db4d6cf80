#!/usr/bin/env python3
"""Times the authors' PyTorch ELM on the shapes of configs/bench/*.toml, for comparison with
`neurozoo bench` on the same machine (one training step: forward, backward, optimiser step).

Usage:
    python3 scripts/bench_elm_reference.py --elmneuron PATH/TO/elmneuron [--threads 2]

PATH/TO/elmneuron is a checkout of AaronSpieler/elmneuron (its `src` package is imported from
there). Prints one JSON line per case with the mean and min step time and the peak RSS.
"""
import argparse
import json
import resource
import sys
import time

import torch

CASES = [
    # name, constructor arguments, batch, steps, classification, optimiser, input dropout
    ("elm-shd-like b8", dict(num_input=700, num_output=20, num_memory=100, memory_tau_max=500.0, delta_t=10.0),
     8, 100, True, "adamax", 0.5),
    ("elm-shd-like b64", dict(num_input=700, num_output=20, num_memory=100, memory_tau_max=500.0, delta_t=10.0),
     64, 100, True, "adamax", 0.5),
    ("elm-pathfinder32-like b32", dict(num_input=16, num_output=2, num_memory=150, learn_memory_tau=True),
     32, 1024, True, "adam", 0.0),
    ("branch-elm-neuronio-dm20 b8", dict(num_input=1278, num_output=2, num_memory=20, memory_tau_max=150.0,
                                         num_branch=45, num_synapse_per_branch=100,
                                         input_to_synapse_routing="neuronio_routing"), 8, 500, False, "adam", 0.0),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--elmneuron", required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--only", help="run only the case with this name")
    args = parser.parse_args()
    sys.path.insert(0, args.elmneuron)
    from src.expressive_leaky_memory_neuron import ELM

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    for name, config, batch, steps, classification, optim, dropout in CASES:
        if args.only and args.only != name:
            continue
        model = ELM(**config)
        params = [p for p in model.parameters() if p.requires_grad]
        opt = torch.optim.Adamax(params) if optim == "adamax" else torch.optim.Adam(params)
        x = torch.randn(batch, steps, config["num_input"])
        if classification:
            target = torch.randint(config["num_output"], (batch,))
        else:
            target = torch.randn(batch, steps, config["num_output"])
        times = []
        for i in range(args.warmup + args.steps):
            start = time.perf_counter()
            # Input dropout without rescaling, as configs/bench/elm-shd-like.toml (a new mask
            # per batch, so it is part of the step).
            inputs = x * torch.empty_like(x).bernoulli_(1 - dropout) if dropout > 0 else x
            y = model(inputs)
            if classification:
                loss = torch.nn.functional.cross_entropy(y[:, -1], target)
            else:
                loss = ((y - target) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            if i >= args.warmup:
                times.append(time.perf_counter() - start)
        mean = sum(times) / len(times)
        print(json.dumps(dict(case=name, batch_size=batch, steps=steps, mean_step_seconds=mean,
                              min_step_seconds=min(times), samples_per_second=batch / mean,
                              peak_rss_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                              threads=args.threads, torch=torch.__version__)), flush=True)


if __name__ == "__main__":
    main()
