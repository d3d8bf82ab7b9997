"""Semi-supervised learning: 10% of the labels plus the unlabelled rest beats the same 10% of labels alone.

Only one training digit in ten keeps its label. A classifier trained on those alone is the baseline.
Self-training (nets.semi_supervised.SelfTrainingClassifier) then labels the unlabelled digits it is most
sure about (probability >= 0.95, at most 60 new digits per class per round), retrains on labelled plus
pseudo-labelled digits and repeats. The pseudo-labels are nearly all right, and the extra (if slightly
noisy) training data lifts test accuracy by one to three points over the seeds we tried.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from experiments.gallery._plotting import new_figure, plot_dir_from_argv, save_figure
from nets.semi_supervised import UNLABELED, SelfTrainingClassifier
from nets.supervised import MLPClassifier

LABELLED_FRACTION = 0.1
SEED = 0


def make_classifier(seed: int) -> MLPClassifier:
    return MLPClassifier(hidden_layer_sizes=(128,), dropout=0.0, alpha=1e-4, epochs=40, batch_size=64, lr=2e-3,
                         scaling="global", validation_fraction=0.0, patience=None, random_state=seed, device="cpu")


def keep_some_labels(y: np.ndarray, fraction: float, rng: np.random.Generator) -> np.ndarray:
    """Boolean mask (n,) keeping `fraction` of the labels of each class."""
    keep = np.zeros(len(y), dtype=bool)
    for label in np.unique(y):
        rows = np.flatnonzero(y == label)
        keep[rng.choice(rows, int(round(fraction * len(rows))), replace=False)] = True
    return keep


def main(plot_dir: str | None = None) -> dict:
    torch.set_num_threads(1)
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=SEED, stratify=y)
    labelled = keep_some_labels(y_train, LABELLED_FRACTION, np.random.default_rng(SEED))
    supervised = make_classifier(SEED).fit(X_train[labelled], y_train[labelled])
    y_partial = np.where(labelled, y_train, UNLABELED)
    self_training = SelfTrainingClassifier(make_classifier(SEED), threshold=0.95, max_rounds=2,
                                           max_new_per_class=60).fit(X_train, y_partial)
    pseudo = (self_training.transduction_ != UNLABELED) & ~labelled
    results = {"n_labelled": int(labelled.sum()), "n_unlabelled": int((~labelled).sum()),
               "supervised_test_accuracy": float(supervised.score(X_test, y_test)),
               "semi_supervised_test_accuracy": float(self_training.score(X_test, y_test)),
               "n_pseudo_labelled": int(pseudo.sum()),
               "pseudo_label_accuracy": float(np.mean(self_training.transduction_[pseudo] == y_train[pseudo]))}
    print(f"{results['n_labelled']} labelled + {results['n_unlabelled']} unlabelled training digits")
    print(f"  labelled only:                  test accuracy {results['supervised_test_accuracy']:.3f}")
    print(f"  + self-training on unlabelled:  test accuracy {results['semi_supervised_test_accuracy']:.3f} "
          f"({results['n_pseudo_labelled']} digits pseudo-labelled, {results['pseudo_label_accuracy']:.1%} "
          "of those labels right)")
    if plot_dir is not None:
        _plot(plot_dir, results)
    return results


def _plot(plot_dir, results: dict) -> None:
    fig, ax = new_figure(panel_size=(4.5, 3.5))
    names = ("labelled only", "+ unlabelled (self-training)")
    values = (results["supervised_test_accuracy"], results["semi_supervised_test_accuracy"])
    ax.bar(names, values, color=("C0", "C1"))
    ax.set(title=f"{results['n_labelled']} labels", ylabel="test accuracy", ylim=(0.8, 1.0))
    save_figure(fig, plot_dir, "semi_supervised")


if __name__ == "__main__":
    main(plot_dir=plot_dir_from_argv())
