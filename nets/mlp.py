"""Multilayer perceptron builder: the one way agents and estimators make fully connected nets."""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from nets.activations import hidden_unit, output_unit
from nets.init import initialize


def dense_stack(in_dim: int, hidden_sizes: Sequence[int], activation: str = "relu", dropout: float = 0.0,
                batch_norm: bool = False) -> list[nn.Module]:
    """Layers Linear -> [BatchNorm1d] -> activation -> [Dropout] for each hidden size."""
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout}")
    layers: list[nn.Module] = []
    width = in_dim
    for size in hidden_sizes:
        if int(size) < 1:
            raise ValueError(f"hidden sizes must be positive, got {list(hidden_sizes)}")
        layers.append(nn.Linear(width, int(size)))
        if batch_norm:
            layers.append(nn.BatchNorm1d(int(size)))
        layers.append(hidden_unit(activation))
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        width = int(size)
    return layers


def mlp(in_dim: int, hidden_sizes: Sequence[int], out_dim: int, activation: str = "relu",
        output: str = "linear", dropout: float = 0.0, batch_norm: bool = False,
        init: str = "default") -> nn.Sequential:
    """A fully connected net: (batch, in_dim) -> (batch, out_dim).

    activation: hidden units, one of logistic, tanh, relu, leaky_relu, elu.
    output: output units, one of linear, logistic, softmax (use linear logits with cross-entropy losses).
    init: "default" (torch's), "glorot_uniform", "glorot_normal" (chapter gains) or "he".
    """
    if int(in_dim) < 1 or int(out_dim) < 1:
        raise ValueError(f"in_dim and out_dim must be positive, got {in_dim} and {out_dim}")
    layers = dense_stack(int(in_dim), hidden_sizes, activation, dropout, batch_norm)
    width = int(hidden_sizes[-1]) if len(hidden_sizes) else int(in_dim)
    layers.append(nn.Linear(width, int(out_dim)))
    if output != "linear":
        layers.append(output_unit(output))
    return initialize(nn.Sequential(*layers), init, activation)
