"""A scalar computation graph with reverse-mode autodiff (backpropagation), in the style of micrograd.

Each `Value` remembers the values it was computed from and how to pass a gradient back to them; `backward()`
walks the graph in reverse topological order applying the chain rule. Checked against torch.autograd.
"""

from __future__ import annotations

import math
import numbers
import random
from collections.abc import Callable, Iterable


def _as_value(other) -> Value:
    if isinstance(other, Value):
        return other
    if isinstance(other, numbers.Real) and not isinstance(other, bool):
        return Value(float(other))
    raise TypeError(f"cannot combine a Value with {type(other).__name__}")


class Value:
    """One scalar node of a computation graph.

    data: the number computed in the forward pass. grad: d(root)/d(this node) after `root.backward()`.
    Leaves (nodes without parents) accumulate gradients across backward() calls, like torch leaf tensors;
    zero them between optimisation steps.
    """

    def __init__(self, data: float, parents: tuple[Value, ...] = (), op: str = "", label: str = ""):
        if not isinstance(data, numbers.Real) or isinstance(data, bool) or not math.isfinite(data):
            raise ValueError(f"Value needs a finite real number, got {data!r}")
        self.data = float(data)
        self.grad = 0.0
        self.parents = parents
        self.op = op
        self.label = label
        # Adds this node's contribution to its parents' gradients; set by the operation that made it.
        self._backward: Callable[[], None] = lambda: None

    def __repr__(self) -> str:
        name = f"{self.label}=" if self.label else ""
        return f"Value({name}{self.data:.6g}, grad={self.grad:.6g})"

    # ----- binary operations -----
    def __add__(self, other) -> Value:
        other = _as_value(other)
        out = Value(self.data + other.data, (self, other), "+")

        def backward():
            self.grad += out.grad
            other.grad += out.grad

        out._backward = backward
        return out

    def __mul__(self, other) -> Value:
        other = _as_value(other)
        out = Value(self.data * other.data, (self, other), "*")

        def backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = backward
        return out

    def __pow__(self, exponent) -> Value:
        exponent = _as_value(exponent)
        base, power = self.data, exponent.data
        if base < 0 and not power.is_integer():
            raise ValueError(f"negative base {base} to non-integer power {power} is not real")
        if base == 0 and power < 0:
            raise ValueError(f"0 to negative power {power} is infinite")
        out = Value(base**power, (self, exponent), "**")

        def backward():
            if power != 0:
                # d(b^p)/db = p b^(p-1), infinite at b = 0 for 0 < p < 1 (as torch reports it).
                self.grad += (power * base ** (power - 1) if base != 0 or power >= 1 else math.inf) * out.grad
            if base > 0:  # d(b^p)/dp = b^p ln b, real only for b > 0
                exponent.grad += out.data * math.log(base) * out.grad

        out._backward = backward
        return out

    def __neg__(self) -> Value:
        return self * -1.0

    def __sub__(self, other) -> Value:
        return self + (-_as_value(other))

    def __truediv__(self, other) -> Value:
        other = _as_value(other)
        if other.data == 0:
            raise ValueError("division by a Value equal to zero")
        return self * other**-1.0

    def __radd__(self, other) -> Value:
        return self + other

    def __rmul__(self, other) -> Value:
        return self * other

    def __rsub__(self, other) -> Value:
        return _as_value(other) - self

    def __rtruediv__(self, other) -> Value:
        return _as_value(other) / self

    def __rpow__(self, other) -> Value:
        return _as_value(other) ** self

    # ----- unary functions -----
    def _unary(self, data: float, local_grad: float, op: str) -> Value:
        out = Value(data, (self,), op)

        def backward():
            self.grad += local_grad * out.grad

        out._backward = backward
        return out

    def exp(self) -> Value:
        e = math.exp(self.data)
        return self._unary(e, e, "exp")

    def log(self) -> Value:
        if self.data <= 0:
            raise ValueError(f"log of a non-positive Value ({self.data})")
        return self._unary(math.log(self.data), 1.0 / self.data, "log")

    def tanh(self) -> Value:
        t = math.tanh(self.data)
        return self._unary(t, 1.0 - t * t, "tanh")

    def sigmoid(self) -> Value:
        # Two algebraically equal forms, each free of overflow on its own side of zero.
        x = self.data
        s = 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))
        return self._unary(s, s * (1.0 - s), "sigmoid")

    def relu(self) -> Value:
        return self._unary(max(self.data, 0.0), 1.0 if self.data > 0 else 0.0, "relu")

    # ----- backpropagation -----
    def topological_order(self) -> list[Value]:
        """Every node this one depends on, each listed after all the nodes it was computed from."""
        order: list[Value] = []
        visited: set[int] = set()
        stack: list[tuple[Value, bool]] = [(self, False)]
        # Iterative depth-first search, so deep graphs (long sums) do not hit Python's recursion limit.
        while stack:
            node, children_done = stack.pop()
            if children_done:
                order.append(node)
                continue
            if id(node) in visited:
                continue
            visited.add(id(node))
            stack.append((node, True))
            stack.extend((parent, False) for parent in node.parents if id(parent) not in visited)
        return order

    def backward(self) -> None:
        """Fill `.grad` of every node in the graph with d(self)/d(node) by the chain rule."""
        order = self.topological_order()
        for node in order:
            if node.parents:  # interior gradients are recomputed; leaves accumulate
                node.grad = 0.0
        self.grad = 1.0
        for node in reversed(order):
            node._backward()


class Neuron:
    """A single unit activation(w . x + b) built from Values: the smallest network to backpropagate through."""

    ACTIVATIONS = ("linear", "tanh", "sigmoid", "relu")

    def __init__(self, n_inputs: int, activation: str = "tanh", seed: int = 0):
        if activation not in self.ACTIVATIONS:
            raise ValueError(f"activation must be one of {self.ACTIVATIONS}, got {activation!r}")
        if n_inputs < 1:
            raise ValueError(f"n_inputs must be >= 1, got {n_inputs}")
        rng = random.Random(seed)
        self.weights = [Value(rng.uniform(-1, 1), label=f"w{i}") for i in range(n_inputs)]
        self.bias = Value(0.0, label="b")
        self.activation = activation

    def __call__(self, inputs: Iterable) -> Value:
        inputs = list(inputs)
        if len(inputs) != len(self.weights):
            raise ValueError(f"Neuron expects {len(self.weights)} inputs, got {len(inputs)}")
        net = sum((w * x for w, x in zip(self.weights, inputs, strict=True)), self.bias)
        return net if self.activation == "linear" else getattr(net, self.activation)()

    def parameters(self) -> list[Value]:
        return [*self.weights, self.bias]
