"""nets.teaching against torch: numpy optimizers vs torch.optim, scalar autograd vs torch.autograd, perceptron."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from nets.teaching import (
    SGD,
    Adagrad,
    Adam,
    AdamW,
    LinearUnit,
    Neuron,
    Perceptron,
    RMSprop,
    Value,
    numpy_optimizers,
    perceptron_update,
    threshold_output,
)

# ----------------------------------------------------------------------------- numpy optimizers vs torch.optim

OPTIMIZER_CASES = [
    ("SGD", {"lr": 0.01}),
    ("SGD", {}),  # torch's default lr 1e-3
    ("SGD", {"lr": 0.01, "momentum": 0.9}),
    ("SGD", {"lr": 0.01, "momentum": 0.9, "nesterov": True}),
    ("SGD", {"lr": 0.01, "momentum": 0.5, "dampening": 0.3, "weight_decay": 0.1}),
    ("SGD", {"lr": 0.01, "momentum": 0.9, "nesterov": True, "weight_decay": 0.05, "maximize": True}),
    ("Adagrad", {}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.1, "initial_accumulator_value": 0.5, "eps": 1e-6}),
    ("RMSprop", {}),
    ("RMSprop", {"lr": 0.005, "alpha": 0.9, "momentum": 0.8, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.005, "centered": True, "eps": 1e-6}),
    ("RMSprop", {"lr": 0.005, "centered": True, "momentum": 0.5, "maximize": True}),
    ("Adam", {}),
    ("Adam", {"lr": 0.05, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.05, "amsgrad": True}),
    ("Adam", {"lr": 0.05, "weight_decay": 0.1, "decoupled_weight_decay": True, "amsgrad": True}),
    ("AdamW", {}),
    ("AdamW", {"lr": 0.02, "weight_decay": 0.3, "maximize": True}),
]


def _loss(weights, bias):
    """A bounded, non-quadratic loss coupling a (2, 3) weight and a (3,) bias (bounded, so maximize is safe)."""
    return (weights.sin() * (weights.flip(0) + bias).cos()).sum() + (3 * bias).tanh().sum()


@pytest.mark.parametrize(("name", "hyper"), OPTIMIZER_CASES, ids=lambda v: str(v))
def test_numpy_optimizer_matches_torch_step_for_step(name, hyper):
    rng = np.random.default_rng(0)
    start = [rng.normal(size=(2, 3)), rng.normal(size=3)]
    ours = [p.copy() for p in start]
    theirs = [torch.tensor(p, requires_grad=True) for p in start]
    numpy_opt = getattr(numpy_optimizers, name)(ours, **hyper)
    torch_opt = getattr(torch.optim, name)(theirs, **hyper)
    worst = 0.0
    for _ in range(100):
        # Gradients for the numpy side come from autograd at the numpy parameters, not from torch's state.
        at_ours = [torch.tensor(p, requires_grad=True) for p in ours]
        _loss(*at_ours).backward()
        numpy_opt.step([t.grad.numpy() for t in at_ours])
        torch_opt.zero_grad()
        _loss(*theirs).backward()
        torch_opt.step()
        worst = max(worst, *(np.abs(p - t.detach().numpy()).max() for p, t in zip(ours, theirs, strict=True)))
    assert worst < 1e-10
    assert not np.allclose(ours[0], start[0])  # the parameters really moved


def test_defaults_match_torch_defaults():
    import inspect

    for ours, theirs in ((SGD, torch.optim.SGD), (Adagrad, torch.optim.Adagrad), (RMSprop, torch.optim.RMSprop),
                         (Adam, torch.optim.Adam), (AdamW, torch.optim.AdamW)):
        torch_defaults = {k: p.default for k, p in inspect.signature(theirs).parameters.items()}
        for key, parameter in inspect.signature(ours).parameters.items():
            if parameter.default is not inspect.Parameter.empty and key in torch_defaults:
                assert parameter.default == torch_defaults[key], (ours.__name__, key)


def test_optimizer_updates_parameters_in_place():
    w = np.array([1.0, 2.0])
    SGD([w], lr=0.5).step([np.array([1.0, -1.0])])
    np.testing.assert_array_equal(w, [0.5, 2.5])


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda w: SGD([w], lr=0.1, nesterov=True), "Nesterov"),
        (lambda w: SGD([w], lr=-1.0), "lr"),
        (lambda w: Adam([w], betas=(0.9, 1.0)), "betas"),
        (lambda w: RMSprop([w], alpha=1.5), "alpha"),
        (lambda w: SGD([np.array([1, 2])]), "float numpy array"),
        (lambda w: SGD([]), "empty"),
    ],
)
def test_bad_optimizer_arguments_raise_value_error(make, message):
    with pytest.raises(ValueError, match=message):
        make(np.zeros(2))


def test_step_checks_gradient_count_and_shape():
    w = np.zeros((2, 2))
    optimizer = Adam([w])
    with pytest.raises(ValueError, match="2 gradients for 1 parameters"):
        optimizer.step([np.zeros((2, 2)), np.zeros(1)])
    with pytest.raises(ValueError, match=r"gradient 0 has shape \(3,\)"):
        optimizer.step([np.zeros(3)])


# ----------------------------------------------------------------------------- scalar autograd vs torch.autograd

UNARY = ("tanh", "sigmoid", "relu", "exp", "log", "neg", "pow2", "pow3", "rpow")
BINARY = ("+", "-", "*", "/", "vpow", "rsub", "rdiv")


def evaluate(tree, env):
    """Evaluate an expression tree on Values or on torch tensors alike. Domain-restricted ops are wrapped
    (log of x^2 + 1, division by y^2 + 1, exp of tanh) so any inputs are valid."""
    kind = tree[0]
    if kind == "var":
        return env[tree[1]]
    if kind == "const":
        return env["const"](tree[1])
    if kind in UNARY:
        x = evaluate(tree[1], env)
        return {
            "tanh": lambda: x.tanh(), "sigmoid": lambda: x.sigmoid(), "relu": lambda: x.relu(),
            "exp": lambda: x.tanh().exp(), "log": lambda: (x * x + 1).log(), "neg": lambda: -x,
            "pow2": lambda: x**2, "pow3": lambda: x**3, "rpow": lambda: 2.0 ** x.tanh(),
        }[kind]()
    x, y = evaluate(tree[1], env), evaluate(tree[2], env)
    return {
        "+": lambda: x + y, "-": lambda: x - y, "*": lambda: x * y, "/": lambda: x / (y * y + 1),
        "vpow": lambda: (x * x + 1) ** y.tanh(), "rsub": lambda: 1.5 - x * y, "rdiv": lambda: 1.0 / (y * y + 2),
    }[kind]()


LEAVES = st.one_of(
    st.sampled_from(["a", "b", "c"]).map(lambda name: ("var", name)),
    st.floats(-2, 2, allow_nan=False).map(lambda c: ("const", c)),
)
EXPRESSIONS = st.recursive(
    LEAVES,
    lambda children: st.one_of(
        st.tuples(st.sampled_from(UNARY), children),
        st.tuples(st.sampled_from(BINARY), children, children),
    ),
    max_leaves=12,
)
INPUT = st.floats(-2, 2, allow_nan=False, allow_infinity=False)


@settings(max_examples=200, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(tree=EXPRESSIONS, a=INPUT, b=INPUT, c=INPUT)
def test_scalar_autograd_matches_torch_on_random_expressions(tree, a, b, c):
    inputs = {"a": a, "b": b, "c": c}
    tensors = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in inputs.items()}
    expected = evaluate(tree, {**tensors, "const": lambda v: torch.tensor(v, dtype=torch.float64)})
    # Touch every input, so a tree that ignores one still gives it a (zero) gradient on both sides.
    expected = expected + 0.0 * sum(tensors.values())
    expected.backward()
    torch_grads = {k: float(t.grad) for k, t in tensors.items()}
    finite = math.isfinite(expected.item()) and all(math.isfinite(g) for g in torch_grads.values())
    values = {k: Value(v, label=k) for k, v in inputs.items()}
    try:
        out = evaluate(tree, {**values, "const": Value}) + 0.0 * sum(values.values())
        out.backward()
    except (ValueError, OverflowError):
        assert not finite, "the scalar graph refused an expression torch evaluates finitely"
        assume(False)
    assume(finite)
    assert out.data == pytest.approx(expected.item(), rel=1e-9, abs=1e-9)
    for k in inputs:
        assert values[k].grad == pytest.approx(torch_grads[k], rel=1e-7, abs=1e-9), k


def test_shared_node_gets_the_sum_of_all_paths():
    a = Value(3.0)
    b = a * a + a  # three paths from a to b
    b.backward()
    assert a.grad == 2 * 3.0 + 1


def test_leaf_gradients_accumulate_like_torch_and_interior_ones_do_not():
    a = Value(0.5)
    out = (a * 2.0).tanh() * a
    out.backward()
    out.backward()
    t = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
    t_out = (t * 2.0).tanh() * t
    t_out.backward(retain_graph=True)
    t_out.backward()
    assert a.grad == pytest.approx(float(t.grad), rel=1e-12)


def test_deep_graph_does_not_hit_the_recursion_limit():
    xs = [Value(float(i)) for i in range(5000)]
    total = xs[0]
    for x in xs[1:]:
        total = total + x * 0.5
    total.backward()
    assert xs[0].grad == 1.0 and xs[-1].grad == 0.5


def test_neuron_gradients_match_torch():
    neuron = Neuron(3, activation="tanh", seed=1)
    inputs = [0.5, -1.2, 2.0]
    out = neuron(inputs)
    loss = (out - 0.3) ** 2
    loss.backward()
    w = torch.tensor([p.data for p in neuron.weights], dtype=torch.float64, requires_grad=True)
    b = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
    ((torch.tanh(w @ torch.tensor(inputs, dtype=torch.float64) + b) - 0.3) ** 2).backward()
    np.testing.assert_allclose([p.grad for p in neuron.weights], w.grad.numpy(), rtol=1e-12)
    assert neuron.bias.grad == pytest.approx(float(b.grad), rel=1e-12)


@pytest.mark.parametrize(
    ("build", "error", "message"),
    [
        (lambda: Value(-1.0).log(), ValueError, "non-positive"),
        (lambda: Value(1.0) / Value(0.0), ValueError, "zero"),
        (lambda: Value(-8.0) ** 0.5, ValueError, "non-integer power"),
        (lambda: Value(float("nan")), ValueError, "finite"),
        (lambda: Value(1.0) + "x", TypeError, "str"),
        (lambda: Neuron(2)([1.0]), ValueError, "expects 2 inputs"),
        (lambda: Neuron(2, activation="softplus"), ValueError, "activation"),
    ],
)
def test_bad_scalar_inputs_raise(build, error, message):
    with pytest.raises(error, match=message):
        build()


# ----------------------------------------------------------------------------- perceptron and linear unit


def _separable(seed: int, n: int = 80, margin: float = 0.1):
    """Points in [-1, 1]^2 labelled by a random line through the square, none within `margin` of it; also
    the line as a unit vector (w, b) in augmented space, for the mistake bound."""
    rng = np.random.default_rng(seed)
    w_true = rng.normal(size=2)
    b_true = rng.uniform(-0.3, 0.3)
    scale = np.linalg.norm([*w_true, b_true])
    X = rng.uniform(-1, 1, size=(n, 2))
    signed = (X @ w_true + b_true) / scale
    keep = np.abs(signed) > margin
    return X[keep], np.where(signed[keep] > 0, 1.0, -1.0), np.abs(signed[keep]).min()


@pytest.mark.parametrize("seed", range(5))
def test_perceptron_converges_on_separable_data_within_novikoffs_bound(seed):
    X, y, gamma = _separable(seed)
    model = Perceptron(learning_rate=0.1, max_epochs=1000, seed=seed).fit(X, y)
    assert model.converged_
    assert np.array_equal(model.predict(X), y)
    # Novikoff: at most (R / gamma)^2 mistakes, R the largest norm of an input with its constant 1 appended.
    radius = np.linalg.norm(np.column_stack([X, np.ones(len(X))]), axis=1).max()
    assert sum(model.errors_per_epoch_) <= (radius / gamma) ** 2


def test_perceptron_never_converges_on_xor():
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([-1.0, 1.0, 1.0, -1.0])
    model = Perceptron(max_epochs=200).fit(X, y)
    assert not model.converged_
    assert min(model.errors_per_epoch_) >= 1
    assert model.score(X, y) <= 0.75


def test_perceptron_update_is_the_chapter_rule():
    w, b = perceptron_update(np.array([1.0, -2.0]), 0.5, np.array([3.0, 4.0]), y=1.0, y_hat=-1.0,
                             learning_rate=0.1)
    np.testing.assert_allclose(w, [1.0 + 0.1 * 2 * 3.0, -2.0 + 0.1 * 2 * 4.0])
    assert b == pytest.approx(0.5 + 0.2)
    np.testing.assert_array_equal(threshold_output([[1.0, 1.0], [-1.0, 0.0]], [1.0, 1.0]), [1.0, -1.0])


def test_linear_unit_batch_delta_rule_reaches_least_squares():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(100, 4))
    y = X @ np.array([1.0, -2.0, 0.5, 3.0]) - 1.0 + rng.normal(0, 0.3, size=100)
    solution, *_ = np.linalg.lstsq(np.column_stack([X, np.ones(100)]), y, rcond=None)
    batch = LinearUnit(learning_rate=0.3, epochs=500, mode="batch").fit(X, y)
    np.testing.assert_allclose([*batch.weights_, batch.bias_], solution, atol=1e-8)
    online = LinearUnit(learning_rate=0.005, epochs=50, mode="online").fit(X, y)
    np.testing.assert_allclose([*online.weights_, online.bias_], solution, atol=0.05)
    assert not np.allclose([*online.weights_, online.bias_], solution, atol=1e-8)  # online only hovers near it


@pytest.mark.parametrize(
    ("fit", "message"),
    [
        (lambda: Perceptron().fit([[0.0], [1.0]], [0.0, 1.0]), r"\+1 or -1"),
        (lambda: Perceptron().fit([0.0, 1.0], [1.0, -1.0]), "2-D"),
        (lambda: Perceptron().fit([[0.0], [1.0]], [1.0]), r"shape \(2,\)"),
        (lambda: Perceptron().fit([[0.0], [np.nan]], [1.0, -1.0]), "row 1"),
        (lambda: LinearUnit(mode="stochastic").fit([[0.0]], [1.0]), "mode"),
    ],
)
def test_bad_training_data_raise_value_error(fit, message):
    with pytest.raises(ValueError, match=message):
        fit()
