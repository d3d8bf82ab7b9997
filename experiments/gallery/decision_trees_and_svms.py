"""Decision trees and SVMs: deeper trees fit the training set ever better but not the test set; an RBF SVM bends.

Two of the chapter's "models" besides neural nets, from scikit-learn. A decision tree on the digits grows
its training accuracy to 100% with depth while its test accuracy levels off well below (a depth-2 tree is
printed as text: a tree is readable). On two interleaved half moons a linear SVM can only draw a line and
misclassifies the moons' tips; an SVM with an RBF kernel separates them. Both are described by their support
vectors, the training points on or inside the margin.
"""

from __future__ import annotations

import numpy as np
from sklearn.datasets import load_digits, make_moons
from sklearn.model_selection import train_test_split
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier, export_text

from experiments.gallery._plotting import new_figure, plot_dir_from_argv, save_figure

DEPTHS = (1, 2, 4, 6, 8, 12, 16)
SEED = 0


def tree_depth_sweep() -> dict:
    """Train/test accuracy of a decision tree on digits for each max_depth in DEPTHS."""
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=SEED, stratify=y)
    train_acc, test_acc = [], []
    for depth in DEPTHS:
        tree = DecisionTreeClassifier(max_depth=depth, random_state=SEED).fit(X_train, y_train)
        train_acc.append(float(tree.score(X_train, y_train)))
        test_acc.append(float(tree.score(X_test, y_test)))
    small_tree = DecisionTreeClassifier(max_depth=2, random_state=SEED).fit(X_train, y_train)
    text = export_text(small_tree, feature_names=[f"pixel[{i // 8},{i % 8}]" for i in range(64)])
    return {"depths": list(DEPTHS), "train_accuracy": train_acc, "test_accuracy": test_acc,
            "depth2_text": text, "depth2_leaves": int(small_tree.get_n_leaves())}


def moons_svms() -> tuple[dict, dict]:
    """Linear and RBF SVCs on noisy moons: accuracies and support-vector counts; plus the fitted models."""
    X, y = make_moons(n_samples=400, noise=0.15, random_state=SEED)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.5, random_state=SEED)
    results, models = {}, {}
    for kernel in ("linear", "rbf"):
        svm = SVC(kernel=kernel, C=1.0, gamma="scale").fit(X_train, y_train)
        models[kernel] = svm
        results[kernel] = {"train_accuracy": float(svm.score(X_train, y_train)),
                           "test_accuracy": float(svm.score(X_test, y_test)),
                           "support_vectors": int(svm.n_support_.sum())}
    return results, {"models": models, "X": X_train, "y": y_train}


def main(plot_dir: str | None = None) -> dict:
    trees = tree_depth_sweep()
    print("decision tree on digits: max_depth -> train / test accuracy")
    for depth, train, test in zip(trees["depths"], trees["train_accuracy"], trees["test_accuracy"]):
        print(f"  depth {depth:2d}: {train:.3f} / {test:.3f}")
    print("the depth-2 tree (a tree reads as rules):")
    print(trees["depth2_text"].rstrip())
    svms, fitted = moons_svms()
    print("SVMs on two moons (200 training points):")
    for kernel, row in svms.items():
        print(f"  {kernel:6s} kernel: train {row['train_accuracy']:.3f}, test {row['test_accuracy']:.3f}, "
              f"{row['support_vectors']} support vectors")
    if plot_dir is not None:
        _plot(plot_dir, trees, fitted)
    return {"tree": {k: v for k, v in trees.items() if k != "depth2_text"}, "svm": svms}


def _plot(plot_dir, trees: dict, fitted: dict) -> None:
    fig, axes = new_figure(ncols=3)
    axes[0].plot(trees["depths"], trees["train_accuracy"], "o-", label="train")
    axes[0].plot(trees["depths"], trees["test_accuracy"], "s-", label="test")
    axes[0].set(title="decision tree on digits", xlabel="max_depth", ylabel="accuracy")
    axes[0].legend()
    X, y = fitted["X"], fitted["y"]
    grid_x, grid_y = np.meshgrid(np.linspace(-1.5, 2.5, 200), np.linspace(-1.0, 1.5, 200))
    for ax, (kernel, svm) in zip(axes[1:], fitted["models"].items()):
        scores = svm.decision_function(np.column_stack([grid_x.ravel(), grid_y.ravel()])).reshape(grid_x.shape)
        ax.contourf(grid_x, grid_y, scores > 0, alpha=0.2, cmap="coolwarm")
        ax.contour(grid_x, grid_y, scores, levels=[-1, 0, 1], colors="k", linestyles=["--", "-", "--"])
        ax.scatter(*X.T, c=y, cmap="coolwarm", s=10)
        ax.scatter(*svm.support_vectors_.T, s=40, facecolors="none", edgecolors="k", linewidths=0.6)
        ax.set(title=f"SVC, {kernel} kernel ({len(svm.support_vectors_)} SVs)")
    save_figure(fig, plot_dir, "decision_trees_and_svms")


if __name__ == "__main__":
    main(plot_dir=plot_dir_from_argv())
