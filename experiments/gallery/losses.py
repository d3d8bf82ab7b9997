"""Loss functions: 0-1, square, cross-entropy (binary, multi-class) and hinge losses match torch and scikit-learn.

Each loss is written from its formula in the notes, averaged over a few examples, and compared with the
library version. The curves show how each one charges for a prediction on a positive example: 0-1 only
counts mistakes, cross-entropy grows without bound for a confident mistake, hinge stops at margin 1.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.metrics import hinge_loss, log_loss, zero_one_loss

from experiments.gallery._plotting import new_figure, plot_dir_from_argv, save_figure

# Binary labels in {0, 1} with predicted probabilities of a 1.
LABELS_01 = np.array([1.0, 0.0, 1.0, 1.0, 0.0])
PROBABILITIES = np.array([0.9, 0.2, 0.6, 0.3, 0.05])
# Regression targets and predictions.
TARGETS = np.array([3.0, -0.5, 2.0, 7.0])
PREDICTIONS = np.array([2.5, 0.0, 2.0, 8.0])
# Multi-class: logits (3 examples x 4 classes) and the true class of each.
CLASS_LOGITS = np.array([[2.0, 0.5, -1.0, 0.0], [0.1, 0.2, 3.0, -2.0], [1.0, 1.0, 1.0, 1.0]])
CLASSES = np.array([0, 3, 2])
# Hinge: labels in {-1, +1} and real-valued scores.
LABELS_PM = np.array([1.0, -1.0, 1.0, -1.0, 1.0])
SCORES = np.array([2.0, -0.5, 0.3, 0.4, -1.5])


def zero_one(y, y_hat):
    """J = 1 if y != y_hat else 0, averaged."""
    return float(np.mean(y != y_hat))


def square(y, y_hat):
    """J = (y - y_hat)^2, averaged."""
    return float(np.mean((y - y_hat) ** 2))


def binary_cross_entropy(y, p):
    """J = -y ln(p) - (1 - y) ln(1 - p), averaged; p is the predicted probability of a 1."""
    return float(np.mean(-y * np.log(p) - (1 - y) * np.log(1 - p)))


def cross_entropy(logits, classes):
    """J = -ln softmax(logits)[true class], averaged. logits: (N, K), classes: (N,) ints."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_softmax = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-np.mean(log_softmax[np.arange(len(classes)), classes]))


def hinge(y, score):
    """J = max(0, 1 - y * score), averaged; y in {-1, +1}."""
    return float(np.mean(np.maximum(0.0, 1 - y * score)))


def main(plot_dir: str | None = None) -> dict:
    torch.set_num_threads(1)
    predicted_labels = (PROBABILITIES > 0.5).astype(float)
    pairs = {
        "zero_one": (zero_one(LABELS_01, predicted_labels), zero_one_loss(LABELS_01, predicted_labels)),
        "square": (square(TARGETS, PREDICTIONS),
                   F.mse_loss(torch.tensor(PREDICTIONS), torch.tensor(TARGETS)).item()),
        "binary_cross_entropy": (binary_cross_entropy(LABELS_01, PROBABILITIES),
                                 F.binary_cross_entropy(torch.tensor(PROBABILITIES), torch.tensor(LABELS_01)).item()),
        "cross_entropy": (cross_entropy(CLASS_LOGITS, CLASSES),
                          F.cross_entropy(torch.tensor(CLASS_LOGITS), torch.tensor(CLASSES)).item()),
        "hinge": (hinge(LABELS_PM, SCORES), hinge_loss(LABELS_PM, SCORES)),
    }
    results = {name: {"ours": ours, "library": float(lib), "abs_diff": abs(ours - float(lib))}
               for name, (ours, lib) in pairs.items()}
    results["binary_cross_entropy"]["sklearn_log_loss"] = float(log_loss(LABELS_01, PROBABILITIES))
    # Uniform logits over K classes cost exactly ln K: the "knows nothing" baseline.
    results["cross_entropy"]["uniform_example"] = cross_entropy(CLASS_LOGITS[2:], CLASSES[2:])
    for name, r in results.items():
        print(f"{name:21s} from the formula {r['ours']:.6f}   library {r['library']:.6f}   diff {r['abs_diff']:.1e}")
    print(f"cross-entropy of uniform logits over 4 classes {results['cross_entropy']['uniform_example']:.6f} "
          f"= ln 4 = {np.log(4):.6f}")
    if plot_dir is not None:
        fig, ax = new_figure(panel_size=(5.0, 3.5))
        score = np.linspace(-3, 3, 601)  # a positive example's score; probability = logistic(score)
        probability = 1 / (1 + np.exp(-score))
        ax.plot(score, (score <= 0).astype(float), label="0-1")
        ax.plot(score, (1 - probability) ** 2, label="square (on probability)")
        ax.plot(score, -np.log(probability), label="cross-entropy")
        ax.plot(score, np.maximum(0, 1 - score), label="hinge")
        ax.set(xlabel="score of a positive example", ylabel="loss", ylim=(0, 4), title="losses for y = 1")
        ax.legend(fontsize="small")
        save_figure(fig, plot_dir, "losses")
    return results


if __name__ == "__main__":
    main(plot_dir=plot_dir_from_argv())
