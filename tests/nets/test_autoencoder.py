"""Tied-weight sparse autoencoder, spectral embedding and clustering of learned embeddings."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits, make_moons
from sklearn.metrics import adjusted_rand_score
from sklearn.utils.estimator_checks import parametrize_with_checks

from nets.clustering import AgglomerativeClustering
from nets.supervised import MLPClassifier, standardizer
from nets.unsupervised import Autoencoder, EmbeddingClustering, TiedAutoencoder, spectral_embedding

FAST = dict(epochs=30, batch_size=32, validation_fraction=0.0, patience=None, random_state=0, device="cpu")


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:600], y[:600]


def make_tied(in_dim=6, hidden=(5, 3), l1=0.0):
    torch.manual_seed(0)
    X = np.random.default_rng(0).normal(size=(20, in_dim))
    return TiedAutoencoder(standardizer(X, "global"), in_dim, hidden, "tanh", l1=l1)


def test_decoder_reuses_encoder_weights_transposed():
    model = make_tied()
    weights = [p for name, p in model.named_parameters() if name.endswith("weight")]
    assert len(weights) == 2  # one matrix per encoder/decoder layer pair
    assert {id(w) for w in weights} == {id(model.linears[0].weight), id(model.linears[1].weight)}
    assert [tuple(b.shape) for b in model.decoder_biases] == [(5,), (6,)]
    # the decoder computes exactly tanh(c W2 + b) W1 + b', in scaled units
    code = torch.randn(4, 3)
    w1, w2 = model.linears[0].weight, model.linears[1].weight
    expected = torch.tanh(code @ w2 + model.decoder_biases[0]) @ w1 + model.decoder_biases[1]
    scaler = model.encoder[0]
    torch.testing.assert_close(model.decode(code), expected * scaler.scale + scaler.mean)


def test_gradient_flows_into_the_tied_weight_from_the_decoder():
    model = make_tied()
    model.decode(torch.randn(8, 3)).pow(2).sum().backward()  # decoder path only: no encoder call
    assert all(lin.weight.grad is not None and lin.weight.grad.abs().sum() > 0 for lin in model.linears)


def test_penalty_is_l1_of_the_last_code():
    model = make_tied(l1=0.3).train()
    x = torch.randn(7, 6)
    model(x)
    expected = 0.3 * model.encode(x).abs().sum(dim=1).mean()
    torch.testing.assert_close(model.penalty(), expected)
    model.eval()(x)
    assert model.last_code is None and model.penalty().item() == 0.0


def test_l1_activity_penalty_gives_sparser_codes(digits):
    X, _ = digits
    plain = Autoencoder(hidden_layer_sizes=(64, 16), l1=0.0, **FAST).fit(X)
    sparse = Autoencoder(hidden_layer_sizes=(64, 16), l1=0.05, **FAST).fit(X)
    plain_codes, sparse_codes = plain.transform(X), sparse.transform(X)
    assert np.abs(sparse_codes).mean() < 0.5 * np.abs(plain_codes).mean()
    assert (sparse_codes == 0).mean() > (plain_codes == 0).mean()


def test_autoencoder_reconstructs_better_than_the_mean(digits):
    X, _ = digits
    model = Autoencoder(hidden_layer_sizes=(64, 16), **FAST).fit(X)
    codes = model.transform(X)
    assert codes.shape == (len(X), 16)
    reconstruction = model.inverse_transform(codes)
    assert reconstruction.shape == X.shape
    error = np.mean((reconstruction - X) ** 2)
    assert error < 0.4 * np.mean((X - X.mean(axis=0)) ** 2)
    assert model.score(X) == pytest.approx(-error)
    with pytest.raises(ValueError, match="codes must have shape"):
        model.inverse_transform(codes[:, :3])


def test_encoder_warm_starts_an_mlp_trunk(digits):
    X, y = digits
    ae = Autoencoder(hidden_layer_sizes=(64,), **FAST).fit(X)
    clf = MLPClassifier(hidden_layer_sizes=(64,), warm_start_trunk=ae, freeze_trunk=True, epochs=3,
                        random_state=0, device="cpu").fit(X, y)
    for (name, ours), (_, theirs) in zip(clf.get_trunk_state(), ae.get_trunk_state()):
        for key in ours:
            torch.testing.assert_close(ours[key], theirs[key], rtol=0, atol=0, msg=f"{name}.{key}")
    np.testing.assert_allclose(clf.transform_features(X), ae.transform(X), rtol=1e-5, atol=1e-5)


def test_spectral_embedding_untangles_moons():
    X, y = make_moons(n_samples=300, noise=0.05, random_state=0)
    embedding = spectral_embedding(X, 2, n_neighbors=10)
    np.testing.assert_allclose(np.linalg.norm(embedding, axis=1), 1.0)
    spectral = AgglomerativeClustering(2, linkage="ward").fit(embedding).labels_
    raw = AgglomerativeClustering(2, linkage="ward").fit(X).labels_
    assert adjusted_rand_score(y, spectral) == pytest.approx(1.0)
    assert adjusted_rand_score(y, raw) < 0.7
    np.testing.assert_array_equal(embedding, spectral_embedding(X, 2, n_neighbors=10))  # repeatable
    with pytest.raises(ValueError, match="n_neighbors"):
        spectral_embedding(X[:5], 2, n_neighbors=10)


def test_embedding_clustering_beats_raw_ward_on_digits():
    X, y = load_digits(return_X_y=True)
    raw = EmbeddingClustering(10, embedding="raw").fit(X)
    spectral = EmbeddingClustering(10, embedding="spectral").fit(X)
    assert adjusted_rand_score(y, spectral.labels_) > adjusted_rand_score(y, raw.labels_)
    assert adjusted_rand_score(y, spectral.labels_) >= 0.8
    kmeans = EmbeddingClustering(10, embedding="spectral", method="kmeans", random_state=0).fit(X)
    assert adjusted_rand_score(y, kmeans.labels_) >= 0.7
    with pytest.raises(ValueError, match="embedding"):
        EmbeddingClustering(embedding="tsne").fit(X)


def test_autoencoder_embedding_clustering_beats_random_projections(digits):
    X, y = digits
    model = EmbeddingClustering(10, embedding="autoencoder", autoencoder=dict(hidden_layer_sizes=(64, 10), **FAST))
    labels = model.fit_predict(X)
    assert model.embedding_.shape == (len(X), 10) and len(np.unique(labels)) == 10
    np.testing.assert_array_equal(model.embedding_, model.autoencoder_.transform(X))
    # The baseline a learned code must beat: Ward on random Gaussian projections of the scaled pixels to the
    # same 10 dimensions (ARI 0.22-0.55 over these 20; the autoencoder's code gets about 0.66).
    scaled = (X - X.mean()) / X.std()
    random_aris = [adjusted_rand_score(y, AgglomerativeClustering(10, linkage="ward").fit(
        scaled @ np.random.default_rng(seed).normal(size=(64, 10))).labels_) for seed in range(20)]
    assert adjusted_rand_score(y, labels) >= max(0.6, max(random_aris) + 0.05)


def test_autoencoder_plus_spectral_embeds_the_codes_spectrally(digits):
    X, y = digits
    model = EmbeddingClustering(10, embedding="autoencoder+spectral", n_neighbors=10,
                                autoencoder=dict(hidden_layer_sizes=(64, 10), **FAST)).fit(X)
    codes = model.autoencoder_.transform(X)
    assert codes.shape == (len(X), 10)
    # The spectral embedding (n_clusters components, unit rows) of the autoencoder's codes, then Ward.
    np.testing.assert_array_equal(model.embedding_, spectral_embedding(codes, 10, n_neighbors=10))
    np.testing.assert_array_equal(model.labels_, AgglomerativeClustering(10, linkage="ward").fit(
        model.embedding_).labels_)
    assert adjusted_rand_score(y, model.labels_) >= 0.6


@parametrize_with_checks([Autoencoder(hidden_layer_sizes=(8, 3), **FAST),
                          EmbeddingClustering(n_clusters=3, n_neighbors=5, random_state=0)])
def test_sklearn_compatible(estimator, check):
    check(estimator)
