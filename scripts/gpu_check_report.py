#!/usr/bin/env python3
"""The bookkeeping half of scripts/gpu-check.sh: turns each step's output into one JSON line,
and the lines into the report's tables. Needs numpy only.

    gpu_check_report.py golden FAMILY/CASE CASE_DIR WORK_DIR   compare the binary's outputs with a golden case
    gpu_check_report.py ours LABEL BENCH_JSON                  one `neurozoo bench` report
    gpu_check_report.py torch LABEL REFERENCE_OUTPUT           one bench_*_reference.py case
    gpu_check_report.py failed LABEL STDERR_FILE               a step that failed
    gpu_check_report.py report JSONL                           the markdown tables
"""
import json
import os
import sys

# Our bench label → the reference scripts' case name.
TORCH_CASE = {
    "GLIFR LHetA L-MNIST b256": "glifr-lheta-lmnist b256",
    "GLIFR LHetA P-MNIST b64": "glifr-lheta-pmnist b64",
    "ELM SHD-like b8": "elm-shd-like b8",
    "ELM SHD-like b64": "elm-shd-like b64",
    "ELM Pathfinder-32-like b32": "elm-pathfinder32-like b32",
    "Branch-ELM NeuronIO d_m 20 b8": "branch-elm-neuronio-dm20 b8",
    "ELM Path-X b768 (recompute 128)": "elm-pathx b768",
}
PATHX_TRAIN_IMAGES = 160_000


def max_error(ours, ref):
    """max |ours − ref| over max(1, max |ref|): the golden README's scaled error."""
    import numpy as np
    ours, ref = np.asarray(ours, dtype=np.float64), np.asarray(ref, dtype=np.float64)
    if ours.shape != ref.shape:
        raise ValueError(f"shape {ours.shape}, expected {ref.shape}")
    return float(np.max(np.abs(ours - ref)) / max(1.0, float(np.max(np.abs(ref)))))


def golden(name, case, work):
    import numpy as np
    line = dict(kind="golden", case=name)
    try:
        line["forward"] = max_error(np.load(os.path.join(work, "y.npy")), np.load(os.path.join(case, "y.npy")))
        if os.path.exists(os.path.join(case, "voltage.npy")):
            line["voltage"] = max_error(np.load(os.path.join(work, "voltage.npy")),
                                        np.load(os.path.join(case, "voltage.npy")))
        grads = os.path.join(case, "grads")
        if os.path.isdir(grads):
            errors = {}
            for f in sorted(os.listdir(grads)):
                errors[f[:-4]] = max_error(np.load(os.path.join(work, "grads", f)), np.load(os.path.join(grads, f)))
            line["grads"] = max(errors.values())
            line["worst_grad"] = max(errors, key=errors.get)
        line["ok"] = (max(line["forward"], line.get("voltage", 0.0)) <= 1e-5 and line.get("grads", 0.0) <= 1e-4)
    except Exception as e:  # a missing output is a failed case, with the binary's own words
        log = open(os.path.join(work, "log")).read().strip().splitlines()[-3:] if os.path.exists(
            os.path.join(work, "log")) else []
        line.update(ok=False, error=f"{type(e).__name__}: {e}", log=log)
    return line


def last_json(path):
    text = open(path).read().strip()
    try:
        return json.loads(text)  # `neurozoo bench` prints one pretty JSON object
    except json.JSONDecodeError:
        return json.loads(text.splitlines()[-1])  # the reference scripts print one line per case


def ours(label, path):
    r = last_json(path)
    line = dict(kind="ours", label=label, seconds=r["mean_step_seconds"], launches=r.get("launches_per_step"),
                recurrence=r.get("recurrence"), batch=r["batch_size"], steps=r["steps"])
    if r.get("unfused"):
        line.update(unfused_seconds=r["unfused"]["mean_step_seconds"],
                    unfused_launches=r["unfused"].get("launches_per_step"))
    return line


def torch_line(label, path):
    r = last_json(path)
    return dict(kind="torch", label=label, seconds=r["mean_step_seconds"], torch=r.get("torch"))


def failed(label, path):
    tail = open(path).read().strip().splitlines()[-3:] if os.path.exists(path) else []
    return dict(kind="failed", label=label, error=tail)


def fmt(x, digits=4):
    return "–" if x is None else f"{x:.{digits}g}"


def report(path):
    lines = [json.loads(l) for l in open(path) if l.strip()]
    out = ["", "## Golden cases on the GPU (wgpu)", "",
           "Scaled max error, max |ours − ref| / max(1, max |ref|); tolerances 1e-5 forward, 1e-4 gradients.", "",
           "| case | readout | voltage | worst gradient | pass |", "|---|---|---|---|---|"]
    for l in (l for l in lines if l["kind"] == "golden"):
        if "error" in l:
            out.append(f"| {l['case']} | {l['error']} {' '.join(l.get('log', []))} | | | **no** |")
        else:
            grad = f"{fmt(l.get('grads'), 2)} ({l.get('worst_grad', '')})" if "grads" in l else "–"
            out.append(f"| {l['case']} | {fmt(l['forward'], 2)} | {fmt(l.get('voltage'), 2)} | {grad} | "
                       f"{'yes' if l['ok'] else '**no**'} |")
    torch = {l["label"]: l for l in lines if l["kind"] == "torch"}
    out += ["", "## One training step: ours (wgpu) against the authors' PyTorch (CUDA)", "",
            "| shape | ours, s | launches | per-step path, s | launches | fused speed-up | PyTorch CUDA, s | ratio |",
            "|---|---|---|---|---|---|---|---|"]
    for l in (l for l in lines if l["kind"] == "ours"):
        ref = torch.get(TORCH_CASE.get(l["label"], ""))
        ratio = ref["seconds"] / l["seconds"] if ref else None
        speedup = l["unfused_seconds"] / l["seconds"] if l.get("unfused_seconds") else None
        out.append(f"| {l['label']} | {fmt(l['seconds'])} | {fmt(l['launches'], 6)} | {fmt(l.get('unfused_seconds'))} | "
                   f"{fmt(l.get('unfused_launches'), 6)} | {fmt(speedup, 3)}× | {fmt(ref and ref['seconds'])} | "
                   f"{fmt(ratio, 3)}× |")
        if l["label"].startswith("ELM Path-X"):
            epoch = PATHX_TRAIN_IMAGES / l["batch"] * l["seconds"]
            out.append(f"|  ↳ Path-X epoch of {PATHX_TRAIN_IMAGES:,} images, from this step | {epoch / 60:.1f} min | | | | | | |")
    for l in (l for l in lines if l["kind"] == "failed"):
        out.append(f"\n**failed: {l['label']}** — {' / '.join(l['error'])}")
    return "\n".join(out)


def main():
    kind, *args = sys.argv[1:]
    if kind == "report":
        print(report(*args))
        return
    line = {"golden": golden, "ours": ours, "torch": torch_line, "failed": failed}[kind](*args)
    print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
