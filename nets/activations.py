"""Hidden and output units by name: the chapter's logistic, tanh, ReLU, leaky ReLU, ELU; linear, softmax."""

from __future__ import annotations

from torch import nn

HIDDEN_UNITS = {
    "logistic": nn.Sigmoid,
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
}

OUTPUT_UNITS = {
    "linear": nn.Identity,
    "logistic": nn.Sigmoid,
    "sigmoid": nn.Sigmoid,
    "softmax": lambda: nn.Softmax(dim=-1),
}


def hidden_unit(name: str) -> nn.Module:
    """A fresh activation module for a hidden layer."""
    if name not in HIDDEN_UNITS:
        raise ValueError(f"unknown activation {name!r}; choose one of {sorted(HIDDEN_UNITS)}")
    return HIDDEN_UNITS[name]()


def output_unit(name: str) -> nn.Module:
    """A fresh output-unit module (softmax over the last axis)."""
    if name not in OUTPUT_UNITS:
        raise ValueError(f"unknown output unit {name!r}; choose one of {sorted(OUTPUT_UNITS)}")
    return OUTPUT_UNITS[name]()
