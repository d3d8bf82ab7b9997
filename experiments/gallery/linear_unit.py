"""Linear unit: the delta rule fits y_hat = x w + b to the same weights as least squares (np.linalg.lstsq).

The update w_j <- w_j + eta (y - y_hat) x_j with y_hat the raw linear output is gradient descent on the
squared error; averaged over the data (batch mode) it converges to the least-squares solution, one example
at a time (online) it hovers near it. Thresholding the fitted unit, o(x) = +1 if x w + b > 0 else -1,
turns it into a classifier.
"""

from __future__ import annotations

import numpy as np

from experiments.gallery._plotting import new_figure, plot_dir_from_argv, save_figure
from nets.teaching import LinearUnit

TRUE_WEIGHTS = np.array([2.0, -1.0, 0.5])
TRUE_BIAS = 0.3


def noisy_linear_data(n: int = 200, noise: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """X: (n, 3) standard normal features; y: (n,) = X TRUE_WEIGHTS + TRUE_BIAS + Gaussian noise."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, len(TRUE_WEIGHTS)))
    return X, X @ TRUE_WEIGHTS + TRUE_BIAS + rng.normal(0.0, noise, size=n)


def main(plot_dir: str | None = None) -> dict:
    X, y = noisy_linear_data()
    # Least squares on [X, 1]: the bias is the weight w_0 of a constant input x_0 = 1.
    solution, *_ = np.linalg.lstsq(np.column_stack([X, np.ones(len(X))]), y, rcond=None)
    lstsq_weights, lstsq_bias = solution[:-1], solution[-1]
    batch = LinearUnit(learning_rate=0.5, epochs=300, mode="batch").fit(X, y)
    online = LinearUnit(learning_rate=0.01, epochs=30, mode="online").fit(X, y)
    batch_diff = max(np.abs(batch.weights_ - lstsq_weights).max(), abs(batch.bias_ - lstsq_bias))
    online_diff = max(np.abs(online.weights_ - lstsq_weights).max(), abs(online.bias_ - lstsq_bias))
    print(f"true          w = {TRUE_WEIGHTS}, b = {TRUE_BIAS}")
    print(f"least squares w = {np.round(lstsq_weights, 6)}, b = {lstsq_bias:.6f}")
    print(f"delta (batch) w = {np.round(batch.weights_, 6)}, b = {batch.bias_:.6f}  max diff {batch_diff:.2e}")
    print(f"delta (online)w = {np.round(online.weights_, 6)}, b = {online.bias_:.6f}  max diff {online_diff:.2e}")
    # The threshold output o(x) classifies "is y above 0?"; with noise 0.1 it agrees almost always.
    agreement = float(np.mean(batch.classify(X) == np.where(y > 0, 1.0, -1.0)))
    print(f"threshold output o(x) agrees with sign(y) on {agreement:.1%} of examples")
    if plot_dir is not None:
        fig, ax = new_figure()
        ax.semilogy(batch.loss_per_epoch_, label="batch delta rule")
        ax.semilogy(online.loss_per_epoch_, label="online delta rule")
        best = float(np.mean((y - X @ lstsq_weights - lstsq_bias) ** 2))
        ax.axhline(best, color="k", linestyle="--", label="least squares")
        ax.set(xlabel="epoch", ylabel="mean squared error", title="delta rule vs least squares")
        ax.legend(fontsize="small")
        save_figure(fig, plot_dir, "linear_unit")
    return {
        "lstsq_weights": lstsq_weights.tolist(),
        "lstsq_bias": float(lstsq_bias),
        "batch_weights": batch.weights_.tolist(),
        "batch_bias": float(batch.bias_),
        "batch_max_abs_diff": float(batch_diff),
        "online_max_abs_diff": float(online_diff),
        "threshold_agreement": agreement,
    }


if __name__ == "__main__":
    main(plot_dir=plot_dir_from_argv())
