"""The concept gallery's second half (training nets, regularization, classical models): each script's claim,
checked on the numbers its main() returns. Seeds are fixed; thresholds were set after checking 3 seeds by hand."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

from experiments import gallery

NETS_SCRIPTS = ("supervised_unsupervised", "semi_supervised", "transfer_learning", "generalization_error",
                "overfitting", "l2_penalty", "early_stopping", "depth_vs_width", "data_augmentation", "multitask",
                "dropout", "batch_normalization", "parameter_tying", "parameter_sharing", "sparse_representations",
                "hierarchical_clustering", "decision_trees_and_svms", "gradient_descent_batching")


def run(name: str, plot_dir=None) -> dict:
    return importlib.import_module(f"experiments.gallery.{name}").main(plot_dir=plot_dir)


def test_scripts_are_listed_with_concept_and_claim():
    listed = {script.name: script for script in gallery.list_scripts()}
    for name in NETS_SCRIPTS:
        assert name in listed, name
        assert listed[name].concept and listed[name].claim, name


# ------------------------------------------------------------------------------------------ learning paradigms


def test_supervised_learns_digits_unsupervised_finds_most_of_them():
    r = run("supervised_unsupervised")
    assert r["supervised_test_accuracy"] > 0.95
    assert r["kmeans_ari"] > 0.5 and abs(r["shuffled_labels_ari"]) < 0.02
    assert r["kmeans_majority_label_accuracy"] > 0.7  # far above the 0.1 of naming clusters at random


def test_semi_supervised_beats_the_labelled_fraction_alone():
    r = run("semi_supervised")
    assert r["n_labelled"] == 126 and r["n_labelled"] + r["n_unlabelled"] == 1257
    assert r["semi_supervised_test_accuracy"] > r["supervised_test_accuracy"] + 0.005
    assert r["n_pseudo_labelled"] > 500 and r["pseudo_label_accuracy"] > 0.97


def test_transfer_helps_when_tasks_share_features():
    r = run("transfer_learning")
    world = r["shared_feature_world"]
    assert world["frozen"] > world["scratch"] + 0.03 and world["fine_tuned"] > world["scratch"]
    assert world["scratch"] > 0.3  # above chance (0.2): the comparison is between working nets
    digits = r["digits_0_4_to_5_9"]
    assert min(digits.values()) > 0.6  # reported, not claimed: all three runs learn 5-9 from 25 labels
    assert digits["frozen"] < digits["scratch"]  # frozen 0-4 features are worse for 5-9 than learning afresh


# ---------------------------------------------------------------------------------- error and overfitting


def test_generalization_error_exceeds_empirical_and_fp_fn_match_confusion_matrix():
    r = run("generalization_error")
    multi = r["multiclass"]
    assert multi["empirical_error"] < 0.01
    assert multi["generalization_error"] - multi["interval_half_width"] > multi["empirical_error"]
    eight = r["is_eight"]
    (tn, fp), (fn, tp) = eight["confusion_matrix"]
    assert (eight["false_negatives"], eight["false_positives"]) == (fn, fp)
    assert sum(eight["false_negative_digits"]) == fn and eight["false_negative_digits"][8] == fn  # all true 8s
    assert sum(eight["false_positive_digits"]) == fp and eight["false_positive_digits"][8] == 0  # none are 8s
    assert eight["test_error"] == pytest.approx((fp + fn) / (tn + fp + fn + tp))
    assert eight["test_error"] > eight["empirical_error"]
    assert fn > fp  # 8s are rare, so the classifier errs towards "not 8"


def test_overfitting_matches_the_formal_definition():
    r = run("overfitting")
    h, h_prime = r["errors"]["h"], r["errors"]["h_prime"]
    assert h["train"] < h_prime["train"] and h["expected"] > h_prime["expected"]
    assert r["overfits"]
    assert h_prime["expected"] < 3 * r["noise_variance"]  # the regularized fit is a good one
    assert r["weight_norm_sq"]["h_prime"] < r["weight_norm_sq"]["h"]
    train = np.array(r["train_error_by_degree"])
    assert np.all(np.diff(train) <= 1e-9)  # nested least squares: more degrees never fit worse
    test = np.array(r["test_error_by_degree"])
    assert 0 < int(np.argmin(test)) < len(test) - 1 and test[-1] > 10 * test.min()  # U-shape


# -------------------------------------------------------------------------------------------- regularization


def test_l2_penalty_gradient_is_alpha_w_and_shrinks_weights():
    r = run("l2_penalty")
    assert r["gradient_check"]["max_abs_error_weights"] < 1e-7
    assert r["gradient_check"]["max_abs_bias_gradient"] == 0.0
    norms = r["weight_norm_sq"]
    assert all(a > b for a, b in zip(norms, norms[1:])), norms
    assert r["train_data_loss"][-1] > r["train_data_loss"][0]  # the price: a worse fit to the training data


def test_early_stopping_restores_the_best_epoch():
    r = run("early_stopping")
    best, val, train = r["best_epoch"], r["val_loss"], r["train_loss"]
    assert r["stopped_early"] and r["epochs_run"] < 150
    assert val[best] == min(val) and r["min_val_loss"] == min(val)
    assert r["returned_model_val_loss"] == pytest.approx(min(val), rel=1e-5)  # independent re-evaluation
    assert max(val[best + 1:]) > min(val) + 0.05  # validation loss rose after the minimum...
    assert train[-1] < train[best] - 0.1  # ...while training loss kept falling


def test_data_augmentation_gives_robustness_and_turned_sixes_read_as_nines():
    r = run("data_augmentation")
    plain, augmented = r["plain"], r["augmented"]
    assert augmented["moved_test_accuracy"] > plain["moved_test_accuracy"] + 0.3
    assert augmented["moved_test_accuracy"] > 0.8
    assert abs(augmented["clean_test_accuracy"] - plain["clean_test_accuracy"]) < 0.03
    assert plain["turned_six_called_nine"] > 0.5 and augmented["turned_six_called_nine"] > 0.8
    assert plain["turned_six_called_six"] < 0.05 and augmented["turned_six_called_six"] < 0.05


def test_multitask_shared_trunk_matches_two_nets_with_fewer_parameters():
    r = run("multitask")
    multi, single = r["multitask"], r["single_task"]
    assert abs(multi["digit_accuracy"] - single["digit_accuracy"]) < 0.02
    assert abs(multi["parity_accuracy"] - single["parity_accuracy"]) < 0.02
    assert multi["parameters"] < 0.6 * single["parameters"]
    # trunk 64*64 + 64, heads (64 + 1) * 10 and (64 + 1) * 2, plus the input scaling's 2 buffers are not params
    assert multi["parameters"] == 64 * 64 + 64 + 65 * 10 + 65 * 2
    assert multi["parity_from_digit_head"] > multi["parity_accuracy"]


def test_dropout_narrows_the_loss_gap_and_is_off_in_eval_mode():
    r = run("dropout")
    plain, dropout = r["runs"]["p=0.0"], r["runs"]["p=0.5"]
    assert plain["train_accuracy"] == 1.0  # the plain net memorises the 200 digits
    assert dropout["loss_gap"] < plain["loss_gap"] - 0.01 and dropout["test_loss"] < plain["test_loss"]
    assert abs(dropout["test_accuracy"] - plain["test_accuracy"]) < 0.02
    assert r["determinism"]["eval_mode_max_diff"] == 0.0 and r["determinism"]["train_mode_max_diff"] > 0.1


def test_batch_norm_trains_a_deep_logistic_net_and_keeps_layers_normalized():
    r = run("batch_normalization")
    plain, bn = r["plain"], r["batch_norm"]
    assert plain["train_loss"][-1] > 2.2  # stuck near ln 10 = 2.30
    assert bn["train_loss"][-1] < 0.6 and bn["test_accuracy"] > 0.8
    assert all(0.8 < layer["mean_std"] < 1.5 and layer["mean_abs_mean"] < 0.4 for layer in bn["layers"])
    assert plain["layers"][-1]["mean_std"] < 0.05  # without BN the deep layers barely vary across inputs


def test_depth_draws_more_pieces_but_wide_trains_as_well_on_digits(tmp_path):
    r = run("depth_vs_width", plot_dir=str(tmp_path))
    rep = r["representation"]
    assert rep["deep_pieces"] == 32 and rep["deep_max_error"] < 1e-5
    assert rep["shallow_parameters"] == rep["deep_parameters"] == 31
    assert rep["shallow_max_pieces"] == 11 and rep["shallow_parameters_needed"] == 94
    assert rep["shallow_mse"] > 0.5 * rep["constant_mse"]  # 11 pieces cannot follow 32
    deep, wide = r["digits"]["deep 3 x 32"], r["digits"]["wide 1 x 60"]
    assert abs(deep["parameters"] - wide["parameters"]) / wide["parameters"] < 0.01
    assert r["digits_test_gap_deep_minus_wide"] < 0.01  # depth does not win on digits at this budget
    png = tmp_path / "depth_vs_width.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000


# --------------------------------------------------------------------------------------- tying and sharing


def test_tied_autoencoder_half_the_parameters_similar_error():
    r = run("parameter_tying")
    assert 0.45 < r["parameter_ratio"] < 0.55
    assert r["tied"]["parameters"] == 64 * 48 + 48 + 48 * 16 + 16 + 48 + 64  # two matrices, four bias vectors
    assert r["error_ratio"] < 1.25


def test_conv_shares_weights_and_is_translation_equivariant():
    r = run("parameter_sharing")
    assert r["parameters"] == {"conv": 8 * 9 + 8, "dense": 196 * 1568 + 1568}
    assert max(r["conv_equivariance_error"]) < 1e-6
    assert min(r["dense_equivariance_error"]) > 0.1 * r["conv_output_scale"]


def test_l1_activity_penalty_makes_codes_sparse():
    runs = run("sparse_representations")["runs"]
    zero = [run["zero_fraction"] for run in runs]
    active = [run["active_units_per_input"] for run in runs]
    assert all(a < b for a, b in zip(zero, zero[1:])), zero
    assert all(a > b for a, b in zip(active, active[1:])), active
    assert zero[0] < 0.2 and zero[-1] > 0.7
    assert runs[-1]["test_mse"] > runs[0]["test_mse"]  # sparsity costs reconstruction accuracy


# -------------------------------------------------------------------------------- clustering, classical models


def test_hierarchical_clustering_merges_equal_scipys():
    r = run("hierarchical_clustering")
    for method, row in r["methods"].items():
        assert row["same_merges_as_scipy"], method
        assert row["max_abs_diff_vs_scipy"] < 1e-9, method
        assert row["ari_vs_blobs"] > 0.9, method


def test_trees_overfit_with_depth_and_rbf_svm_separates_moons():
    r = run("decision_trees_and_svms")
    tree = r["tree"]
    assert tree["train_accuracy"][-1] == 1.0
    assert tree["train_accuracy"][-1] - tree["test_accuracy"][-1] > 0.1
    assert all(a <= b + 1e-12 for a, b in zip(tree["train_accuracy"], tree["train_accuracy"][1:]))
    assert tree["depth2_leaves"] == 4
    svm = r["svm"]
    assert svm["rbf"]["test_accuracy"] > 0.95 and svm["linear"]["test_accuracy"] < 0.92
    assert svm["rbf"]["support_vectors"] < svm["linear"]["support_vectors"]


def test_small_batches_win_per_example_full_batches_per_step():
    methods = run("gradient_descent_batching")["methods"]
    batch, mini, sgd = methods["batch GD"], methods["mini-batch SGD (32)"], methods["pure SGD (1)"]
    first_epoch = [m["excess_loss_per_epoch"][1] for m in (sgd, mini, batch)]
    assert first_epoch[0] < first_epoch[1] < first_epoch[2]
    assert batch["excess_loss_at_step"] < mini["excess_loss_at_step"] < sgd["excess_loss_at_step"]
    assert batch["monotone_per_step"] and not sgd["monotone_per_step"]
    assert (batch["floats_per_step"], mini["floats_per_step"], sgd["floats_per_step"]) == (10000, 320, 10)
