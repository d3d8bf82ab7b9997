"""Learning is not memorizing: a lookup table and a CNN both know every training digit; only the CNN knows new views.

The notes: a baby who sees his mother from various angles and under different lighting is not memorizing her
face; he learns features of it, which is why he still knows her in new views. Checking whether two pictures are
identical (or nearly so) is easy; learning features is harder.
Both models get the same 500 training digits. The memorizer is a lookup table: it answers with the label of a
stored picture that matches the query to within one grey level (of 16) in every pixel, and otherwise says it
has never seen it. The CNN (nets.cnn, trained with nets.Trainer) sees each digit in varied views while it
trains: shifted by a pixel, turned by up to 20 degrees, dimmed and lit from behind, as the baby sees his mother.
Both are perfect on the training digits. On new copies of those same digits, shifted by one pixel, turned by 10
to 15 degrees or re-lit (a different contrast and a brighter background), the memorizer recognises none, while
the CNN keeps most. Letting the table answer with its nearest picture even when nothing matches (1-nearest
neighbour) survives lighting and small turns but loses a third of the shifted copies and half of those
changed all three ways: comparing pixels is not comparing features.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy import ndimage
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from experiments.gallery._plotting import new_figure, plot_dir_from_argv, save_figure
from nets import Trainer, cnn
from nets.augment import ImageAugmenter
from nets.losses import cross_entropy

N_TRAIN = 500
SEED = 0
TOLERANCE = 1.0  # grey levels (pixels run 0..16): "identical or nearly so"
CHANGES = {"shifted": dict(shift=True), "turned": dict(turn=True), "re-lit": dict(relight=True),
           "all three": dict(shift=True, turn=True, relight=True)}


def new_views(X: np.ndarray, seed: int, shift: bool = False, turn: bool = False, relight: bool = False):
    """Copies of the 8x8 digits (rows of X, (n, 64), 0..16): shifted one pixel up, down, left or right; turned
    by 10 to 15 degrees either way; re-lit to 50-100% contrast on a background of 3 to 6 grey levels."""
    rng = np.random.default_rng(seed)
    views = []
    for image in X.reshape(-1, 8, 8):
        if turn:
            image = ndimage.rotate(image, rng.choice([-1, 1]) * rng.uniform(10, 15), reshape=False, order=1)
        if shift:
            image = ndimage.shift(image, [(0, 1), (0, -1), (1, 0), (-1, 0)][rng.integers(4)], order=0)
        if relight:
            image = image * rng.uniform(0.5, 1.0) + rng.uniform(3, 6)
        views.append(image.ravel())
    return np.array(views)


class LookupMemorizer:
    """A table of pictures and their labels: recall by (near) identity, no features. `nearest=True` answers
    with the nearest stored picture even when none matches (1-nearest neighbour in pixel space)."""

    def __init__(self, tolerance: float = TOLERANCE, nearest: bool = False):
        self.tolerance, self.nearest = tolerance, nearest

    def fit(self, X: np.ndarray, y: np.ndarray) -> LookupMemorizer:
        self.pictures_, self.labels_ = np.asarray(X, dtype=np.float64), np.asarray(y)
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Labels (n,); -1 where no stored picture matches and nearest is False."""
        distances = ((X[:, None, :] - self.pictures_[None]) ** 2).sum(axis=2)
        closest = distances.argmin(axis=1)
        labels = self.labels_[closest].copy()
        if not self.nearest:
            matches = np.abs(X - self.pictures_[closest]).max(axis=1) <= self.tolerance
            labels[~matches] = -1
        return labels


def train_cnn(X: np.ndarray, y: np.ndarray) -> torch.nn.Sequential:
    """A conv net 1x8x8 -> 32 -> 64 maps (3x3, max-pool) -> 128 -> 10, trained on varied views of X (rows 0..16).

    Half of each batch is shown as drawn; the other half shifted (<= 1 pixel), turned (<= 20 degrees) and re-lit
    (contrast 50-100%, background 3-6 grey levels), fresh every batch.
    """
    augmenter = ImageAugmenter((1, 8, 8), max_shift=1, max_rotation=20.0, seed=SEED)
    generator = torch.Generator().manual_seed(SEED)

    def views(batch: torch.Tensor) -> torch.Tensor:
        n = len(batch)
        contrast = 0.5 + 0.5 * torch.rand(n, 1, 1, 1, generator=generator)
        background = (3 + 3 * torch.rand(n, 1, 1, 1, generator=generator)) / 16
        as_drawn = (torch.rand(n, 1, 1, 1, generator=generator) < 0.5).float()
        return as_drawn * batch + (1 - as_drawn) * (augmenter(batch) * contrast + background)

    torch.manual_seed(SEED)
    net = cnn((1, 8, 8), channels=(32, 64), kernel_sizes=3, paddings=1, pool="max", head=(128, 10))
    trainer = Trainer(net, cross_entropy, epochs=50, batch_size=50, lr=3e-3, seed=SEED, device="cpu",
                      progress=False)
    trainer.fit(as_images(X), y, transform=views)
    return net.eval()


def as_images(X: np.ndarray) -> np.ndarray:
    """Digit rows (n, 64), 0..16 -> CNN input (n, 1, 8, 8) float32 scaled to 0..1."""
    return (np.asarray(X) / 16.0).reshape(-1, 1, 8, 8).astype(np.float32)


def cnn_predict(net: torch.nn.Module, X: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return net(torch.as_tensor(as_images(X))).argmax(dim=1).numpy()


def main(plot_dir: str | None = None) -> dict:
    torch.set_num_threads(1)
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, train_size=N_TRAIN, random_state=SEED, stratify=y)
    models = {"memorizer": LookupMemorizer().fit(X_train, y_train),
              "nearest picture": LookupMemorizer(nearest=True).fit(X_train, y_train)}
    net = train_cnn(X_train, y_train)
    predict = {**{name: model.predict for name, model in models.items()}, "CNN": lambda Xs: cnn_predict(net, Xs)}
    sets = {"training digits": X_train,
            **{f"{name} copies": new_views(X_train, SEED + 1, **kw) for name, kw in CHANGES.items()}}
    results = {name: {set_name: float(np.mean(fn(Xs) == y_train)) for set_name, Xs in sets.items()}
               for name, fn in predict.items()}
    for name, fn in predict.items():
        results[name]["held-out digits"] = float(np.mean(fn(X_test) == y_test))
    print(f"accuracy on the {N_TRAIN} training digits and on new views of them (and on {len(X_test)} unseen digits)")
    columns = list(results["CNN"])
    print(f"  {'':16s}" + "".join(f"{c.replace(' copies', ''):>16s}" for c in columns))
    for name, row in results.items():
        print(f"  {name:16s}" + "".join(f"{row[c]:16.3f}" for c in columns))
    if plot_dir is not None:
        _plot(plot_dir, X_train, sets)
    return results


def _plot(plot_dir, X_train: np.ndarray, sets: dict) -> None:
    fig, axes = new_figure(ncols=len(sets), nrows=3, panel_size=(1.6, 1.7))
    for column, (name, images) in enumerate(sets.items()):
        for row in range(3):
            ax = axes[row * len(sets) + column]
            ax.imshow(images[row].reshape(8, 8), cmap="gray_r", vmin=0, vmax=16)
            ax.set(xticks=[], yticks=[], title=name.replace(" copies", "") if row == 0 else "")
    save_figure(fig, plot_dir, "learning_not_memorizing")


if __name__ == "__main__":
    main(plot_dir=plot_dir_from_argv())
