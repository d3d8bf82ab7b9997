"""scikit-learn estimators on the shared nets: MLPClassifier, CNNClassifier and MLPRegressor, built with
nets.mlp / nets.cnn and trained by nets.Trainer (dropout, batch norm, L2, early stopping, augmentation, transfer).
"""

from __future__ import annotations

import copy
import math

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, check_random_state, validate_data
from torch import nn

from nets.augment import make_augmenter
from nets.cnn import cnn, cnn_output_shapes
from nets.losses import cross_entropy, square_loss
from nets.mlp import mlp
from nets.trainer import Trainer


class Standardize(nn.Module):
    """Fixed input scaling (x - mean) / scale kept inside the model, so a saved model needs no scaler."""

    def __init__(self, mean: np.ndarray, scale: np.ndarray):
        super().__init__()
        self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32))
        self.register_buffer("scale", torch.as_tensor(scale, dtype=torch.float32))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.scale


class TrunkHeadNet(nn.Module):
    """A shared trunk (input -> features (B, F)) and one or more heads (features -> outputs).

    One head returns a tensor, several a tuple (multitask). With `freeze_trunk` the trunk keeps eval mode
    (no dropout, frozen batch-norm statistics) even while the Trainer puts the model in training mode.
    """

    def __init__(self, trunk: nn.Module, heads: list[nn.Module], freeze_trunk: bool = False):
        super().__init__()
        self.trunk, self.heads, self.freeze_trunk = trunk, nn.ModuleList(heads), freeze_trunk
        if freeze_trunk:
            self.trunk.requires_grad_(False)

    def forward(self, x: torch.Tensor):
        features = self.trunk(x)
        outputs = tuple(head(features) for head in self.heads)
        return outputs[0] if len(outputs) == 1 else outputs

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return self.trunk(x)

    def train(self, mode: bool = True):
        super().train(mode)
        if self.freeze_trunk:
            self.trunk.eval()
        return self


def split_trunk_head(net: nn.Sequential) -> tuple[nn.Sequential, nn.Sequential]:
    """Cut a nets.mlp / nets.cnn Sequential before its last Linear layer: (trunk, head = that layer and any
    output unit after it)."""
    last = max(i for i, layer in enumerate(net) if isinstance(layer, nn.Linear))
    return net[:last], net[last:]


def standardizer(X: np.ndarray, per: str | None, image_shape=None) -> Standardize:
    """Scaling from training data X (n, d): per "feature", per image "channel", one "global" mean and std
    over all inputs (keeps pixels comparable, good for images), or None (identity)."""
    if per is None:
        return Standardize(np.zeros(1), np.ones(1))
    if per == "global":
        mean, scale = X.mean(keepdims=True)[0], X.std(keepdims=True)[0]
    elif per == "feature":
        mean, scale = X.mean(axis=0), X.std(axis=0)
    elif per == "channel":
        images = X.reshape(len(X), image_shape[0], -1)
        mean = images.mean(axis=(0, 2)).reshape(-1, 1, 1)
        scale = images.std(axis=(0, 2)).reshape(-1, 1, 1)
    else:
        raise ValueError(f"scaling must be 'feature', 'channel', 'global' or None, got {per!r}")
    return Standardize(mean, np.where(scale > 1e-8, scale, 1.0))  # constant inputs are only centred


class NetEstimator(BaseEstimator):
    """Shared fitting and prediction for the net estimators; subclasses build the trunk and the outputs."""

    def _check_common_params(self):
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout!r}")
        if self.alpha < 0:
            raise ValueError(f"alpha (L2 strength) must be >= 0, got {self.alpha!r}")
        if not 0.0 <= self.validation_fraction < 1.0:
            raise ValueError(f"validation_fraction must be in [0, 1), got {self.validation_fraction!r}")
        if self.patience is not None and self.validation_fraction == 0:
            raise ValueError("early stopping (patience) needs validation_fraction > 0")
        if int(self.epochs) < 1 or int(self.batch_size) < 1:
            raise ValueError(f"epochs and batch_size must be >= 1, got {self.epochs!r} and {self.batch_size!r}")

    def _validate_X(self, X, reset: bool) -> np.ndarray:
        """X as float32 (n, n_features) for predict; 4-D image batches (n, C, H, W) are checked and flattened."""
        X, shape = _flatten_images(X)
        if shape is not None and shape != tuple(self.image_shape_):
            raise ValueError(f"X holds images of shape {shape} but the estimator was fitted on {self.image_shape_}")
        return validate_data(self, X, reset=reset, dtype=[np.float32, np.float64]).astype(np.float32, copy=False)

    def _validate_fit_data(self, X, y, **kwargs) -> tuple[np.ndarray, np.ndarray]:
        """Checked (X float32 (n, d), y) for fit; sets n_features_in_ and image_shape_."""
        X, shape = _flatten_images(X)
        X, y = validate_data(self, X, y, dtype=[np.float32, np.float64], **kwargs)
        self.image_shape_ = self._image_shape_for(X.shape[1], shape)
        return X.astype(np.float32, copy=False), y

    def _image_shape_for(self, n_features: int, shape4d=None) -> tuple[int, int, int]:
        """(C, H, W) of the inputs: image_shape if set, the 4-D input's, a square, or one row (1, 1, d)."""
        if self.image_shape is not None:
            shape = tuple(int(v) for v in self.image_shape)
            if len(shape) != 3 or math.prod(shape) != n_features or shape4d not in (None, shape):
                raise ValueError(f"image_shape {shape} does not match the input "
                                 f"({shape4d if shape4d else n_features} features)")
            return shape
        if shape4d is not None:
            return shape4d
        side = math.isqrt(n_features)
        return (1, side, side) if side * side == n_features else (1, 1, n_features)

    def _model_input(self, X: np.ndarray) -> np.ndarray:
        return X

    def _build_trunk(self, X: np.ndarray) -> tuple[nn.Module, int]:
        """(trunk including input scaling, feature width); subclasses implement."""
        raise NotImplementedError

    def _fit_net(self, X: np.ndarray, targets, loss_fn, out_dims: list[int]) -> None:
        """Build trunk + one Linear head per output, warm-start/freeze the trunk, train; sets model_, history_."""
        self._check_common_params()
        seed = int(check_random_state(self.random_state).randint(2**31 - 1))
        with torch.random.fork_rng(devices=[]):  # seeding must not disturb the caller's global torch RNG
            torch.manual_seed(seed)
            trunk, width = self._build_trunk(X)
            if self.warm_start_trunk is not None:
                load_trunk_state(trunk, self.warm_start_trunk)
            heads = [mlp(width, (), d) for d in out_dims]
            model = TrunkHeadNet(trunk, heads, freeze_trunk=bool(self.freeze_trunk))
            augmenter = make_augmenter(self.augment, self.image_shape_, seed)
            trainer = Trainer(model, loss_fn, epochs=int(self.epochs), batch_size=int(self.batch_size),
                              optimizer=self.optimizer, lr=float(self.lr), l2=float(self.alpha),
                              schedule=self.schedule, validation_fraction=float(self.validation_fraction),
                              patience=self.patience, device=self.device, seed=seed, progress=bool(self.verbose))
            self.history_ = trainer.fit(self._model_input(X), targets, transform=augmenter)
        self.model_ = model.eval()
        self.n_iter_ = self.history_.epochs_run

    @torch.no_grad()
    def _forward(self, X: np.ndarray, embed: bool = False, batch_size: int = 1024):
        """Model outputs (or trunk features) for validated X, as float64 numpy arrays (a tuple for multitask).

        On the CPU a float64 copy of the model does the work: float32 matrix products round differently
        for different batch sizes, and a row's prediction must not depend on the rows predicted with it.
        """
        model = self.model_.eval()
        device = next(model.parameters()).device
        dtype = torch.float64 if device.type == "cpu" else torch.float32
        if dtype == torch.float64:
            model = copy.deepcopy(model).double()
        inputs = torch.as_tensor(self._model_input(X), dtype=dtype)
        parts = []
        for first in range(0, len(inputs), batch_size):
            x = inputs[first:first + batch_size].to(device)
            parts.append(model.embed(x) if embed else model(x))
        if isinstance(parts[0], tuple):
            return tuple(torch.cat([p[k] for p in parts]).cpu().double().numpy() for k in range(len(parts[0])))
        return torch.cat(parts).cpu().double().numpy()

    def transform_features(self, X) -> np.ndarray:
        """Trunk features (n, F) of X: the learned representation below the output layer."""
        check_is_fitted(self)
        return self._forward(self._validate_X(X, reset=False), embed=True)

    def get_trunk_state(self) -> list[tuple[str, dict]]:
        """A copy of the trunk's weights (input scaling included) for `warm_start_trunk=` of another estimator."""
        check_is_fitted(self)
        return trunk_state(self.model_.trunk)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # GPU kernels (cuDNN, atomics) need not be bitwise repeatable; the CPU path is.
        tags.non_deterministic = self.device != "cpu" and torch.cuda.is_available()
        return tags


def _flatten_images(X):
    """(X reshaped to (n, C*H*W), (C, H, W)) for a 4-D image batch; (X, None) for anything else."""
    if getattr(X, "ndim", None) == 4:
        return np.asarray(X).reshape(len(X), -1), tuple(int(v) for v in X.shape[1:])
    return X, None


def stateful_layers(trunk: nn.Module) -> list[nn.Module]:
    """The trunk's layers that hold weights or buffers (scaling, Linear, Conv, BatchNorm), in order."""
    return [m for m in trunk.children() if len(m.state_dict())]


def trunk_state(trunk: nn.Module) -> list[tuple[str, dict]]:
    """(layer class name, copied state dict) for each stateful layer; dropout and activations carry none,
    so trunks that differ only in those can share weights."""
    return [(type(m).__name__, {k: v.detach().cpu().clone() for k, v in m.state_dict().items()})
            for m in stateful_layers(trunk)]


def load_trunk_state(trunk: nn.Module, source) -> None:
    """Copy weights into `trunk` from a fitted net estimator (or autoencoder) or a trunk_state() list."""
    if hasattr(source, "get_trunk_state"):
        if not hasattr(source, "model_"):
            raise ValueError("warm_start_trunk estimator is not fitted (sklearn.clone() unfits estimator-valued "
                             "parameters: pass est.get_trunk_state() instead)")
        source = source.get_trunk_state()
    if not isinstance(source, list | tuple):
        raise ValueError(f"warm_start_trunk must be a fitted net estimator or get_trunk_state() output, "
                         f"got {type(source).__name__}")
    layers = stateful_layers(trunk)
    names = [type(m).__name__ for m in layers]
    if [name for name, _ in source] != names:
        raise ValueError(f"warm_start_trunk has layers {[n for n, _ in source]} but this trunk has {names}")
    for i, (layer, (_, state)) in enumerate(zip(layers, source)):
        if isinstance(layer, Standardize):  # the weights were trained on inputs scaled this way: adopt it
            layer.mean, layer.scale = state["mean"].clone(), state["scale"].clone()
            continue
        mine = {k: tuple(v.shape) for k, v in layer.state_dict().items()}
        theirs = {k: tuple(v.shape) for k, v in state.items()}
        if mine != theirs:
            raise ValueError(f"warm_start_trunk layer {i} ({names[i]}) has shapes {theirs}, this trunk {mine}")
        layer.load_state_dict(state)


class _MLPParams:
    """Parameters shared by the MLP estimators (the constructor stores them unchanged, as sklearn requires)."""

    def __init__(self, hidden_layer_sizes=(512,), activation="relu", dropout=0.3, batch_norm=False, alpha=1e-4,
                 optimizer="adam", lr=2e-3, epochs=100, batch_size=128, schedule=None, validation_fraction=0.1,
                 patience=15, augment=None, image_shape=None, scaling="auto", warm_start_trunk=None,
                 freeze_trunk=False, random_state=None, device="auto", verbose=False):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.alpha = alpha
        self.optimizer = optimizer
        self.lr = lr
        self.epochs = epochs
        self.batch_size = batch_size
        self.schedule = schedule
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.augment = augment
        self.image_shape = image_shape
        self.scaling = scaling
        self.warm_start_trunk = warm_start_trunk
        self.freeze_trunk = freeze_trunk
        self.random_state = random_state
        self.device = device
        self.verbose = verbose

    def _build_trunk(self, X):
        if len(self.hidden_layer_sizes) == 0:
            raise ValueError("hidden_layer_sizes must name at least one hidden layer (the shared trunk)")
        net = mlp(X.shape[1], self.hidden_layer_sizes, 1, self.activation, dropout=self.dropout,
                  batch_norm=self.batch_norm)
        trunk, _ = split_trunk_head(net)
        # Augmented rows are images: one scale for all pixels keeps a shifted stroke at a sensible size.
        scaling = ("global" if self.augment is not None else "feature") if self.scaling == "auto" else self.scaling
        return nn.Sequential(standardizer(X, scaling), *trunk), int(self.hidden_layer_sizes[-1])


class ClassifierNet(ClassifierMixin, NetEstimator):
    """Single-task classification: softmax cross-entropy on integer-coded classes_."""

    def fit(self, X, y):
        X, y = self._validate_fit_data(X, y)
        check_classification_targets(y)
        self.classes_, y_index = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(f"{type(self).__name__} needs samples of at least 2 classes; y has 1 class")
        self._fit_net(X, y_index.astype(np.int64), cross_entropy, [len(self.classes_)])
        return self

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities (n, n_classes), columns in the order of classes_."""
        check_is_fitted(self)
        logits = self._forward(self._validate_X(X, reset=False))
        proba = np.exp(logits - logits.max(axis=1, keepdims=True))
        return proba / proba.sum(axis=1, keepdims=True)

    def predict(self, X) -> np.ndarray:
        """Most probable class label (n,)."""
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]


class MLPClassifier(_MLPParams, ClassifierNet):
    """Multilayer-perceptron classifier (nets.mlp trunk, softmax output), scikit-learn compatible.

    Inputs X (n, d) are standardized inside the model: per feature, or with one mean and std for all inputs
    when augmenting images (scaling="auto"; or "feature", "global", None). `augment` ("digits" or a dict for
    nets.augment.ImageAugmenter) needs the rows to be images: `image_shape` (C, H, W) or a square number of
    features. Early stopping: validation_fraction > 0 and patience (epochs without a better validation loss).
    Fitted: classes_, n_features_in_, model_ (a TrunkHeadNet), history_, n_iter_.
    """


class MLPRegressor(_MLPParams, RegressorMixin, NetEstimator):
    """Multilayer-perceptron regressor with square loss; y (n,) or (n, n_targets) is standardized inside fit."""

    def fit(self, X, y):
        X, y = self._validate_fit_data(X, y, multi_output=True, y_numeric=True)
        self._y_ndim = y.ndim
        y2 = y.reshape(len(y), -1).astype(np.float64)
        self.y_mean_, std = y2.mean(axis=0), y2.std(axis=0)
        self.y_scale_ = np.where(std > 1e-12, std, 1.0)
        targets = ((y2 - self.y_mean_) / self.y_scale_).astype(np.float32)
        self._fit_net(X, targets, square_loss, [y2.shape[1]])
        return self

    def predict(self, X) -> np.ndarray:
        """Predictions (n,) or (n, n_targets), matching the y given to fit; float64."""
        check_is_fitted(self)
        out = self._forward(self._validate_X(X, reset=False)) * self.y_scale_ + self.y_mean_
        return out[:, 0] if self._y_ndim == 1 else out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


class CNNClassifier(ClassifierNet):
    """Convolutional classifier (nets.cnn trunk), scikit-learn compatible.

    X is (n, C*H*W) with `image_shape` (C, H, W), or 4-D (n, C, H, W). With image_shape=None a square number
    of features d is read as (1, sqrt d, sqrt d) (digits: 64 -> 1x8x8), anything else as (1, 1, d).
    Each conv layer (3x3, padding 1 by default) is followed by `pool`; `head` gives the hidden sizes of the
    MLP after flattening. Inputs are standardized per channel inside the model.
    """

    def __init__(self, channels=(32, 64), kernel_size=3, padding=1, pool="max", head=(256,), image_shape=None,
                 activation="relu", dropout=0.3, batch_norm=False, alpha=1e-4, optimizer="adam", lr=2e-3,
                 epochs=60, batch_size=128, schedule=None, validation_fraction=0.1, patience=15, augment=None,
                 scaling="channel", warm_start_trunk=None, freeze_trunk=False, random_state=None, device="auto",
                 verbose=False):
        self.channels = channels
        self.kernel_size = kernel_size
        self.padding = padding
        self.pool = pool
        self.head = head
        self.image_shape = image_shape
        self.activation = activation
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.alpha = alpha
        self.optimizer = optimizer
        self.lr = lr
        self.epochs = epochs
        self.batch_size = batch_size
        self.schedule = schedule
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.augment = augment
        self.scaling = scaling
        self.warm_start_trunk = warm_start_trunk
        self.freeze_trunk = freeze_trunk
        self.random_state = random_state
        self.device = device
        self.verbose = verbose

    def _model_input(self, X: np.ndarray) -> np.ndarray:
        return X.reshape(len(X), *self.image_shape_)

    def _build_trunk(self, X):
        head = tuple(self.head)
        net = cnn(self.image_shape_, self.channels, self.kernel_size, 1, self.padding, pool=self.pool,
                  head=(*head, 1), activation=self.activation, dropout=self.dropout, batch_norm=self.batch_norm)
        trunk, _ = split_trunk_head(net)
        scale = standardizer(X, self.scaling, self.image_shape_)
        if len(head):
            width = head[-1]
        else:
            shapes = cnn_output_shapes(self.image_shape_, self.channels, self.kernel_size, 1, self.padding,
                                       self.pool)
            width = math.prod(shapes[-1]) if shapes else math.prod(self.image_shape_)
        return nn.Sequential(scale, *trunk), int(width)
