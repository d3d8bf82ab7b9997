"""Data augmentation: training on shifted, turned copies makes a net robust to moved digits; a half turn is a trap.

Trained on 200 digits, an MLP that saw each digit only as it was drawn fails on test digits moved by up to
one pixel and turned by up to 10 degrees (new views of the same digits, like a face seen from another
angle). The same MLP trained with augmentation (nets.augment: a fresh random shift, small rotation and a
little noise for every training batch) recognises the moved digits almost as well as the originals, and
does about as well on the clean test set.
The transformations must not change the class. Turning a 6 by 180 degrees gives a 9: both classifiers call
most half-turned test 6s a 9, so "rotate by any angle" would teach the net that 9-shapes are 6s. That is
why nets.augment allows only small rotations and never flips.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from experiments.gallery._plotting import new_figure, plot_dir_from_argv, save_figure
from nets.augment import ImageAugmenter
from nets.supervised import MLPClassifier

N_TRAIN = 200
SEED = 0


def moved_copies(X: np.ndarray, seed: int = 123) -> np.ndarray:
    """Each 8x8 digit (rows of X, (n, 64)) shifted by up to 1 pixel and rotated by up to 10 degrees."""
    augmenter = ImageAugmenter((1, 8, 8), max_shift=1, max_rotation=10.0, noise_std=0.0, seed=seed)
    return augmenter(torch.as_tensor(X, dtype=torch.float32)).numpy().astype(np.float64)


def half_turn(X: np.ndarray) -> np.ndarray:
    """Each 8x8 digit rotated by 180 degrees: (n, 64) -> (n, 64)."""
    return X.reshape(-1, 8, 8)[:, ::-1, ::-1].reshape(len(X), 64)


def main(plot_dir: str | None = None) -> dict:
    torch.set_num_threads(1)
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, train_size=N_TRAIN, random_state=SEED, stratify=y)
    X_moved = moved_copies(X_test)
    sixes_turned = half_turn(X_test[y_test == 6])
    results = {}
    print(f"{N_TRAIN} training digits, MLP 64-256-10; test accuracy on clean / moved test digits")
    for name, augment in (("plain", None), ("augmented", "digits")):
        clf = MLPClassifier(hidden_layer_sizes=(256,), dropout=0.0, epochs=100, batch_size=50, augment=augment,
                            validation_fraction=0.0, patience=None, random_state=SEED, device="cpu")
        clf.fit(X_train, y_train)
        predicted_for_turned_sixes = clf.predict(sixes_turned)
        results[name] = {"clean_test_accuracy": float(clf.score(X_test, y_test)),
                         "moved_test_accuracy": float(clf.score(X_moved, y_test)),
                         "turned_six_called_nine": float(np.mean(predicted_for_turned_sixes == 9)),
                         "turned_six_called_six": float(np.mean(predicted_for_turned_sixes == 6))}
        row = results[name]
        print(f"  {name:9s}: clean {row['clean_test_accuracy']:.3f}, moved {row['moved_test_accuracy']:.3f}; "
              f"half-turned 6s called 9: {row['turned_six_called_nine']:.0%}, called 6: "
              f"{row['turned_six_called_six']:.0%}")
    print(f"  ({len(sixes_turned)} test 6s turned by 180 degrees: a half turn changes the class, so never "
          "augment with it)")
    if plot_dir is not None:
        _plot(plot_dir, X_test, X_moved, sixes_turned)
    return results


def _plot(plot_dir, X_test: np.ndarray, X_moved: np.ndarray, sixes_turned: np.ndarray) -> None:
    fig, axes = new_figure(ncols=6, nrows=2, panel_size=(1.6, 1.7))
    for column in range(3):
        for row, (images, title) in enumerate(((X_test, "test digit"), (X_moved, "moved copy"))):
            ax = axes[row * 6 + column]
            ax.imshow(images[column].reshape(8, 8), cmap="gray_r")
            ax.set(title=title, xticks=[], yticks=[])
    for column in range(3):
        ax_six, ax_turned = axes[3 + column], axes[9 + column]
        ax_six.imshow(half_turn(sixes_turned[column:column + 1]).reshape(8, 8), cmap="gray_r")
        ax_turned.imshow(sixes_turned[column].reshape(8, 8), cmap="gray_r")
        ax_six.set(title="a 6", xticks=[], yticks=[])
        ax_turned.set(title="turned 180: a 9?", xticks=[], yticks=[])
    save_figure(fig, plot_dir, "data_augmentation")


if __name__ == "__main__":
    main(plot_dir=plot_dir_from_argv())
