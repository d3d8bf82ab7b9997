"""One-hot encoding: a linear unit learns "red is good, others bad" from one-hot colours, not integer codes.

Integer codes (green=1, red=2, blue=3) put red between the other two, and a single threshold on one number
can only split the line once, so at best 2 of 3 colours come out right. One-hot vectors give each colour its
own weight: least squares puts +1 on red and -1 on the others, and every example is classified correctly.
"""

from __future__ import annotations

import numpy as np

from experiments.gallery._plotting import new_figure, plot_dir_from_argv, save_figure
from nets.teaching import Perceptron

COLOURS = ("green", "red", "blue")  # integer code = position + 1, so red sits in the middle
GOOD_COLOUR = "red"


def colour_dataset(copies: int = 10) -> tuple[list[str], np.ndarray]:
    """`copies` examples of each colour and their labels (+1 for red, -1 otherwise). y: (3 * copies,)."""
    colours = [colour for colour in COLOURS for _ in range(copies)]
    return colours, np.array([1.0 if colour == GOOD_COLOUR else -1.0 for colour in colours])


def integer_codes(colours: list[str]) -> np.ndarray:
    """(N, 1) feature: green=1, red=2, blue=3."""
    return np.array([[COLOURS.index(colour) + 1.0] for colour in colours])


def one_hot(colours: list[str]) -> np.ndarray:
    """(N, 3) feature: one column per colour in COLOURS order, a single 1 per row."""
    return np.eye(len(COLOURS))[[COLOURS.index(colour) for colour in colours]]


def best_threshold_accuracy(x: np.ndarray, y: np.ndarray) -> float:
    """The best accuracy of any threshold unit sign(w x + b) on one feature x: (N,), found by trying every
    cut between (and beyond) the distinct values, with positives above or below the cut."""
    values = np.unique(x)
    cuts = np.concatenate([[values[0] - 1], (values[:-1] + values[1:]) / 2, [values[-1] + 1]])
    return max(float(np.mean(np.where(direction * (x - cut) > 0, 1.0, -1.0) == y))
               for cut in cuts for direction in (1.0, -1.0))


def main(plot_dir: str | None = None) -> dict:
    colours, y = colour_dataset()
    X_int, X_hot = integer_codes(colours), one_hot(colours)
    int_best = best_threshold_accuracy(X_int[:, 0], y)
    int_perceptron = Perceptron(learning_rate=0.1, max_epochs=100).fit(X_int, y)
    # One-hot columns already sum to the constant 1, so no separate bias is needed for least squares.
    hot_weights, *_ = np.linalg.lstsq(X_hot, y, rcond=None)
    hot_accuracy = float(np.mean(np.where(X_hot @ hot_weights > 0, 1.0, -1.0) == y))
    hot_perceptron = Perceptron(learning_rate=0.1, max_epochs=100).fit(X_hot, y)
    print(f"integer codes {dict(zip(COLOURS, range(1, 4), strict=True))}: best threshold unit accuracy "
          f"{int_best:.3f}; perceptron converged: {int_perceptron.converged_}")
    print(f"one-hot least-squares weights {dict(zip(COLOURS, np.round(hot_weights, 3).tolist(), strict=True))}: "
          f"accuracy {hot_accuracy:.3f}; perceptron converged: {hot_perceptron.converged_} "
          f"after {len(hot_perceptron.errors_per_epoch_)} epochs")
    if plot_dir is not None:
        fig, (ax_int, ax_hot) = new_figure(ncols=2)
        codes = np.arange(1, 4)
        ax_int.bar(codes, [1 if c == GOOD_COLOUR else -1 for c in COLOURS], color=["g", "r", "b"])
        ax_int.set(xticks=codes, xticklabels=COLOURS, title="integer code: target is not monotone",
                   ylabel="target")
        ax_hot.bar(COLOURS, hot_weights, color=["g", "r", "b"])
        ax_hot.set(title="one-hot: one weight per colour", ylabel="least-squares weight")
        save_figure(fig, plot_dir, "one_hot")
    return {
        "integer_best_accuracy": int_best,
        "integer_perceptron_converged": int_perceptron.converged_,
        "integer_perceptron_accuracy": int_perceptron.score(X_int, y),
        "one_hot_accuracy": hot_accuracy,
        "one_hot_weights": dict(zip(COLOURS, hot_weights.tolist(), strict=True)),
        "one_hot_perceptron_converged": hot_perceptron.converged_,
    }


if __name__ == "__main__":
    main(plot_dir=plot_dir_from_argv())
