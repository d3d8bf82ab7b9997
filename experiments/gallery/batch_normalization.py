"""Batch normalization: a deep logistic net barely trains; with BN the same net learns and its layers stay scaled.

Six hidden layers of 64 logistic (sigmoid) units, trained on digits with plain SGD. Without normalization
the signal fades with depth: each layer's pre-activations (the inputs to its sigmoids) vary less and less
across examples, until the deep layers give nearly the same output for every digit, and the loss hardly
moves from ln(10) = 2.30. Batch normalization standardizes every pre-activation over the mini-batch
(then applies a learned scale and shift), so each layer's pre-activations keep mean about 0 and standard
deviation about 1 per unit across examples, gradients reach the early layers and the loss falls quickly.
Statistics are taken per unit over the whole training set, in eval mode, after training.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import nets
from experiments.gallery._plotting import new_figure, plot_dir_from_argv, save_figure
from nets.losses import cross_entropy

DEPTH, WIDTH = 6, 64
EPOCHS = 8
SEED = 0


def pre_activation_stats(model: torch.nn.Sequential, X: torch.Tensor) -> list[dict]:
    """Per hidden layer: mean over units of |mean over examples| and of the std over examples, of the inputs
    to the layer's sigmoids (for the BN net: BN's outputs). X: (n, 64)."""
    captured = []
    hooks = [module.register_forward_hook(lambda _m, inputs, _out: captured.append(inputs[0].detach()))
             for module in model if isinstance(module, torch.nn.Sigmoid)]
    model.eval()
    with torch.no_grad():
        model(X)
    for hook in hooks:
        hook.remove()
    return [{"mean_abs_mean": float(z.mean(0).abs().mean()), "mean_std": float(z.std(0).mean())} for z in captured]


def train(batch_norm: bool, X_train: np.ndarray, y_train: np.ndarray) -> tuple[torch.nn.Sequential, list]:
    """The DEPTH x WIDTH logistic MLP, with or without BN, trained by SGD; returns it and its loss per epoch."""
    torch.manual_seed(SEED)
    model = nets.mlp(64, [WIDTH] * DEPTH, 10, activation="logistic", batch_norm=batch_norm)
    trainer = nets.Trainer(model, cross_entropy, epochs=EPOCHS, batch_size=64, optimizer="sgd", lr=0.2,
                           device="cpu", seed=SEED, progress=False)
    history = trainer.fit(X_train, y_train)
    return model, list(history.train_loss)


def main(plot_dir: str | None = None) -> dict:
    torch.set_num_threads(1)
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split((X / 16.0).astype(np.float32), y, test_size=0.3,
                                                        random_state=SEED, stratify=y)
    results = {}
    print(f"digits, {DEPTH} hidden layers of {WIDTH} logistic units, SGD lr 0.2, {EPOCHS} epochs")
    for name, batch_norm in (("plain", False), ("batch_norm", True)):
        model, losses = train(batch_norm, X_train, y_train)
        stats = pre_activation_stats(model, torch.from_numpy(X_train))
        with torch.no_grad():
            accuracy = float((model(torch.from_numpy(X_test)).argmax(1).numpy() == y_test).mean())
        results[name] = {"train_loss": losses, "test_accuracy": accuracy, "layers": stats}
        print(f"  {name:10s}: training loss {losses[0]:.3f} after epoch 1, {losses[-1]:.3f} after {EPOCHS}; "
              f"test accuracy {accuracy:.3f}")
        print(f"  {'':10s}  per-unit pre-activation std by layer: "
              + " ".join(f"{layer['mean_std']:.2f}" for layer in stats)
              + "; |mean|: " + " ".join(f"{layer['mean_abs_mean']:.2f}" for layer in stats))
    if plot_dir is not None:
        _plot(plot_dir, results)
    return results


def _plot(plot_dir, results: dict) -> None:
    fig, (ax_loss, ax_std) = new_figure(ncols=2)
    layers = np.arange(1, DEPTH + 1)
    for name, run in results.items():
        ax_loss.plot(np.arange(1, EPOCHS + 1), run["train_loss"], "o-", label=name)
        ax_std.plot(layers, [layer["mean_std"] for layer in run["layers"]], "o-", label=name)
    ax_loss.set(title="training loss", xlabel="epoch", ylabel="cross-entropy")
    ax_std.set(title="pre-activation std per unit", xlabel="hidden layer", ylabel="std over examples")
    ax_loss.legend(fontsize="small")
    save_figure(fig, plot_dir, "batch_normalization")


if __name__ == "__main__":
    main(plot_dir=plot_dir_from_argv())
