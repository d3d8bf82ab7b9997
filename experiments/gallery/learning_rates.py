"""Learning rates: on a quadratic, too small an eta crawls, a good eta converges fast, too large an eta diverges.

Gradient descent on f(w) = 1/2 (1 w_1^2 + 10 w_2^2) multiplies each coordinate by (1 - eta * curvature) per
step, so it converges only if eta < 2 / (largest curvature) = 0.2; the best constant step for this quadratic
is 2 / (smallest + largest curvature) = 2/11.
"""

from __future__ import annotations

import numpy as np

from experiments.gallery._plotting import new_figure, plot_dir_from_argv, save_figure

CURVATURES = np.array([1.0, 10.0])
START = np.array([2.0, 1.0])
STEPS = 100
LEARNING_RATES = {"too_small": 0.001, "good": float(2.0 / (CURVATURES.min() + CURVATURES.max())), "too_large": 0.21}


def loss(w: np.ndarray) -> np.ndarray:
    """f(w) = 1/2 sum_i c_i w_i^2 over the last axis. w: (..., 2) -> (...)."""
    return 0.5 * np.sum(CURVATURES * w**2, axis=-1)


def gradient_descent(eta: float, steps: int = STEPS) -> np.ndarray:
    """Iterates w_0..w_steps of w <- w - eta * grad f(w). Returns (steps + 1, 2)."""
    path = [START]
    for _ in range(steps):
        path.append(path[-1] - eta * CURVATURES * path[-1])
    return np.array(path)


def main(plot_dir: str | None = None) -> dict:
    initial = float(loss(START))
    print(f"f(w) = 1/2 (w1^2 + 10 w2^2), start {START}, f = {initial}; stable iff eta < {2 / CURVATURES.max()}")
    results = {}
    paths = {}
    for label, eta in LEARNING_RATES.items():
        paths[label] = path = gradient_descent(eta)
        # Independent check: each coordinate is exactly a geometric sequence (1 - eta c_i)^t w_i(0).
        closed_form = (1 - eta * CURVATURES) ** STEPS * START
        results[label] = {
            "eta": eta,
            "final_loss": float(loss(path[-1])),
            "loss_ratio": float(loss(path[-1]) / initial),
            "closed_form_rel_diff": float(np.abs(path[-1] - closed_form).max() / max(1.0, np.abs(closed_form).max())),
        }
        print(f"eta = {eta:.4f} ({label:9s}): f after {STEPS} steps = {results[label]['final_loss']:.3e} "
              f"({results[label]['loss_ratio']:.2e} of the start)")
    if plot_dir is not None:
        _plot(plot_dir, paths)
    return {"initial_loss": initial, "stability_limit": float(2 / CURVATURES.max()), **results}


def _plot(plot_dir, paths: dict) -> None:
    fig, (ax_path, ax_loss) = new_figure(ncols=2)
    grid = np.stack(np.meshgrid(np.linspace(-2.5, 2.5, 101), np.linspace(-1.5, 1.5, 101)), axis=-1)
    ax_path.contour(grid[..., 0], grid[..., 1], loss(grid), levels=15, colors="0.8")
    for label, path in paths.items():
        ax_path.plot(*path[:12].T, ".-", label=label)
        ax_loss.semilogy(loss(path), label=label)
    ax_path.set(xlim=(-2.5, 2.5), ylim=(-1.5, 1.5), title="first 11 steps", xlabel="w1", ylabel="w2")
    ax_path.legend(fontsize="small")
    ax_loss.set(title="loss per step", xlabel="step", ylabel="f(w)")
    save_figure(fig, plot_dir, "learning_rates")


if __name__ == "__main__":
    main(plot_dir=plot_dir_from_argv())
