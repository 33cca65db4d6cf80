#!/usr/bin/env python3
"""Writes ELM reference cases in the format of shared/golden/elm by running the authors' code.

Usage:
    python3 scripts/make_elm_cases.py --elmneuron PATH/TO/elmneuron --out crates/train/tests/fixtures/elm

PATH/TO/elmneuron is a checkout of AaronSpieler/elmneuron (52e68a6; its `src` package is
imported from there, never copied here). Needs torch and numpy. Each case folder holds
`model_state.pt` (the model's state_dict, with perturbed weights so that no value is an init
default), `model_config.json` (constructor arguments), `case.json`, `x.npy`, `y.npy`,
`labels.npy` and `grads/<param>.npy`: the gradient of cross_entropy(y[:, -1], labels) for every
parameter that requires one. The cases cover what the two shared golden cases do not: v2, SiLU,
several hidden layers, no hidden layer, random routing (int64 mask), a small NeuronIO routing,
Δt and λ away from their defaults, and the authors' released SiLU model.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch

CASES = [
    # name, version, constructor arguments, batch, steps, input kind
    ("vanilla-v2-silu", 2, dict(num_input=6, num_output=4, num_memory=5, lambda_value=3.0, mlp_num_layers=2,
                                mlp_hidden_size=7, mlp_activation="silu", memory_tau_min=2.0, memory_tau_max=300.0,
                                learn_memory_tau=True, delta_t=2.0), 3, 40, "normal"),
    ("random-routing-v1", 1, dict(num_input=9, num_output=3, num_memory=6, num_branch=4, num_synapse_per_branch=5,
                                  input_to_synapse_routing="random_routing", tau_s_value=3.0,
                                  learn_memory_tau=True, memory_tau_max=80.0), 2, 30, "counts"),
    ("neuronio-small-v2", 2, dict(num_input=20, num_output=2, num_memory=4, num_branch=3, num_synapse_per_branch=8,
                                  input_to_synapse_routing="neuronio_routing", mlp_num_layers=0,
                                  memory_tau_max=150.0, tau_b_value=7.0), 2, 50, "spikes"),
    ("routed-v1-two-layers", 1, dict(num_input=12, num_output=3, num_memory=3, num_branch=3, num_synapse_per_branch=4,
                                     input_to_synapse_routing="neuronio_routing", mlp_num_layers=3, mlp_hidden_size=5,
                                     lambda_value=8.0, delta_t=0.5, learn_memory_tau=True, memory_tau_max=50.0),
     2, 25, "spikes"),
]


def make_input(kind, shape, rng):
    if kind == "normal":
        return rng.normal(0.0, 1.0, shape).astype(np.float32)
    if kind == "counts":
        return rng.poisson(0.3, shape).astype(np.float32)
    # NeuronIO-like: sparse {-1, 0, +1}
    return (rng.random(shape) < 0.1).astype(np.float32) * rng.choice([-1.0, 1.0], shape).astype(np.float32)


def perturb(model, gen):
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name in ("input_to_synapse_indices", "valid_indices_mask") or p.numel() == 0:
                continue
            if name.startswith("tau_"):
                continue  # the reference keeps one τ for all synapses / branches
            if name == "_proto_tau_m":
                p.copy_(torch.where(torch.isfinite(p), p, torch.full_like(p, 3.0)))
                p.add_(0.3 * torch.randn(p.shape, generator=gen))
            elif name == "_proto_w_s":
                p.copy_(0.3 + 0.5 * torch.randn(p.shape, generator=gen))
            else:
                p.add_(0.2 * torch.randn(p.shape, generator=gen))


def write_case(out, name, version, model, config, x, extra):
    folder = os.path.join(out, name)
    os.makedirs(os.path.join(folder, "grads"), exist_ok=True)
    xt = torch.tensor(x)
    y = model(xt)
    labels = torch.arange(x.shape[0]) % y.shape[-1]
    loss = torch.nn.functional.cross_entropy(y[:, -1, :], labels)
    loss.backward()
    for pname, p in model.named_parameters():
        if p.requires_grad and p.grad is not None:
            np.save(os.path.join(folder, "grads", pname + ".npy"), p.grad.numpy())
    torch.save(model.state_dict(), os.path.join(folder, "model_state.pt"))
    with open(os.path.join(folder, "model_config.json"), "w") as f:
        json.dump(config, f, indent=1, sort_keys=True)
    np.save(os.path.join(folder, "x.npy"), x)
    np.save(os.path.join(folder, "y.npy"), y.detach().numpy())
    np.save(os.path.join(folder, "labels.npy"), labels.numpy().astype(np.float32))
    case = dict(kind="elm", version=version, batch=x.shape[0], steps=x.shape[1], loss=loss.item(),
                loss_definition="cross_entropy(y[:, -1, :], labels)", generator="scripts/make_elm_cases.py", **extra)
    with open(os.path.join(folder, "case.json"), "w") as f:
        json.dump(case, f, indent=1)
    print(f"{name}: y {tuple(y.shape)}, loss {loss.item():.6f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--elmneuron", required=True, help="checkout of AaronSpieler/elmneuron")
    parser.add_argument("--out", required=True)
    parser.add_argument("--released", help="folder of the released models (shared/elmneuron-models/models)")
    args = parser.parse_args()
    sys.path.insert(0, args.elmneuron)
    from src.expressive_leaky_memory_neuron import ELM as ELMv1
    from src.expressive_leaky_memory_neuron_v2 import ELM as ELMv2

    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(1)
    rng = np.random.default_rng(2)
    for name, version, config, batch, steps, kind in CASES:
        model = (ELMv2 if version == 2 else ELMv1)(**config)
        perturb(model, gen)
        x = make_input(kind, (batch, steps, config["num_input"]), rng)
        write_case(args.out, name, version, model, config, x, {})
    if args.released:
        folder = os.path.join(args.released, "best_elm_neuron")
        with open(os.path.join(folder, "model_config.json")) as f:
            config = json.load(f)
        model = ELMv1(**config)
        model.load_state_dict(torch.load(os.path.join(folder, "neuronio_best_model_state.pt"), map_location="cpu"))
        x = make_input("spikes", (1, 30, config["num_input"]), rng)
        write_case(args.out, "released-best-silu", 1, model, config, x,
                   dict(source="released NeuronIO model best_elm_neuron"))


if __name__ == "__main__":
    main()
