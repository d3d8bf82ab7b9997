import math

import pytest
import torch
from torch import nn

from nets import init, mlp


@pytest.mark.parametrize("activation", ["logistic", "tanh", "relu"])
def test_glorot_uniform_variance_matches_formula(activation):
    a = init.gain(activation)
    w = torch.empty(400, 600)
    init.glorot_uniform_(w, a, generator=torch.Generator().manual_seed(0))
    r = a * math.sqrt(6 / (600 + 400))
    assert w.abs().max() <= r
    assert w.var().item() == pytest.approx(r**2 / 3, rel=0.02)  # variance of U[-r, r]


@pytest.mark.parametrize("activation", ["logistic", "tanh", "relu"])
def test_glorot_normal_std_matches_formula(activation):
    a = init.gain(activation)
    w = torch.empty(500, 300)
    init.glorot_normal_(w, a, generator=torch.Generator().manual_seed(1))
    assert w.std().item() == pytest.approx(a * math.sqrt(2 / 800), rel=0.02)
    assert w.mean().item() == pytest.approx(0.0, abs=0.01 * a)


def test_he_normal_std_and_conv_fans():
    w = torch.empty(64, 32, 3, 3)
    assert init.fans(w) == (32 * 9, 64 * 9)
    init.he_normal_(w, generator=torch.Generator().manual_seed(2))
    assert w.std().item() == pytest.approx(math.sqrt(2 / (32 * 9)), rel=0.02)


def test_chapter_gains_and_torch_convention_differ_for_tanh():
    assert init.gain("logistic") == 1 and init.gain("tanh") == 4 and init.gain("relu") == math.sqrt(2)
    assert init.gain("tanh", convention="torch") == pytest.approx(nn.init.calculate_gain("tanh"))  # 5/3
    assert init.gain("relu", convention="torch") == pytest.approx(math.sqrt(2))
    with pytest.raises(ValueError, match="unknown gain convention"):
        init.gain("tanh", convention="keras")


def test_mlp_init_scheme_applies_glorot_to_every_layer_and_zeroes_biases():
    torch.manual_seed(0)
    model = mlp(300, [300], 300, activation="tanh", init="glorot_uniform")
    for layer in (m for m in model if isinstance(m, nn.Linear)):
        r = 4 * math.sqrt(6 / 600)
        assert layer.weight.abs().max() <= r and layer.weight.abs().max() > 0.9 * r
        assert (layer.bias == 0).all()
