"""The layer exercises' references: the engine's nn.Linear and nn.MLP with the workbook's constructors.

The workbook's Linear(in_features, out_features, seed) draws its weights as nn.Linear's default
(He: W from N(0, 2/in_features), b zeros), and its MLP(sizes, activation, seed) draws every layer
from one generator, as nn.MLP does; so these wrappers build the very same weights, and their
forward passes are the engine's (one `linear` op per layer, the activation modules between).
"""
from __future__ import annotations

from ... import nn


class Linear(nn.Linear):
    """nn.Linear(in_features, out_features) with He initialisation drawn from `seed` (an int or a Generator)."""

    def __init__(self, in_features, out_features, seed=0):
        super().__init__(in_features, out_features, init="he", seed=seed)


class MLP(nn.MLP):
    """nn.MLP(sizes, activation) whose layers are all He-initialised from one generator made from `seed`."""

    def __init__(self, sizes, activation="relu", seed=0):
        super().__init__(sizes, activation=activation, seed=seed, init="he")
