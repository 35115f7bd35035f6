"""Optimizers: turn gradients into weight updates.

    from tinygrad_edu import optim
    opt = optim.Momentum(model.parameters(), lr=0.01, momentum=0.9)
    loss.backward(); opt.step(); opt.zero_grad()

    optim.get("adam")          # a class by its command-line name (or "package.module:Class")
    optim.names()              # every command-line name
    print(optim.get("heavy-ball").describe())

One module per family: ``base`` (the Optimizer class), ``sgd`` (torch.optim.SGD),
``momentum`` (the forms of momentum people write, and the ablation),
``adaptive`` (Adagrad, RMSprop, Adam, AdamW), ``schedules`` (learning-rate schedules),
``registry`` (names, plug-ins), ``identify`` (which registered optimizer an update rule is).
"""
from .base import (REQUIRED, Hyperparameter, HyperparameterError, Optimizer, learning_rate, non_negative,
                   positive, unit_interval)
from .registry import ENTRY_POINT_GROUP, create, get, names, register
from .sgd import SGD
from .momentum import EMAMomentum, HeavyBall, Momentum, MomentumWithoutLR, Nesterov
from .adaptive import Adagrad, Adam, AdamW, RMSprop
from . import schedules
from .schedules import Constant, CosineLR, ExponentialLR, LinearWarmup, Schedule, StepLR
from .identify import Match, identify

__all__ = ["Optimizer", "Hyperparameter", "HyperparameterError", "REQUIRED",
           "learning_rate", "unit_interval", "non_negative", "positive",
           "get", "names", "register", "create", "ENTRY_POINT_GROUP",
           "SGD", "Momentum", "EMAMomentum", "HeavyBall", "Nesterov", "MomentumWithoutLR",
           "Adagrad", "RMSprop", "Adam", "AdamW",
           "identify", "Match",
           "schedules", "Schedule", "Constant", "StepLR", "ExponentialLR", "CosineLR", "LinearWarmup"]
