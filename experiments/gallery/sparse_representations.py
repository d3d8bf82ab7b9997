"""Sparse representations: an L1 penalty on the code makes most code units exactly zero for each input.

An autoencoder with a 64-unit ReLU code for 64-pixel digits could just copy its input. Adding the activity
penalty l1 * sum_j |code_j| to the reconstruction loss (nets.unsupervised.Autoencoder's `l1`; the penalty
is on the activations, not on the weights) makes each digit use few code units: as l1 grows the fraction of
code entries that are exactly zero rises and the number of active units per digit falls, and the
reconstruction gets worse. A sparse code is a short description: each digit is described by which few
features it has.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from experiments.gallery._plotting import new_figure, plot_dir_from_argv, save_figure
from nets.unsupervised import Autoencoder

CODE_SIZE = 64
L1_STRENGTHS = (0.0, 0.001, 0.003, 0.01)
SEED = 0


def code_statistics(codes: np.ndarray) -> dict:
    """Sparsity of codes (n, k): fraction of zero entries, active units per input, units never active."""
    active = np.abs(codes) > 1e-6
    return {"zero_fraction": float(1.0 - active.mean()), "active_units_per_input": float(active.sum(axis=1).mean()),
            "never_active_units": int((~active.any(axis=0)).sum())}


def main(plot_dir: str | None = None) -> dict:
    torch.set_num_threads(1)
    X, _ = load_digits(return_X_y=True)
    X_train, X_test = train_test_split(X.astype(np.float32), test_size=0.3, random_state=SEED)
    runs = []
    print(f"autoencoder 64 -> {CODE_SIZE} ReLU code -> 64 on digits; statistics of held-out digits' codes")
    for l1 in L1_STRENGTHS:
        autoencoder = Autoencoder(hidden_layer_sizes=(CODE_SIZE,), l1=l1, epochs=30, batch_size=128, lr=5e-3,
                                  validation_fraction=0.0, scaling="global", random_state=SEED, device="cpu")
        autoencoder.fit(X_train)
        codes = autoencoder.transform(X_test)
        run = {"l1": l1, **code_statistics(codes), "test_mse": -autoencoder.score(X_test)}
        runs.append(run)
        print(f"  l1 {l1:<6g}: {run['zero_fraction']:.1%} of code entries zero, "
              f"{run['active_units_per_input']:.1f} active units per digit, {run['never_active_units']} of "
              f"{CODE_SIZE} units never active, reconstruction error {run['test_mse']:.2f}")
        if l1 == L1_STRENGTHS[-1]:
            example_codes = codes[:20]
    if plot_dir is not None:
        _plot(plot_dir, runs, example_codes)
    return {"runs": runs}


def _plot(plot_dir, runs: list, example_codes: np.ndarray) -> None:
    fig, (ax_sparse, ax_codes) = new_figure(ncols=2, panel_size=(4.5, 3.5))
    strengths = [str(run["l1"]) for run in runs]
    ax_sparse.bar(strengths, [run["zero_fraction"] for run in runs])
    ax_sparse.set(title="fraction of code entries = 0", xlabel="L1 strength", ylim=(0, 1))
    ax_codes.imshow(example_codes > 1e-6, cmap="gray_r", aspect="auto", interpolation="nearest")
    ax_codes.set(title=f"active code units (l1 = {runs[-1]['l1']})", xlabel="code unit", ylabel="test digit")
    save_figure(fig, plot_dir, "sparse_representations")


if __name__ == "__main__":
    main(plot_dir=plot_dir_from_argv())
