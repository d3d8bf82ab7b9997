"""Optimizers: numpy SGD, momentum, Nesterov, Adagrad, RMSProp and Adam match torch.optim step for step; raced.

The race is on the Rosenbrock valley f(x, y) = (1 - x)^2 + 100 (y - x^2)^2 from (-1.5, 2), minimum at (1, 1).
At the same learning rate momentum (and Nesterov's look-ahead) gets far further than plain SGD along the
flat valley floor; Adagrad's steps shrink as squared gradients pile up, so it stalls where RMSProp, which
forgets old gradients, keeps going; Adam adds momentum to RMSProp and gets further still.
"""

from __future__ import annotations

import numpy as np
import torch

from experiments.gallery._plotting import new_figure, plot_dir_from_argv, save_figure
from nets.teaching import numpy_optimizers

START = (-1.5, 2.0)
STEPS = 500
# name -> (optimizer class name shared by torch.optim and nets.teaching.numpy_optimizers, hyperparameters)
RACERS = {
    "SGD": ("SGD", dict(lr=1e-3)),
    "momentum": ("SGD", dict(lr=1e-3, momentum=0.9)),
    "Nesterov": ("SGD", dict(lr=1e-3, momentum=0.9, nesterov=True)),
    "Adagrad": ("Adagrad", dict(lr=0.05)),
    "RMSProp": ("RMSprop", dict(lr=0.05)),
    "Adam": ("Adam", dict(lr=0.05)),
}


def rosenbrock(x, y):
    """Works on floats, numpy arrays and torch tensors alike."""
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2


def rosenbrock_gradient(w: np.ndarray) -> np.ndarray:
    """Analytic gradient at w: (2,) -> (2,)."""
    x, y = w
    return np.array([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)])


def numpy_path(class_name: str, hyper: dict) -> np.ndarray:
    """Iterates of the numpy optimizer. Returns (STEPS + 1, 2)."""
    w = np.array(START)
    optimizer = getattr(numpy_optimizers, class_name)([w], **hyper)
    path = [w.copy()]
    for _ in range(STEPS):
        optimizer.step([rosenbrock_gradient(w)])
        path.append(w.copy())
    return np.array(path)


def torch_path(class_name: str, hyper: dict) -> np.ndarray:
    """Iterates of torch.optim's optimizer, gradients from autograd, in float64. Returns (STEPS + 1, 2)."""
    w = torch.tensor(START, dtype=torch.float64, requires_grad=True)
    optimizer = getattr(torch.optim, class_name)([w], **hyper)
    path = [w.detach().clone().numpy()]
    for _ in range(STEPS):
        optimizer.zero_grad()
        rosenbrock(w[0], w[1]).backward()
        optimizer.step()
        path.append(w.detach().clone().numpy())
    return np.array(path)


def main(plot_dir: str | None = None) -> dict:
    torch.set_num_threads(1)
    paths, max_diff, final_loss = {}, {}, {}
    print(f"Rosenbrock from {START}, {STEPS} steps; numpy vs torch.optim max |difference| over all steps")
    for name, (class_name, hyper) in RACERS.items():
        paths[name] = numpy_path(class_name, hyper)
        max_diff[name] = float(np.abs(paths[name] - torch_path(class_name, hyper)).max())
        final_loss[name] = float(rosenbrock(*paths[name][-1]))
        print(f"  {name:9s} {hyper}: final f = {final_loss[name]:.4g} at {np.round(paths[name][-1], 3)}, "
              f"vs torch {max_diff[name]:.1e}")
    if plot_dir is not None:
        _plot(plot_dir, paths)
    return {"steps": STEPS, "max_abs_diff_vs_torch": max_diff, "final_loss": final_loss}


def _plot(plot_dir, paths: dict) -> None:
    fig, (ax_path, ax_loss) = new_figure(ncols=2, panel_size=(5.0, 4.0))
    x, y = np.meshgrid(np.linspace(-2, 2, 200), np.linspace(-1, 3, 200))
    ax_path.contour(x, y, np.log10(rosenbrock(x, y) + 1e-3), levels=20, colors="0.8")
    ax_path.plot(1, 1, "k*", markersize=12)
    for name, path in paths.items():
        ax_path.plot(*path.T, "-", linewidth=1.2, label=name)
        ax_loss.semilogy(rosenbrock(*path.T), label=name)
    ax_path.set(title="trajectories", xlabel="x", ylabel="y")
    ax_path.legend(fontsize="small")
    ax_loss.set(title="f per step", xlabel="step", ylabel="Rosenbrock f")
    save_figure(fig, plot_dir, "optimizers_race")


if __name__ == "__main__":
    main(plot_dir=plot_dir_from_argv())
