"""Probabilistic graphical models: naive Bayes is a counted graph; a Bayes net's exact posterior matches sampling.

The notes list four kinds of models: decision trees, SVMs, probabilistic graphical models and neural nets.
A graphical model is a graph of random variables whose arrows say which ones depend directly on which.
Naive Bayes is the smallest useful one: an arrow from the digit's class to each of its 64 pixels (pixels
binarized at 8 of 16), and no arrows between pixels. "Training" only counts how often each pixel is on for each
class. The by-hand posterior from those counts equals scikit-learn's BernoulliNB. Because pixels are not
independent given the digit, naive Bayes trails the SVM, k-NN and MLP on digits, but beats chance (0.1) by far.
The rain -> sprinkler -> wet grass network (Wikipedia's example) answers "it is wet: did it rain?" exactly
by enumerating the joint distribution, and approximately by likelihood weighting, whose estimate lands
within its standard error's reach of the exact answer.
"""

from __future__ import annotations

import itertools

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.naive_bayes import BernoulliNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier

from experiments.gallery._plotting import new_figure, plot_dir_from_argv, save_figure
from nets.supervised import MLPClassifier

SEED = 0
PIXEL_ON = 8.0  # digits' pixels run 0..16; a pixel is "on" above the middle
N_SAMPLES = 20_000

# Conditional probability tables, True = 1: P(rain), P(sprinkler | rain), P(wet | sprinkler, rain).
P_RAIN = 0.2
P_SPRINKLER_GIVEN_RAIN = {True: 0.01, False: 0.4}
P_WET_GIVEN = {(True, True): 0.99, (True, False): 0.9, (False, True): 0.8, (False, False): 0.0}


def naive_bayes_posterior(X_train: np.ndarray, y_train: np.ndarray, X: np.ndarray, alpha: float = 1.0):
    """P(class | binary pixels) from counts, pixels independent given the class. X rows: (n, 64) 0/1."""
    classes = np.unique(y_train)
    log_prior = np.log(np.array([np.mean(y_train == c) for c in classes]))
    # P(pixel on | class) with Laplace smoothing: (count on + alpha) / (count + 2 alpha).
    p_on = np.array([(X_train[y_train == c].sum(axis=0) + alpha) / ((y_train == c).sum() + 2 * alpha)
                     for c in classes])
    log_joint = log_prior + X @ np.log(p_on).T + (1 - X) @ np.log(1 - p_on).T
    log_joint -= log_joint.max(axis=1, keepdims=True)
    posterior = np.exp(log_joint)
    return posterior / posterior.sum(axis=1, keepdims=True), p_on


def digits_models() -> dict:
    """Test accuracy on digits of by-hand naive Bayes (checked against BernoulliNB) and the notes' other models."""
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=SEED, stratify=y)
    B_train, B_test = (X_train > PIXEL_ON).astype(float), (X_test > PIXEL_ON).astype(float)
    posterior, p_on = naive_bayes_posterior(B_train, y_train, B_test)
    sklearn_nb = BernoulliNB(alpha=1.0, binarize=PIXEL_ON).fit(X_train, y_train)
    accuracy = {"naive Bayes": float(np.mean(posterior.argmax(axis=1) == y_test))}
    others = {"decision tree": DecisionTreeClassifier(random_state=SEED), "SVM (RBF)": SVC(),
              "k-NN (k=5)": KNeighborsClassifier(),
              "MLP 64-128-10": MLPClassifier(hidden_layer_sizes=(128,), dropout=0.0, epochs=40, batch_size=64,
                                             validation_fraction=0.0, patience=None, random_state=SEED,
                                             device="cpu")}
    for name, model in others.items():
        accuracy[name] = float(model.fit(X_train, y_train).score(X_test, y_test))
    return {"test_accuracy": accuracy,
            "naive_bayes_vs_sklearn": float(np.abs(posterior - sklearn_nb.predict_proba(X_test)).max()),
            "n_parameters": int(p_on.size + len(p_on) - 1), "p_on": p_on.tolist()}


def joint(rain: bool, sprinkler: bool, wet: bool) -> float:
    """P(rain, sprinkler, wet) as the network factors it: P(r) P(s | r) P(w | s, r)."""
    p_r = P_RAIN if rain else 1 - P_RAIN
    p_s = P_SPRINKLER_GIVEN_RAIN[rain] if sprinkler else 1 - P_SPRINKLER_GIVEN_RAIN[rain]
    p_w = P_WET_GIVEN[(sprinkler, rain)] if wet else 1 - P_WET_GIVEN[(sprinkler, rain)]
    return p_r * p_s * p_w


def exact_posteriors() -> dict:
    """P(rain | wet) and P(sprinkler | wet) by summing the joint over every assignment (enumeration)."""
    table = {(r, s): joint(r, s, True) for r, s in itertools.product((True, False), repeat=2)}
    p_wet = sum(table.values())
    return {"p_wet": p_wet, "rain": sum(p for (r, _), p in table.items() if r) / p_wet,
            "sprinkler": sum(p for (_, s), p in table.items() if s) / p_wet}


def likelihood_weighting(n: int, seed: int) -> dict:
    """Estimates of P(rain | wet), P(sprinkler | wet) and their standard errors from n weighted samples.

    Sample the unobserved parents from their tables, weight each sample by P(wet | its parents); the
    self-normalized estimate's standard error is sqrt(sum w_i^2 (x_i - p)^2) / sum w_i (the delta method).
    """
    rng = np.random.default_rng(seed)
    rain = rng.random(n) < P_RAIN
    sprinkler = rng.random(n) < np.where(rain, P_SPRINKLER_GIVEN_RAIN[True], P_SPRINKLER_GIVEN_RAIN[False])
    weights = np.array([P_WET_GIVEN[key] for key in ((True, True), (True, False), (False, True), (False, False))])
    w = weights[2 * (~sprinkler) + (~rain)]
    result = {"n": n, "effective_sample_size": float(w.sum() ** 2 / (w ** 2).sum())}
    for name, x in (("rain", rain), ("sprinkler", sprinkler)):
        p = float(np.sum(w * x) / w.sum())
        result[name] = p
        result[f"{name}_standard_error"] = float(np.sqrt(np.sum(w ** 2 * (x - p) ** 2)) / w.sum())
    return result


def main(plot_dir: str | None = None) -> dict:
    torch.set_num_threads(1)
    digits = digits_models()
    print("naive Bayes = the graph digit -> each of 64 binary pixels; its tables are counts "
          f"({digits['n_parameters']} numbers)")
    print(f"  by-hand posterior vs sklearn BernoulliNB: max |difference| {digits['naive_bayes_vs_sklearn']:.1e}")
    print("digits test accuracy of the notes' models:")
    for name, acc in digits["test_accuracy"].items():
        print(f"  {name:14s} {acc:.3f}")
    exact, sampled = exact_posteriors(), likelihood_weighting(N_SAMPLES, SEED)
    print("Bayes net rain -> sprinkler, (rain, sprinkler) -> wet grass; the grass is wet:")
    for name in ("rain", "sprinkler"):
        z = (sampled[name] - exact[name]) / sampled[f"{name}_standard_error"]
        print(f"  P({name} | wet): exact {exact[name]:.4f}, likelihood weighting ({N_SAMPLES} samples) "
              f"{sampled[name]:.4f} +- {sampled[f'{name}_standard_error']:.4f} ({z:+.2f} standard errors)")
    if plot_dir is not None:
        _plot(plot_dir, digits, exact)
    return {"digits": {k: v for k, v in digits.items() if k != "p_on"}, "exact": exact,
            "likelihood_weighting": sampled}


def _draw_graph(ax, positions: dict, edges: list, title: str) -> None:
    for parent, child in edges:
        ax.annotate("", xy=positions[child], xytext=positions[parent],
                    arrowprops=dict(arrowstyle="-|>", shrinkA=22, shrinkB=22, color="k"))
    for name, (x, y) in positions.items():
        ax.text(x, y, name, ha="center", va="center", fontsize=9,
                bbox=dict(boxstyle="circle,pad=0.4" if len(name) < 4 else "round,pad=0.4", fc="lightyellow"))
    ax.set(title=title, xlim=(-0.2, 1.2), ylim=(-0.2, 1.2), xticks=[], yticks=[])


def _plot(plot_dir, digits: dict, exact: dict) -> None:
    fig, axes = new_figure(ncols=3, panel_size=(4.0, 3.6))
    _draw_graph(axes[0], {"rain": (0.2, 0.85), "sprinkler": (0.8, 0.85), "wet grass": (0.5, 0.15)},
                [("rain", "sprinkler"), ("rain", "wet grass"), ("sprinkler", "wet grass")],
                f"Bayes net: P(rain | wet) = {exact['rain']:.3f}")
    axes[0].text(0.5, -0.08, f"P(rain) = {P_RAIN}\nP(sprinkler | rain) = {P_SPRINKLER_GIVEN_RAIN[True]}, "
                 f"| no rain) = {P_SPRINKLER_GIVEN_RAIN[False]}", ha="center", va="center", fontsize=7)
    pixels = {"digit": (0.5, 0.85), **{f"x{i}": (0.05 + 0.3 * k, 0.15) for k, i in enumerate((1, 2, 3, 64))}}
    _draw_graph(axes[1], pixels, [("digit", f"x{i}") for i in (1, 2, 3, 64)], "naive Bayes: pixels x1..x64")
    axes[1].text(0.8, 0.15, "...", ha="center", va="center")
    names = list(digits["test_accuracy"])
    axes[2].barh(names, [digits["test_accuracy"][n] for n in names], color="tab:blue")
    axes[2].set(xlim=(0.5, 1.0), xlabel="test accuracy", title="digits")
    save_figure(fig, plot_dir, "graphical_models")


if __name__ == "__main__":
    main(plot_dir=plot_dir_from_argv())
