"""The main demo (`make demo`): train an MLP on scikit-learn's digits with the shared trainer."""

from __future__ import annotations

import time

import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import nets
from nets.losses import cross_entropy


def train_digits_mlp(seed: int = 0, epochs: int = 60, device: str = "auto", progress: bool | None = None) -> dict:
    """Fit a 64-256-10 ReLU MLP on digits (75/25 split, random_state 0); return test accuracy and timing."""
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
    torch.manual_seed(seed)
    model = nets.mlp(64, [256], 10, activation="relu", dropout=0.2)
    trainer = nets.Trainer(model, cross_entropy, epochs=epochs, batch_size=32, optimizer="adam", lr=1e-3,
                           l2=1e-4, validation_fraction=0.1, patience=15, device=device, seed=seed,
                           progress=progress)
    start = time.perf_counter()
    history = trainer.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    predicted = trainer.predict(X_test).argmax(dim=1).numpy()
    accuracy = float((predicted == y_test).mean())
    return {"accuracy": accuracy, "seconds": seconds, "epochs": history.epochs_run,
            "best_epoch": history.best_epoch, "device": str(trainer.device), "n_test": len(y_test)}


def main() -> int:
    nets.set_small_net_threads()
    result = train_digits_mlp()
    print(f"digits MLP (64-256-10, ReLU, dropout 0.2) on {result['device']}: "
          f"{result['epochs']} epochs (best {result['best_epoch']}) in {result['seconds']:.1f} s")
    print(f"test accuracy: {result['accuracy']:.4f} on {result['n_test']} held-out digits")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
