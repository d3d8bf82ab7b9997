"""Batching gradient descent: per example seen small batches learn fastest; per step full batches do, smoothly.

The same least-squares problem is minimised three ways: batch gradient descent (one step per pass over all N
examples), mini-batch SGD (a step per 32 examples) and pure SGD (a step per example). All three evaluate the
same number of per-example gradients in an epoch, but SGD takes N steps where batch GD takes one, so after
one epoch it is far further along. Counted per update step the order reverses: a full-batch step uses the
exact gradient and takes a larger learning rate, and batch GD's loss falls monotonically while SGD's jitters.
Memory goes with the batch: one step holds batch_size x d inputs (the chapter's "SGD saves on memory").
The excess loss is measured against the exact minimum from numpy's least squares.
"""

from __future__ import annotations

import numpy as np

from experiments.gallery._plotting import new_figure, plot_dir_from_argv, save_figure

N_EXAMPLES, N_FEATURES, EPOCHS = 1000, 10, 10
COMPARE_AT_STEP = 10
SEED = 0
# batch size and learning rate per method; steps shrink as batches shrink because the gradient gets noisier
METHODS = {"batch GD": (N_EXAMPLES, 0.2), "mini-batch SGD (32)": (32, 0.05), "pure SGD (1)": (1, 0.01)}


def make_problem(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Linear data with features on different scales (an ill-conditioned bowl). X (N, d), y (N,)."""
    scales = np.geomspace(0.1, 2.0, N_FEATURES)
    X = rng.normal(size=(N_EXAMPLES, N_FEATURES)) * scales
    y = X @ rng.normal(size=N_FEATURES) + rng.normal(0.0, 0.5, N_EXAMPLES)
    return X, y


def loss(w: np.ndarray, X: np.ndarray, y: np.ndarray) -> float:
    """Mean of 0.5 (x . w - y)^2 over the rows of X."""
    return float(0.5 * np.mean((X @ w - y) ** 2))


def train(X: np.ndarray, y: np.ndarray, batch_size: int, lr: float, seed: int) -> dict:
    """Mini-batch gradient descent from w = 0 for EPOCHS epochs, reshuffling each epoch.

    Returns the full-data loss after every step (steps,) and after every epoch (EPOCHS + 1,).
    """
    rng = np.random.default_rng(seed)
    w = np.zeros(X.shape[1])
    per_step, per_epoch = [], [loss(w, X, y)]
    for _ in range(EPOCHS):
        order = rng.permutation(len(X))
        for first in range(0, len(X), batch_size):
            batch = order[first:first + batch_size]
            residual = X[batch] @ w - y[batch]
            w = w - lr * X[batch].T @ residual / len(batch)
            per_step.append(loss(w, X, y))
        per_epoch.append(loss(w, X, y))
    return {"per_step": np.array(per_step), "per_epoch": np.array(per_epoch)}


def main(plot_dir: str | None = None) -> dict:
    rng = np.random.default_rng(SEED)
    X, y = make_problem(rng)
    best = loss(np.linalg.lstsq(X, y, rcond=None)[0], X, y)
    print(f"least squares, N = {N_EXAMPLES}, d = {N_FEATURES}; exact minimum loss {best:.4f}; {EPOCHS} epochs each")
    print(f"  {'method':20s} {'steps/epoch':>11s} {'floats/step':>11s} {'excess after 1 epoch':>21s} "
          f"{'last epoch':>11s} {f'step {COMPARE_AT_STEP}':>8s}  monotone")
    results, curves = {}, {}
    for name, (batch_size, lr) in METHODS.items():
        run = train(X, y, batch_size, lr, SEED)
        curves[name] = run
        excess = run["per_epoch"] - best
        steps = int(np.ceil(N_EXAMPLES / batch_size))
        monotone = bool(np.all(np.diff(run["per_step"]) <= 1e-12))
        results[name] = {"batch_size": batch_size, "lr": lr, "steps_per_epoch": steps,
                         "floats_per_step": batch_size * N_FEATURES, "excess_loss_per_epoch": excess.tolist(),
                         "excess_loss_at_step": float(run["per_step"][COMPARE_AT_STEP - 1] - best),
                         "monotone_per_step": monotone}
        print(f"  {name:20s} {steps:11d} {batch_size * N_FEATURES:11d} {excess[1]:21.4f} {excess[-1]:11.4f}"
              f" {results[name]['excess_loss_at_step']:8.3f}  {monotone}")
    if plot_dir is not None:
        _plot(plot_dir, curves, best)
    return {"min_loss": best, "methods": results}


def _plot(plot_dir, curves: dict, best: float) -> None:
    fig, (ax_epoch, ax_step) = new_figure(ncols=2, panel_size=(4.5, 3.5))
    for name, run in curves.items():
        ax_epoch.semilogy(np.arange(EPOCHS + 1), run["per_epoch"] - best, "o-", markersize=3, label=name)
        ax_step.loglog(np.arange(1, len(run["per_step"]) + 1), run["per_step"] - best, label=name)
    ax_epoch.set(title="excess loss per epoch (= N gradients)", xlabel="epoch", ylabel="loss - min loss")
    ax_step.set(title="excess loss per update step", xlabel="step", ylabel="loss - min loss")
    ax_epoch.legend(fontsize="small")
    save_figure(fig, plot_dir, "gradient_descent_batching")


if __name__ == "__main__":
    main(plot_dir=plot_dir_from_argv())
