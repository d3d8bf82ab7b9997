"""Transfer learning: a trunk trained on a related task gives a few-label task a head start, if features are shared.

Train a net on a source task with plenty of labels, keep its trunk (the layers below the output) and train
a new output layer for the target task on a few labels, either fine-tuning the whole trunk or freezing it.
It pays when both tasks rest on the same features. In a generated world where 30 raw inputs drive 8 hidden
features and both 5-class tasks are read off those features, the transferred trunk (from 2,000 source
labels) beats training the same net from scratch on the 50 target labels, frozen or fine-tuned (chance is 0.2).
The digits split one might try first, 0-4 as the source and 5-9 as the target, is reported honestly too:
at 8x8 pixels a from-scratch net on 25 labels is already strong, the frozen 0-4 features are worse for 5-9
than learning from the pixels, and fine-tuning lands within a couple of points of scratch either way
(over the seeds we tried): no reliable head start.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.datasets import load_digits

from experiments.gallery._plotting import new_figure, plot_dir_from_argv, save_figure
from nets.supervised import MLPClassifier

N_INPUTS, N_FEATURES, N_CLASSES = 30, 8, 5
N_SOURCE, N_TARGET = 2000, 50
DIGIT_LABELS_PER_CLASS = 5
SEED = 0


def make_classifier(seed: int, epochs: int, **transfer) -> MLPClassifier:
    """The same 64-unit MLP for every run; `transfer` passes warm_start_trunk / freeze_trunk."""
    return MLPClassifier(hidden_layer_sizes=(64,), dropout=0.0, alpha=1e-4, epochs=epochs, batch_size=128, lr=2e-3,
                         scaling="feature", validation_fraction=0.0, patience=None, random_state=seed, device="cpu",
                         **transfer)


def shared_feature_world(rng: np.random.Generator):
    """Two 5-class tasks on the same hidden features: returns sample(n, task) -> (X (n, 30), y (n,))."""
    W = rng.normal(size=(N_INPUTS, N_FEATURES)) / np.sqrt(N_INPUTS)
    b = rng.normal(size=N_FEATURES) * 0.3
    reference = np.maximum(rng.normal(size=(5000, N_INPUTS)) @ W + b, 0.0)
    mean, std = reference.mean(axis=0), reference.std(axis=0)
    readouts = {"source": rng.normal(size=(N_FEATURES, N_CLASSES)), "target": rng.normal(size=(N_FEATURES, N_CLASSES))}

    def sample(n: int, task: str):
        X = rng.normal(size=(n, N_INPUTS))
        features = (np.maximum(X @ W + b, 0.0) - mean) / std
        return X, (features @ readouts[task]).argmax(axis=1)

    return sample


def compare(source_data, target_data, test_data, seed: int) -> dict:
    """Test accuracy on the target task: from scratch, fine-tuned source trunk, frozen source trunk."""
    source = make_classifier(seed, epochs=30).fit(*source_data)
    runs = {"scratch": {}, "fine_tuned": {"warm_start_trunk": source},
            "frozen": {"warm_start_trunk": source, "freeze_trunk": True}}
    return {name: float(make_classifier(seed, epochs=100, **extra).fit(*target_data).score(*test_data))
            for name, extra in runs.items()}


def digits_split(seed: int) -> tuple:
    """Source: all digits 0-4. Target: DIGIT_LABELS_PER_CLASS labelled 5-9s; test: the other 5-9s."""
    X, y = load_digits(return_X_y=True)
    low = y < 5
    X_high, y_high = X[~low], y[~low]
    rng = np.random.default_rng(seed)
    few = np.concatenate([rng.choice(np.flatnonzero(y_high == k), DIGIT_LABELS_PER_CLASS, replace=False)
                          for k in range(5, 10)])
    rest = np.setdiff1d(np.arange(len(y_high)), few)
    return (X[low], y[low]), (X_high[few], y_high[few]), (X_high[rest], y_high[rest])


def main(plot_dir: str | None = None) -> dict:
    torch.set_num_threads(1)
    sample = shared_feature_world(np.random.default_rng(SEED))
    world = compare(sample(N_SOURCE, "source"), sample(N_TARGET, "target"), sample(2000, "target"), SEED)
    digits = compare(*digits_split(SEED), SEED)
    print(f"shared-feature world: {N_SOURCE} source labels, {N_TARGET} target labels; target test accuracy")
    print("  " + ", ".join(f"{name} {accuracy:.3f}" for name, accuracy in world.items()))
    print(f"digits 0-4 -> 5-9: all 0-4 labels, {DIGIT_LABELS_PER_CLASS} labels per class of 5-9")
    print("  " + ", ".join(f"{name} {accuracy:.3f}" for name, accuracy in digits.items()))
    best = max(digits["fine_tuned"], digits["frozen"]) - digits["scratch"]
    verdict = "a head start" if best > 0.03 else "no reliable head start: 0-4 features are not what 5-9 need"
    print(f"  on digits the best transferred trunk is {best:+.3f} against scratch: {verdict}")
    if plot_dir is not None:
        _plot(plot_dir, world, digits)
    return {"shared_feature_world": world, "digits_0_4_to_5_9": digits}


def _plot(plot_dir, world: dict, digits: dict) -> None:
    fig, ax = new_figure(panel_size=(5.0, 3.5))
    names = list(world)
    positions = np.arange(len(names))
    ax.bar(positions - 0.2, [world[n] for n in names], 0.4, label=f"shared features ({N_TARGET} labels)")
    ax.bar(positions + 0.2, [digits[n] for n in names], 0.4, label="digits 0-4 -> 5-9 (25 labels)")
    ax.set(title="target-task test accuracy", xticks=positions, xticklabels=names, ylim=(0, 1))
    ax.legend(fontsize="small", loc="lower right")
    save_figure(fig, plot_dir, "transfer_learning")


if __name__ == "__main__":
    main(plot_dir=plot_dir_from_argv())
