"""Semi-supervised learning with the net classifiers: self-training on confident pseudo-labels.

Unlabeled rows carry the label -1 (scikit-learn's convention). The other route, autoencoder pretraining,
needs no class: `MLPClassifier(warm_start_trunk=Autoencoder(...).fit(X_all))`.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from nets.supervised import MLPClassifier

UNLABELED = -1


class SelfTrainingClassifier(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """Fit `estimator` on the labeled rows, then repeatedly label the unlabeled rows it is sure about
    (max class probability >= threshold) and refit on labeled + pseudo-labeled rows.

    Each round adds at most `max_new_per_class` rows per predicted class, the most confident first: the
    cap keeps one easy class from flooding the training set and lets the model improve before it labels
    the harder rows. At most `max_rounds` refits; a round that adds no row ends early.
    y: labels with -1 for unlabeled rows. Fitted: estimator_ (the last fit), classes_, transduction_ (n,)
    (labels used in the last fit, -1 where none), labeled_iter_ (n,) (round in which a row got its label:
    0 = given, -1 = never), n_iter_.
    """

    def __init__(self, estimator=None, threshold=0.9, max_rounds=4, max_new_per_class=50):
        self.estimator = estimator
        self.threshold = threshold
        self.max_rounds = max_rounds
        self.max_new_per_class = max_new_per_class

    def fit(self, X, y):
        X, y = validate_data(self, X, y, dtype=[np.float32, np.float64])
        if not 0.0 < self.threshold < 1.0:
            raise ValueError(f"threshold must be in (0, 1), got {self.threshold!r}")
        if int(self.max_rounds) < 0:
            raise ValueError(f"max_rounds must be >= 0, got {self.max_rounds!r}")
        labels = y.copy()
        given = labels != UNLABELED
        if not given.any():
            raise ValueError(f"y has no labeled rows (all are {UNLABELED})")
        check_classification_targets(labels[given])
        self.labeled_iter_ = np.where(given, 0, -1)
        base = self.estimator if self.estimator is not None else MLPClassifier()
        self.n_iter_ = 0
        while True:
            known = labels != UNLABELED
            self.estimator_ = clone(base).fit(X[known], labels[known])
            if self.n_iter_ >= int(self.max_rounds) or known.all():
                break
            self.n_iter_ += 1
            unknown = np.flatnonzero(~known)
            chosen, predicted = self._confident_rows(self.estimator_.predict_proba(X[unknown]))
            if not len(chosen):
                break
            labels[unknown[chosen]] = self.estimator_.classes_[predicted]
            self.labeled_iter_[unknown[chosen]] = self.n_iter_
        self.transduction_ = labels
        self.classes_ = self.estimator_.classes_
        return self

    def _confident_rows(self, proba: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Rows of proba (m, n_classes) to pseudo-label and their class indices, capped per class."""
        confidence, predicted = proba.max(axis=1), proba.argmax(axis=1)
        chosen = []
        for k in range(proba.shape[1]):
            rows = np.flatnonzero((predicted == k) & (confidence >= self.threshold))
            rows = rows[np.argsort(-confidence[rows], kind="stable")]
            chosen.append(rows if self.max_new_per_class is None else rows[:int(self.max_new_per_class)])
        chosen = np.sort(np.concatenate(chosen))
        return chosen, predicted[chosen]

    def predict_proba(self, X) -> np.ndarray:
        check_is_fitted(self)
        return self.estimator_.predict_proba(validate_data(self, X, reset=False, dtype=[np.float32, np.float64]))

    def predict(self, X) -> np.ndarray:
        check_is_fitted(self)
        return self.estimator_.predict(validate_data(self, X, reset=False, dtype=[np.float32, np.float64]))
