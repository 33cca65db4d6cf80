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
    # configs/lra/elm-pathx.toml: 16,384 steps of 8 one-hot grey levels. Only with --only
    # (scripts/gpu-check.sh runs it on CUDA); on a CPU one step takes minutes.
    ("elm-pathx b768", dict(num_input=8, num_output=2, num_memory=150, memory_tau_max=20000.0, tau_s_value=150.0,
                            learn_memory_tau=True), 768, 16384, True, "adam", 0.0),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--elmneuron", required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--only", help="run only the case with this name")
    parser.add_argument("--device", default="cpu", help="torch device: cpu, or cuda on a GPU machine")
    args = parser.parse_args()
    sys.path.insert(0, args.elmneuron)
    from src.expressive_leaky_memory_neuron import ELM

    torch.set_num_threads(args.threads)
    # Every tensor the authors' code makes (their state resets call torch.zeros without a
    # device) lands on the chosen device.
    torch.set_default_device(args.device)
    torch.manual_seed(0)

    def synchronize():
        if args.device.startswith("cuda"):
            torch.cuda.synchronize()
    for name, config, batch, steps, classification, optim, dropout in CASES:
        if (args.only and args.only != name) or (not args.only and name == "elm-pathx b768"):
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
            synchronize()
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
            synchronize()
            if i >= args.warmup:
                times.append(time.perf_counter() - start)
        mean = sum(times) / len(times)
        print(json.dumps(dict(case=name, batch_size=batch, steps=steps, mean_step_seconds=mean,
                              min_step_seconds=min(times), samples_per_second=batch / mean,
                              peak_rss_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                              threads=args.threads, device=args.device, torch=torch.__version__)), flush=True)


if __name__ == "__main__":
    main()
