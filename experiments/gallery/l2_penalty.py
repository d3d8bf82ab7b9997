"""L2 penalty: J~ = J + alpha * 0.5 * ||w||^2 pulls weights to 0; its gradient is exactly alpha * w.

The complexity penalty Omega(theta) = 0.5 * ||w||_2^2 over the weights (not the biases) is added to the data
loss with strength alpha. Its gradient with respect to each weight is alpha * w, so every gradient step
also shrinks each weight by a factor (1 - lr * alpha): "weight decay". Autograd on nets.losses.l2_penalty
confirms the gradient; training the same digits MLP with larger alpha gives a smaller weight norm every time,
at some cost in training loss.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import nets
from experiments.gallery._plotting import new_figure, plot_dir_from_argv, save_figure
from nets.losses import cross_entropy, l2_penalty, penalized_weights

ALPHAS = (0.0, 1e-3, 1e-2, 1e-1)
SEED = 0


def penalty_gradient_error(alpha: float = 0.1) -> dict:
    """Autograd of l2_penalty(model, alpha) vs alpha * w on a fresh MLP: max errors for weights and biases."""
    torch.manual_seed(SEED)
    model = nets.mlp(64, (32,), 10)
    l2_penalty(model, alpha).backward()
    weights = {id(w) for w in penalized_weights(model)}
    weight_error, bias_grad = 0.0, 0.0
    for param in model.parameters():
        grad = param.grad if param.grad is not None else torch.zeros_like(param)
        if id(param) in weights:
            weight_error = max(weight_error, float((grad - alpha * param.detach()).abs().max()))
        else:  # biases carry no penalty: their gradient must be exactly zero
            bias_grad = max(bias_grad, float(grad.abs().max()))
    return {"max_abs_error_weights": weight_error, "max_abs_bias_gradient": bias_grad}


def train_with_alpha(alpha: float, data) -> dict:
    """Train a 64-32-10 MLP with penalty strength alpha; weight norm, losses and accuracies."""
    X_train, X_test, y_train, y_test = data
    torch.manual_seed(SEED)
    model = nets.mlp(64, (32,), 10)
    trainer = nets.Trainer(model, cross_entropy, epochs=20, batch_size=256, lr=2e-2, l2=alpha, device="cpu",
                           seed=SEED, progress=False)
    trainer.fit(X_train, y_train)
    norm_sq = float(sum((w.detach() ** 2).sum() for w in penalized_weights(model)))
    scores = {name: trainer.predict(X) for name, X in (("train", X_train), ("test", X_test))}
    return {"weight_norm_sq": norm_sq,
            "train_data_loss": float(cross_entropy(scores["train"], torch.as_tensor(y_train))),
            "train_accuracy": float(np.mean(scores["train"].argmax(1).numpy() == y_train)),
            "test_accuracy": float(np.mean(scores["test"].argmax(1).numpy() == y_test))}


def main(plot_dir: str | None = None) -> dict:
    torch.set_num_threads(1)
    gradient = penalty_gradient_error()
    print("autograd of alpha * 0.5 * ||w||^2 (alpha = 0.1): max |grad - alpha w| over weights "
          f"{gradient['max_abs_error_weights']:.1e}, max |grad| over biases {gradient['max_abs_bias_gradient']:.1e}")
    X, y = load_digits(return_X_y=True)
    data = train_test_split((X / 16.0).astype(np.float32), y, test_size=0.3, random_state=SEED, stratify=y)
    runs = [train_with_alpha(alpha, data) for alpha in ALPHAS]
    print("digits MLP 64-32-10, 20 epochs of Adam; alpha -> ||w||^2, training data loss, train/test accuracy")
    for alpha, run in zip(ALPHAS, runs):
        print(f"  alpha {alpha:<6g}: ||w||^2 = {run['weight_norm_sq']:8.2f}, loss {run['train_data_loss']:.3f}, "
              f"accuracy {run['train_accuracy']:.3f} / {run['test_accuracy']:.3f}")
    if plot_dir is not None:
        _plot(plot_dir, runs)
    return {"gradient_check": gradient, "alphas": list(ALPHAS),
            "weight_norm_sq": [run["weight_norm_sq"] for run in runs],
            "train_data_loss": [run["train_data_loss"] for run in runs],
            "train_accuracy": [run["train_accuracy"] for run in runs],
            "test_accuracy": [run["test_accuracy"] for run in runs]}


def _plot(plot_dir, runs: list) -> None:
    fig, (ax_norm, ax_loss) = new_figure(ncols=2)
    positions = np.arange(len(ALPHAS))
    ax_norm.bar(positions, [run["weight_norm_sq"] for run in runs])
    ax_norm.set(title="||w||^2 after training", xticks=positions, xticklabels=[str(a) for a in ALPHAS],
                xlabel="alpha")
    ax_loss.bar(positions, [run["train_data_loss"] for run in runs], color="C1")
    ax_loss.set(title="training data loss J", xticks=positions, xticklabels=[str(a) for a in ALPHAS],
                xlabel="alpha")
    save_figure(fig, plot_dir, "l2_penalty")


if __name__ == "__main__":
    main(plot_dir=plot_dir_from_argv())
