#!/usr/bin/env python3
"""Times the authors' PyTorch GLIFR (GLIFS_ASC's `GLIFRN`) on the shapes of the GLIFR paper's
MNIST tasks, for comparison with `neurozoo bench` on the same machine (one training step:
reset_state, forward over the sequence, cross entropy on the last step, backward, Adam step;
what their Lightning `training_step` + optimiser do, without Lightning's logging).

Usage:
    python3 scripts/bench_glifr_reference.py --glifs-asc PATH/TO/GLIFS_ASC [--threads 2]

PATH/TO/GLIFS_ASC is a checkout of AllenInstitute/GLIFS_ASC (its `main` folder is put on the
path, as their own scripts run from there; `pytorch_lightning` must be installed). Prints one
JSON line per case with the mean and min step time and the peak RSS.

The neurozoo side of each case:
    neurozoo bench --config configs/lmnist/glifr-lheta.toml --steps 10
    neurozoo bench --config configs/pmnist/glifr-lheta.toml --batch-size 64 --steps 3
"""
import argparse
import json
import os
import resource
import sys
import time

CASES = [
    # name, hparams that differ between the tasks (the configs' values), batch
    ("glifr-lheta-lmnist b256", dict(input_size=28, hidden_size=252, synaptic_delay=1.0, lr=1e-3), 256, 28),
    ("glifr-lheta-pmnist b64", dict(input_size=1, hidden_size=252, synaptic_delay=15.0, lr=1e-4), 64, 784),
]


def hparams(task):
    """The LHetA hyperparameters of their `glifr.yaml` + `*_task.yaml` (hom init, learned
    neuronal parameters, 2 ASCs, dt = τ = 0.05 ms)."""
    h = dict(output_size=10, output_weight=True, dropout_prob=0.0, dt=0.05, tau=0.05, num_ascs=2, sigma_v=1.0,
             R=0.1, I0=0.0, v_reset=0.0, initialization="hom", params_learned=True,
             loss_fn="cross_entropy_one_hot", optimizer="torch.optim.Adam", log_accuracy=False,
             final_reduction="last", ckpt_path=None)
    h.update(task)
    return h


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--glifs-asc", required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--only", help="run only the case with this name")
    parser.add_argument("--device", default="cpu", help="torch device: cpu, or cuda on a GPU machine")
    args = parser.parse_args()
    sys.path.insert(0, os.path.join(args.glifs_asc, "main"))
    import torch
    from models.pl_modules import GLIFRN
    from training.loss_fns import cross_entropy_one_hot

    torch.set_num_threads(args.threads)
    # Every tensor the authors' code makes (their state resets call torch.zeros without a
    # device) lands on the chosen device.
    torch.set_default_device(args.device)
    torch.manual_seed(0)

    def synchronize():
        if args.device.startswith("cuda"):
            torch.cuda.synchronize()
    for name, task, batch, steps in CASES:
        if args.only and args.only != name:
            continue
        h = hparams(task)
        model = GLIFRN(**h)
        opt = torch.optim.Adam(model.parameters(), lr=h["lr"])
        x = torch.rand(batch, steps, h["input_size"])
        target = torch.nn.functional.one_hot(torch.randint(10, (batch,)), 10).float()
        times = []
        for i in range(args.warmup + args.steps):
            synchronize()
            start = time.perf_counter()
            model.reset_state(batch)
            loss = cross_entropy_one_hot(model(x)[:, -1, :], target)
            opt.zero_grad()
            loss.backward()
            opt.step()
            synchronize()
            if i >= args.warmup:
                times.append(time.perf_counter() - start)
        mean = sum(times) / len(times)
        print(json.dumps(dict(case=name, batch_size=batch, steps=steps, delay_steps=model.delay,
                              mean_step_seconds=mean, min_step_seconds=min(times),
                              samples_per_second=batch / mean,
                              peak_rss_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                              threads=args.threads, device=args.device, torch=torch.__version__)), flush=True)


if __name__ == "__main__":
    main()
