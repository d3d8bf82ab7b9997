"""Our k-means and hierarchical clustering against scikit-learn and scipy on the same data."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.cluster.hierarchy import fcluster
from scipy.cluster.hierarchy import linkage as scipy_linkage
from sklearn import cluster as skcluster
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score
from sklearn.utils.estimator_checks import parametrize_with_checks

from nets.clustering import (
    LINKAGE_METHODS,
    AgglomerativeClustering,
    KMeans,
    cut_linkage,
    kmeans_plusplus,
    linkage,
    plot_dendrogram,
)


def merged_sets(Z: np.ndarray) -> list[frozenset]:
    """For each merge of a linkage matrix, the set of original points in the new cluster."""
    n = len(Z) + 1
    members = [frozenset([i]) for i in range(n)]
    for left, right, _, _ in Z:
        members.append(members[int(left)] | members[int(right)])
    return members[n:]


@pytest.mark.parametrize("method", LINKAGE_METHODS)
@pytest.mark.parametrize("n, dim, seed", [(2, 3, 0), (7, 2, 1), (60, 5, 2), (250, 3, 3)])
def test_linkage_matches_scipy(method, n, dim, seed):
    # Continuous random data has no distance ties, so the merge order is unique.
    X = np.random.default_rng(seed).normal(size=(n, dim))
    ours, ref = linkage(X, method), scipy_linkage(X, method)
    assert ours.shape == ref.shape == (n - 1, 4)
    np.testing.assert_allclose(ours[:, 2], ref[:, 2], rtol=0, atol=1e-9)
    np.testing.assert_array_equal(ours[:, 3], ref[:, 3])
    assert merged_sets(ours) == merged_sets(ref)
    np.testing.assert_array_equal(ours[:, :2], ref[:, :2])  # same ids, smaller id first, as scipy labels them


@pytest.mark.parametrize("method", LINKAGE_METHODS)
def test_cut_linkage_matches_fcluster_maxclust(method):
    X = np.random.default_rng(5).normal(size=(80, 4))
    Z = linkage(X, method)
    for k in (1, 2, 5, 13, 80):
        labels = cut_linkage(Z, k)
        assert len(np.unique(labels)) == k
        assert labels.min() == 0 and labels.max() == k - 1
        ref = fcluster(scipy_linkage(X, method), k, criterion="maxclust")
        assert adjusted_rand_score(ref, labels) == pytest.approx(1.0) or k in (1, 80)
        if k == 80:
            assert len(set(labels)) == 80


@pytest.mark.parametrize("method", LINKAGE_METHODS)
def test_agglomerative_estimator_matches_sklearn_labels(method):
    X, _ = make_blobs(n_samples=120, centers=4, cluster_std=1.5, random_state=3)
    ours = AgglomerativeClustering(n_clusters=4, linkage=method).fit(X)
    ref = skcluster.AgglomerativeClustering(n_clusters=4, linkage=method).fit(X)
    assert adjusted_rand_score(ref.labels_, ours.labels_) == pytest.approx(1.0)
    assert ours.linkage_matrix_.shape == (119, 4)
    np.testing.assert_array_equal(ours.children_, ours.linkage_matrix_[:, :2].astype(int))


def test_linkage_rejects_bad_input():
    X = np.random.default_rng(0).normal(size=(5, 2))
    with pytest.raises(ValueError, match="method"):
        linkage(X, "centroid")
    with pytest.raises(ValueError, match="NaN"):
        linkage(np.where(np.eye(5, 2) > 0, np.nan, X), "single")
    with pytest.raises(ValueError, match="at least 2 rows"):
        linkage(X[:1], "ward")
    with pytest.raises(ValueError, match="n_clusters"):
        cut_linkage(linkage(X, "ward"), 6)


def test_kmeans_inertia_matches_sklearn_on_blobs():
    X, y = make_blobs(n_samples=500, centers=5, cluster_std=1.0, n_features=4, random_state=0)
    ours = KMeans(n_clusters=5, n_init=5, random_state=0).fit(X)
    ref = skcluster.KMeans(n_clusters=5, n_init=5, random_state=0).fit(X)
    assert ours.inertia_ == pytest.approx(ref.inertia_, rel=1e-6)
    assert adjusted_rand_score(ref.labels_, ours.labels_) == pytest.approx(1.0)
    # inertia_ really is the sum of squared distances to the nearest centre
    independent = ((X - ours.cluster_centers_[ours.labels_]) ** 2).sum()
    assert ours.inertia_ == pytest.approx(independent)
    np.testing.assert_array_equal(ours.predict(X), ours.labels_)
    assert ours.score(X) == pytest.approx(-ours.inertia_)


def test_kmeans_on_harder_data_is_as_good_as_sklearn():
    X, _ = make_blobs(n_samples=600, centers=12, cluster_std=2.5, n_features=3, random_state=1)
    ours = KMeans(n_clusters=12, n_init=10, random_state=1).fit(X)
    ref = skcluster.KMeans(n_clusters=12, n_init=10, random_state=1).fit(X)
    assert ours.inertia_ <= ref.inertia_ * 1.01


def test_kmeans_plusplus_picks_distinct_data_points():
    X, y = make_blobs(n_samples=300, centers=6, cluster_std=0.3, center_box=(-30, 30), random_state=2)
    for seed in range(5):
        centers = kmeans_plusplus(X, 6, np.random.RandomState(seed))
        rows = [np.flatnonzero((X == c).all(axis=1)) for c in centers]
        assert all(len(r) == 1 for r in rows)  # every seed is a data point
        # k-means++ spreads the seeds: each of these well-separated blobs gets exactly one
        assert sorted(y[np.concatenate(rows)]) == list(range(6))


def test_kmeans_keeps_k_clusters_with_duplicate_points():
    X = np.repeat(np.arange(4, dtype=float)[:, None], 10, axis=0)  # only 4 distinct points
    model = KMeans(n_clusters=4, n_init=2, random_state=0).fit(X)
    assert model.inertia_ == pytest.approx(0.0)
    with pytest.raises(ValueError, match="n_clusters"):
        KMeans(n_clusters=50).fit(X[:10])


def test_plot_dendrogram_writes_png(tmp_path):
    X = np.random.default_rng(0).normal(size=(40, 3))
    path = plot_dendrogram(linkage(X, "ward"), tmp_path / "tree.png", truncate_lastp=10, title="ward")
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 1000


@parametrize_with_checks([KMeans(n_clusters=3, n_init=2, random_state=0), AgglomerativeClustering(n_clusters=3)])
def test_sklearn_compatible(estimator, check):
    check(estimator)
