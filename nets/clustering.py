"""Clustering written out for teaching: k-means (k-means++ init, Lloyd iterations) and agglomerative
clustering (single, complete, average, Ward) with Lance-Williams updates and scipy-format linkage matrices.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.distance import pdist, squareform
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted, check_random_state, validate_data

LINKAGE_METHODS = ("single", "complete", "average", "ward")


# ----------------------------------------------------------------------------------------------- k-means
def kmeans_plusplus(X: np.ndarray, n_clusters: int, rng: np.random.Generator | np.random.RandomState,
                    n_local_trials: int | None = None) -> np.ndarray:
    """Greedy k-means++ seeding (Arthur & Vassilvitskii 2007, as in scikit-learn).

    X: (n, d). Each new center is drawn with probability proportional to the squared distance to the nearest
    chosen center; of `n_local_trials` such draws the one that lowers the potential most is kept.
    Returns centers (n_clusters, d).
    """
    n = X.shape[0]
    if n_local_trials is None:
        n_local_trials = 2 + int(np.log(n_clusters))
    centers = np.empty((n_clusters, X.shape[1]), dtype=X.dtype)
    centers[0] = X[rng.randint(n)]
    closest_sq = _squared_distances(X, centers[:1])[:, 0]
    for c in range(1, n_clusters):
        potential = closest_sq.sum()
        if potential <= 0:  # every point already sits on a center: any point will do
            candidates = rng.randint(n, size=n_local_trials)
        else:
            cumulative = np.cumsum(closest_sq)
            draws = rng.uniform(size=n_local_trials) * potential
            candidates = np.minimum(np.searchsorted(cumulative, draws), n - 1)
        candidate_sq = np.minimum(closest_sq[None, :], _squared_distances(X[candidates], X))
        best = int(np.argmin(candidate_sq.sum(axis=1)))
        centers[c] = X[candidates[best]]
        closest_sq = candidate_sq[best]
    return centers


def _squared_distances(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Squared Euclidean distances (len(A), len(B)), clipped at 0 against round-off."""
    sq = (A * A).sum(1)[:, None] - 2.0 * A @ B.T + (B * B).sum(1)[None, :]
    return np.maximum(sq, 0.0)


def lloyd(X: np.ndarray, centers: np.ndarray, max_iter: int, tol: float) -> tuple[np.ndarray, np.ndarray, float, int]:
    """Lloyd iterations from `centers` (k, d). Returns (centers, labels (n,), inertia, n_iter).

    Stops when the squared center shift is at most `tol` (already scaled to the data's variance).
    An emptied cluster is moved to the point farthest from its center, so k clusters always remain.
    """
    centers = centers.copy()
    n_iter = 0
    for n_iter in range(1, max_iter + 1):  # noqa: B007 (n_iter is reported)
        sq = _squared_distances(X, centers)
        labels = sq.argmin(axis=1)
        counts = np.bincount(labels, minlength=len(centers))
        new_centers = np.zeros_like(centers)
        np.add.at(new_centers, labels, X)
        for empty in np.flatnonzero(counts == 0):
            far = int(sq[np.arange(len(X)), labels].argmax())
            new_centers[empty], counts[empty] = X[far], 1
            sq[far, labels[far]] = 0.0
        new_centers /= counts[:, None]
        shift = ((new_centers - centers) ** 2).sum()
        centers = new_centers
        if shift <= tol:
            break
    sq = _squared_distances(X, centers)
    labels = sq.argmin(axis=1)
    return centers, labels, float(sq[np.arange(len(X)), labels].sum()), n_iter


class KMeans(ClusterMixin, TransformerMixin, BaseEstimator):
    """k-means with k-means++ seeding and Lloyd iterations; keeps the best of `n_init` runs (lowest inertia).

    Fitted: cluster_centers_ (k, d), labels_ (n,), inertia_ (sum of squared distances to the nearest
    center), n_iter_ (Lloyd iterations of the kept run).
    """

    def __init__(self, n_clusters=8, n_init=10, max_iter=300, tol=1e-4, random_state=None):
        self.n_clusters = n_clusters
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state

    def fit(self, X, y=None):
        X = validate_data(self, X, dtype=[np.float64, np.float32])
        if not isinstance(self.n_clusters, int | np.integer) or self.n_clusters < 1:
            raise ValueError(f"n_clusters must be a positive int, got {self.n_clusters!r}")
        if self.n_clusters > X.shape[0]:
            raise ValueError(f"n_samples={X.shape[0]} should be >= n_clusters={self.n_clusters}")
        if self.n_init < 1:
            raise ValueError(f"n_init must be >= 1, got {self.n_init!r}")
        rng = check_random_state(self.random_state)
        tol = self.tol * float(np.mean(np.var(X, axis=0)))  # tolerance relative to the data's spread
        best = None
        for _ in range(self.n_init):
            start = kmeans_plusplus(X, self.n_clusters, rng)
            run = lloyd(X, start, self.max_iter, tol)
            if best is None or run[2] < best[2]:
                best = run
        self.cluster_centers_, self.labels_, self.inertia_, self.n_iter_ = best
        return self

    def predict(self, X):
        """Index (n,) of the nearest center for each row of X (n, d)."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        return _squared_distances(X, self.cluster_centers_).argmin(axis=1)

    def transform(self, X):
        """Euclidean distances (n, k) from each row of X to each center."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        return np.sqrt(_squared_distances(X, self.cluster_centers_))

    def score(self, X, y=None):
        """Minus the inertia of X under the fitted centers (higher is better, as in scikit-learn)."""
        return -float(np.min(self.transform(X), axis=1).__pow__(2).sum())


# -------------------------------------------------------------------------------- hierarchical clustering
def _lance_williams(method, d_ki, d_kj, d_ij, n_i, n_j, n_k):
    """Distance from every cluster k to the merge of i and j, from d(k,i), d(k,j) (arrays over k)."""
    if method == "single":
        return np.minimum(d_ki, d_kj)
    if method == "complete":
        return np.maximum(d_ki, d_kj)
    if method == "average":
        return (n_i * d_ki + n_j * d_kj) / (n_i + n_j)
    # Ward on Euclidean (not squared) distances, the formula scipy uses.
    t = 1.0 / (n_i + n_j + n_k)
    return np.sqrt(np.maximum((n_k + n_i) * t * d_ki * d_ki + (n_k + n_j) * t * d_kj * d_kj
                              - n_k * t * d_ij * d_ij, 0.0))


def linkage(X: np.ndarray, method: str = "ward", metric: str = "euclidean") -> np.ndarray:
    """Agglomerative clustering of the rows of X (n, d); returns the scipy-format linkage matrix Z (n-1, 4).

    Row s of Z merges clusters Z[s,0] < Z[s,1] (ids < n are points, id n+t is the cluster made at step t)
    at distance Z[s,2] into a cluster of Z[s,3] points. Works on a dense n x n distance matrix (O(n^2)
    memory). Each step takes the globally closest pair from a cached nearest neighbour per row, updates
    the merged row with the Lance-Williams formula in one vectorized line, and rescans only the rows whose
    cached neighbour went stale. The four methods are monotone, so merges come out in distance order.
    """
    if method not in LINKAGE_METHODS:
        raise ValueError(f"method must be one of {LINKAGE_METHODS}, got {method!r}")
    if method == "ward" and metric != "euclidean":
        raise ValueError("Ward linkage needs metric='euclidean'")
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] < 2:
        raise ValueError(f"X must be 2-D with at least 2 rows, got shape {X.shape}")
    if not np.all(np.isfinite(X)):
        raise ValueError("X contains NaN or infinity")
    n = X.shape[0]
    D = squareform(pdist(X, metric=metric))
    np.fill_diagonal(D, np.inf)
    size = np.ones(n)
    cluster_id = np.arange(n)
    nn_idx = D.argmin(axis=1)
    nn_dist = D[np.arange(n), nn_idx]
    Z = np.empty((n - 1, 4))
    with np.errstate(invalid="ignore"):  # inf - inf in Ward rows of merged-away clusters
        for step in range(n - 1):
            i = int(nn_dist.argmin())
            j = int(nn_idx[i])
            a, b = min(i, j), max(i, j)  # the merged cluster lives on in row a; row b is retired
            d_ab = D[a, b]
            Z[step] = (*sorted((cluster_id[a], cluster_id[b])), d_ab, size[a] + size[b])
            new_row = _lance_williams(method, D[a], D[b], d_ab, size[a], size[b], size)
            new_row[~np.isfinite(D[b])] = np.inf  # retired clusters, and a itself, stay at infinity
            new_row[a] = np.inf
            D[a], D[:, a] = new_row, new_row
            D[b], D[:, b] = np.inf, np.inf
            size[a], size[b] = size[a] + size[b], 0
            cluster_id[a] = n + step
            _refresh_neighbours(D, nn_idx, nn_dist, new_row, a, b)
    return Z


def _refresh_neighbours(D, nn_idx, nn_dist, new_row, a, b):
    """Update the per-row nearest-neighbour cache after cluster b was merged into row a."""
    pointed_at_merged = np.isin(nn_idx, (a, b))
    closer = (new_row < nn_dist) | (pointed_at_merged & (new_row <= nn_dist))
    stale = pointed_at_merged & ~closer
    stale[[a, b]] = False
    nn_idx[closer], nn_dist[closer] = a, new_row[closer]
    rows = np.flatnonzero(stale)
    if len(rows):
        nn_idx[rows] = D[rows].argmin(axis=1)
        nn_dist[rows] = D[rows, nn_idx[rows]]
    nn_idx[a] = D[a].argmin()
    nn_dist[a] = D[a, nn_idx[a]]
    nn_dist[b] = np.inf


def cut_linkage(Z: np.ndarray, n_clusters: int) -> np.ndarray:
    """Flat labels (n,) in 0..n_clusters-1 from the first n - n_clusters merges of Z (like fcluster maxclust).

    Labels are numbered by first appearance, so the same partition always gets the same labels.
    """
    n = Z.shape[0] + 1
    if not 1 <= n_clusters <= n:
        raise ValueError(f"n_clusters must be in [1, {n}], got {n_clusters}")
    parent = np.arange(2 * n - 1)
    for step in range(n - n_clusters):
        left, right = int(Z[step, 0]), int(Z[step, 1])
        parent[left] = parent[right] = n + step
    root = parent.copy()
    for _ in range(n):  # pointer jumping: each pass halves the remaining depth
        nxt = root[root]
        if np.array_equal(nxt, root):
            break
        root = nxt
    _, labels = np.unique(root[:n], return_inverse=True)
    order = np.unique(labels, return_index=True)[1]
    relabel = np.empty(n_clusters, dtype=int)
    relabel[np.argsort(order)] = np.arange(n_clusters)
    return relabel[labels]


def plot_dendrogram(Z: np.ndarray, path, truncate_lastp: int | None = 30, title: str | None = None):
    """Draw the dendrogram of linkage matrix Z to an image file (drawing by scipy, Agg backend)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from scipy.cluster.hierarchy import dendrogram

    fig, ax = plt.subplots(figsize=(10, 4))
    kwargs = dict(truncate_mode="lastp", p=truncate_lastp) if truncate_lastp else {}
    dendrogram(Z, ax=ax, no_labels=truncate_lastp is None, **kwargs)
    ax.set_ylabel("merge distance")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


class AgglomerativeClustering(ClusterMixin, BaseEstimator):
    """Bottom-up clustering with `linkage` in {"single", "complete", "average", "ward"}, cut into n_clusters.

    Fitted: linkage_matrix_ (n-1, 4) in scipy format, children_ (n-1, 2), distances_ (n-1,), labels_ (n,).
    """

    def __init__(self, n_clusters=2, linkage="ward"):
        self.n_clusters = n_clusters
        self.linkage = linkage

    def fit(self, X, y=None):
        X = validate_data(self, X, dtype=np.float64, ensure_min_samples=2)
        if not isinstance(self.n_clusters, int | np.integer) or not 1 <= self.n_clusters <= X.shape[0]:
            raise ValueError(f"n_clusters must be an int in [1, n_samples={X.shape[0]}], got {self.n_clusters!r}")
        self.linkage_matrix_ = linkage(X, method=self.linkage)
        self.children_ = self.linkage_matrix_[:, :2].astype(np.intp)
        self.distances_ = self.linkage_matrix_[:, 2].copy()
        self.labels_ = cut_linkage(self.linkage_matrix_, self.n_clusters)
        return self
