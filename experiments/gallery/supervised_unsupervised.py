"""Supervised vs unsupervised: with labels a net learns the digits; without any, k-means still finds most of them.

Supervised learning gets examples (x, y = C(x)) and outputs a hypothesis h that approximates C on new x: an
MLP trained on labelled digits classifies held-out digits almost perfectly. Unsupervised learning gets the
same x with no y: k-means (nets.clustering.KMeans, k = 10) groups the digits by pixel similarity alone.
The clusters are not labelled, so they are scored against the hidden true digits with the adjusted Rand
index (ARI: 1 = the same partition, 0 = no better than chance; a random relabelling scores about 0) and by
naming each cluster after its most common true digit.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.metrics import adjusted_rand_score
from sklearn.model_selection import train_test_split

from experiments.gallery._plotting import new_figure, plot_dir_from_argv, save_figure
from nets.clustering import KMeans
from nets.supervised import MLPClassifier

SEED = 0


def majority_label_accuracy(clusters: np.ndarray, y: np.ndarray) -> float:
    """Accuracy if every cluster predicts its most common true label (clusters, y: (n,))."""
    hits = sum(np.bincount(y[clusters == c]).max() for c in np.unique(clusters))
    return float(hits / len(y))


def main(plot_dir: str | None = None) -> dict:
    torch.set_num_threads(1)
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=SEED, stratify=y)
    clf = MLPClassifier(hidden_layer_sizes=(128,), dropout=0.0, alpha=1e-4, epochs=20, batch_size=128, lr=3e-3,
                        scaling="global", validation_fraction=0.0, patience=None, random_state=SEED, device="cpu")
    supervised_accuracy = float(clf.fit(X_train, y_train).score(X_test, y_test))
    kmeans = KMeans(n_clusters=10, n_init=4, random_state=SEED).fit(X)  # no y anywhere
    ari = float(adjusted_rand_score(y, kmeans.labels_))
    shuffled_ari = float(adjusted_rand_score(np.random.default_rng(SEED).permutation(y), kmeans.labels_))
    majority = majority_label_accuracy(kmeans.labels_, y)
    print(f"supervised: MLP on {len(y_train)} labelled digits, test accuracy {supervised_accuracy:.3f}")
    print(f"unsupervised: k-means (k = 10) on all {len(y)} digits, no labels; against the hidden labels:")
    print(f"  adjusted Rand index {ari:.3f} (vs a random relabelling {shuffled_ari:.3f}); "
          f"naming each cluster by its commonest digit is right {majority:.1%} of the time")
    if plot_dir is not None:
        _plot(plot_dir, kmeans.cluster_centers_, kmeans.labels_, y)
    return {"supervised_test_accuracy": supervised_accuracy, "kmeans_ari": ari, "shuffled_labels_ari": shuffled_ari,
            "kmeans_majority_label_accuracy": majority}


def _plot(plot_dir, centers: np.ndarray, clusters: np.ndarray, y: np.ndarray) -> None:
    fig, axes = new_figure(ncols=10, panel_size=(1.3, 1.5))
    for ax, (c, center) in zip(axes, enumerate(centers)):
        members = y[clusters == c]
        ax.imshow(center.reshape(8, 8), cmap="gray_r")
        ax.set(title=f"mostly {np.bincount(members).argmax()}\n({len(members)})", xticks=[], yticks=[])
    save_figure(fig, plot_dir, "supervised_unsupervised")


if __name__ == "__main__":
    main(plot_dir=plot_dir_from_argv())
