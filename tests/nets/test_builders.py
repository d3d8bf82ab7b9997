import pytest
import torch
from torch import nn

import nets


@pytest.mark.parametrize("activation,unit", [("logistic", nn.Sigmoid), ("tanh", nn.Tanh), ("relu", nn.ReLU),
                                             ("leaky_relu", nn.LeakyReLU), ("elu", nn.ELU)])
def test_mlp_uses_requested_hidden_units(activation, unit):
    model = nets.mlp(5, [7, 3], 2, activation=activation)
    assert sum(isinstance(m, unit) for m in model) == 2
    assert model(torch.zeros(4, 5)).shape == (4, 2)


def test_mlp_output_units_have_their_ranges():
    x = torch.randn(16, 4) * 10
    soft = nets.mlp(4, [8], 3, output="softmax")(x)
    assert torch.allclose(soft.sum(dim=1), torch.ones(16)) and (soft >= 0).all()
    logistic = nets.mlp(4, [8], 1, output="logistic")(x)
    assert ((logistic > 0) & (logistic < 1)).all()


def test_mlp_dropout_and_batch_norm_layers():
    model = nets.mlp(4, [8, 8], 2, dropout=0.5, batch_norm=True)
    assert sum(isinstance(m, nn.Dropout) for m in model) == 2
    assert sum(isinstance(m, nn.BatchNorm1d) for m in model) == 2


@pytest.mark.parametrize("kwargs,message", [({"activation": "swish"}, "unknown activation 'swish'"),
                                            ({"output": "cube"}, "unknown output unit 'cube'"),
                                            ({"dropout": 1.0}, "dropout must be in"),
                                            ({"init": "zeros"}, "unknown init 'zeros'")])
def test_mlp_rejects_bad_options(kwargs, message):
    with pytest.raises(ValueError, match=message):
        nets.mlp(4, [8], 2, **kwargs)


@pytest.mark.parametrize("in_shape,kwargs", [
    ((1, 8, 8), dict(channels=[4, 8], kernel_sizes=3, paddings=1, pool="max")),
    ((3, 17, 13), dict(channels=[4, 6, 5], kernel_sizes=[5, 3, 2], strides=[2, 1, 1], paddings=[2, 0, 1])),
    ((2, 10, 10), dict(channels=[3], kernel_sizes=3, strides=2, pool="avg", pool_size=2)),
])
def test_cnn_computed_shapes_match_torch(in_shape, kwargs):
    shapes = nets.cnn_output_shapes(in_shape, **kwargs)
    features = nets.cnn(in_shape, head=(), **kwargs)
    out = features(torch.zeros(2, *in_shape))
    c, h, w = shapes[-1]
    assert out.shape == (2, c * h * w)
    model = nets.cnn(in_shape, head=(16, 4), **kwargs)
    assert model(torch.zeros(2, *in_shape)).shape == (2, 4)


def test_cnn_too_small_input_names_the_layer():
    with pytest.raises(ValueError, match="pool after conv layer 1: 1x1 is smaller than pool 2"):
        nets.cnn((1, 8, 8), [4, 4, 4], kernel_sizes=3, pool="max")
    with pytest.raises(ValueError, match="strides has 1 entries but there are 2 conv layers"):
        nets.cnn((1, 8, 8), [4, 4], kernel_sizes=3, strides=[1])


def test_cnn_zero_padding_keeps_size_and_stride_halves_it():
    assert nets.cnn_output_shapes((1, 8, 8), [2], 3, paddings=1) == [(2, 8, 8)]
    assert nets.cnn_output_shapes((1, 8, 8), [2], 3, strides=2, paddings=1) == [(2, 4, 4)]


def test_device_errors():
    assert nets.get_device("cpu").type == "cpu"
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            nets.get_device("cuda")
    with pytest.raises(ValueError, match="unknown device 'gpu0'"):
        nets.get_device("gpu0")


@pytest.mark.parametrize(("cuda", "mps", "expected"), [
    (True, True, "cuda"), (True, False, "cuda"), (False, True, "mps"), (False, False, "cpu"), (False, None, "cpu"),
])
def test_device_auto_prefers_cuda_then_mps_then_cpu(monkeypatch, cuda, mps, expected):
    # Availability is faked, so every branch runs on any machine; mps None is a torch build without the backend.
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    if mps is None:
        monkeypatch.delattr(torch.backends, "mps")
    else:
        monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)
    assert nets.get_device("auto") == torch.device(expected)
