"""Convolutional net builder: conv stacks with zero padding, stride and pooling, then an MLP head."""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from nets.activations import hidden_unit, output_unit
from nets.mlp import dense_stack

POOLS = {"max": nn.MaxPool2d, "avg": nn.AvgPool2d}


def _per_layer(value, count: int, name: str) -> list[int]:
    values = [int(value)] * count if isinstance(value, int) else [int(v) for v in value]
    if len(values) != count:
        raise ValueError(f"{name} has {len(values)} entries but there are {count} conv layers")
    return values


def cnn_output_shapes(in_shape: Sequence[int], channels: Sequence[int], kernel_sizes, strides=1, paddings=0,
                      pool: str | None = None, pool_size: int = 2) -> list[tuple[int, int, int]]:
    """Shape (C, H, W) after each conv layer (and its pooling), computed as torch does.

    An input too small for the stack is a ValueError naming the layer that fails.
    """
    if len(in_shape) != 3:
        raise ValueError(f"in_shape must be (C, H, W), got {tuple(in_shape)}")
    count = len(channels)
    kernels = _per_layer(kernel_sizes, count, "kernel_sizes")
    strides = _per_layer(strides, count, "strides")
    paddings = _per_layer(paddings, count, "paddings")
    if pool is not None and pool not in POOLS:
        raise ValueError(f"unknown pool {pool!r}; choose 'max', 'avg' or None")
    _, h, w = (int(v) for v in in_shape)
    shapes = []
    for i, (c, k, s, p) in enumerate(zip(channels, kernels, strides, paddings)):
        h_out, w_out = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
        if h + 2 * p < k or w + 2 * p < k:
            raise ValueError(f"conv layer {i}: input {h}x{w} (padding {p}) is smaller than kernel {k}x{k}")
        if pool is not None:
            if h_out < pool_size or w_out < pool_size:
                raise ValueError(f"pool after conv layer {i}: {h_out}x{w_out} is smaller than pool {pool_size}")
            h_out, w_out = h_out // pool_size, w_out // pool_size
        h, w = h_out, w_out
        shapes.append((int(c), h, w))
    return shapes


def cnn(in_shape: Sequence[int], channels: Sequence[int], kernel_sizes, strides=1, paddings=0,
        pool: str | None = None, pool_size: int = 2, head: Sequence[int] = (128, 10), activation: str = "relu",
        output: str = "linear", dropout: float = 0.0, batch_norm: bool = False) -> nn.Sequential:
    """A conv net: (batch, C, H, W) -> (batch, head[-1]), or flattened features when head is empty.

    channels, kernel_sizes: one entry per conv layer; strides, paddings: an int or one per layer.
    pool: None, "max" or "avg", applied after every conv layer with `pool_size`.
    head: sizes of the MLP after flattening; the last one is the output dimension.
    """
    shapes = cnn_output_shapes(in_shape, channels, kernel_sizes, strides, paddings, pool, pool_size)
    kernels = _per_layer(kernel_sizes, len(channels), "kernel_sizes")
    strides = _per_layer(strides, len(channels), "strides")
    paddings = _per_layer(paddings, len(channels), "paddings")
    layers: list[nn.Module] = []
    c_in = int(in_shape[0])
    for c, k, s, p in zip(channels, kernels, strides, paddings):
        layers.append(nn.Conv2d(c_in, int(c), k, stride=s, padding=p))
        if batch_norm:
            layers.append(nn.BatchNorm2d(int(c)))
        layers.append(hidden_unit(activation))
        if pool is not None:
            layers.append(POOLS[pool](pool_size))
        c_in = int(c)
    layers.append(nn.Flatten())
    c, h, w = shapes[-1] if shapes else tuple(int(v) for v in in_shape)
    features = c * h * w
    if len(head):
        layers += dense_stack(features, head[:-1], activation, dropout, batch_norm)
        width = int(head[-2]) if len(head) > 1 else features
        layers.append(nn.Linear(width, int(head[-1])))
        if output != "linear":
            layers.append(output_unit(output))
    return nn.Sequential(*layers)
