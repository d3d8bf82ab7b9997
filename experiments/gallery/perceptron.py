"""Perceptron: the perceptron rule reaches 0 training errors on linearly separable data, never on XOR.

Rule: w_j <- w_j + eta (y - y_hat) x_j, with y_hat the thresholded output. The convergence theorem needs
linearly separable data; XOR is not (any line misclassifies at least one of its four points), so the
mistakes per epoch never reach zero however long it trains.
"""

from __future__ import annotations

import numpy as np

from experiments.gallery._plotting import new_figure, plot_dir_from_argv, save_figure
from nets.teaching import Perceptron

XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_Y = np.array([-1.0, 1.0, 1.0, -1.0])


def separable_points(n_points: int = 100, margin: float = 0.2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Uniform points in [-3, 3]^2 labelled by the side of the line x1 + 2 x2 = 1, none within `margin` of it
    (so the data are separable by construction). X: (N, 2), y: (N,) of +1/-1, N <= n_points."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-3.0, 3.0, size=(n_points, 2))
    signed_distance = (X @ np.array([1.0, 2.0]) - 1.0) / np.sqrt(5.0)
    keep = np.abs(signed_distance) > margin
    return X[keep], np.where(signed_distance[keep] > 0, 1.0, -1.0)


def main(plot_dir: str | None = None) -> dict:
    X, y = separable_points()
    separable = Perceptron(learning_rate=0.1, max_epochs=100).fit(X, y)
    xor = Perceptron(learning_rate=0.1, max_epochs=100).fit(XOR_X, XOR_Y)
    xor_training_errors = int(np.sum(xor.predict(XOR_X) != XOR_Y))
    print(f"separable points ({len(X)} points): mistakes per epoch {separable.errors_per_epoch_}")
    print(f"  converged after {len(separable.errors_per_epoch_)} epochs, "
          f"w = {np.round(separable.weights_, 3)}, b = {separable.bias_:.3f}")
    print(f"XOR: mistakes per epoch (first 10 of 100) {xor.errors_per_epoch_[:10]}; "
          f"fewest in any epoch {min(xor.errors_per_epoch_)}; converged: {xor.converged_}")
    if plot_dir is not None:
        _plot(plot_dir, X, y, separable, xor)
    return {
        "separable_epochs": len(separable.errors_per_epoch_),
        "separable_converged": separable.converged_,
        "separable_training_errors": int(np.sum(separable.predict(X) != y)),
        "xor_epochs": len(xor.errors_per_epoch_),
        "xor_converged": xor.converged_,
        "xor_min_mistakes_per_epoch": min(xor.errors_per_epoch_),
        "xor_training_errors": xor_training_errors,
    }


def _plot(plot_dir, X, y, separable: Perceptron, xor: Perceptron) -> None:
    fig, (ax_data, ax_errors) = new_figure(ncols=2)
    ax_data.scatter(*X[y > 0].T, marker="o", label="+1")
    ax_data.scatter(*X[y < 0].T, marker="x", label="-1")
    w, b = separable.weights_, separable.bias_
    xs = np.linspace(X[:, 0].min(), X[:, 0].max(), 2)
    ax_data.plot(xs, -(w[0] * xs + b) / w[1], "k-", label="learned boundary")
    ax_data.set_ylim(X[:, 1].min() - 0.2, X[:, 1].max() + 0.2)
    ax_data.set(title="separable data", xlabel="x1", ylabel="x2")
    ax_data.legend(fontsize="small")
    ax_errors.plot(separable.errors_per_epoch_, "o-", label="separable")
    ax_errors.plot(xor.errors_per_epoch_[:30], ".-", label="XOR (never 0)")
    ax_errors.set(title="mistakes per epoch", xlabel="epoch", ylabel="mistakes")
    ax_errors.legend(fontsize="small")
    save_figure(fig, plot_dir, "perceptron")


if __name__ == "__main__":
    main(plot_dir=plot_dir_from_argv())
