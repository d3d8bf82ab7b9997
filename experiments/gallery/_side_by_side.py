"""Training several small one-hidden-layer nets side by side in one loop, so a gallery script can afford many.

Each net's loss touches only its own weights and Adam moves each weight by its own gradient history, so
training the nets together on the sum of their losses is training each on its own, minus the Python overhead.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

LOSSES = {"square": lambda out, y: (out - y) ** 2,
          "logistic": lambda out, y: nn.functional.binary_cross_entropy_with_logits(out, y, reduction="none")}


def train_side_by_side(nets: list[nn.Sequential], x: np.ndarray, y: np.ndarray, loss: str = "square",
                       steps: int = 2000, lr: float = 0.01) -> list[nn.Sequential]:
    """Fit each d-width-1 net (nets.mlp(d, (width,), 1, ...): Linear, activation, Linear) to (x (N, d), y (N,))
    by full-batch Adam with cosine decay; the nets are updated in place and returned.

    The nets' layers are zero-padded to the widest into one (nets, units, ...) tensor each; padded units have
    zero outgoing weights, so they get zero gradients and stay silent.
    """
    widest = max(net[0].out_features for net in nets)
    n_in = nets[0][0].in_features
    w_in, b_in, w_out = torch.zeros(len(nets), widest, n_in), torch.zeros(len(nets), widest), \
        torch.zeros(len(nets), widest)
    for k, net in enumerate(nets):
        width = net[0].out_features
        w_in[k, :width], b_in[k, :width] = net[0].weight.detach(), net[0].bias.detach()
        w_out[k, :width] = net[2].weight.detach()[0]
    b_out = torch.stack([net[2].bias.detach()[0] for net in nets])
    params = [p.requires_grad_() for p in (w_in, b_in, w_out, b_out)]
    optimizer = torch.optim.Adam(params, lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)
    inputs = torch.as_tensor(np.asarray(x, dtype=np.float32).reshape(len(x), n_in))
    targets = torch.as_tensor(np.asarray(y, dtype=np.float32))
    activation, loss_fn = nets[0][1], LOSSES[loss]
    for _ in range(steps):
        optimizer.zero_grad()
        hidden = activation(torch.einsum("nd,kwd->knw", inputs, w_in) + b_in[:, None, :])  # (nets, N, units)
        outputs = (hidden * w_out[:, None, :]).sum(dim=2) + b_out[:, None]  # (nets, N)
        loss_fn(outputs, targets.expand_as(outputs)).mean(dim=1).sum().backward()
        optimizer.step()
        schedule.step()
    with torch.no_grad():
        for k, net in enumerate(nets):
            width = net[0].out_features
            net[0].weight.copy_(w_in[k, :width])
            net[0].bias.copy_(b_in[k, :width])
            net[2].weight.copy_(w_out[k, None, :width])
            net[2].bias.copy_(b_out[k:k + 1])
    return nets
