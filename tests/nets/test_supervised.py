"""The scikit-learn-compatible net estimators: API conformance, learning on digits, augmentation,
multitask heads, trunk transfer and self-training."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.datasets import load_digits
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import train_test_split
from sklearn.utils.estimator_checks import parametrize_with_checks

from nets.augment import ImageAugmenter, make_augmenter
from nets.multitask import MultitaskMLPClassifier
from nets.semi_supervised import SelfTrainingClassifier
from nets.supervised import CNNClassifier, MLPClassifier, MLPRegressor

FAST = dict(epochs=40, batch_size=32, validation_fraction=0.0, patience=None, random_state=0, device="cpu")
CHECKED = dict(FAST, epochs=15, lr=1e-2)  # small nets, few epochs: enough for the checks' toy data sets


# Every scikit-learn check passes, so no expected_failed_checks are listed.
@parametrize_with_checks(
    [MLPClassifier(hidden_layer_sizes=(32,), dropout=0.0, **CHECKED),
     CNNClassifier(channels=(4,), pool=None, head=(16,), dropout=0.0, **CHECKED),
     MLPRegressor(hidden_layer_sizes=(32,), dropout=0.0, **CHECKED),
     MultitaskMLPClassifier(hidden_layer_sizes=(32,), dropout=0.0, **CHECKED),
     SelfTrainingClassifier(MLPClassifier(hidden_layer_sizes=(32,), dropout=0.0, **CHECKED), max_rounds=1)])
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)


def test_mlp_learns_a_digits_subset_quickly(digits):
    X_train, X_test, y_train, y_test = digits
    model = MLPClassifier(epochs=30, random_state=0, device="cpu").fit(X_train[:500], y_train[:500])
    assert model.score(X_test, y_test) >= 0.93
    assert model.n_features_in_ == 64 and list(model.classes_) == list(range(10))
    proba = model.predict_proba(X_test[:5])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(model.predict(X_test[:5]), proba.argmax(axis=1))


@pytest.mark.slow
def test_mlp_reaches_97_percent_on_full_digits(digits):
    X_train, X_test, y_train, y_test = digits
    assert MLPClassifier(random_state=0, device="cpu").fit(X_train, y_train).score(X_test, y_test) >= 0.97


@pytest.mark.slow
def test_cnn_with_augmentation_reaches_98_percent_on_full_digits(digits):
    X_train, X_test, y_train, y_test = digits
    model = CNNClassifier(augment="digits", random_state=0, device="cpu").fit(X_train, y_train)
    assert model.score(X_test, y_test) >= 0.98


def test_cnn_accepts_flat_and_4d_images(digits):
    X_train, X_test, y_train, _ = digits
    model = CNNClassifier(channels=(8,), head=(32,), epochs=3, random_state=0, device="cpu")
    model.fit(X_train[:200].reshape(-1, 1, 8, 8), y_train[:200])
    assert model.image_shape_ == (1, 8, 8) and model.n_features_in_ == 64
    np.testing.assert_array_equal(model.predict(X_test[:20]), model.predict(X_test[:20].reshape(-1, 1, 8, 8)))
    with pytest.raises(ValueError, match="images of shape"):
        model.predict(X_test[:20].reshape(-1, 1, 4, 16))
    with pytest.raises(ValueError, match="image_shape"):
        CNNClassifier(image_shape=(1, 7, 7), epochs=1).fit(X_train[:50], y_train[:50])


def test_bad_input_raises_clear_errors(digits):
    X_train, _, y_train, _ = digits
    with pytest.raises(NotFittedError):
        MLPClassifier().predict(X_train[:3])
    model = MLPClassifier(epochs=1, device="cpu").fit(X_train[:100], y_train[:100])
    with pytest.raises(ValueError, match="features"):
        model.predict(X_train[:3, :10])
    with pytest.raises(ValueError, match="NaN"):
        model.predict(np.full((2, 64), np.nan))
    with pytest.raises(ValueError, match="dropout"):
        MLPClassifier(dropout=1.5).fit(X_train[:50], y_train[:50])
    with pytest.raises(ValueError, match="validation_fraction"):
        MLPClassifier(validation_fraction=0.0, patience=3).fit(X_train[:50], y_train[:50])
    with pytest.raises(ValueError, match="class"):
        MLPClassifier().fit(X_train[:10], np.zeros(10))
    with pytest.raises(ValueError, match="Unknown label type"):
        MLPClassifier().fit(X_train[:10], np.linspace(0, 1, 10))


def test_fit_is_deterministic_and_leaves_global_rng_alone(digits):
    X_train, X_test, y_train, _ = digits
    torch.manual_seed(123)
    before = torch.rand(3)
    torch.manual_seed(123)
    a = MLPClassifier(epochs=3, random_state=7, device="cpu").fit(X_train[:300], y_train[:300])
    np.testing.assert_array_equal(torch.rand(3), before)
    b = MLPClassifier(epochs=3, random_state=7, device="cpu").fit(X_train[:300], y_train[:300])
    np.testing.assert_array_equal(a.predict_proba(X_test), b.predict_proba(X_test))


def test_regressor_fits_a_smooth_function():
    rng = np.random.default_rng(0)
    X = rng.uniform(-3, 3, size=(400, 2))
    y = np.sin(X[:, 0]) + 0.5 * X[:, 1] ** 2
    model = MLPRegressor(hidden_layer_sizes=(64, 64), dropout=0.0, epochs=150, random_state=0, device="cpu")
    model.fit(X[:300], y[:300])
    assert model.score(X[300:], y[300:]) > 0.95
    two = MLPRegressor(hidden_layer_sizes=(64,), dropout=0.0, epochs=20, random_state=0, device="cpu")
    assert two.fit(X, np.column_stack([y, -y])).predict(X[:4]).shape == (4, 2)


# ---------------------------------------------------------------------------------------- augmentation
def test_augmenter_shift_is_an_exact_integer_shift_and_keeps_shape():
    images = torch.rand(64, 1, 8, 8)
    out = ImageAugmenter((1, 8, 8), max_shift=1, max_rotation=0.0, seed=0)(images)
    assert out.shape == images.shape and out.dtype == images.dtype
    for original, moved in zip(images, out):
        matches = []
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                shifted = torch.zeros_like(original)
                ys, yd = slice(max(0, -dy), 8 - max(0, dy)), slice(max(0, dy), 8 - max(0, -dy))
                xs, xd = slice(max(0, -dx), 8 - max(0, dx)), slice(max(0, dx), 8 - max(0, -dx))
                shifted[:, yd, xd] = original[:, ys, xs]
                matches.append(torch.allclose(moved, shifted, atol=1e-5))
        assert sum(matches) == 1


def test_augmenter_never_flips():
    augmenter = ImageAugmenter((1, 8, 8), max_shift=1, max_rotation=15.0, seed=1)
    theta = augmenter.sample_affine(2000)
    det = torch.linalg.det(theta[:, :, :2])
    np.testing.assert_allclose(det.numpy(), 1.0, atol=1e-5)  # rotations only: a mirror has determinant -1
    # A 7 (asymmetric) stays nearer to itself than to its mirror images after augmentation.
    X, y = load_digits(return_X_y=True)
    sevens = torch.tensor(X[y == 7][:50], dtype=torch.float32).reshape(-1, 1, 8, 8)
    out = ImageAugmenter((1, 8, 8), max_shift=0, max_rotation=15.0, seed=2)(sevens)
    own = (out - sevens).abs().sum(dim=(1, 2, 3))
    for mirror in (sevens.flip(-1), sevens.flip(-2)):
        assert (own < (out - mirror).abs().sum(dim=(1, 2, 3))).float().mean() > 0.95


def test_augmenter_flat_batches_noise_and_presets():
    flat = torch.zeros(10, 64)
    noisy = ImageAugmenter((1, 8, 8), max_shift=0, max_rotation=0.0, noise_std=0.5, seed=0)(flat)
    assert noisy.shape == (10, 64) and 0.4 < noisy.std().item() < 0.6
    assert make_augmenter(None, (1, 8, 8), 0) is None
    assert make_augmenter("digits", (1, 8, 8), 0).max_shift == 1
    with pytest.raises(ValueError, match="preset"):
        make_augmenter("mnist", (1, 8, 8), 0)
    with pytest.raises(ValueError, match="not small"):
        ImageAugmenter((1, 8, 8), max_rotation=180)
    with pytest.raises(ValueError, match="does not hold images"):
        ImageAugmenter((1, 8, 8))(torch.zeros(3, 63))


def test_augmented_training_keeps_labels(digits):
    X_train, X_test, y_train, y_test = digits
    model = MLPClassifier(augment="digits", epochs=30, random_state=0, device="cpu")
    assert model.fit(X_train[:500], y_train[:500]).score(X_test, y_test) >= 0.9


# -------------------------------------------------------------------------- multitask and transfer
def test_multitask_learns_digit_and_parity_on_one_trunk(digits):
    X_train, X_test, y_train, y_test = digits
    Y_train = np.column_stack([y_train, y_train % 2])
    model = MultitaskMLPClassifier(epochs=30, random_state=0, device="cpu").fit(X_train[:600], Y_train[:600])
    assert len(model.model_.heads) == 2 and [len(c) for c in model.classes_] == [10, 2]
    predicted = model.predict(X_test)
    assert predicted.shape == (len(X_test), 2)
    digit_acc, parity_acc = model.task_scores(X_test, np.column_stack([y_test, y_test % 2]))
    assert digit_acc >= 0.93 and parity_acc >= 0.95
    assert (predicted[:, 0] % 2 == predicted[:, 1]).mean() >= 0.93  # the two heads agree
    probas = model.predict_proba(X_test[:3])
    assert [p.shape for p in probas] == [(3, 10), (3, 2)]


def test_multitask_task_weights_scale_each_heads_loss(digits):
    X_train, _, y_train, _ = digits
    X, Y = X_train[:300], np.column_stack([y_train[:300], y_train[:300] % 2])

    def heads(task_weights):
        model = MultitaskMLPClassifier(hidden_layer_sizes=(32,), alpha=0.0, epochs=3, task_weights=task_weights,
                                       **{k: v for k, v in FAST.items() if k != "epochs"}).fit(X, Y)
        return [torch.cat([p.detach().flatten() for p in head.parameters()]) for head in model.model_.heads]

    initial = heads([0.0, 0.0])  # a zero loss: no weight moves from its (seeded) initialization
    digit_only, parity_only, both = heads([1.0, 0.0]), heads([0.0, 1.0]), heads(None)
    # A head whose task has weight 0 gets no gradient and keeps its initial weights exactly.
    assert torch.equal(digit_only[1], initial[1]) and not torch.equal(digit_only[0], initial[0])
    assert torch.equal(parity_only[0], initial[0]) and not torch.equal(parity_only[1], initial[1])
    assert not torch.equal(both[0], initial[0]) and not torch.equal(both[1], initial[1])
    with pytest.raises(ValueError, match="task_weights must be 2 non-negative numbers"):
        MultitaskMLPClassifier(task_weights=[1.0], epochs=1).fit(X, Y)


def test_transfer_with_frozen_trunk_only_trains_the_head(digits):
    X_train, X_test, y_train, y_test = digits
    low, high = y_train < 5, y_train >= 5
    source = MLPClassifier(batch_norm=True, epochs=30, random_state=0, device="cpu").fit(X_train[low], y_train[low])
    target = MLPClassifier(batch_norm=True, warm_start_trunk=source, freeze_trunk=True, epochs=30, random_state=1,
                           device="cpu")
    target.fit(X_train[high], y_train[high])
    # weights and batch-norm running statistics alike are untouched
    assert [name for name, _ in target.get_trunk_state()] == ["Standardize", "Linear", "BatchNorm1d"]
    for (_, before), (_, after) in zip(source.get_trunk_state(), target.get_trunk_state()):
        for key in before:
            torch.testing.assert_close(after[key], before[key], rtol=0, atol=0)
    test_high = y_test >= 5
    assert target.score(X_test[test_high], y_test[test_high]) >= 0.9
    unfrozen = MLPClassifier(batch_norm=True, warm_start_trunk=source.get_trunk_state(), epochs=5, random_state=1,
                             device="cpu")
    unfrozen.fit(X_train[high], y_train[high])
    first_before = source.get_trunk_state()[1][1]["weight"]
    first_after = unfrozen.get_trunk_state()[1][1]["weight"]
    assert not torch.equal(first_before, first_after)
    with pytest.raises(ValueError, match="warm_start_trunk"):
        MLPClassifier(hidden_layer_sizes=(64,), warm_start_trunk=source, epochs=1).fit(X_train, y_train)
    with pytest.raises(ValueError, match="not fitted"):
        MLPClassifier(warm_start_trunk=MLPClassifier(), epochs=1).fit(X_train, y_train)


# ---------------------------------------------------------------------------------------- self-training
def ten_percent_labeled(y: np.ndarray, seed: int) -> np.ndarray:
    labeled = np.zeros(len(y), dtype=bool)
    labeled[np.random.default_rng(seed).choice(len(y), len(y) // 10, replace=False)] = True
    return labeled


def self_training_gains(digits, seeds, **mlp_params) -> list[float]:
    """Test-accuracy gain of self-training over supervised-only training on the same 10% of the labels."""
    X_train, X_test, y_train, y_test = digits
    gains = []
    for seed in seeds:
        labeled = ten_percent_labeled(y_train, seed)
        base = MLPClassifier(validation_fraction=0.0, patience=None, random_state=seed, device="cpu", **mlp_params)
        supervised = clone(base).fit(X_train[labeled], y_train[labeled]).score(X_test, y_test)
        semi = SelfTrainingClassifier(base, max_rounds=2).fit(X_train, np.where(labeled, y_train, -1))
        pseudo = semi.labeled_iter_ > 0
        assert pseudo.sum() > 200 and (semi.transduction_[pseudo] == y_train[pseudo]).mean() >= 0.9
        assert (semi.transduction_[labeled] == y_train[labeled]).all()  # given labels are never changed
        gains.append(semi.score(X_test, y_test) - supervised)
    return gains


def test_self_training_beats_supervised_only_with_10_percent_labels(digits):
    gains = self_training_gains(digits, seeds=(0, 1, 2), hidden_layer_sizes=(128,), epochs=40)
    assert min(gains) >= 0 and np.mean(gains) >= 0.02, gains


@pytest.mark.slow
def test_self_training_with_augmentation_gains_3_points(digits):
    gains = self_training_gains(digits, seeds=(0, 1, 2), augment="digits")
    assert min(gains) > 0 and np.mean(gains) >= 0.03, gains


class ConfidenceFromFeatures(ClassifierMixin, BaseEstimator):
    """A stand-in classifier whose predict_proba is written in X: column 0 the class index, column 1 the
    probability of that class (the rest spread evenly). It records how many rows each fit saw."""

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        self.fit_rows_ = len(X)
        return self

    def predict_proba(self, X):
        confidence = X[:, 1]
        proba = np.repeat(((1 - confidence) / (len(self.classes_) - 1))[:, None], len(self.classes_), axis=1)
        proba[np.arange(len(X)), X[:, 0].astype(int)] = confidence
        return proba

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


def test_self_training_takes_the_most_confident_rows_above_threshold_capped_per_class():
    rng = np.random.default_rng(0)
    # Unlabeled rows: class 0 has 14 rows at confidence >= 0.8, class 1 has 5, class 2 only rows below 0.8.
    classes = np.repeat([0, 0, 1, 1, 2], [14, 4, 5, 3, 6])
    confidence = np.concatenate([rng.uniform(0.8, 1.0, 14), rng.uniform(0.5, 0.8, 4), rng.uniform(0.8, 1.0, 5),
                                 rng.uniform(0.5, 0.8, 3), rng.uniform(0.5, 0.8, 6)])
    X = np.column_stack([np.r_[0, 1, 2, classes], np.r_[1.0, 1.0, 1.0, confidence]])
    y = np.r_[0, 1, 2, -np.ones(len(classes), dtype=int)]
    model = SelfTrainingClassifier(ConfidenceFromFeatures(), threshold=0.8, max_new_per_class=3, max_rounds=4)
    model.fit(X, y)
    # Written out: per class, the rows at or above the threshold, most confident first, 3 per round.
    expected_round = np.r_[0, 0, 0, -np.ones(len(classes), dtype=int)]
    for k in range(3):
        rows = 3 + np.flatnonzero((classes == k) & (confidence >= 0.8))
        rows = rows[np.argsort(-X[rows, 1])]
        for round_number in range(1, 5):
            expected_round[rows[3 * (round_number - 1):3 * round_number]] = round_number
    np.testing.assert_array_equal(model.labeled_iter_, expected_round)
    # Class 0 fills all 4 rounds and has 2 confident rows left over; class 1 is done in round 2.
    assert model.n_iter_ == 4 and (expected_round == 4).sum() == 3 and (expected_round == 2).sum() == 5
    pseudo = expected_round > 0
    np.testing.assert_array_equal(model.transduction_[pseudo], X[pseudo, 0].astype(int))
    assert (model.transduction_[expected_round == -1] == -1).all()
    assert model.estimator_.fit_rows_ == 3 + pseudo.sum() == 3 + 12 + 5
    # No cap: every row above the threshold in the first round.
    uncapped = SelfTrainingClassifier(ConfidenceFromFeatures(), threshold=0.8, max_new_per_class=None).fit(X, y)
    np.testing.assert_array_equal(uncapped.labeled_iter_ == 1, np.r_[False, False, False, confidence >= 0.8])


def test_self_training_rejects_unlabeled_only_data(digits):
    X_train, _, _, _ = digits
    with pytest.raises(ValueError, match="no labeled rows"):
        SelfTrainingClassifier().fit(X_train[:20], -np.ones(20, dtype=int))
