"""Multitask learning: one shared trunk with a digit head and a parity head does both jobs as well as two nets.

The lower layers of a net compute features; several tasks on the same inputs can share them. A
MultitaskMLPClassifier has one hidden layer (the shared trunk) and two softmax heads, "which digit" and
"is it odd", trained together on the sum of the two cross-entropies. It matches two single-task MLPs of the
same shape on both tasks (within about a point of accuracy) with one trunk instead of two, so nearly half
the parameters. A side observation the numbers show: parity read off the digit head is more accurate than
the parity head itself, because the ten digit labels carry more information than the two parity labels.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from experiments.gallery._plotting import new_figure, plot_dir_from_argv, save_figure
from nets.multitask import MultitaskMLPClassifier
from nets.supervised import MLPClassifier

N_TRAIN = 300
SEED = 0
SHARED = dict(hidden_layer_sizes=(64,), dropout=0.0, alpha=1e-4, epochs=60, batch_size=50, lr=2e-3, scaling="global",
              validation_fraction=0.0, patience=None, device="cpu")


def count_parameters(estimator) -> int:
    return sum(p.numel() for p in estimator.model_.parameters())


def main(plot_dir: str | None = None) -> dict:
    torch.set_num_threads(1)
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, train_size=N_TRAIN, random_state=SEED, stratify=y)
    Y_train, Y_test = np.column_stack([y_train, y_train % 2]), np.column_stack([y_test, y_test % 2])
    params = {**SHARED, "random_state": SEED}
    shared = MultitaskMLPClassifier(**params).fit(X_train, Y_train)
    digit_only = MLPClassifier(**params).fit(X_train, y_train)
    parity_only = MLPClassifier(**params).fit(X_train, y_train % 2)
    digit_acc, parity_acc = (float(a) for a in shared.task_scores(X_test, Y_test))
    results = {
        "multitask": {"digit_accuracy": digit_acc, "parity_accuracy": parity_acc,
                      "parity_from_digit_head": float(np.mean(shared.predict(X_test)[:, 0] % 2 == y_test % 2)),
                      "parameters": count_parameters(shared)},
        "single_task": {"digit_accuracy": float(digit_only.score(X_test, y_test)),
                        "parity_accuracy": float(parity_only.score(X_test, y_test % 2)),
                        "parity_from_digit_head": float(np.mean(digit_only.predict(X_test) % 2 == y_test % 2)),
                        "parameters": count_parameters(digit_only) + count_parameters(parity_only)},
    }
    print(f"{N_TRAIN} training digits; hidden layer of 64 ReLUs; test accuracy")
    for name, row in results.items():
        print(f"  {name:11s}: digit {row['digit_accuracy']:.3f}, odd/even {row['parity_accuracy']:.3f} "
              f"(odd/even read off the digit head {row['parity_from_digit_head']:.3f}), "
              f"{row['parameters']} parameters")
    if plot_dir is not None:
        _plot(plot_dir, results)
    return results


def _plot(plot_dir, results: dict) -> None:
    fig, ax = new_figure(panel_size=(5.0, 3.5))
    tasks = ("digit_accuracy", "parity_accuracy")
    positions = np.arange(len(tasks))
    for offset, (name, row) in zip((-0.2, 0.2), results.items()):
        ax.bar(positions + offset, [row[t] for t in tasks], 0.4, label=f"{name} ({row['parameters']} params)")
    ax.set(title="one shared trunk vs two nets", xticks=positions, xticklabels=["digit", "odd/even"],
           ylabel="test accuracy", ylim=(0.8, 1.0))
    ax.legend(fontsize="small", loc="lower right")
    save_figure(fig, plot_dir, "multitask")


if __name__ == "__main__":
    main(plot_dir=plot_dir_from_argv())
