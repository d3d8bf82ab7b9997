"""The linear unit y_hat = x w + b, its threshold output, and the rule w_j <- w_j + eta (y - y_hat) x_j.

With y_hat the thresholded output the rule is Rosenblatt's perceptron; with the raw linear output it is the
delta (Widrow-Hoff, LMS) rule. Plain numpy, written to be read next to the chapter's formulas.
"""

from __future__ import annotations

import numpy as np


def _as_features(X) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"X must be a 2-D array (n_examples, n_features), got shape {X.shape}")
    if not np.isfinite(X).all():
        row = int(np.argwhere(~np.isfinite(X))[0][0])
        raise ValueError(f"X has a non-finite value in row {row}")
    return X


def _as_targets(X: np.ndarray, y) -> np.ndarray:
    y = np.asarray(y, dtype=np.float64)
    if y.shape != (X.shape[0],):
        raise ValueError(f"y must have shape ({X.shape[0]},) to match X, got {y.shape}")
    if not np.isfinite(y).all():
        raise ValueError(f"y has a non-finite value at index {int(np.argwhere(~np.isfinite(y))[0][0])}")
    return y


def linear_output(X, weights, bias: float = 0.0) -> np.ndarray:
    """f(x; w, b) = x w + b = w_1 x_1 + ... + w_n x_n + b.  X: (N, n), weights: (n,) -> (N,)."""
    return _as_features(X) @ np.asarray(weights, dtype=np.float64) + bias


def threshold_output(X, weights, bias: float = 0.0) -> np.ndarray:
    """o(x; w, b) = +1 if f(x; w, b) > 0 else -1.  X: (N, n) -> (N,) of +1.0/-1.0."""
    return np.where(linear_output(X, weights, bias) > 0, 1.0, -1.0)


def perceptron_update(weights: np.ndarray, bias: float, x: np.ndarray, y: float, y_hat: float,
                      learning_rate: float) -> tuple[np.ndarray, float]:
    """One step of w_j <- w_j + eta (y - y_hat) x_j; the bias is w_0 with x_0 = 1.

    weights: (n,), x: (n,). Returns the new (weights, bias); the inputs are not modified.
    """
    step = learning_rate * (y - y_hat)
    return weights + step * x, bias + step


class Perceptron:
    """A threshold unit trained by the perceptron rule, one example at a time. Labels are +1/-1.

    Converges (an epoch with no mistakes) when the data are linearly separable; otherwise it cycles forever,
    which `errors_per_epoch_` shows. Attributes after `fit`: weights_ (n,), bias_, errors_per_epoch_ (list of
    mistakes made during each pass), converged_.
    """

    def __init__(self, learning_rate: float = 0.1, max_epochs: int = 100, shuffle: bool = True, seed: int = 0):
        self.learning_rate = learning_rate
        self.max_epochs = max_epochs
        self.shuffle = shuffle
        self.seed = seed

    def fit(self, X, y) -> Perceptron:
        X = _as_features(X)
        y = _as_targets(X, y)
        if not np.isin(y, (-1.0, 1.0)).all():
            raise ValueError(f"Perceptron labels must be +1 or -1, got {sorted(set(y.tolist()))[:5]}")
        if self.learning_rate <= 0 or self.max_epochs < 1:
            raise ValueError(f"need learning_rate > 0 and max_epochs >= 1, got {self.learning_rate}, "
                             f"{self.max_epochs}")
        rng = np.random.default_rng(self.seed)
        weights, bias = np.zeros(X.shape[1]), 0.0
        self.errors_per_epoch_: list[int] = []
        for _ in range(self.max_epochs):
            order = rng.permutation(len(X)) if self.shuffle else np.arange(len(X))
            mistakes = 0
            for i in order:
                y_hat = 1.0 if X[i] @ weights + bias > 0 else -1.0
                mistakes += int(y_hat != y[i])
                # Applied to every example: when y_hat == y the step (y - y_hat) is zero, as in the formula.
                weights, bias = perceptron_update(weights, bias, X[i], y[i], y_hat, self.learning_rate)
            self.errors_per_epoch_.append(mistakes)
            if mistakes == 0:
                break
        self.weights_, self.bias_ = weights, bias
        self.converged_ = self.errors_per_epoch_[-1] == 0
        return self

    def predict(self, X) -> np.ndarray:
        """X: (N, n) -> (N,) labels +1/-1."""
        return threshold_output(X, self.weights_, self.bias_)

    def score(self, X, y) -> float:
        """Fraction of examples classified correctly."""
        return float(np.mean(self.predict(X) == _as_targets(_as_features(X), y)))


class LinearUnit:
    """A linear unit trained by the delta rule, the same update with y_hat = x w + b left unthresholded.

    mode "online" updates after each example (Widrow-Hoff LMS, hovers near the least-squares fit);
    mode "batch" applies the mean update over all examples each epoch, which is gradient descent on half
    the mean squared error and converges to the least-squares solution for a small enough learning rate.
    Attributes after `fit`: weights_ (n,), bias_, loss_per_epoch_ (mean squared error after each epoch).
    """

    def __init__(self, learning_rate: float = 0.01, epochs: int = 100, mode: str = "batch",
                 shuffle: bool = True, seed: int = 0):
        self.learning_rate = learning_rate
        self.epochs = epochs
        self.mode = mode
        self.shuffle = shuffle
        self.seed = seed

    def fit(self, X, y) -> LinearUnit:
        X = _as_features(X)
        y = _as_targets(X, y)
        if self.mode not in ("online", "batch"):
            raise ValueError(f"mode must be 'online' or 'batch', got {self.mode!r}")
        if self.learning_rate <= 0 or self.epochs < 1:
            raise ValueError(f"need learning_rate > 0 and epochs >= 1, got {self.learning_rate}, {self.epochs}")
        rng = np.random.default_rng(self.seed)
        weights, bias = np.zeros(X.shape[1]), 0.0
        self.loss_per_epoch_: list[float] = []
        for _ in range(self.epochs):
            if self.mode == "batch":
                error = y - (X @ weights + bias)
                weights = weights + self.learning_rate * error @ X / len(X)
                bias = bias + self.learning_rate * error.mean()
            else:
                order = rng.permutation(len(X)) if self.shuffle else np.arange(len(X))
                for i in order:
                    weights, bias = perceptron_update(weights, bias, X[i], y[i], X[i] @ weights + bias,
                                                      self.learning_rate)
            self.loss_per_epoch_.append(float(np.mean((y - (X @ weights + bias)) ** 2)))
        self.weights_, self.bias_ = weights, bias
        return self

    def predict(self, X) -> np.ndarray:
        """X: (N, n) -> (N,) linear outputs x w + b."""
        return linear_output(X, self.weights_, self.bias_)

    def classify(self, X) -> np.ndarray:
        """X: (N, n) -> (N,) threshold outputs +1/-1."""
        return threshold_output(X, self.weights_, self.bias_)
