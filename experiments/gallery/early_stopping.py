"""Early stopping: validation loss bottoms out while training loss keeps falling; stop and keep the best weights.

A wide MLP trained on 300 digits whose labels are 25% wrong first learns the digits and then memorises the
wrong labels: training loss keeps going down, validation loss (on held-out digits, labelled just as noisily)
reaches a minimum and climbs. nets.Trainer with `patience` watches the validation loss, stops once it has not
improved for `patience` epochs (so a single bump does not stop it) and restores the weights of the best
epoch. Re-evaluating the returned model on the validation set gives exactly that minimum.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.datasets import load_digits

import nets
from experiments.gallery._plotting import new_figure, plot_dir_from_argv, save_figure
from nets.losses import cross_entropy

N_TRAIN, N_VAL = 300, 300
LABEL_NOISE = 0.25
PATIENCE = 15
MAX_EPOCHS = 150
SEED = 0


def noisy_digits(rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """Train and validation digits, X scaled to [0, 1] (n, 64); a LABEL_NOISE fraction of labels replaced at
    random (both sets alike, as real label noise would be). Returns X_train, y_train, X_val, y_val."""
    X, y = load_digits(return_X_y=True)
    order = rng.permutation(len(X))[:N_TRAIN + N_VAL]
    X, y = (X[order] / 16.0).astype(np.float32), y[order].copy()
    flip = rng.random(len(y)) < LABEL_NOISE
    y[flip] = rng.integers(0, 10, flip.sum())
    return X[:N_TRAIN], y[:N_TRAIN], X[N_TRAIN:], y[N_TRAIN:]


def main(plot_dir: str | None = None) -> dict:
    torch.set_num_threads(1)
    rng = np.random.default_rng(SEED)
    X_train, y_train, X_val, y_val = noisy_digits(rng)
    torch.manual_seed(SEED)
    model = nets.mlp(64, (256, 256), 10)
    trainer = nets.Trainer(model, cross_entropy, epochs=MAX_EPOCHS, batch_size=100, lr=3e-3, patience=PATIENCE,
                           device="cpu", seed=SEED, progress=False)
    history = trainer.fit(X_train, y_train, X_val=X_val, y_val=y_val)
    best = history.best_epoch
    # Independent re-evaluation of the weights fit() handed back, on the whole validation set at once.
    with torch.no_grad():
        model.eval()
        returned_val_loss = float(cross_entropy(model(torch.from_numpy(X_val)), torch.from_numpy(y_val)))
    train_loss, val_loss = history.train_loss, history.val_loss
    print(f"{N_TRAIN} training digits, {LABEL_NOISE:.0%} of labels wrong; MLP 64-256-256-10, patience {PATIENCE}")
    print(f"  validation loss: min {min(val_loss):.4f} at epoch {best}, {val_loss[-1]:.4f} when stopped "
          f"after epoch {history.epochs_run - 1} (stopped early: {history.stopped_early})")
    print(f"  training loss: {train_loss[best]:.4f} at the best epoch, {train_loss[-1]:.4f} when stopped")
    print(f"  validation loss of the returned model, recomputed: {returned_val_loss:.4f}")
    if plot_dir is not None:
        _plot(plot_dir, train_loss, val_loss, best)
    return {"train_loss": list(train_loss), "val_loss": list(val_loss), "best_epoch": best,
            "epochs_run": history.epochs_run, "stopped_early": history.stopped_early,
            "min_val_loss": float(min(val_loss)), "returned_model_val_loss": returned_val_loss}


def _plot(plot_dir, train_loss: list, val_loss: list, best: int) -> None:
    fig, ax = new_figure(panel_size=(5.0, 3.5))
    ax.plot(train_loss, label="training loss")
    ax.plot(val_loss, label="validation loss")
    ax.axvline(best, color="k", linestyle=":", label=f"best epoch {best} (weights kept)")
    ax.set(title="early stopping", xlabel="epoch", ylabel="cross-entropy")
    ax.legend(fontsize="small")
    save_figure(fig, plot_dir, "early_stopping")


if __name__ == "__main__":
    main(plot_dir=plot_dir_from_argv())
