"""Optimizers by name, all torch.optim: SGD, momentum, Nesterov, Adagrad, RMSProp, Adam."""

from __future__ import annotations

from collections.abc import Iterable

import torch

OPTIMIZERS = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam")


def make_optimizer(name: str, params: Iterable[torch.nn.Parameter], lr: float,
                   momentum: float = 0.9, **kwargs) -> torch.optim.Optimizer:
    """A torch optimizer: "momentum" is SGD with momentum beta, "nesterov" adds the look-ahead gradient."""
    if lr <= 0:
        raise ValueError(f"learning rate must be positive, got {lr}")
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, **kwargs)
    if name == "momentum":
        return torch.optim.SGD(params, lr=lr, momentum=momentum, **kwargs)
    if name == "nesterov":
        return torch.optim.SGD(params, lr=lr, momentum=momentum, nesterov=True, **kwargs)
    if name == "adagrad":
        return torch.optim.Adagrad(params, lr=lr, **kwargs)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, **kwargs)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, **kwargs)
    raise ValueError(f"unknown optimizer {name!r}; choose one of {OPTIMIZERS}")
