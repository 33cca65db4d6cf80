#!/usr/bin/env python3
"""The speed table of issue 17, measured side by side: for each of the six cases, one training
step of `neurozoo bench`, of the authors' PyTorch (bench_elm_reference.py /
bench_glifr_reference.py) and of the jitted JAX anchors (../shared/bench/), run in turn for
several rounds so that machine noise hits all of them alike. Prints a Markdown table of the
median over rounds, with ratios peer time / ours (higher: we are faster), GFLOP/s and peak RSS.

Usage:
    python3 scripts/bench_compare.py --neurozoo target/release/neurozoo \\
        --elmneuron PATH/TO/elmneuron --glifs-asc PATH/TO/GLIFS_ASC [--rounds 3] [--only CASE]

Needs torch (+ pytorch_lightning for GLIFS_ASC) and jax + optax in the running Python.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
JAX_DIR = os.path.join(ROOT, "..", "shared", "bench")

# case, neurozoo config, batch, neurozoo steps, reference script, reference case, jax script
CASES = [
    ("GLIFR LHetA L-MNIST b256", "configs/lmnist/glifr-lheta.toml", 256, 10,
     "glifr", "glifr-lheta-lmnist b256", ("jax_glifr.py", "glifr-lmnist")),
    ("GLIFR LHetA P-MNIST b64", "configs/pmnist/glifr-lheta.toml", 64, 2,
     "glifr", "glifr-lheta-pmnist b64", ("jax_glifr.py", "glifr-pmnist")),
    ("ELM SHD-like b8", "configs/bench/elm-shd-like.toml", 8, 20,
     "elm", "elm-shd-like b8", ("jax_elm.py", "elm-shd-like b8")),
    ("ELM SHD-like b64", "configs/bench/elm-shd-like.toml", 64, 10,
     "elm", "elm-shd-like b64", ("jax_elm.py", "elm-shd-like b64")),
    ("ELM Pathfinder-32-like b32", "configs/bench/elm-pathfinder32-like.toml", 32, 3,
     "elm", "elm-pathfinder32-like b32", ("jax_elm.py", "elm-pathfinder32-like b32")),
    ("Branch-ELM NeuronIO d_m 20 b8", "configs/bench/branch-elm-neuronio-dm20.toml", 8, 5,
     "elm", "branch-elm-neuronio-dm20 b8", None),
]


def run(cmd, cwd=ROOT):
    out = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{out.stderr[-2000:]}")
    return out.stdout


def ours(args, config, batch, steps, floor=False):
    cmd = [args.neurozoo, "bench", "--config", config, "--batch-size", str(batch), "--steps", str(steps),
           "--warmup", "2", "--device", "flex",
           # One replica per batch, as the peers run it (the L-MNIST configs say 2: the DDP batch).
           "--threads", "1"] + (["--gemm-floor"] if floor else [])
    return json.loads(run(cmd))


def reference(args, family, case):
    if family == "glifr":
        cmd = [sys.executable, os.path.join(HERE, "bench_glifr_reference.py"), "--glifs-asc", args.glifs_asc]
    else:
        cmd = [sys.executable, os.path.join(HERE, "bench_elm_reference.py"), "--elmneuron", args.elmneuron]
    cmd += ["--only", case, "--steps", "5" if family == "elm" or "lmnist" in case else "2", "--warmup", "1"]
    line = json.loads(run(cmd).strip().splitlines()[-1])
    return line["mean_step_seconds"], line["peak_rss_mib"]


def jax(jax_case):
    if jax_case is None:
        return None
    script, case = jax_case
    text = run([sys.executable, os.path.join(JAX_DIR, script), case, "5"])
    return float(re.search(r"median_step_s=([0-9.]+)", text).group(1))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--neurozoo", default=os.path.join(ROOT, "target", "release", "neurozoo"))
    parser.add_argument("--elmneuron", required=True)
    parser.add_argument("--glifs-asc", required=True)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", action="append", help="a case name (repeatable)")
    parser.add_argument("--no-jax", action="store_true")
    args = parser.parse_args()
    rows = []
    for name, config, batch, steps, family, ref_case, jax_case in CASES:
        if args.only and name not in args.only:
            continue
        samples = {"ours": [], "torch": [], "jax": []}
        floor = None
        for i in range(args.rounds):
            report = ours(args, config, batch, steps, floor=(i == 0))
            floor = report.get("gemm_floor") or floor
            t, rss, path = report["mean_step_seconds"], report.get("peak_rss_mib"), report["recurrence"]
            flops = report["flops_per_step"]
            samples["ours"].append(t)
            rt, rrss = reference(args, family, ref_case)
            samples["torch"].append(rt)
            if not args.no_jax and jax_case is not None:
                samples["jax"].append(jax(jax_case))
        med = {k: statistics.median(v) if v else None for k, v in samples.items()}
        row = dict(case=name, ours=med["ours"], torch=med["torch"], jax=med["jax"], gflops=flops / med["ours"] / 1e9,
                   rss=rss, torch_rss=rrss, recurrence=path, floor_s=floor["seconds"],
                   floor_gflops=floor["gflops_per_second"])
        rows.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
    print("| case | neurozoo | GFLOP/s | peak RSS | PyTorch | ratio | JAX | ratio | GEMM floor | GFLOP/s | ours/floor |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        jax_cells = f"{r['jax']:.3f} s | **{r['jax'] / r['ours']:.2f}×**" if r["jax"] else "– | –"
        print(f"| {r['case']} | {r['ours']:.3f} s | {r['gflops']:.1f} | {r['rss']:.0f} MiB | {r['torch']:.3f} s "
              f"| **{r['torch'] / r['ours']:.2f}×** | {jax_cells} | {r['floor_s']:.3f} s | {r['floor_gflops']:.0f} "
              f"| {r['ours'] / r['floor_s']:.1f}× |")


if __name__ == "__main__":
    main()
