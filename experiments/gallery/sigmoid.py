"""Sigmoid unit: S(x) = 1/(1+e^-x) maps 0 to 1/2, stays inside (0, 1), has S' = S(1-S), and tanh(x) = 2S(2x)-1.

The sigmoid is a smooth threshold: far from 0 it is flat (its slope S(1-S) is at most 1/4, at x = 0), which
is what makes deep stacks of sigmoid units slow to train. tanh is the same curve stretched to (-1, 1).
"""

from __future__ import annotations

import numpy as np
import torch

from experiments.gallery._plotting import new_figure, plot_dir_from_argv, save_figure


def sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-x)), written so neither side overflows. Any shape."""
    x = np.asarray(x, dtype=np.float64)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def main(plot_dir: str | None = None) -> dict:
    torch.set_num_threads(1)
    x = np.linspace(-30, 30, 6001)
    s = sigmoid(x)
    step = 1e-5
    finite_difference = (sigmoid(x + step) - sigmoid(x - step)) / (2 * step)
    x_t = torch.tensor(x, requires_grad=True)
    torch.sigmoid(x_t).sum().backward()  # each output depends on its own input, so this is S'(x) per point
    results = {
        "s_at_0": float(sigmoid(0.0)),
        "min": float(s.min()),
        "max": float(s.max()),
        "max_slope": float((s * (1 - s)).max()),
        "derivative_vs_finite_difference": float(np.abs(finite_difference - s * (1 - s)).max()),
        "derivative_vs_torch": float(np.abs(x_t.grad.numpy() - s * (1 - s)).max()),
        "tanh_identity_max_abs_diff": float(np.abs(np.tanh(x) - (2 * sigmoid(2 * x) - 1)).max()),
    }
    print(f"S(0) = {results['s_at_0']}; on [-30, 30]: min S = {results['min']:.3e}, max S = 1 - "
          f"{1 - results['max']:.3e}")
    print(f"S'(x) = S(1-S): max |error| vs finite differences {results['derivative_vs_finite_difference']:.1e}, "
          f"vs torch autograd {results['derivative_vs_torch']:.1e}; largest slope {results['max_slope']} at x = 0")
    print(f"tanh(x) = 2 S(2x) - 1: max |difference| {results['tanh_identity_max_abs_diff']:.1e}")
    if plot_dir is not None:
        fig, ax = new_figure(panel_size=(5.0, 3.5))
        near = np.abs(x) <= 6
        ax.plot(x[near], s[near], label="S(x)")
        ax.plot(x[near], (s * (1 - s))[near], label="S'(x) = S(1-S)")
        ax.plot(x[near], np.tanh(x[near]), label="tanh(x) = 2S(2x)-1")
        ax.step(x[near], (x[near] > 0).astype(float), where="mid", color="0.6", linestyle=":", label="threshold")
        ax.set(xlabel="x", title="the sigmoid unit")
        ax.legend(fontsize="small")
        save_figure(fig, plot_dir, "sigmoid")
    return results


if __name__ == "__main__":
    main(plot_dir=plot_dir_from_argv())
