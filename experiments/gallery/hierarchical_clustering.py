"""Hierarchical clustering: bottom-up merging (single, complete, average, Ward) gives scipy's exact merge tree.

Agglomerative clustering starts with every point its own cluster and repeatedly merges the two closest
clusters; the linkage decides what "closest" means between clusters (closest pair, farthest pair, mean pair
distance, or the smallest increase in within-cluster variance for Ward). The record of merges is a tree,
the dendrogram; cutting it at some height gives flat clusters, with no labels ever used. The project's
`nets.clustering.AgglomerativeClustering` writes the merges out in scipy's linkage format, and they
equal `scipy.cluster.hierarchy.linkage`'s merge for merge.
"""

from __future__ import annotations

import numpy as np
from scipy.cluster.hierarchy import dendrogram
from scipy.cluster.hierarchy import linkage as scipy_linkage
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

from experiments.gallery._plotting import new_figure, plot_dir_from_argv, save_figure
from nets.clustering import LINKAGE_METHODS, AgglomerativeClustering

N_POINTS = 30
N_BLOBS = 3


def blobs() -> tuple[np.ndarray, np.ndarray]:
    """Three 2-D Gaussian blobs: X (N_POINTS, 2) and the blob each point came from (N_POINTS,)."""
    return make_blobs(n_samples=N_POINTS, centers=N_BLOBS, cluster_std=1.0, random_state=3)


def main(plot_dir: str | None = None) -> dict:
    X, blob = blobs()
    results, linkages = {}, {}
    print(f"{N_POINTS} points in {N_BLOBS} blobs; ours vs scipy.cluster.hierarchy.linkage, then cut into "
          f"{N_BLOBS} clusters")
    for method in LINKAGE_METHODS:
        model = AgglomerativeClustering(n_clusters=N_BLOBS, linkage=method).fit(X)
        ours, theirs = model.linkage_matrix_, scipy_linkage(X, method=method)
        linkages[method] = ours
        same_pairs = bool(np.array_equal(ours[:, :2], theirs[:, :2]))
        max_height_diff = float(np.abs(ours[:, 2:] - theirs[:, 2:]).max())
        ari = float(adjusted_rand_score(blob, model.labels_))
        results[method] = {"same_merges_as_scipy": same_pairs, "max_abs_diff_vs_scipy": max_height_diff,
                           "last_merge_height": float(ours[-1, 2]), "ari_vs_blobs": ari}
        print(f"  {method:8s}: same merges as scipy {same_pairs}, max |height/size diff| {max_height_diff:.1e}, "
              f"last merge at {ours[-1, 2]:.2f}, ARI vs true blobs {ari:.2f}")
    if plot_dir is not None:
        _plot(plot_dir, X, blob, linkages)
    return {"n_points": N_POINTS, "methods": results}


def _plot(plot_dir, X: np.ndarray, blob: np.ndarray, linkages: dict) -> None:
    fig, axes = new_figure(ncols=5, panel_size=(3.4, 3.2))
    axes[0].scatter(*X.T, c=blob, cmap="viridis", s=20)
    for i, point in enumerate(X):
        axes[0].annotate(str(i), point, fontsize=6)
    axes[0].set(title="data (colour = blob)")
    for ax, (method, Z) in zip(axes[1:], linkages.items()):
        # Passing ax keeps scipy off pyplot's global state.
        dendrogram(Z, ax=ax, color_threshold=Z[-N_BLOBS + 1, 2], leaf_font_size=5)
        ax.set(title=f"{method} linkage", ylabel="merge distance" if method == "single" else None)
    save_figure(fig, plot_dir, "hierarchical_clustering")


if __name__ == "__main__":
    main(plot_dir=plot_dir_from_argv())
