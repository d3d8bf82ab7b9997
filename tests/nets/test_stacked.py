"""Member-stacked parameters: each member's slice computes what its own ordinary layer computes, gradients and
their clipping stay per member, and one optimizer over the rows is K independent optimizers."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from nets.stacked import ParameterStack, StackedMLP, activation_function, stacked_conv2d, stacked_linear


def members(count: int, seed: int = 0) -> list[nn.Linear]:
    torch.manual_seed(seed)
    return [nn.Linear(3, 5) for _ in range(count)]


def stack_of(layers: list[nn.Linear]) -> ParameterStack:
    return ParameterStack([[("weight", layer.weight), ("bias", layer.bias[None, :])] for layer in layers])


def test_views_and_rows_alias_one_tensor_and_rows_are_aligned():
    layers = members(3)
    stack = stack_of(layers)
    assert stack.flat.shape[1] % 16 == 0 and stack.size == 20
    torch.testing.assert_close(stack["weight"][1], layers[1].weight.detach(), rtol=0, atol=0)
    with torch.no_grad():
        stack.rows()[2].add_(1.0)  # an optimizer writes rows; the layer views see it
    torch.testing.assert_close(stack["bias"][2, 0], layers[2].bias.detach() + 1.0, rtol=0, atol=0)
    assert stack.member(0).keys() == {"weight", "bias"}


@pytest.mark.parametrize("feature_major", [False, True])
def test_stacked_linear_is_each_members_linear_layer(feature_major):
    layers = members(4)
    stack = stack_of(layers)
    x = torch.randn(4, 7, 3)  # (K, B, in)
    if feature_major:
        out = stacked_linear(x.transpose(1, 2), stack["weight"], stack["bias"], True).transpose(1, 2)
    else:
        out = stacked_linear(x, stack["weight"], stack["bias"], False)  # (K, B, out)
    for k, layer in enumerate(layers):
        torch.testing.assert_close(out[k], layer(x[k]), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize(("stride", "padding", "out_shape"), [(1, 1, (4, 6)), (2, 0, (1, 2))])
def test_stacked_conv2d_is_each_members_convolution(stride, padding, out_shape):
    torch.manual_seed(1)
    convs = [nn.Conv2d(2, 4, 3, stride=stride, padding=padding) for _ in range(3)]
    stack = ParameterStack([[("w", c.weight), ("b", c.bias[:, None])] for c in convs])
    x = torch.randn(3, 5, 2, 4, 6)  # (K, B, C, H, W)
    y, shape = stacked_conv2d(x.transpose(0, 1).reshape(5, 6, 4, 6), stack["w"], stack["b"], stride, padding)
    assert shape == out_shape and all(isinstance(side, int) for side in shape)
    for k, conv in enumerate(convs):
        want = conv(x[k])  # (B, out, H', W')
        torch.testing.assert_close(y[k].permute(1, 0, 2).reshape(5, 4, *out_shape), want, rtol=1e-5, atol=1e-5)


def test_backward_gives_each_member_its_own_gradient():
    layers = members(2)
    stack = stack_of(layers)
    x = torch.randn(2, 6, 3)
    target = torch.randn(2, 6, 5)
    out = stacked_linear(x, stack["weight"], stack["bias"], False)
    stack.backward(((out - target) ** 2).mean(dim=(1, 2)).sum())
    for k, layer in enumerate(layers):
        layer.zero_grad()
        ((layer(x[k]) - target[k]) ** 2).mean().backward()
        want = torch.cat([layer.weight.grad.reshape(-1), layer.bias.grad])
        torch.testing.assert_close(stack.grad[k, :stack.size], want, rtol=1e-6, atol=1e-7)
    assert (stack.grad[:, stack.size:] == 0).all()


def test_clipping_is_per_member_and_equals_torch_on_each_member_alone():
    layers = members(3)
    stack = stack_of(layers)
    grads = torch.randn(3, stack.size) * torch.tensor([[0.1], [5.0], [50.0]])
    stack.grad[:, :stack.size] = grads
    norms = stack.clip_grad_norm_(1.0)
    for k in range(3):
        p = nn.Parameter(torch.zeros(stack.size))
        p.grad = grads[k].clone()
        torch_norm = torch.nn.utils.clip_grad_norm_([p], 1.0)
        torch.testing.assert_close(norms[k], torch_norm)
        torch.testing.assert_close(stack.grad[k, :stack.size], p.grad)
    assert torch.linalg.vector_norm(stack.grad[0]) < 1.0  # small gradient untouched
    torch.testing.assert_close(stack.grad[0, :stack.size], grads[0])


def test_one_adam_over_the_rows_is_k_independent_adams_and_an_idle_row_is_untouched():
    from agents.population import StackedOptimizer

    layers = members(3)
    stack = stack_of(layers)
    reference = [nn.Parameter(stack.flat[k].clone()) for k in range(3)]
    optimizers = [torch.optim.Adam([p], lr=0.05, eps=1e-5) for p in reference]
    stacked = StackedOptimizer(stack, torch.optim.Adam, lr=0.05, eps=1e-5, fused=True)
    rng = np.random.default_rng(0)
    for step in range(6):
        grads = torch.as_tensor(rng.normal(size=stack.flat.shape), dtype=torch.float32)
        active = np.array([True, step % 2 == 0, True])
        stack.grad.copy_(grads)
        stacked.step(active)
        for k in np.flatnonzero(active):
            reference[k].grad = grads[k].clone()
            optimizers[k].step()
    for k in range(3):
        torch.testing.assert_close(stack.flat[k], reference[k].detach(), rtol=1e-6, atol=1e-7)
    steps = [float(stacked.optimizer.state[p]["step"]) for p in stack.rows()]
    assert steps == [6.0, 3.0, 6.0]


def test_load_flat_checks_the_shape_and_writes_the_chosen_rows():
    stack = stack_of(members(3))
    with pytest.raises(ValueError, match="saved parameters have shape"):
        stack.load_flat(torch.zeros(2, 3))
    stack.load_flat(torch.ones(1, stack.flat.shape[1]), members=[1])
    assert (stack.flat[1] == 1).all() and not (stack.flat[0] == 1).all()


def test_an_empty_stack_is_refused():
    with pytest.raises(ValueError, match="^a ParameterStack needs at least one member$"):
        ParameterStack([])


def test_members_of_different_shapes_are_refused():
    torch.manual_seed(0)
    with pytest.raises(ValueError, match="member 1 has tensors"):
        ParameterStack([[("w", torch.zeros(2, 3))], [("w", torch.zeros(3, 2))]])


def test_the_fused_adam_fast_path_equals_torch_adam_over_many_steps():
    from agents.population import StackedOptimizer

    stack = stack_of(members(2))
    reference = [nn.Parameter(stack.flat[k].clone()) for k in range(2)]
    optimizers = [torch.optim.Adam([p], lr=0.01, eps=1e-5) for p in reference]
    stacked = StackedOptimizer(stack, torch.optim.Adam, lr=0.01, eps=1e-5, fused=True)
    rng = np.random.default_rng(1)
    for step in range(8):
        if step == 5:
            stacked.set_learning_rate(0.002)
            for optimizer in optimizers:
                optimizer.param_groups[0]["lr"] = 0.002
        grads = torch.as_tensor(rng.normal(size=stack.flat.shape), dtype=torch.float32)
        stack.grad.copy_(grads)
        stacked.step()
        for k in range(2):
            reference[k].grad = grads[k].clone()
            optimizers[k].step()
    assert stacked._state_lists is not None  # the fast path ran
    for k in range(2):
        torch.testing.assert_close(stack.flat[k], reference[k].detach(), rtol=1e-6, atol=1e-7)
    assert float(stacked.optimizer.state[stack.rows()[0]]["step"]) == 8.0


def test_stacked_tanh_is_tanh_to_float_precision_with_tanhs_gradient():
    from nets.stacked import SIGMOID_TANH_ELEMENTS, tanh

    x = (torch.linspace(-12, 12, 2 * SIGMOID_TANH_ELEMENTS).reshape(1, 2, -1) * 1.0).requires_grad_()
    y = tanh(x)
    torch.testing.assert_close(y, torch.tanh(x), rtol=0, atol=2e-7)
    (grad,) = torch.autograd.grad(y.sum(), x)
    torch.testing.assert_close(grad, 1 - y.detach() ** 2, rtol=0, atol=1e-7)  # tanh_backward rounds its own way
    wide = torch.cat([x.detach(), torch.randn(2, *x.shape[1:])])  # the same member among three: same numbers
    assert torch.equal(tanh(wide)[0], y.detach()[0])


def mlp_members(count: int, activation: str, seed: int = 0) -> list[nn.Sequential]:
    torch.manual_seed(seed)
    unit = {"relu": nn.ReLU, "tanh": nn.Tanh}[activation]
    return [nn.Sequential(nn.Linear(3, 24), unit(), nn.Linear(24, 24), unit(), nn.Linear(24, 2))
            for _ in range(count)]


def mlp_stack(nets: list[nn.Sequential]) -> ParameterStack:
    names = ("dense0", "dense1", "heads")
    return ParameterStack([[(f"{name}.{part}", layer.weight if part == "weight" else layer.bias[None, :])
                            for name, layer in zip(names, net[::2]) for part in ("weight", "bias")]
                           for net in nets])


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_stacked_mlp_backward_is_autogrades_bit_for_bit_and_each_members_own_gradient(activation):
    nets = mlp_members(3, activation)
    x, grad_out = torch.randn(3, 3, 20), torch.randn(3, 2, 20)  # (K, in, B), d loss / d outputs (K, out, B)
    stack = mlp_stack(nets)
    mlp = StackedMLP(stack, ["dense0", "dense1", "heads"], activation, skip_dead_units=False)
    out = mlp.forward(x)
    mlp.backward(grad_out)
    by_hand = stack.grad.clone()
    act = activation_function(activation)  # the same forward through autograd
    z = stacked_linear(act(stacked_linear(act(stacked_linear(x, stack["dense0.weight"], stack["dense0.bias"], True)),
                                          stack["dense1.weight"], stack["dense1.bias"], True)),
                       stack["heads.weight"], stack["heads.bias"], True)
    assert torch.equal(out, z.detach())
    stack.backward((z * grad_out).sum())
    assert torch.equal(by_hand, stack.grad)
    for k, net in enumerate(nets):  # and against each member's ordinary net, independently
        net.zero_grad()
        (net(x[k].T) * grad_out[k].T).sum().backward()
        want = torch.cat([t.grad.reshape(-1) for t in net.parameters()])
        torch.testing.assert_close(by_hand[k, :stack.size], want, rtol=1e-5, atol=1e-6)


def test_stacked_mlp_skips_dead_units_member_by_member_and_each_member_gets_what_it_gets_alone(monkeypatch):
    """relu units that are 0 on the whole batch pass no gradient: the backward multiplies only the live units' rows
    (member 1 below: 12 of 24 live; member 2: none; member 0: all, dense). The gradient equals the dense backward's
    to float precision, dead rows get exactly 0, and each member's gradient is bit for bit the one it gets alone
    (its matmuls have its own shapes whatever the other members hold)."""
    nets = mlp_members(3, "relu")
    with torch.no_grad():
        nets[1][2].bias[:12] = -50.0  # dense1's units 0-11 of member 1 are 0 on every input
        nets[2][2].bias[:] = -50.0
    x, grad_out = torch.randn(3, 3, 20), torch.randn(3, 2, 20)

    def gradient(members: list[int], skip: bool) -> torch.Tensor:
        stack = mlp_stack([nets[k] for k in members])
        mlp = StackedMLP(stack, ["dense0", "dense1", "heads"], "relu", skip_dead_units=skip)
        mlp.forward(x[members])
        mlp.backward(torch.randn_like(grad_out[members]))  # a stale gradient the next backward must overwrite
        mlp.forward(x[members])
        mlp.backward(grad_out[members])
        return stack.grad.clone()

    dense = gradient([0, 1, 2], False)
    rows_multiplied = []
    mm = torch.mm
    monkeypatch.setattr(torch, "mm", lambda a, b, **kw: rows_multiplied.append(a.shape[0]) or mm(a, b, **kw))
    skipped = gradient([0, 1, 2], True)
    monkeypatch.undo()
    with torch.no_grad():  # dense1's units positive on some row of the batch, through each ordinary net
        live = [(nets[k][:4](x[k].T) > 0).any(0) for k in range(3)]
    counts = [int(mask.sum()) for mask in live]
    assert counts[0] > 0.8 * 24 and counts[1] <= 12 and counts[2] == 0
    # per member: the weight gradient's rows, then the rows of the gradient sent down (all 24 when dense)
    assert rows_multiplied == [24, 24, counts[1], 24, 0, 24] * 2
    torch.testing.assert_close(skipped, dense, rtol=1e-5, atol=1e-7)
    stack = mlp_stack(nets)
    weight_grad = stack._named_view(skipped, "dense1.weight")
    assert not weight_grad[1][~live[1]].any() and weight_grad[1][live[1]].abs().sum(1).min() > 0
    assert not stack._named_view(skipped, "dense0.weight")[2].any()
    for k in range(3):
        assert torch.equal(gradient([k], True)[0], skipped[k])


def test_stacked_mlp_skips_dead_units_by_default_for_relu_on_cpu_only():
    stack = mlp_stack(mlp_members(2, "relu"))
    assert StackedMLP(stack, ["dense0", "dense1", "heads"], "relu").skip_dead_units
    assert not StackedMLP(mlp_stack(mlp_members(2, "tanh")), ["dense0", "dense1", "heads"], "tanh").skip_dead_units
    with pytest.raises(ValueError, match="skip_dead_units needs relu units .*not 'tanh'"):
        StackedMLP(mlp_stack(mlp_members(2, "tanh")), ["dense0", "dense1", "heads"], "tanh", skip_dead_units=True)


def test_stacked_mlp_refuses_an_unknown_unit_and_layers_that_leave_tensors_out():
    stack = mlp_stack(mlp_members(2, "relu"))
    with pytest.raises(ValueError, match="units .*'relu'.*not 'elu'"):
        StackedMLP(stack, ["dense0", "dense1", "heads"], "elu")
    with pytest.raises(ValueError, match="must cover the stack's tensors .*: the backward writes the gradient of "
                                         "these layers only"):
        StackedMLP(stack, ["dense0", "heads"], "relu")


def test_stacked_mlp_skips_dead_units_of_hidden_layers_of_unequal_widths():
    """A (3 -> 24 -> 16 -> 2) net: the live rows are rows of dense1's 16 outputs, its inputs 24 wide."""
    torch.manual_seed(3)
    nets = [nn.Sequential(nn.Linear(3, 24), nn.ReLU(), nn.Linear(24, 16), nn.ReLU(), nn.Linear(16, 2))
            for _ in range(2)]
    with torch.no_grad():
        nets[1][2].bias[:9] = -50.0  # 7 of 16 live at most: the skip path
    x, grad_out = torch.randn(2, 3, 20), torch.randn(2, 2, 20)
    gradients = []
    for skip in (False, True):
        stack = mlp_stack(nets)
        mlp = StackedMLP(stack, ["dense0", "dense1", "heads"], "relu", skip_dead_units=skip)
        mlp.forward(x)
        mlp.backward(grad_out)
        gradients.append(stack.grad.clone())
    torch.testing.assert_close(gradients[1], gradients[0], rtol=1e-5, atol=1e-7)
    assert not mlp_stack(nets)._named_view(gradients[1], "dense1.weight")[1, :9].any()


def test_a_loss_that_leaves_tensors_unused_gives_them_zero_gradients():
    stack = ParameterStack([[("used", torch.ones(2)), ("unused", torch.ones(3))] for _ in range(2)])
    stack.grad.fill_(7.0)
    stack.backward((stack["used"] * torch.tensor([[1.0, 2.0], [3.0, 4.0]])).sum())
    torch.testing.assert_close(stack.grad[:, :2], torch.tensor([[1.0, 2.0], [3.0, 4.0]]))
    assert not stack.grad[:, 2:].any()


def test_clipping_a_tiny_gradient_divides_by_its_norm_plus_torchs_epsilon():
    stack = stack_of(members(1))
    grads = torch.randn(1, stack.size)
    grads *= 1e-5 / torch.linalg.vector_norm(grads)
    stack.grad[:, :stack.size] = grads
    stack.clip_grad_norm_(1e-6)
    p = nn.Parameter(torch.zeros(stack.size))
    p.grad = grads[0].clone()
    torch.nn.utils.clip_grad_norm_([p], 1e-6)  # max_norm / (norm + 1e-6): 0.0909..., not 0.1111...
    torch.testing.assert_close(stack.grad[0, :stack.size], p.grad, rtol=1e-6, atol=0)


def test_a_batch_of_17_rows_or_more_runs_feature_major():
    from nets.stacked import FEATURE_MAJOR_ROWS, feature_major

    assert FEATURE_MAJOR_ROWS == 17 and feature_major(17) and not feature_major(16)


def test_tanh_takes_the_sigmoid_form_from_its_size_threshold_and_activation_function_uses_it():
    from nets.stacked import SIGMOID_TANH_ELEMENTS, tanh

    x = torch.linspace(-3, 3, 2 * SIGMOID_TANH_ELEMENTS).reshape(2, -1)  # exactly the threshold per member
    sigmoid_form = torch.sigmoid(x * 2.0).mul_(2.0).sub_(1.0)
    assert torch.equal(tanh(x), sigmoid_form) and not torch.equal(torch.tanh(x), sigmoid_form)
    assert torch.equal(activation_function("tanh")(x), sigmoid_form)
    small = x[:, :-1]
    assert torch.equal(tanh(small), torch.tanh(small))


def test_linear_layers_name_the_layer_that_has_no_stacked_form():
    from nets.stacked import linear_layers

    with pytest.raises(ValueError, match=r"^BatchNorm1d has no member-stacked form$"):
        linear_layers(nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4)))


@pytest.mark.parametrize("tau", [0.3, 1.0])
def test_polyak_update_is_sb3s_on_every_member_and_a_hard_update_copies(tau):
    from stable_baselines3.common.utils import polyak_update

    g = torch.Generator().manual_seed(5)
    members = [[("w", torch.randn(3, 4, generator=g)), ("b", torch.randn(4, generator=g))] for _ in range(3)]
    target = ParameterStack(members)
    online = ParameterStack([[(n, t + torch.randn(t.shape, generator=g)) for n, t in m] for m in members])
    want = []
    for k in range(3):
        params, targets = list(online.member(k).values()), list(target.member(k).values())
        polyak_update(params, targets, tau)
        want.append(targets)
    target.polyak_(online, tau)
    for k in range(3):
        for got, expected in zip(target.member(k).values(), want[k]):
            assert torch.equal(got, expected)
    if tau == 1.0:
        assert torch.equal(target.flat, online.flat)
