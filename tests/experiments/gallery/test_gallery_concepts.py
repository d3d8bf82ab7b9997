"""The concept gallery's model-family scripts (graphical models, universal approximation, unions of halfspaces,
learning vs memorizing, no single best model, why GPUs): each claim checked on the numbers main() returns,
against a computation made here, independently of the script where one exists."""

from __future__ import annotations

import importlib
import itertools

import numpy as np
import pytest
import torch
from gallery_listing import listed_names
from matplotlib.path import Path as PolygonPath
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.tree import DecisionTreeClassifier

CONCEPT_SCRIPTS = ("graphical_models", "universal_approximation", "halfspace_unions", "learning_not_memorizing",
                   "no_single_best", "why_gpus")


def module(name: str):
    return importlib.import_module(f"experiments.gallery.{name}")


def run(name: str, plot_dir=None) -> dict:
    return module(name).main(plot_dir=plot_dir)


def test_scripts_are_listed_with_concept_and_claim(capsys):
    listed_names(CONCEPT_SCRIPTS, capsys)


# ------------------------------------------------------------------------------------ probabilistic graphical models


def test_graphical_models_exact_posterior_matches_sampling_and_naive_bayes_is_counted(tmp_path):
    r = run("graphical_models", plot_dir=str(tmp_path))
    # P(rain | wet) by hand from the tables: sum the sprinkler out of P(r) P(s | r) P(wet | s, r).
    wet_and_rain = 0.2 * (0.01 * 0.99 + 0.99 * 0.8)
    wet_and_dry = 0.8 * (0.4 * 0.9 + 0.6 * 0.0)
    wet_and_sprinkler = 0.2 * 0.01 * 0.99 + 0.8 * 0.4 * 0.9
    p_wet = wet_and_rain + wet_and_dry
    assert r["exact"]["p_wet"] == pytest.approx(p_wet, abs=1e-12)
    assert r["exact"]["rain"] == pytest.approx(wet_and_rain / p_wet, abs=1e-12)  # 0.3577, Wikipedia's number
    assert r["exact"]["sprinkler"] == pytest.approx(wet_and_sprinkler / p_wet, abs=1e-12)
    sampled = r["likelihood_weighting"]
    for name in ("rain", "sprinkler"):
        assert 0 < sampled[f"{name}_standard_error"] < 0.01
        assert abs(sampled[name] - r["exact"][name]) < 3 * sampled[f"{name}_standard_error"], name
    digits = r["digits"]
    assert digits["naive_bayes_vs_sklearn"] < 1e-10
    assert digits["n_parameters"] == 10 * 64 + 9  # P(pixel on | digit) per pixel and digit, plus the prior
    accuracy = digits["test_accuracy"]
    others = ("SVM (RBF)", "k-NN (k=5)", "MLP 64-128-10")
    assert 0.85 < accuracy["naive Bayes"] < min(accuracy[name] for name in others)
    assert (tmp_path / "graphical_models.png").stat().st_size > 1000


def test_naive_bayes_posterior_by_hand_on_a_tiny_table():
    nb = module("graphical_models")
    X = np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
    y = np.array([0, 0, 1])
    posterior, p_on = nb.naive_bayes_posterior(X, y, np.array([[1.0, 0.0]]), alpha=1.0)
    np.testing.assert_allclose(p_on, [[3 / 4, 2 / 4], [1 / 3, 1 / 3]])
    joint = np.array([2 / 3 * 3 / 4 * 2 / 4, 1 / 3 * 1 / 3 * 2 / 3])  # prior x P(x1 = 1) x P(x2 = 0)
    np.testing.assert_allclose(posterior[0], joint / joint.sum())


# ------------------------------------------------------------------------------------------ universal approximation


def test_universal_approximation_truth_tables_exact_and_error_shrinks():
    ua = module("universal_approximation")
    r = run("universal_approximation")
    tables = r["boolean"]["tables"]
    assert {t["n_inputs"] for t in tables} == {4, 5, 6}
    for t in tables:
        assert t["max_abs_error"] == 0.0
        assert t["hidden_units"] == min(t["ones"], 2 ** t["n_inputs"] - t["ones"]) <= 2 ** (t["n_inputs"] - 1)
    cont = r["continuous"]
    dense = np.linspace(*ua.DOMAIN, 6001)
    constructed = cont["constructed_max_error"]
    for n, error in constructed.items():  # the net is the piecewise-linear interpolant through n + 1 knots
        knots = np.linspace(*ua.DOMAIN, n + 1)
        expected = np.abs(np.interp(dense, knots, ua.target(knots)) - ua.target(dense)).max()
        assert error == pytest.approx(expected, rel=1e-9, abs=1e-12), n
    errors = list(constructed.values())
    assert errors == sorted(errors, reverse=True)
    assert 3.5 < errors[-2] / errors[-1] < 4.5  # error ~ 1/n^2
    best = {w: row["best"] for w, row in cont["trained_max_error"].items()}
    assert best[1] > 0.5 and best[2] > 0.5  # too narrow: stuck far from f
    assert best[4] < best[2] and max(best[8], best[16], best[32]) < 0.05
    assert errors[-1] < min(best.values()) / 3  # 128 constructed units beat every trained net


def test_boolean_net_computes_parity_and_majority_exactly():
    ua = module("universal_approximation")
    rows = np.array(list(itertools.product((0, 1), repeat=5)), dtype=np.float64)  # same order as all_inputs
    np.testing.assert_array_equal(rows, ua.all_inputs(5))
    for table in (rows.sum(axis=1) % 2, (rows.sum(axis=1) >= 3).astype(float), np.zeros(32), np.ones(32)):
        net = ua.boolean_net(table)
        with torch.no_grad():
            output = net(torch.tensor(rows))[:, 0].numpy()
        np.testing.assert_array_equal(output, table)
        assert net[0].out_features <= 16


# ----------------------------------------------------------------------------- unions and intersections of halfspaces


def test_halfspace_unions_two_layers_exact_one_layer_not(tmp_path):
    hs = module("halfspace_unions")
    r = run("halfspace_unions", plot_dir=str(tmp_path))
    two = r["two_layer"]
    assert two["hidden_sizes"] == [16, 2] and two["parameters"] == 85
    assert two["grid_accuracy"] == 1.0 and two["fine_accuracy"] == 1.0 and two["max_abs_error"] < 1e-9
    assert not r["one_layer_threshold"]["separable"]
    trained = r["one_layer_trained"]
    assert trained["parameters"] == 85
    assert trained["best_fine_accuracy"] < 1.0 and trained["best_fine_errors"] > 0
    assert trained["best_grid_accuracy"] > 0.95  # close, not exact
    assert (tmp_path / "halfspace_unions.png").stat().st_size > 1000
    # Labels from matplotlib's point-in-polygon test agree with the script's halfspace test.
    fine = hs.grid_points(hs.FINE)
    paths = [PolygonPath(np.array(p)) for p in hs.POLYGONS]
    np.testing.assert_array_equal(hs.in_union(fine), np.any([p.contains_points(fine) for p in paths], axis=0))


def test_halfspace_unions_one_layer_of_threshold_units_has_an_xor_certificate():
    """Independent of the LP: find inside cells A, B and outside cells C, D with pattern(A) + pattern(B) =
    pattern(C) + pattern(D). Any weighted vote then gives A + B the same total as C + D, so no threshold
    output can call A and B inside and C and D outside."""
    hs = module("halfspace_unions")
    points = hs.grid_points(hs.FINE)
    normals, offsets = (np.concatenate(parts) for parts in zip(*(hs.edge_halfspaces(p) for p in hs.POLYGONS)))
    patterns = (points @ normals.T + offsets > 0).astype(int)
    inside = PolygonPath(np.array(hs.POLYGONS[0])).contains_points(points) | \
        PolygonPath(np.array(hs.POLYGONS[1])).contains_points(points)
    cells_in, cells_out = np.unique(patterns[inside], axis=0), np.unique(patterns[~inside], axis=0)
    sums_out = {tuple(a + b) for a, b in itertools.combinations_with_replacement(cells_out, 2)}
    assert any(tuple(a + b) in sums_out for a, b in itertools.combinations_with_replacement(cells_in, 2))


def test_two_layer_net_matches_point_in_polygon_on_random_points():
    hs = module("halfspace_unions")
    points = np.random.default_rng(0).uniform(0, 1, (4000, 2))
    normals, offsets = (np.concatenate(parts) for parts in zip(*(hs.edge_halfspaces(p) for p in hs.POLYGONS)))
    points = points[np.abs(points @ normals.T + offsets).min(axis=1) > 1e-3]  # off the lines by > 1/steepness
    net = hs.two_layer_net(steepness=2e3)
    with torch.no_grad():
        predicted = net(torch.tensor(points))[:, 0].numpy() > 0
    expected = np.any([PolygonPath(np.array(p)).contains_points(points) for p in hs.POLYGONS], axis=0)
    np.testing.assert_array_equal(predicted, expected)


# ---------------------------------------------------------------------------------------- learning vs memorizing


def test_memorizer_collapses_on_new_views_cnn_holds():
    lm = module("learning_not_memorizing")
    r = run("learning_not_memorizing")
    for name in ("memorizer", "nearest picture", "CNN"):
        assert r[name]["training digits"] == 1.0, name
    views = [c for c in r["CNN"] if c.endswith("copies")]
    assert len(views) == 4
    assert all(r["memorizer"][c] == 0.0 for c in views) and r["memorizer"]["held-out digits"] < 0.01
    cnn, nearest = r["CNN"], r["nearest picture"]
    assert cnn["shifted copies"] > 0.85 and cnn["turned copies"] > 0.8 and cnn["re-lit copies"] > 0.9
    assert cnn["all three copies"] > 0.75
    assert cnn["shifted copies"] > nearest["shifted copies"] + 0.15
    assert cnn["all three copies"] > nearest["all three copies"] + 0.2
    # The "nearest picture" numbers are scikit-learn's 1-nearest-neighbour on the same views.
    X, y = load_digits(return_X_y=True)
    X_train, _, y_train, _ = train_test_split(X, y, train_size=lm.N_TRAIN, random_state=lm.SEED, stratify=y)
    knn = KNeighborsClassifier(n_neighbors=1).fit(X_train, y_train)
    for name, kw in (("shifted", dict(shift=True)), ("all three", dict(shift=True, turn=True, relight=True))):
        copies = lm.new_views(X_train, lm.SEED + 1, **kw)
        assert not np.any(np.all(copies == X_train, axis=1))  # every copy differs from its original
        assert nearest[f"{name} copies"] == pytest.approx(knn.score(copies, y_train))


# ----------------------------------------------------------------------------------------- no single best approach


def test_no_single_best_model():
    nsb = module("no_single_best")
    r = run("no_single_best")
    table = r["accuracy"]
    models = ("tree", "SVM", "k-NN", "naive Bayes", "MLP")
    assert len(table) >= 4 and all(set(row) == set(models) for row in table.values())
    for data, row in table.items():
        assert r["winners"][data] == [m for m in models if row[m] == max(row.values())]
    assert {w for ws in r["winners"].values() for w in ws} == set(models)  # every model is best somewhere
    for model in models:  # ... and clearly beaten somewhere else
        assert max(max(row.values()) - row[model] for row in table.values()) >= 0.15, model
    assert r["winners"]["checkerboard"] == ["tree"] and r["winners"]["islands"] == ["k-NN"]
    assert r["winners"]["spread"] == ["naive Bayes"] and r["winning_margin"]["spread"] > 0.05
    # Two cells recomputed here with scikit-learn on the script's data.
    data = nsb.datasets()
    for name, model, key in (("spread", GaussianNB(), "naive Bayes"),
                             ("checkerboard", DecisionTreeClassifier(random_state=nsb.SEED), "tree")):
        X, y = data[name]
        X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.5, random_state=nsb.SEED, stratify=y)
        assert table[name][key] == pytest.approx(model.fit(X_train, y_train).score(X_test, y_test))


# --------------------------------------------------------------------------------------------------------- why GPUs


def test_why_gpus_all_ways_agree_and_the_matrix_product_beats_the_loop():
    r = run("why_gpus")
    ways = r["ways"]
    expected = {"Python, one neuron at a time", "numpy matrix product", "torch on cpu"}
    assert expected | ({"torch on cuda"} if torch.cuda.is_available() else set()) == set(ways)
    assert all(row["max_abs_diff_vs_numpy"] < 1e-10 for row in ways.values())
    assert r["cores_max_abs_diff"] < 1e-12 and r["multiply_adds_per_sample"] == 256 * 256
    # Really ~1000x; 5x leaves room for any load on the machine.
    assert ways["numpy matrix product"]["speedup_vs_loop"] > 5


def test_one_neuron_at_a_time_is_the_layer():
    gpus = module("why_gpus")
    rng = np.random.default_rng(1)
    W, b, X = rng.normal(size=(7, 5)), rng.normal(size=7), rng.normal(size=(3, 5))
    expected = np.array([[max(0.0, sum(W[j, i] * x[i] for i in range(5)) + b[j]) for j in range(7)] for x in X])
    np.testing.assert_allclose(gpus.one_neuron_at_a_time(W, b, X), expected, atol=1e-12)
    np.testing.assert_allclose(gpus.split_among_cores(W, b, X, cores=3), expected, atol=1e-12)
