"""No single best approach: on six data sets five different models come out on top, and each loses somewhere.

The notes close their list of models and performance measures with "no single best approach". Here a decision
tree, an RBF SVM, k-nearest neighbours (k = 5), Gaussian naive Bayes and an MLP (nets.supervised, 64 hidden
ReLUs), each with its library's defaults, are scored on the same held-out half of six data sets:
digits; two moons with 20% of the labels flipped (noisy); a linearly separable set (10 Gaussian features, the
class is the side of a random hyperplane); a 4 x 4 checkerboard (axis-aligned squares, a tree's home ground);
islands (40 small blobs, each with a random class: only locality helps, k-NN's home ground); and "spread",
30 features independent given the class (exactly naive Bayes' model), of which 3 spread twice as wide in one
class as in the other and 27 are pure noise that swamps distances. Every model is best (or tied best) on at
least one data set, and every model trails the best by 15 points or more on another: which approach is best
depends on the data.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.datasets import load_digits, make_blobs, make_moons
from sklearn.model_selection import train_test_split
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier

from experiments.gallery._plotting import new_figure, plot_dir_from_argv, save_figure
from nets.supervised import MLPClassifier

SEED = 0
N_POINTS = 1000


def datasets(seed: int = SEED) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The six data sets, name -> (X (n, d), y (n,)); the synthetic ones have N_POINTS points."""
    rng = np.random.default_rng(seed)
    moons_X, moons_y = make_moons(N_POINTS, noise=0.2, random_state=seed)
    moons_y = np.where(rng.random(N_POINTS) < 0.2, 1 - moons_y, moons_y)
    linear_X = rng.normal(size=(N_POINTS, 10))
    linear_y = (linear_X @ rng.normal(size=10) > 0).astype(int)
    board_X = rng.uniform(0, 4, (N_POINTS, 2))
    board_y = (np.floor(board_X).sum(axis=1) % 2).astype(int)
    islands_X, island = make_blobs(N_POINTS, centers=40, cluster_std=0.25, center_box=(-5, 5), random_state=seed)
    islands_y = rng.integers(0, 2, 40)[island]
    spread_y = rng.integers(0, 2, N_POINTS)
    spread_X = rng.normal(size=(N_POINTS, 30))
    spread_X[:, :3] *= np.where(spread_y[:, None] == 1, 2.0, 1.0)  # 3 telling features, 27 of pure noise
    return {"digits": load_digits(return_X_y=True), "noisy moons": (moons_X, moons_y),
            "linear": (linear_X, linear_y), "checkerboard": (board_X, board_y),
            "islands": (islands_X, islands_y), "spread": (spread_X, spread_y)}


def models() -> dict:
    """Fresh, unfitted models with their libraries' defaults (SVM and k-NN on standardized inputs)."""
    return {"tree": DecisionTreeClassifier(random_state=SEED),
            "SVM": make_pipeline(StandardScaler(), SVC()),
            "k-NN": make_pipeline(StandardScaler(), KNeighborsClassifier()),
            "naive Bayes": GaussianNB(),
            "MLP": MLPClassifier(hidden_layer_sizes=(64,), dropout=0.0, epochs=50, batch_size=100,
                                 validation_fraction=0.0, patience=None, random_state=SEED, device="cpu")}


def score_table() -> dict[str, dict[str, float]]:
    """Held-out accuracy, data set -> model -> accuracy, each data set split in half (stratified)."""
    table = {}
    for name, (X, y) in datasets().items():
        X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.5, random_state=SEED, stratify=y)
        table[name] = {model_name: float(model.fit(X_train, y_train).score(X_test, y_test))
                       for model_name, model in models().items()}
    return table


def main(plot_dir: str | None = None) -> dict:
    torch.set_num_threads(1)
    table = score_table()
    names = list(next(iter(table.values())))
    winners = {data: [n for n in names if row[n] == max(row.values())] for data, row in table.items()}
    margins = {data: max(row.values()) - max(v for k, v in row.items() if k not in winners[data])
               for data, row in table.items()}
    worst_gap = {model: max(max(row.values()) - row[model] for row in table.values()) for model in names}
    print("held-out accuracy (half of each data set); * marks the best")
    print(f"  {'':13s}" + "".join(f"{n:>13s}" for n in names) + "   ahead of the next by")
    for data, row in table.items():
        cells = "".join(f"{row[n]:12.3f}{'*' if n in winners[data] else ' '}" for n in names)
        print(f"  {data:13s}{cells}   {margins[data]:.3f}")
    print("  largest gap to the best: " + ", ".join(f"{m} {g:.2f}" for m, g in worst_gap.items()))
    print(f"  {len({w for ws in winners.values() for w in ws})} different models best (or tied) on "
          f"{len(table)} data sets")
    if plot_dir is not None:
        _plot(plot_dir, table, names)
    return {"accuracy": table, "winners": winners, "winning_margin": margins, "worst_gap_to_best": worst_gap}


def _plot(plot_dir, table: dict, names: list) -> None:
    fig, ax = new_figure(panel_size=(6.0, 4.0))
    matrix = np.array([[row[n] for n in names] for row in table.values()])
    image = ax.imshow(matrix, cmap="viridis", vmin=0.5, vmax=1.0)
    for (i, j), value in np.ndenumerate(matrix):
        best = value == matrix[i].max()
        ax.text(j, i, f"{value:.2f}", ha="center", va="center", color="k" if best else "w",
                fontweight="bold" if best else "normal")
    ax.set(xticks=range(len(names)), xticklabels=names, yticks=range(len(table)), yticklabels=list(table),
           title="held-out accuracy: no single best model")
    ax.tick_params(axis="x", labelrotation=30)
    fig.colorbar(image, ax=ax)
    save_figure(fig, plot_dir, "no_single_best")


if __name__ == "__main__":
    main(plot_dir=plot_dir_from_argv())
