"""Digits benchmark: our MLP/CNN vs scikit-learn classifiers, our clustering vs scikit-learn's, and
self-training with 10% of the labels; every number in one run on one machine.

Run: `python -m experiments.bench.supervised [--quick] [--seeds 5] [--threads 1] [--skip-semi] [--dendrogram PNG]`
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import torch
from sklearn import cluster as skcluster
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier

from experiments.bench.common import machine_line, table
from nets.clustering import AgglomerativeClustering, KMeans, linkage, plot_dendrogram
from nets.semi_supervised import SelfTrainingClassifier
from nets.supervised import CNNClassifier, MLPClassifier
from nets.unsupervised import Autoencoder, EmbeddingClustering, spectral_embedding

# name -> (builder(seed), deterministic?). Ours get raw pixels (they scale inside the model).
CLASSIFIERS = {
    "ours MLP 512 +augment": (lambda s: MLPClassifier(augment="digits", random_state=s, device="cpu"), False),
    "ours MLP 512 (no augment)": (lambda s: MLPClassifier(random_state=s, device="cpu"), False),
    "ours CNN c32-c64 +augment": (lambda s: CNNClassifier(augment="digits", random_state=s, device="cpu"), False),
    "sklearn MLPClassifier (scaled)": (
        lambda s: make_pipeline(StandardScaler(), SkMLPClassifier(max_iter=500, random_state=s)), False),
    "sklearn SVC rbf": (lambda s: SVC(), True),
    "sklearn KNeighbors k=5": (lambda s: KNeighborsClassifier(), True),
    "sklearn DecisionTree": (lambda s: DecisionTreeClassifier(random_state=s), False),
}

AE = dict(hidden_layer_sizes=(256, 32), epochs=60, batch_size=128, device="cpu")
CLUSTERINGS = {
    "sklearn KMeans raw": (lambda s: skcluster.KMeans(10, n_init=10, random_state=s), False),
    "sklearn Ward raw": (lambda s: skcluster.AgglomerativeClustering(10, linkage="ward"), True),
    "ours KMeans raw": (lambda s: KMeans(10, n_init=10, random_state=s), False),
    "ours Ward raw": (lambda s: AgglomerativeClustering(10, linkage="ward"), True),
    "ours autoencoder code + Ward": (
        lambda s: EmbeddingClustering(10, embedding="autoencoder", autoencoder=AE, random_state=s), False),
    "ours spectral kNN-10 + Ward": (lambda s: EmbeddingClustering(10, embedding="spectral"), True),
    "ours spectral kNN-10 + KMeans": (
        lambda s: EmbeddingClustering(10, embedding="spectral", method="kmeans", random_state=s), False),
    "ours autoencoder + spectral + Ward": (
        lambda s: EmbeddingClustering(10, embedding="autoencoder+spectral", autoencoder=AE, random_state=s), False),
}


def summary(scores: list[float], seconds: list[float]) -> list:
    return [float(np.mean(scores)), float(np.std(scores)), float(np.min(scores)), float(np.max(scores)),
            float(np.mean(seconds))]


def classification(seeds: list[int]) -> str:
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
    rows = []
    for name, (build, deterministic) in CLASSIFIERS.items():
        scores, seconds = [], []
        for seed in seeds[:1] if deterministic else seeds:
            model = build(seed)
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                model.fit(X_train, y_train)
            seconds.append(time.perf_counter() - start)
            scores.append(model.score(X_test, y_test))
        rows.append([name, *summary(scores, seconds), 1 if deterministic else len(seeds)])
    headers = ["classifier", "test acc mean", "std", "min", "max", "fit s", "seeds"]
    return table(headers, rows)


def clustering(seeds: list[int]) -> str:
    X, y = load_digits(return_X_y=True)
    rows = []
    for name, (build, deterministic) in CLUSTERINGS.items():
        aris, nmis, seconds = [], [], []
        for seed in seeds[:1] if deterministic else seeds:
            start = time.perf_counter()
            labels = build(seed).fit(X).labels_
            seconds.append(time.perf_counter() - start)
            aris.append(adjusted_rand_score(y, labels))
            nmis.append(normalized_mutual_info_score(y, labels))
        mean, std, low, high, fit = summary(aris, seconds)
        rows.append([name, mean, std, low, high, float(np.mean(nmis)), fit, 1 if deterministic else len(seeds)])
    headers = ["clustering (all 1797 digits)", "ARI mean", "std", "min", "max", "NMI mean", "fit s", "seeds"]
    robustness = [[f"spectral kNN-{k} + Ward", adjusted_rand_score(
        y, EmbeddingClustering(10, embedding="spectral", n_neighbors=k).fit(X).labels_)] for k in (5, 10, 15, 20)]
    return table(headers, rows) + "\n\n" + table(["neighbourhood size", "ARI"], robustness)


def pretrained_encoder(X: np.ndarray, seed: int) -> Autoencoder:
    """A tied autoencoder whose encoder has the shape of MLPClassifier's default trunk (one layer of 512)."""
    return Autoencoder(hidden_layer_sizes=(512,), epochs=60, random_state=seed, device="cpu").fit(X)


def semi_supervised(seeds: list[int], fraction: float = 0.1) -> str:
    """Same labeled 10% per seed for all three; the other 90% of the training rows are given unlabeled."""
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
    base = dict(augment="digits", validation_fraction=0.0, patience=None, device="cpu")
    methods = {
        "supervised only (labeled rows)": lambda s, lab: MLPClassifier(random_state=s, **base).fit(
            X_train[lab], y_train[lab]),
        "self-training (pseudo-labels)": lambda s, lab: SelfTrainingClassifier(
            MLPClassifier(random_state=s, **base)).fit(X_train, np.where(lab, y_train, -1)),
        "autoencoder pretraining (all rows)": lambda s, lab: MLPClassifier(
            random_state=s, warm_start_trunk=pretrained_encoder(X_train, s), **base).fit(X_train[lab], y_train[lab]),
    }
    results = {name: ([], []) for name in methods}
    for seed in seeds:
        labeled = np.zeros(len(y_train), dtype=bool)
        labeled[np.random.default_rng(seed).choice(len(y_train), int(fraction * len(y_train)), replace=False)] = True
        for name, fit in methods.items():
            start = time.perf_counter()
            model = fit(seed, labeled)
            results[name][1].append(time.perf_counter() - start)
            results[name][0].append(model.score(X_test, y_test))
    rows = [[name, *summary(*results[name]), len(seeds)] for name in methods]
    title = f"{int(fraction * len(y_train))} labeled training digits ({fraction:.0%}), MLP 512 +augment"
    return table([title, "test acc mean", "std", "min", "max", "fit s", "seeds"], rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="training seeds (the split is fixed)")
    parser.add_argument("--quick", action="store_true", help="one seed: a smoke run")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads on the CPU")
    parser.add_argument("--skip-semi", action="store_true", help="leave out the 10%%-labels table")
    parser.add_argument("--dendrogram", metavar="PNG", help="also draw the Ward tree of the spectral embedding")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    seeds = list(range(1 if args.quick else args.seeds))
    print(machine_line())
    print("digits: 1797 8x8 images; classifiers on train_test_split(test_size=0.25, random_state=0, "
          "stratify=y), seeds vary the model only\n")
    print(classification(seeds), flush=True)
    print()
    print(clustering(seeds), flush=True)
    if args.dendrogram:
        X, _ = load_digits(return_X_y=True)
        Z = linkage(spectral_embedding(X, 10, n_neighbors=10), method="ward")
        print("dendrogram:", plot_dendrogram(Z, args.dendrogram, title="digits: spectral embedding + Ward"))
    if not args.skip_semi:
        print()
        print(semi_supervised(seeds), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
