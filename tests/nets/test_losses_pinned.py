"""Losses on edge cases: certain predictions, scores with extra axes, and which parameters L2 penalises."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from nets import losses


def test_zero_one_loss_takes_the_argmax_over_the_last_axis_of_scores():
    scores = torch.tensor([[[0.0, 1.0, 0.0], [2.0, 0.0, 0.0]],
                           [[0.0, 0.0, 1.0], [0.0, 3.0, 0.0]]])  # (N=2, T=2, K=3)
    y = torch.tensor([[1, 0], [2, 2]])
    assert losses.zero_one_loss(scores, y).item() == 0.25


def test_binary_cross_entropy_stays_finite_for_certain_wrong_predictions():
    p = torch.tensor([0.0, 1.0, 0.0, 1.0], dtype=torch.float64)
    y = torch.tensor([1.0, 0.0, 0.0, 1.0], dtype=torch.float64)
    # Two certain mistakes cost -ln(eps) each, two certain hits cost nothing.
    assert losses.binary_cross_entropy(p, y).item() == pytest.approx(-2 * math.log(1e-12) / 4, rel=1e-6)
    torch.testing.assert_close(losses.binary_cross_entropy(torch.tensor([0.25, 0.5]), torch.tensor([1.0, 0.0])),
                               F.binary_cross_entropy(torch.tensor([0.25, 0.5]), torch.tensor([1.0, 0.0])))


def test_cross_entropy_over_extra_leading_axes_matches_torch():
    torch.manual_seed(0)
    logits = torch.randn(3, 4, 5)  # (N, T, K)
    y = torch.randint(0, 5, (3, 4))
    expected = F.cross_entropy(logits.permute(0, 2, 1), y)
    torch.testing.assert_close(losses.cross_entropy(logits, y), expected)


def test_l2_penalty_skips_biases_and_normalisation_weights():
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.LayerNorm(4), nn.Linear(4, 1))
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.fill_(2.0)
    assert losses.penalized_weights(model) == [model[0].weight, model[3].weight]
    # 0.5 * (12 + 4 weights of 4.0) = 32, times alpha.
    assert losses.l2_penalty(model, 0.5).item() == 16.0
    no_weights = losses.l2_penalty(nn.Sequential(nn.ReLU()), 0.5)
    assert no_weights.shape == () and no_weights.item() == 0.0
