"""Weight initialization: Glorot (uniform and normal) with the chapter's gain table, and He.

The chapter's gains are logistic 1, tanh 4, ReLU sqrt(2). torch.nn.init.calculate_gain uses other values
(tanh 5/3, sigmoid 1, relu sqrt(2)); pass convention="torch" to use those instead.
"""

from __future__ import annotations

import math

import torch
from torch import nn

CHAPTER_GAINS = {"logistic": 1.0, "sigmoid": 1.0, "tanh": 4.0, "relu": math.sqrt(2.0),
                 "leaky_relu": math.sqrt(2.0), "elu": math.sqrt(2.0), "linear": 1.0}
_TORCH_NAMES = {"logistic": "sigmoid", "elu": "selu"}


def gain(activation: str, convention: str = "chapter") -> float:
    """The gain `a` for an activation, from the chapter's table or from torch.nn.init.calculate_gain."""
    if convention == "chapter":
        if activation not in CHAPTER_GAINS:
            raise ValueError(f"no chapter gain for {activation!r}; known: {sorted(CHAPTER_GAINS)}")
        return CHAPTER_GAINS[activation]
    if convention == "torch":
        name = _TORCH_NAMES.get(activation, activation)
        return nn.init.calculate_gain(name if name != "selu" else "relu")
    raise ValueError(f"unknown gain convention {convention!r}; use 'chapter' or 'torch'")


def fans(tensor: torch.Tensor) -> tuple[int, int]:
    """(n_in, n_out) of a Linear weight (out, in) or a conv kernel (out, in, *k)."""
    if tensor.dim() < 2:
        raise ValueError(f"fan-in/fan-out need a weight with >= 2 dims, got shape {tuple(tensor.shape)}")
    receptive = math.prod(tensor.shape[2:]) if tensor.dim() > 2 else 1
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


@torch.no_grad()
def glorot_uniform_(tensor: torch.Tensor, gain: float = 1.0, generator=None) -> torch.Tensor:
    """Fill with U[-r, r], r = gain * sqrt(6 / (n_in + n_out)), in place."""
    n_in, n_out = fans(tensor)
    r = gain * math.sqrt(6.0 / (n_in + n_out))
    return tensor.uniform_(-r, r, generator=generator)


@torch.no_grad()
def glorot_normal_(tensor: torch.Tensor, gain: float = 1.0, generator=None) -> torch.Tensor:
    """Fill with N(0, sigma), sigma = gain * sqrt(2 / (n_in + n_out)), in place."""
    n_in, n_out = fans(tensor)
    sigma = gain * math.sqrt(2.0 / (n_in + n_out))
    return tensor.normal_(0.0, sigma, generator=generator)


@torch.no_grad()
def he_normal_(tensor: torch.Tensor, gain: float = math.sqrt(2.0), generator=None) -> torch.Tensor:
    """He (Kaiming) normal: N(0, gain / sqrt(n_in)), in place; gain sqrt(2) suits ReLU."""
    n_in, _ = fans(tensor)
    return tensor.normal_(0.0, gain / math.sqrt(n_in), generator=generator)


SCHEMES = ("default", "glorot_uniform", "glorot_normal", "he")


def initialize(module: nn.Module, scheme: str, activation: str = "relu", convention: str = "chapter") -> nn.Module:
    """Re-initialize every Linear/Conv weight of `module` by `scheme`; biases become 0. Returns `module`."""
    if scheme not in SCHEMES:
        raise ValueError(f"unknown init {scheme!r}; choose one of {SCHEMES}")
    if scheme == "default":
        return module
    a = gain(activation, convention)
    for layer in module.modules():
        if isinstance(layer, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)):
            if scheme == "glorot_uniform":
                glorot_uniform_(layer.weight, a)
            elif scheme == "glorot_normal":
                glorot_normal_(layer.weight, a)
            else:
                he_normal_(layer.weight)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)
    return module


@torch.no_grad()
def orthogonal_init(module: nn.Module, gain: float = math.sqrt(2.0), output_gain: float | None = None) -> nn.Module:
    """Orthogonal weights (Saxe et al. 2014) for every Linear/Conv layer of `module`, scaled by `gain`, and
    by `output_gain` for the last Linear layer when given; biases become 0. Returns `module`.

    Policy-gradient codes use gain sqrt(2) for ReLU/tanh hidden layers, 0.01 for a policy head (near-uniform
    first actions) and 1 for a value head: one gain for the whole net is wrong for a head.
    """
    layers = [m for m in module.modules() if isinstance(m, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d))]
    for index, layer in enumerate(layers):
        last = index == len(layers) - 1 and isinstance(layer, nn.Linear)
        nn.init.orthogonal_(layer.weight, output_gain if last and output_gain is not None else gain)
        if layer.bias is not None:
            nn.init.zeros_(layer.bias)
    return module
