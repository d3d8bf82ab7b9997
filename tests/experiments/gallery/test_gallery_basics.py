"""The concept gallery: each numpy/torch basics script's claim, checked on the numbers its main() returns,
plus the registry conventions and `mdparcade gallery` listing / running / unknown names."""

from __future__ import annotations

import ast
import importlib
import math

import numpy as np
import pytest

from experiments import gallery
from experiments.cli import main as cli_main

BASICS = ("perceptron", "linear_unit", "one_hot", "learning_rates", "lr_schedules", "optimizers_race",
          "xor_hidden_layer", "computation_graph", "sigmoid", "output_units", "hidden_units", "losses",
          "cnn_kernels", "glorot_init", "rl_credit_assignment")


def run(name: str, plot_dir=None) -> dict:
    return importlib.import_module(f"experiments.gallery.{name}").main(plot_dir=plot_dir)


# ----------------------------------------------------------------------------- one test per script's claim


def test_perceptron_converges_on_separable_data_never_on_xor(tmp_path):
    r = run("perceptron", plot_dir=str(tmp_path))
    assert r["separable_converged"] and r["separable_training_errors"] == 0
    assert 1 < r["separable_epochs"] < 100
    assert not r["xor_converged"] and r["xor_epochs"] == 100
    assert r["xor_min_mistakes_per_epoch"] >= 1 and r["xor_training_errors"] >= 1
    assert (tmp_path / "perceptron.png").stat().st_size > 1000


def test_linear_unit_delta_rule_matches_least_squares():
    r = run("linear_unit")
    assert r["batch_max_abs_diff"] < 1e-8
    assert r["online_max_abs_diff"] < 0.05
    np.testing.assert_allclose(r["lstsq_weights"], [2.0, -1.0, 0.5], atol=0.05)  # near the generating weights
    assert r["threshold_agreement"] > 0.9


def test_one_hot_separates_red_integer_codes_cannot():
    r = run("one_hot")
    assert r["integer_best_accuracy"] == pytest.approx(2 / 3)
    assert not r["integer_perceptron_converged"] and r["integer_perceptron_accuracy"] <= 2 / 3 + 1e-12
    assert r["one_hot_accuracy"] == 1.0 and r["one_hot_perceptron_converged"]
    assert r["one_hot_weights"]["red"] > 0 > max(r["one_hot_weights"]["green"], r["one_hot_weights"]["blue"])


def test_learning_rates_too_small_good_too_large():
    r = run("learning_rates")
    assert r["too_small"]["eta"] < r["good"]["eta"] < r["stability_limit"] < r["too_large"]["eta"]
    assert r["too_small"]["loss_ratio"] > 0.1  # still far from the minimum after 100 steps
    assert r["good"]["loss_ratio"] < 1e-12
    assert r["too_large"]["loss_ratio"] > 1e3  # diverged
    assert all(r[k]["closed_form_rel_diff"] < 1e-12 for k in ("too_small", "good", "too_large"))


def test_lr_schedules_follow_their_formulas():
    r = run("lr_schedules")
    assert all(r[name]["max_abs_diff_vs_formula"] < 1e-12 for name in ("power", "exponential", "performance",
                                                                        "one_cycle"))
    assert r["power"]["at_step"][10] == pytest.approx(0.1 / 2)  # t = s halves eta0 when c = 1
    assert r["exponential"]["at_step"][10] == pytest.approx(0.01)  # t = s divides by 10
    assert r["one_cycle"]["at_step"][0] == pytest.approx(0.1) == r["one_cycle"]["at_step"][100]
    assert r["one_cycle"]["at_step"][50] == pytest.approx(1.0)
    assert r["performance"]["at_step"][20] == 0.1  # still improving: untouched
    assert r["performance"]["reductions_at"][:2] == [46, 52]  # stalls from t = 40, patience 5


def test_numpy_optimizers_match_torch_and_race():
    r = run("optimizers_race")
    assert r["steps"] >= 100
    assert max(r["max_abs_diff_vs_torch"].values()) < 1e-6
    loss = r["final_loss"]
    assert loss["momentum"] < loss["SGD"] / 100 and loss["Nesterov"] < loss["SGD"] / 100
    assert loss["RMSProp"] < loss["Adagrad"]  # Adagrad's shrinking steps stall
    assert loss["Adam"] < loss["RMSProp"]


def test_xor_needs_a_hidden_layer(tmp_path):
    r = run("xor_hidden_layer", plot_dir=str(tmp_path))
    assert not r["x_space_separable"]
    assert r["accuracy"] == 1.0 and r["z_space_separable"]
    assert (tmp_path / "xor_hidden_layer.png").exists()


def test_computation_graph_gradients_match_torch():
    r = run("computation_graph")
    assert r["expression"]["max_abs_diff_vs_torch"] < 1e-12
    assert r["neuron"]["max_abs_diff_vs_torch"] < 1e-12
    assert r["neuron"]["output"] == pytest.approx(math.sqrt(0.5), abs=1e-12)
    assert r["neuron"]["gradients"]["w1"] == pytest.approx(r["neuron"]["hand_dw1"], abs=1e-12)


def test_sigmoid_properties():
    r = run("sigmoid")
    assert r["s_at_0"] == 0.5
    assert 0 < r["min"] and r["max"] < 1
    assert r["max_slope"] == pytest.approx(0.25)
    assert r["derivative_vs_finite_difference"] < 1e-8 and r["derivative_vs_torch"] < 1e-12
    assert r["tanh_identity_max_abs_diff"] < 1e-12


def test_output_units_ranges_and_sums():
    r = run("output_units")
    assert r["linear"]["min"] < 0 and r["linear"]["max"] > 1
    assert 0 < r["logistic"]["min"] and r["logistic"]["max"] < 1
    assert max(abs(s - 1) for s in r["logistic"]["row_sums"]) > 0.1  # independent probabilities
    assert 0 < r["softmax"]["min"] and r["softmax"]["max"] < 1
    np.testing.assert_allclose(r["softmax"]["row_sums"], 1.0, atol=1e-12)
    assert r["softmax"]["vs_torch"] < 1e-12 and r["logistic"]["vs_torch"] < 1e-12
    assert r["softmax"]["shift_invariance"] < 1e-12 and r["softmax"]["two_class_vs_logistic"] < 1e-12


def test_hidden_units_logistic_saturates_relu_does_not():
    r = run("hidden_units")
    frac, scales = r["near_zero_fraction"], r["scales"]
    logistic = [frac["logistic"][s] for s in scales]
    assert logistic == sorted(logistic) and logistic[0] < 0.01 and logistic[-1] > 0.75
    assert all(abs(frac["ReLU"][s] - 0.5) < 0.01 for s in scales)  # exactly the negative half, at any scale
    assert all(frac["leaky ReLU"][s] == 0 for s in scales)
    positive = r["near_zero_fraction_positive"]
    assert positive["logistic"][scales[-1]] > 0.75 and positive["ReLU"][scales[-1]] == 0


def test_losses_match_libraries():
    r = run("losses")
    for name in ("zero_one", "square", "binary_cross_entropy", "cross_entropy", "hinge"):
        assert r[name]["abs_diff"] < 1e-12, name
    assert r["square"]["ours"] == pytest.approx(0.375)  # scikit-learn's documented example
    assert r["binary_cross_entropy"]["ours"] == pytest.approx(r["binary_cross_entropy"]["sklearn_log_loss"])
    assert r["cross_entropy"]["uniform_example"] == pytest.approx(math.log(4))


def test_cnn_kernels_sizes_pooling_and_weight_sharing():
    r = run("cnn_kernels")
    assert r["max_abs_diff_vs_torch"] < 1e-12 and r["pool_max_abs_diff_vs_torch"] < 1e-12
    assert r["output_sizes"]["padding 1, stride 1"] == [16, 16]
    assert r["output_sizes"]["padding 1, stride 2"] == [8, 8]
    assert r["output_sizes"]["padding 0, stride 1"] == [14, 14]
    assert r["edge_response_on_flat_regions"] == 0 and r["edge_response_max"] == 4.0
    assert r["edge_columns"] == [3, 4, 11, 12]
    assert r["pooled_shape"] == [8, 8]
    assert r["shifted_dot_pooled_equal"] and not r["shifted_dot_images_equal"]
    assert r["conv_parameters"] == 16 * 3 * 3 * 3 + 16
    assert r["dense_parameters"] == (3 * 32 * 32) * (16 * 32 * 32) + 16 * 32 * 32


def test_glorot_keeps_activations_steady_small_init_collapses():
    r = run("glorot_init")
    for activation in ("tanh", "relu"):
        assert r[activation]["small N(0, 0.01)"]["stds"][-1] < 1e-6
        for scheme in ("Glorot uniform (chapter gain)", "Glorot normal (chapter gain)"):
            assert 0.5 < r[activation][scheme]["last_over_first"] < 2, (activation, scheme)
    # The chapter's tanh gain of 4 keeps the spread by saturating the units; torch's 5/3 does not saturate.
    assert r["tanh"]["Glorot normal (chapter gain)"]["saturated_fraction"] > 0.3
    assert r["tanh"]["Glorot normal (torch gain)"]["saturated_fraction"] < 0.1


def test_credit_flows_back_one_state_per_sweep():
    r = run("rl_credit_assignment")
    assert r["informed_states_per_sweep"] == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9]
    assert r["informed_are_nearest_goal"]
    assert r["max_abs_diff_closed_form"] < 1e-12 and r["max_abs_diff_planner"] < 1e-8
    assert r["last_sweep_change"] == 0


# ----------------------------------------------------------------------------- registry and conventions


def test_every_gallery_script_follows_the_conventions():
    scripts = gallery.list_scripts()
    assert set(BASICS) <= {s.name for s in scripts}
    for script in scripts:
        tree = ast.parse(script.path.read_text())
        assert script.concept and script.claim, f"{script.name}: first docstring line must be '<Concept>: <claim>'"
        mains = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "main"]
        assert mains and [a.arg for a in mains[0].args.args] == ["plot_dir"], f"{script.name}: main(plot_dir)"
        assert mains[0].args.defaults and mains[0].args.defaults[0].value is None, f"{script.name}: plot_dir=None"
        last = tree.body[-1]
        assert isinstance(last, ast.If) and "__main__" in ast.unparse(last.test), f"{script.name}: __main__ guard"


def test_discovery_picks_up_new_scripts_and_skips_helpers(tmp_path, monkeypatch):
    (tmp_path / "new_concept.py").write_text('"""New concept: it is discovered without a list."""\n')
    (tmp_path / "_helper.py").write_text('"""Helper: not a script."""\n')
    monkeypatch.setattr(gallery, "GALLERY_DIR", tmp_path)
    [script] = gallery.list_scripts()
    assert (script.name, script.concept, script.claim) == ("new_concept", "New concept", "it is discovered "
                                                                                         "without a list.")
    assert gallery.format_listing() == "new_concept  New concept: it is discovered without a list."


def test_unknown_script_raises_value_error_listing_the_names():
    with pytest.raises(ValueError, match="no gallery script 'nope'.*perceptron.*sigmoid"):
        gallery.load_script("nope")


# ----------------------------------------------------------------------------- the `mdparcade gallery` command


def test_gallery_command_lists_every_script(capsys):
    assert cli_main(["gallery"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == gallery.script_names()
    assert any(line.startswith("perceptron") and "Perceptron: " in line for line in lines)


def test_gallery_command_runs_one_script_and_writes_its_plot(capsys, tmp_path):
    assert cli_main(["gallery", "sigmoid", "--plots", str(tmp_path / "plots")]) == 0
    out = capsys.readouterr().out
    assert "S(0) = 0.5" in out
    assert (tmp_path / "plots" / "sigmoid.png").stat().st_size > 1000


def test_gallery_command_unknown_name_fails_with_the_names(capsys):
    assert cli_main(["gallery", "nope"]) == 2
    err = capsys.readouterr().err
    assert "no gallery script 'nope'" in err and "perceptron" in err


def test_gallery_command_plots_without_a_name_is_an_error(capsys, tmp_path):
    assert cli_main(["gallery", "--plots", str(tmp_path)]) == 2
    assert "--plots needs a script NAME" in capsys.readouterr().err
