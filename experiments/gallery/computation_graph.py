"""Computation graphs: backprop on a scalar graph gives the same gradients as torch.autograd.

nets.teaching.scalar_autograd records each operation as a node; `backward()` visits the nodes in reverse
topological order and applies the chain rule, adding up the contributions of every path (the multivariate
chain rule). Checked on an expression that uses every operation and on a tanh neuron.
"""

from __future__ import annotations

import math

import torch

from experiments.gallery._plotting import new_figure, plot_dir_from_argv, save_figure
from nets.teaching import Value

INPUTS = {"a": 2.0, "b": -3.0, "c": 10.0}
# The tanh neuron from Karpathy's micrograd lecture: the bias makes the output a round 0.7071.
NEURON = {"x1": 2.0, "x2": 0.0, "w1": -3.0, "w2": 1.0, "b": 6.8813735870195432}


def expression(a, b, c):
    """Uses +, -, *, /, **, exp, log, tanh, sigmoid, relu; `a, b, c` are Values or torch tensors alike."""
    d = a * b + b**3
    e = (d / c).tanh()
    return e * a.sigmoid() - (c * c + 1).log() + (a - b).relu() + (d * 0.01).exp() / 2


def neuron(x1, w1, x2, w2, b):
    """o = tanh(x1 w1 + x2 w2 + b)."""
    return (x1 * w1 + x2 * w2 + b).tanh()


def gradients_both_ways(function, inputs: dict) -> tuple[float, dict, dict, Value]:
    """Evaluate `function(**inputs)` with Values and with float64 tensors; return the output, both gradient
    dicts (input name -> d output / d input) and the Value output (the graph's root)."""
    values = {name: Value(v, label=name) for name, v in inputs.items()}
    out = function(**values)
    out.backward()
    tensors = {name: torch.tensor(v, dtype=torch.float64, requires_grad=True) for name, v in inputs.items()}
    function(**tensors).backward()
    return (out.data, {n: v.grad for n, v in values.items()}, {n: float(t.grad) for n, t in tensors.items()},
            out)


def main(plot_dir: str | None = None) -> dict:
    torch.set_num_threads(1)
    results = {}
    for name, function, inputs in (("expression", expression, INPUTS), ("neuron", neuron, NEURON)):
        output, ours, theirs, root = gradients_both_ways(function, inputs)
        diff = max(abs(ours[k] - theirs[k]) for k in inputs)
        results[name] = {"output": output, "gradients": ours, "max_abs_diff_vs_torch": diff}
        print(f"{name}: output {output:.6f}")
        for k in inputs:
            print(f"  d/d{k:3s} scalar graph {ours[k]: .10f}   torch {theirs[k]: .10f}")
        print(f"  max |difference| {diff:.1e}")
        if name == "neuron" and plot_dir is not None:
            _plot_graph(plot_dir, root)
    # The neuron by hand: do/dw1 = x1 (1 - o^2), the chain rule written out once.
    o = math.tanh(sum(NEURON[x] * NEURON[w] for x, w in (("x1", "w1"), ("x2", "w2"))) + NEURON["b"])
    results["neuron"]["hand_dw1"] = NEURON["x1"] * (1 - o * o)
    print(f"by hand: do/dw1 = x1 (1 - o^2) = {results['neuron']['hand_dw1']:.10f}")
    return results


def _plot_graph(plot_dir, root: Value) -> None:
    """Draw the graph left (inputs) to right (output), each node showing data and grad."""
    order = root.topological_order()
    depth: dict[int, int] = {}
    for node in order:  # parents come first, so their depth is known
        depth[id(node)] = 1 + max((depth[id(p)] for p in node.parents), default=-1)
    columns: dict[int, list[Value]] = {}
    for node in order:
        columns.setdefault(depth[id(node)], []).append(node)
    position = {id(n): (d, i - (len(col) - 1) / 2) for d, col in columns.items() for i, n in enumerate(col)}
    fig, ax = new_figure(panel_size=(9.0, 4.0))
    for node in order:
        for parent in node.parents:
            (x0, y0), (x1, y1) = position[id(parent)], position[id(node)]
            ax.annotate("", (x1, y1), (x0, y0), arrowprops=dict(arrowstyle="->", color="0.6"))
    for node in order:
        name = node.label or node.op
        ax.text(*position[id(node)], f"{name}\ndata {node.data:.3g}\ngrad {node.grad:.3g}", ha="center",
                va="center", fontsize=7, bbox=dict(boxstyle="round", facecolor="w"))
    spread = max(len(col) for col in columns.values())
    ax.set(xlim=(-0.6, max(columns) + 0.6), ylim=(-spread / 2 - 0.2, spread / 2 + 0.2),
           title="o = tanh(x1 w1 + x2 w2 + b) after backward()")
    ax.set_axis_off()
    save_figure(fig, plot_dir, "computation_graph")


if __name__ == "__main__":
    main(plot_dir=plot_dir_from_argv())
