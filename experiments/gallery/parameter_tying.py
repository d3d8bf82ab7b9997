"""Parameter tying: an autoencoder whose decoder reuses the encoder's weights (transposed) needs half the weights.

An autoencoder squeezes each 64-pixel digit through a 16-number code and rebuilds it. Untied, the decoder
has its own weight matrices; tied, decoder layer i uses encoder layer i's matrix transposed (W^T), so only
the biases are new (nets.unsupervised.Autoencoder). Both nets have the same shape (ELU units), the same loss
and the same training; the tied one has about half the parameters and reconstructs held-out digits about as
well (its error within about 10% of the untied one's in the seeds we tried): a good decoder is close to the
encoder's transpose anyway, so tying it there costs little.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import nn

import nets
from experiments.gallery._plotting import new_figure, plot_dir_from_argv, save_figure
from nets.supervised import split_trunk_head, standardizer
from nets.unsupervised import Autoencoder

HIDDEN = (48, 16)  # encoder widths; the last is the code size
ACTIVATION = "elu"  # with ReLU, the untied net loses many code units to dead ReLUs, which muddies the comparison
TRAINING = dict(epochs=60, batch_size=128, lr=5e-3)
SEED = 0


class UntiedAutoencoder(nn.Module):
    """The encoder of nets.unsupervised.TiedAutoencoder, but a decoder (code -> 48 -> 64) with its own weights.

    x (B, 64) in pixel units -> reconstruction (B, 64) in pixel units; scaling is kept inside the model.
    """

    def __init__(self, X_train: np.ndarray):
        super().__init__()
        self.scaler = standardizer(X_train, "global")
        self.encoder, _ = split_trunk_head(nets.mlp(X_train.shape[1], HIDDEN, 1, ACTIVATION))
        self.decoder = nets.mlp(HIDDEN[-1], list(reversed(HIDDEN[:-1])), X_train.shape[1], ACTIVATION)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(self.scaler(x))) * self.scaler.scale + self.scaler.mean


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def train_untied(X_train: np.ndarray) -> UntiedAutoencoder:
    """Train with the Autoencoder estimator's loss: mean squared error on scaled inputs."""
    torch.manual_seed(SEED)
    model = UntiedAutoencoder(X_train)
    scale = model.scaler.scale

    def scaled_mse(reconstruction, x):
        return (((reconstruction - x) / scale) ** 2).mean()

    nets.Trainer(model, scaled_mse, optimizer="adam", device="cpu", seed=SEED, progress=False, **TRAINING).fit(X_train)
    return model.eval()


def main(plot_dir: str | None = None) -> dict:
    torch.set_num_threads(1)
    X, _ = load_digits(return_X_y=True)
    X_train, X_test = train_test_split(X.astype(np.float32), test_size=0.3, random_state=SEED)
    tied = Autoencoder(hidden_layer_sizes=HIDDEN, activation=ACTIVATION, validation_fraction=0.0, scaling="global",
                       random_state=SEED, device="cpu", **TRAINING).fit(X_train)
    untied = train_untied(X_train)
    with torch.no_grad():
        untied_test = untied(torch.from_numpy(X_test)).numpy()
    results = {
        "tied": {"parameters": count_parameters(tied.model_), "test_mse": -tied.score(X_test)},
        "untied": {"parameters": count_parameters(untied),
                   "test_mse": float(np.mean((untied_test - X_test) ** 2))},
    }
    results["parameter_ratio"] = results["tied"]["parameters"] / results["untied"]["parameters"]
    results["error_ratio"] = results["tied"]["test_mse"] / results["untied"]["test_mse"]
    print(f"autoencoders 64 -> {' -> '.join(map(str, HIDDEN))} -> ... -> 64 on digits; "
          "mean squared error per pixel (pixels 0-16) on held-out digits")
    for name in ("tied", "untied"):
        print(f"  {name:6s}: {results[name]['parameters']:5d} parameters, test error {results[name]['test_mse']:.3f}")
    print(f"  tied / untied: {results['parameter_ratio']:.2f} of the parameters, "
          f"{results['error_ratio']:.2f} x the error")
    if plot_dir is not None:
        _plot(plot_dir, X_test[:6], tied.inverse_transform(tied.transform(X_test[:6])), untied_test[:6])
    return results


def _plot(plot_dir, originals: np.ndarray, tied: np.ndarray, untied: np.ndarray) -> None:
    fig, axes = new_figure(ncols=len(originals), nrows=3, panel_size=(1.3, 1.4))
    for row, (images, name) in enumerate(((originals, "digit"), (tied, "tied"), (untied, "untied"))):
        for column, image in enumerate(images):
            ax = axes[row * len(originals) + column]
            ax.imshow(image.reshape(8, 8), cmap="gray_r", vmin=0, vmax=16)
            ax.set(xticks=[], yticks=[], ylabel=name if column == 0 else None)
    save_figure(fig, plot_dir, "parameter_tying")


if __name__ == "__main__":
    main(plot_dir=plot_dir_from_argv())
