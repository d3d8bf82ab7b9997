"""Output units: on the same logits a linear output is unbounded, logistic outputs lie in (0, 1), softmax rows sum to 1.

Linear outputs suit regression; a logistic output is one independent probability per unit (multi-label);
softmax exp(z_k) / sum_j exp(z_j) turns a row into one distribution over classes. Softmax ignores adding a
constant to every logit, and with two classes it is the logistic of the logit difference.
"""

from __future__ import annotations

import numpy as np
import torch

from experiments.gallery._plotting import new_figure, plot_dir_from_argv, save_figure

LOGITS = np.array([
    [2.0, 1.0, 0.1],
    [-1.0, 3.5, 0.0],
    [0.0, 0.0, 0.0],
    [-4.0, -2.0, -3.0],
])


def logistic(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax of z: (N, K). Subtracting the row max changes nothing but avoids overflow."""
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def main(plot_dir: str | None = None) -> dict:
    torch.set_num_threads(1)
    outputs = {"linear": LOGITS, "logistic": logistic(LOGITS), "softmax": softmax(LOGITS)}
    results = {name: {"min": float(out.min()), "max": float(out.max()), "row_sums": out.sum(axis=1).tolist()}
               for name, out in outputs.items()}
    logits_t = torch.tensor(LOGITS)
    results["softmax"]["vs_torch"] = float(np.abs(softmax(LOGITS) - torch.softmax(logits_t, 1).numpy()).max())
    results["logistic"]["vs_torch"] = float(np.abs(logistic(LOGITS) - torch.sigmoid(logits_t).numpy()).max())
    results["softmax"]["shift_invariance"] = float(np.abs(softmax(LOGITS + 100.0) - softmax(LOGITS)).max())
    two_class = softmax(LOGITS[:, :2])[:, 0]
    results["softmax"]["two_class_vs_logistic"] = float(
        np.abs(two_class - logistic(LOGITS[:, 0] - LOGITS[:, 1])).max())
    print(f"logits (4 examples x 3 units):\n{LOGITS}")
    for name, out in outputs.items():
        print(f"{name:8s} range [{out.min():.4f}, {out.max():.4f}], row sums {np.round(out.sum(axis=1), 4)}")
    print(f"softmax(z + 100) - softmax(z): {results['softmax']['shift_invariance']:.1e}; 2-class softmax vs "
          f"logistic(z1 - z2): {results['softmax']['two_class_vs_logistic']:.1e}")
    if plot_dir is not None:
        fig, axes = new_figure(ncols=3, panel_size=(3.2, 3.0))
        for ax, (name, out) in zip(axes, outputs.items(), strict=True):
            ax.bar(np.arange(3) - 0.2, out[0], width=0.4, label="example 0")
            ax.bar(np.arange(3) + 0.2, out[1], width=0.4, label="example 1")
            ax.axhline(0, color="k", linewidth=0.5)
            ax.set(title=name, xticks=range(3), xlabel="output unit")
        axes[0].legend(fontsize="small")
        save_figure(fig, plot_dir, "output_units")
    return results


if __name__ == "__main__":
    main(plot_dir=plot_dir_from_argv())
