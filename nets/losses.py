"""The chapter's losses (0-1, square, cross-entropy, hinge) and the L2 complexity penalty, on torch tensors."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def zero_one_loss(y_pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Fraction of predictions that differ from the labels: mean of J = 1 if y != y_hat else 0.

    y_pred may be labels (N,) or scores (N, K), in which case the argmax is the prediction.
    """
    labels = y_pred.argmax(dim=-1) if y_pred.dim() > y.dim() else y_pred
    return (labels != y).float().mean()


def square_loss(y_pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean of (y - y_hat)^2."""
    return ((y - y_pred) ** 2).mean()


def binary_cross_entropy(p: torch.Tensor, y: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """Mean of -y ln(p) - (1 - y) ln(1 - p) for probabilities p of label 1."""
    p = p.clamp(eps, 1 - eps)
    return (-y * torch.log(p) - (1 - y) * torch.log(1 - p)).mean()


def cross_entropy(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Multi-class cross-entropy: mean of -log softmax(logits)[y], logits (N, K), labels (N,)."""
    return -F.log_softmax(logits, dim=-1).gather(-1, y.long().unsqueeze(-1)).mean()


def hinge_loss(score: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean of max(0, 1 - y * score) with labels y in {-1, +1}."""
    return torch.clamp(1 - y * score, min=0).mean()


def penalized_weights(model: nn.Module) -> list[torch.Tensor]:
    """The weights the L2 penalty applies to: Linear/Conv weight matrices and kernels, not biases or norms."""
    return [p for name, p in model.named_parameters() if p.dim() > 1 and name.endswith("weight")]


def l2_penalty(model: nn.Module, alpha: float) -> torch.Tensor:
    """alpha * Omega(theta), Omega = 0.5 * ||w||_2^2 over the model's weights."""
    weights = penalized_weights(model)
    if not weights:
        return torch.zeros(())
    return alpha * 0.5 * sum((w**2).sum() for w in weights)
