#!/usr/bin/env python3
"""Writes crates/train/tests/fixtures/elm-bad/nan-weight.pt: the random-routing v1 fixture's
state dict with one NaN in `_proto_w_s` (index 3). The importer must refuse it, naming the key,
instead of importing a model whose every prediction is NaN.

Usage: python3 scripts/fixture_elm_nan_weight.py   (needs torch)
"""
import os

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "crates", "train", "tests", "fixtures")

state = torch.load(os.path.join(FIXTURES, "elm", "random-routing-v1", "model_state.pt"), weights_only=True)
state["_proto_w_s"] = state["_proto_w_s"].clone()
state["_proto_w_s"][3] = float("nan")
torch.save(state, os.path.join(FIXTURES, "elm-bad", "nan-weight.pt"))
