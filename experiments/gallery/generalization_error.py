"""Generalization error: training (empirical) error understates the error on new data; errors split into FP and FN.

The empirical error of h is the fraction of the training set X it gets wrong; the generalization error is
the probability that a new instance drawn from the same distribution is misclassified, estimated here on
held-out digits (with a 95% binomial interval). A net that fits its training set perfectly still errs on
new digits. For a binary question, "is it an 8?", the mistakes are of two kinds: false negatives C - h
(8s that h calls "not 8") and false positives h - C (other digits h calls 8). Counted as set differences
they equal the off-diagonal cells of scikit-learn's confusion matrix. Only one digit in ten is an 8, so the
classifier leans towards "not 8": false negatives outnumber false positives (in every seed we tried).
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.metrics import confusion_matrix
from sklearn.model_selection import train_test_split

from experiments.gallery._plotting import new_figure, plot_dir_from_argv, save_figure
from nets.supervised import MLPClassifier

SEED = 0


def make_classifier() -> MLPClassifier:
    return MLPClassifier(hidden_layer_sizes=(128,), dropout=0.0, alpha=1e-4, epochs=40, batch_size=64, lr=2e-3,
                         scaling="global", validation_fraction=0.0, patience=None, random_state=SEED, device="cpu")


def error_with_interval(wrong: np.ndarray) -> tuple[float, float]:
    """Error rate of a boolean array of mistakes and the half-width of its normal-approximation 95% interval."""
    rate = float(wrong.mean())
    return rate, float(1.96 * np.sqrt(rate * (1 - rate) / len(wrong)))


def main(plot_dir: str | None = None) -> dict:
    torch.set_num_threads(1)
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, train_size=500, random_state=SEED, stratify=y)
    digits = make_classifier().fit(X_train, y_train)
    empirical = float(np.mean(digits.predict(X_train) != y_train))
    generalization, half_width = error_with_interval(digits.predict(X_test) != y_test)
    print(f"10 digits, 500 training images: empirical error {empirical:.3f}, "
          f"generalization error ~ {generalization:.3f} +- {half_width:.3f} ({len(y_test)} new images)")
    is_eight = make_classifier().fit(X_train, y_train == 8)
    C, h = y_test == 8, is_eight.predict(X_test).astype(bool)  # the target concept and the hypothesis
    false_negatives, false_positives = C & ~h, h & ~C  # C - h and h - C as sets of test instances
    (tn, fp), (fn, tp) = confusion_matrix(C, h, labels=[False, True])
    binary = {"empirical_error": float(np.mean(is_eight.predict(X_train) != (y_train == 8))),
              "test_error": float(np.mean(h != C)), "false_negatives": int(false_negatives.sum()),
              "false_positives": int(false_positives.sum()),
              "confusion_matrix": [[int(tn), int(fp)], [int(fn), int(tp)]],
              "false_negative_digits": np.bincount(y_test[false_negatives], minlength=10).tolist(),
              "false_positive_digits": np.bincount(y_test[false_positives], minlength=10).tolist()}
    print(f'"is it an 8?": empirical error {binary["empirical_error"]:.3f}, test error {binary["test_error"]:.3f}')
    print(f"  false negatives |C - h| = {binary['false_negatives']}, false positives |h - C| = "
          f"{binary['false_positives']}; confusion matrix [[TN, FP], [FN, TP]] = {binary['confusion_matrix']}")
    print(f"  digits wrongly called 8 (by true digit): {binary['false_positive_digits']}")
    if plot_dir is not None:
        _plot(plot_dir, empirical, generalization, half_width, binary["confusion_matrix"])
    return {"multiclass": {"empirical_error": empirical, "generalization_error": generalization,
                           "interval_half_width": half_width}, "is_eight": binary}


def _plot(plot_dir, empirical, generalization, half_width, matrix) -> None:
    fig, (ax_err, ax_cm) = new_figure(ncols=2)
    ax_err.bar(["empirical (train)", "generalization (test)"], [empirical, generalization],
               yerr=[0, half_width], color=("C0", "C1"), capsize=4)
    ax_err.set(title="error of the digit classifier", ylabel="error rate")
    ax_cm.imshow(np.log1p(matrix), cmap="Blues")
    for (row, col), label in zip(((0, 0), (0, 1), (1, 0), (1, 1)), ("TN", "FP", "FN", "TP")):
        ax_cm.text(col, row, f"{label}\n{matrix[row][col]}", ha="center", va="center")
    ax_cm.set(title='"is it an 8?" on test digits', xticks=[0, 1], xticklabels=["h: no", "h: yes"], yticks=[0, 1],
              yticklabels=["C: no", "C: yes"])
    save_figure(fig, plot_dir, "generalization_error")


if __name__ == "__main__":
    main(plot_dir=plot_dir_from_argv())
