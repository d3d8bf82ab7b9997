"""Hidden units: logistic (and tanh) units saturate, their gradients vanish for large inputs; ReLU's do not.

For pre-activations z ~ N(0, sigma^2), the fraction of units whose gradient is below 1e-3 grows with sigma for
logistic, tanh and (on its negative side) ELU units, while for ReLU it stays one half at every scale (exactly
zero for z < 0, exactly one for z > 0) and for leaky ReLU it is zero: the gradient never vanishes.
"""

from __future__ import annotations

import numpy as np
import torch

from experiments.gallery._plotting import new_figure, plot_dir_from_argv, save_figure

ACTIVATIONS = {
    "logistic": torch.sigmoid,
    "tanh": torch.tanh,
    "ReLU": torch.relu,
    "leaky ReLU": lambda z: torch.nn.functional.leaky_relu(z, negative_slope=0.01),
    "ELU": torch.nn.functional.elu,
}
SCALES = (1.0, 3.0, 10.0, 30.0)
NEAR_ZERO = 1e-3


def activation_gradient(name: str, z: np.ndarray) -> np.ndarray:
    """d activation / dz at every element of z (any shape), by torch autograd."""
    z_t = torch.tensor(z, requires_grad=True)
    ACTIVATIONS[name](z_t).sum().backward()
    return z_t.grad.numpy()


def main(plot_dir: str | None = None) -> dict:
    torch.set_num_threads(1)
    standard = np.random.default_rng(0).standard_normal(100_000)
    near_zero = {name: {} for name in ACTIVATIONS}
    near_zero_positive = {name: {} for name in ACTIVATIONS}
    for scale in SCALES:
        z = scale * standard
        for name in ACTIVATIONS:
            small = np.abs(activation_gradient(name, z)) < NEAR_ZERO
            near_zero[name][scale] = float(small.mean())
            near_zero_positive[name][scale] = float(small[z > 0].mean())
    print(f"fraction of units with |gradient| < {NEAR_ZERO}, pre-activations z ~ N(0, sigma^2):")
    print("  sigma       " + "".join(f"{s:>8g}" for s in SCALES))
    for name in ACTIVATIONS:
        print(f"  {name:11s} " + "".join(f"{near_zero[name][s]:8.3f}" for s in SCALES))
    print("same, among z > 0 only:")
    for name in ACTIVATIONS:
        print(f"  {name:11s} " + "".join(f"{near_zero_positive[name][s]:8.3f}" for s in SCALES))
    if plot_dir is not None:
        _plot(plot_dir, near_zero)
    return {"scales": list(SCALES), "near_zero_fraction": near_zero, "near_zero_fraction_positive": near_zero_positive}


def _plot(plot_dir, near_zero: dict) -> None:
    fig, (ax_f, ax_grad, ax_sat) = new_figure(ncols=3, panel_size=(3.6, 3.2))
    z = np.linspace(-5, 5, 501)
    for name, function in ACTIVATIONS.items():
        ax_f.plot(z, function(torch.tensor(z)).numpy(), label=name)
        ax_grad.plot(z, activation_gradient(name, z), label=name)
        ax_sat.semilogx(SCALES, [near_zero[name][s] for s in SCALES], "o-", label=name)
    ax_f.set(title="activation", xlabel="z", ylim=(-1.5, 3))
    ax_grad.set(title="gradient", xlabel="z")
    ax_sat.set(title=f"fraction |grad| < {NEAR_ZERO}", xlabel="sigma of z")
    ax_f.legend(fontsize="small")
    save_figure(fig, plot_dir, "hidden_units")


if __name__ == "__main__":
    main(plot_dir=plot_dir_from_argv())
