"""Unsupervised learning on the shared nets: a tied-weight sparse Autoencoder, a spectral (kNN-graph)
embedding, and EmbeddingClustering (embed, then k-means or Ward from nets.clustering).
"""

from __future__ import annotations

import copy

import numpy as np
import torch
import torch.nn.functional as F
from scipy.sparse import csgraph, diags
from scipy.sparse.linalg import eigsh
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin
from sklearn.neighbors import kneighbors_graph
from sklearn.utils.validation import check_is_fitted, check_random_state, validate_data
from torch import nn

from nets.activations import hidden_unit
from nets.clustering import AgglomerativeClustering, KMeans
from nets.mlp import mlp
from nets.supervised import Standardize, split_trunk_head, standardizer, trunk_state
from nets.trainer import Trainer


class TiedAutoencoder(nn.Module):
    """Encoder from nets.mlp (Linear + activation per hidden size; the last size is the code) and a decoder
    that reuses each encoder weight transposed (parameter tying: one weight matrix per layer pair).

    forward: x (B, d) -> reconstruction (B, d) in input units; the code (B, k) of the last forward pass is
    kept so that `penalty()` can return the L1 activity penalty l1 * mean_batch(sum_j |code_j|).
    """

    def __init__(self, scaler: Standardize, in_dim: int, hidden_sizes, activation: str = "relu",
                 dropout: float = 0.0, l1: float = 0.0):
        super().__init__()
        trunk, _ = split_trunk_head(mlp(in_dim, hidden_sizes, 1, activation, dropout=dropout))
        self.encoder = nn.Sequential(scaler, *trunk)
        self.linears = [m for m in self.encoder if isinstance(m, nn.Linear)]  # views, not new parameters
        self.decoder_biases = nn.ParameterList(
            [nn.Parameter(torch.zeros(lin.in_features)) for lin in reversed(self.linears)])
        self.activation = hidden_unit(activation)
        self.l1 = float(l1)
        self.last_code: torch.Tensor | None = None

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def decode(self, code: torch.Tensor) -> torch.Tensor:
        """code (B, k) -> reconstruction (B, d) in input units (undoes the input scaling)."""
        h = code
        for step, (lin, bias) in enumerate(zip(reversed(self.linears), self.decoder_biases)):
            h = F.linear(h, lin.weight.t(), bias)  # W^T: the tied weight
            if step < len(self.linears) - 1:
                h = self.activation(h)
        scaler = self.encoder[0]
        return h * scaler.scale + scaler.mean

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        code = self.encode(x)
        self.last_code = code if self.training else None  # only training steps call penalty()
        return self.decode(code)

    def penalty(self) -> torch.Tensor:
        if self.l1 == 0 or self.last_code is None:
            return torch.zeros(())
        return self.l1 * self.last_code.abs().sum(dim=1).mean()


class Autoencoder(TransformerMixin, BaseEstimator):
    """Tied-weight autoencoder with an optional L1 activity penalty (sparse codes), scikit-learn style.

    hidden_layer_sizes: encoder widths, the last is the code size k. fit(X (n, d)); transform -> codes
    (n, k); inverse_transform(codes) -> reconstructions (n, d). Reconstruction loss is the mean squared
    error on scaled inputs (`scaling` as in the supervised estimators). Fitted: model_, history_.
    """

    def __init__(self, hidden_layer_sizes=(128, 32), activation="relu", l1=0.0, dropout=0.0, alpha=0.0,
                 optimizer="adam", lr=1e-3, epochs=100, batch_size=64, validation_fraction=0.1, patience=10,
                 scaling="global", random_state=None, device="auto", verbose=False):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.l1 = l1
        self.dropout = dropout
        self.alpha = alpha
        self.optimizer = optimizer
        self.lr = lr
        self.epochs = epochs
        self.batch_size = batch_size
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.scaling = scaling
        self.random_state = random_state
        self.device = device
        self.verbose = verbose

    def fit(self, X, y=None):
        X = validate_data(self, X, dtype=[np.float32, np.float64]).astype(np.float32, copy=False)
        if len(self.hidden_layer_sizes) == 0:
            raise ValueError("hidden_layer_sizes must give at least the code size")
        if self.l1 < 0:
            raise ValueError(f"l1 must be >= 0, got {self.l1!r}")
        seed = int(check_random_state(self.random_state).randint(2**31 - 1))
        patience = self.patience if self.validation_fraction > 0 else None
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = TiedAutoencoder(standardizer(X, self.scaling), X.shape[1], self.hidden_layer_sizes,
                                    self.activation, self.dropout, self.l1)
            scale = model.encoder[0].scale

            def scaled_mse(reconstruction, x):
                return (((reconstruction - x) / scale) ** 2).mean()

            trainer = Trainer(model, scaled_mse, epochs=int(self.epochs), batch_size=int(self.batch_size),
                              optimizer=self.optimizer, lr=float(self.lr), l2=float(self.alpha),
                              validation_fraction=float(self.validation_fraction), patience=patience,
                              device=self.device, seed=seed, progress=bool(self.verbose))
            self.history_ = trainer.fit(X)
        model.last_code = None  # holds an autograd graph; the fitted model must pickle
        self.model_ = model.eval()
        self.n_iter_ = self.history_.epochs_run
        return self

    @torch.no_grad()
    def _apply(self, fn_name: str, data: np.ndarray) -> np.ndarray:
        """Run model_.encode or model_.decode over data in float64 on the CPU (batch-size independent)."""
        model = self.model_.eval()
        device = next(model.parameters()).device
        dtype = torch.float64 if device.type == "cpu" else torch.float32
        if dtype == torch.float64:
            model = copy.deepcopy(model).double()
        fn = getattr(model, fn_name)
        x = torch.tensor(np.asarray(data), dtype=dtype, device=device)  # a copy: the input may be read-only
        return np.concatenate([fn(x[i:i + 1024]).cpu().double().numpy() for i in range(0, len(x), 1024)])

    def transform(self, X) -> np.ndarray:
        """Codes (n, k)."""
        check_is_fitted(self)
        return self._apply("encode", validate_data(self, X, reset=False, dtype=[np.float32, np.float64]))

    def inverse_transform(self, codes) -> np.ndarray:
        """Reconstructions (n, d) from codes (n, k)."""
        check_is_fitted(self)
        codes = np.asarray(codes, dtype=np.float64)
        k = self.hidden_layer_sizes[-1]
        if codes.ndim != 2 or codes.shape[1] != k:
            raise ValueError(f"codes must have shape (n, {k}), got {codes.shape}")
        return self._apply("decode", codes)

    def score(self, X, y=None) -> float:
        """Minus the mean squared reconstruction error per input (higher is better)."""
        X = validate_data(self, X, reset=False, dtype=[np.float32, np.float64])
        return -float(np.mean((self.inverse_transform(self.transform(X)) - X) ** 2))

    def get_trunk_state(self) -> list[tuple[str, dict]]:
        """Encoder weights for `warm_start_trunk=` of an MLP estimator with the same hidden_layer_sizes."""
        check_is_fitted(self)
        return trunk_state(self.model_.encoder)


def spectral_embedding(X: np.ndarray, n_components: int, n_neighbors: int = 10) -> np.ndarray:
    """Laplacian eigenmap of the symmetrized kNN graph of X (n, d), rows scaled to unit length -> (n, n_components).

    The eigenvectors of the normalized graph Laplacian with the smallest eigenvalues vary slowly along the
    graph, so points joined by chains of near neighbours land together even when a cluster is curved; the
    constant first eigenvector is dropped. Unit rows (as in Ng, Jordan and Weiss) make clusters into tight
    directions that k-means or Ward separate well.
    """
    n = X.shape[0]
    if not 1 <= n_neighbors < n or not 1 <= n_components < n - 1:
        raise ValueError(f"need 1 <= n_neighbors < n and 1 <= n_components < n - 1 (n={n}), got "
                         f"n_neighbors={n_neighbors}, n_components={n_components}")
    A = kneighbors_graph(X, n_neighbors, include_self=False)
    W = 0.5 * (A + A.T)
    L, degree = csgraph.laplacian(W, normed=True, return_diag=True)
    # Largest eigenvalues of I - L are the smallest of L; a fixed start vector makes the result repeatable.
    values, vectors = eigsh(diags(np.ones(n)) - L, k=n_components + 1, which="LA", v0=np.ones(n) / np.sqrt(n))
    order = np.argsort(values)[::-1]
    embedding = (vectors[:, order] / degree[:, None])[:, 1:]
    norms = np.linalg.norm(embedding, axis=1, keepdims=True)
    return embedding / np.where(norms > 0, norms, 1.0)


class EmbeddingClustering(ClusterMixin, BaseEstimator):
    """Cluster a learned representation: embed X, then k-means or Ward (ours, from nets.clustering).

    embedding: "raw" (X itself), "autoencoder" (Autoencoder codes; `autoencoder` = its keyword arguments),
    "spectral" (spectral_embedding of X) or "autoencoder+spectral" (spectral embedding of the codes).
    Fitted: embedding_ (n, k), labels_ (n,), and autoencoder_ when one was trained.
    """

    def __init__(self, n_clusters=10, embedding="spectral", method="ward", n_components=None, n_neighbors=10,
                 autoencoder=None, random_state=None):
        self.n_clusters = n_clusters
        self.embedding = embedding
        self.method = method
        self.n_components = n_components
        self.n_neighbors = n_neighbors
        self.autoencoder = autoencoder
        self.random_state = random_state

    def _embed(self, X: np.ndarray) -> np.ndarray:
        known = ("raw", "autoencoder", "spectral", "autoencoder+spectral")
        if self.embedding not in known:
            raise ValueError(f"embedding must be one of {known}, got {self.embedding!r}")
        features = X
        if self.embedding.startswith("autoencoder"):
            self.autoencoder_ = Autoencoder(**{"random_state": self.random_state, **(self.autoencoder or {})})
            features = self.autoencoder_.fit_transform(X)
        if self.embedding.endswith("spectral"):
            k = self.n_components or self.n_clusters
            features = spectral_embedding(features, k, min(self.n_neighbors, len(X) - 1))
        return features

    def fit(self, X, y=None):
        X = validate_data(self, X, dtype=np.float64, ensure_min_samples=2)
        if self.method not in ("ward", "kmeans"):
            raise ValueError(f"method must be 'ward' or 'kmeans', got {self.method!r}")
        self.embedding_ = self._embed(X)
        if self.method == "ward":
            self.labels_ = AgglomerativeClustering(self.n_clusters, linkage="ward").fit(self.embedding_).labels_
        else:
            self.labels_ = KMeans(self.n_clusters, random_state=self.random_state).fit(self.embedding_).labels_
        return self
