"""Multitask classification: several classification heads on one shared MLP trunk (e.g. digit and parity),
trained together with the summed cross-entropies of all heads.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from nets.losses import cross_entropy
from nets.supervised import NetEstimator, _MLPParams


class MultitaskMLPClassifier(_MLPParams, ClassifierMixin, NetEstimator):
    """One MLP trunk, one softmax head per column of Y (n, n_tasks); a 1-D y is a single task.

    The loss is sum_t task_weights[t] * cross_entropy_t (equal weights by default). Predictions are
    (n, n_tasks) labels; predict_proba gives a list with one (n, n_classes_t) array per task; score is the
    mean over tasks of the per-task accuracy (`task_scores` lists them). Fitted: classes_ (a list of
    label arrays, one per task), n_tasks_, model_, history_. All other parameters are MLPClassifier's.
    """

    def __init__(self, hidden_layer_sizes=(512,), activation="relu", dropout=0.3, batch_norm=False, alpha=1e-4,
                 optimizer="adam", lr=2e-3, epochs=100, batch_size=128, schedule=None, validation_fraction=0.1,
                 patience=15, augment=None, image_shape=None, scaling="auto", warm_start_trunk=None,
                 freeze_trunk=False, random_state=None, device="auto", verbose=False, task_weights=None):
        super().__init__(hidden_layer_sizes, activation, dropout, batch_norm, alpha, optimizer, lr, epochs,
                         batch_size, schedule, validation_fraction, patience, augment, image_shape, scaling,
                         warm_start_trunk, freeze_trunk, random_state, device, verbose)
        self.task_weights = task_weights

    def fit(self, X, Y):
        X, Y = self._validate_fit_data(X, Y, multi_output=True)
        self._y_ndim = Y.ndim
        Y = Y.reshape(len(Y), -1)
        self.n_tasks_ = Y.shape[1]
        weights = np.ones(self.n_tasks_) if self.task_weights is None else np.asarray(self.task_weights, float)
        if weights.shape != (self.n_tasks_,) or (weights < 0).any():
            raise ValueError(f"task_weights must be {self.n_tasks_} non-negative numbers, got {self.task_weights!r}")
        self.classes_, codes = [], []
        for t in range(self.n_tasks_):
            check_classification_targets(Y[:, t])
            classes, code = np.unique(Y[:, t], return_inverse=True)
            if len(classes) < 2:
                raise ValueError(f"task {t} needs samples of at least 2 classes; its column has 1 class")
            self.classes_.append(classes)
            codes.append(code.astype(np.int64))

        def summed_loss(outputs, targets):
            outputs = outputs if isinstance(outputs, tuple) else (outputs,)
            targets = targets if isinstance(targets, tuple) else (targets,)
            return sum(w * cross_entropy(o, y) for w, o, y in zip(weights, outputs, targets))

        self._fit_net(X, tuple(codes) if self.n_tasks_ > 1 else codes[0], summed_loss,
                      [len(c) for c in self.classes_])
        if self._y_ndim == 1:  # a 1-D y behaves like a plain classifier
            self.classes_ = self.classes_[0]
        return self

    def predict_proba(self, X):
        """List of (n, n_classes_t) probability arrays, one per task (one array for a 1-D y)."""
        check_is_fitted(self)
        outputs = self._forward(self._validate_X(X, reset=False))
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        probas = []
        for logits in outputs:
            proba = np.exp(logits - logits.max(axis=1, keepdims=True))
            probas.append(proba / proba.sum(axis=1, keepdims=True))
        return probas if self._y_ndim == 2 else probas[0]

    def predict(self, X) -> np.ndarray:
        """Labels (n, n_tasks), or (n,) when fitted on a 1-D y."""
        probas = self.predict_proba(X)
        if self._y_ndim == 1:
            return self.classes_[probas.argmax(axis=1)]
        return np.column_stack([c[p.argmax(axis=1)] for c, p in zip(self.classes_, probas)])

    def task_scores(self, X, Y) -> np.ndarray:
        """Accuracy of each task (n_tasks,) on X, Y."""
        predicted = self.predict(X).reshape(len(X), -1)
        Y = np.asarray(Y).reshape(len(predicted), -1)
        if Y.shape != predicted.shape:
            raise ValueError(f"Y has shape {Y.shape} but the model predicts {predicted.shape}")
        return (predicted == Y).mean(axis=0)

    def score(self, X, y, sample_weight=None) -> float:
        """Mean over tasks of the accuracy."""
        if sample_weight is not None:
            raise ValueError("sample_weight is not supported")
        return float(self.task_scores(X, y).mean())

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
