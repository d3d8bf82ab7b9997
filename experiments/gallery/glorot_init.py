"""Initialization: through 10 tanh or ReLU layers, N(0, 0.01) weights shrink activations to nothing; Glorot keeps them.

Each layer multiplies the activations' spread by about (weight std) * sqrt(fan-in) * (activation slope): with
std 0.01 and 256 inputs that is 0.16 per layer, 1e-8 after ten. Glorot's r = a sqrt(6 / (n_in + n_out)) (uniform)
or sigma = a sqrt(2 / (n_in + n_out)) (normal) makes the factor about `a` times the slope, so the spread stays
put. The chapter's gain table (nets.init.CHAPTER_GAINS: logistic 1, tanh 4, ReLU sqrt(2)) keeps ReLU steady,
but tanh's 4 drives most tanh units into saturation; Glorot and Bengio's factor 4 belongs to the logistic
unit (slope 1/4 at 0), and torch's calculate_gain("tanh") = 5/3 keeps tanh steady without saturating.
"""

from __future__ import annotations

import torch

from experiments.gallery._plotting import new_figure, plot_dir_from_argv, save_figure
from nets.init import CHAPTER_GAINS, gain, glorot_normal_, glorot_uniform_

DEPTH, WIDTH, BATCH = 10, 256, 1000
ACTIVATIONS = {"tanh": torch.tanh, "relu": torch.relu}


def init_weight(weight: torch.Tensor, scheme: str, activation: str, generator: torch.Generator) -> None:
    """Fill a (WIDTH, WIDTH) weight in place by `scheme`."""
    with torch.no_grad():
        if scheme == "small N(0, 0.01)":
            weight.normal_(0.0, 0.01, generator=generator)
        elif scheme == "Glorot uniform (chapter gain)":
            glorot_uniform_(weight, CHAPTER_GAINS[activation], generator=generator)
        elif scheme == "Glorot normal (chapter gain)":
            glorot_normal_(weight, CHAPTER_GAINS[activation], generator=generator)
        elif scheme == "Glorot normal (torch gain)":
            glorot_normal_(weight, gain(activation, convention="torch"), generator=generator)
        else:
            raise ValueError(f"unknown scheme {scheme!r}")


SCHEMES = ("small N(0, 0.01)", "Glorot uniform (chapter gain)", "Glorot normal (chapter gain)",
           "Glorot normal (torch gain)")


def layer_statistics(scheme: str, activation: str, seed: int = 0) -> tuple[list[float], float]:
    """Forward BATCH standard-normal inputs through DEPTH bias-free layers; return the activations' std after
    each layer and the fraction of last-layer units with |activation| > 0.99 (saturated, for tanh)."""
    generator = torch.Generator().manual_seed(seed)
    h = torch.randn(BATCH, WIDTH, generator=generator)
    stds = []
    weight = torch.empty(WIDTH, WIDTH)
    for _ in range(DEPTH):
        init_weight(weight, scheme, activation, generator)
        h = ACTIVATIONS[activation](h @ weight.T)
        stds.append(float(h.std()))
    return stds, float((h.abs() > 0.99).float().mean())


def main(plot_dir: str | None = None) -> dict:
    torch.set_num_threads(1)
    results: dict = {}
    print(f"{DEPTH} layers of {WIDTH} units, inputs N(0, 1); std of the activations after layers 1, 5, 10:")
    for activation in ACTIVATIONS:
        results[activation] = {}
        # ReLU's torch gain is the chapter's sqrt(2), so that row would repeat the chapter's.
        for scheme in SCHEMES if activation == "tanh" else SCHEMES[:3]:
            stds, saturated = layer_statistics(scheme, activation)
            results[activation][scheme] = {"stds": stds, "last_over_first": stds[-1] / stds[0],
                                           "saturated_fraction": saturated}
            print(f"  {activation:4s} {scheme:30s} {stds[0]:9.3g} {stds[4]:9.3g} {stds[-1]:9.3g}"
                  + (f"   saturated {saturated:.0%}" if activation == "tanh" else ""))
    print(f"chapter gains {CHAPTER_GAINS['tanh']} (tanh), {CHAPTER_GAINS['relu']:.4f} (ReLU); "
          f"torch's tanh gain {gain('tanh', convention='torch'):.4f}")
    if plot_dir is not None:
        fig, axes = new_figure(ncols=2)
        for ax, activation in zip(axes, ACTIVATIONS, strict=True):
            for scheme in results[activation]:
                ax.semilogy(range(1, DEPTH + 1), results[activation][scheme]["stds"], "o-", label=scheme)
            ax.set(title=f"{activation} layers", xlabel="layer", ylabel="activation std")
        axes[0].legend(fontsize="x-small")
        save_figure(fig, plot_dir, "glorot_init")
    return results


if __name__ == "__main__":
    main(plot_dir=plot_dir_from_argv())
