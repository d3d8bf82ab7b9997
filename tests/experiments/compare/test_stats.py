"""experiments.stats checked against independent numpy/scipy computations (never rliable in the expected values),
and experiments.plots checked for headless, atomic, deterministic PNG output."""

import os

import numpy as np
import pytest
import scipy.stats

from experiments.compare import plots, stats
from experiments.compare.report import baseline_pairs

# A fixed (runs=10, tasks=3) score matrix with distinct values, so bootstrap distributions are not lumpy.
SCORES = np.random.default_rng(7).normal(loc=[[1.0, 2.0, 0.5]], scale=[[0.4, 0.8, 0.2]], size=(10, 3))


def reference_iqm(values) -> float:
    """Sort-and-average the middle half; only valid when len is a multiple of 4."""
    flat = np.sort(np.ravel(values))
    assert flat.size % 4 == 0
    quarter = flat.size // 4
    return float(flat[quarter:flat.size - quarter].mean())


def reference_iqm_interval(scores: np.ndarray, reps: int, seed: int) -> tuple[float, float]:
    """Stratified bootstrap written out: resample runs with replacement inside each task, IQM over all
    resampled runs x tasks, 2.5/97.5 percentiles."""
    runs, tasks = scores.shape
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, runs, size=(reps, runs, tasks))
    resampled = scores[rows, np.arange(tasks)[None, None, :]]
    iqms = scipy.stats.trim_mean(resampled.reshape(reps, -1), 0.25, axis=1)
    low, high = np.percentile(iqms, [2.5, 97.5])
    return float(low), float(high)


def reference_probability(x: np.ndarray, y: np.ndarray) -> float:
    """P(X > Y) + 0.5 P(X = Y) over all pairs of runs, per task, averaged over tasks."""
    per_task = []
    for task in range(x.shape[1]):
        a, b = x[:, task][:, None], y[:, task][None, :]
        per_task.append(np.mean((a > b) + 0.5 * (a == b)))
    return float(np.mean(per_task))


# ------------------------------------------------------------------------------------------ normalize, IQM

def test_normalize_maps_random_to_zero_and_best_to_one():
    np.testing.assert_allclose(stats.normalize([10.0, 55.0, 100.0, 120.0], 10.0, 100.0), [0.0, 0.5, 1.0, 110 / 90])
    np.testing.assert_allclose(stats.normalize([-100.0, -50.0], -100.0, 0.0), [0.0, 0.5])


def test_normalize_rejects_equal_random_and_best_naming_both():
    with pytest.raises(ValueError, match=r"best_score \(3.0\).*random_score \(3.0\)"):
        stats.normalize([1.0], 3.0, 3.0)


def test_iqm_is_the_25_percent_trimmed_mean_of_all_scores():
    scores = np.array([9.0, 1.0, 7.0, 3.0, 100.0, 5.0, -50.0, 4.0])  # 8 runs: 25% = 2 runs cut at each end
    result = stats.interval_estimates(scores, reps=50)
    assert result["iqm"] == pytest.approx(reference_iqm(scores))
    assert result["iqm"] == pytest.approx((3.0 + 4.0 + 5.0 + 7.0) / 4)
    assert result["iqm"] == pytest.approx(scipy.stats.trim_mean(scores, 0.25))
    assert result["median"] == pytest.approx(np.median(scores))
    assert result["mean"] == pytest.approx(scores.mean())


def test_iqm_of_a_matrix_pools_runs_and_tasks_as_rliable_defines_it():
    # rliable's aggregate_iqm trims over the flattened runs x tasks, not per task; this matrix tells them apart.
    scores = np.array([[0.0, 10.0], [0.0, 20.0], [0.0, 30.0], [0.0, 40.0]])
    result = stats.interval_estimates(scores, reps=50)
    pooled = scipy.stats.trim_mean(scores.ravel(), 0.25)
    per_task_mean = np.mean([scipy.stats.trim_mean(scores[:, t], 0.25) for t in range(2)])
    assert pooled != pytest.approx(per_task_mean)
    assert result["iqm"] == pytest.approx(pooled)
    assert result["iqm"] == pytest.approx(reference_iqm(scores))
    assert result["median"] == pytest.approx(np.median(scores))


def test_iqm_interval_matches_a_direct_stratified_bootstrap():
    result = stats.interval_estimates(SCORES, reps=5000, seed=0)
    low, high = reference_iqm_interval(SCORES, reps=20_000, seed=1)
    width = high - low
    # Both are Monte Carlo estimates of the same percentiles. The standard error of a 2.5% / 97.5% bootstrap
    # quantile is ~1.8% of the 95% width at 2000 reps (measured over 20 seeds on this matrix), so ~1.1% at 5000
    # and ~0.55% at 20000: the difference has SE ~1.2% of the width, and 5% of the width is ~4 SE (a real
    # bias, e.g. resampling across tasks or a 90% interval, moves the ends by far more). 1e-9: zero width.
    tolerance = 0.05 * width + 1e-9
    assert result["iqm_low"] == pytest.approx(low, abs=tolerance)
    assert result["iqm_high"] == pytest.approx(high, abs=tolerance)
    assert result["iqm_low"] <= result["iqm"] <= result["iqm_high"]
    assert result["mean_low"] <= result["mean"] <= result["mean_high"]


def test_single_run_interval_collapses_to_the_point():
    result = stats.interval_estimates(np.array([42.0]))
    assert result == {"iqm": 42.0, "iqm_low": 42.0, "iqm_high": 42.0, "median": 42.0,
                      "mean": 42.0, "mean_low": 42.0, "mean_high": 42.0}
    assert all(isinstance(value, float) for value in result.values())


def test_interval_estimates_reject_empty_and_nan_scores():
    with pytest.raises(ValueError, match="empty"):
        stats.interval_estimates(np.array([]))
    with pytest.raises(ValueError, match="NaN"):
        stats.interval_estimates(np.array([1.0, np.nan]))


def test_same_seed_same_interval_and_the_global_rng_is_left_alone():
    np.random.seed(1234)
    state = np.random.get_state()
    first = stats.interval_estimates(SCORES, reps=300, seed=5)
    after = np.random.get_state()
    assert after[0] == state[0] and np.array_equal(after[1], state[1]) and after[2:] == state[2:]
    assert stats.interval_estimates(SCORES, reps=300, seed=5) == first
    assert stats.interval_estimates(SCORES, reps=300, seed=6) != first
    np.random.seed(999)  # the global stream does not decide the result
    assert stats.interval_estimates(SCORES, reps=300, seed=5) == first


# ------------------------------------------------------------------------------- probability of improvement

def test_probability_of_improvement_matches_the_pairwise_count_with_ties():
    ours = np.array([[1.0, 0.5, 0.2], [2.0, 0.5, 0.2], [3.0, 0.7, 0.2], [2.0, 0.1, 0.2]])
    theirs = np.array([[2.0, 0.5, 0.2], [1.0, 0.6, 0.2], [0.0, 0.5, 0.2]])  # ties in every task, task 3 all tied
    result = stats.probability_of_improvement(ours, theirs, reps=100, seed=0)
    assert result["probability"] == pytest.approx(reference_probability(ours, theirs))
    assert result["low"] <= result["probability"] <= result["high"]
    assert 0.0 <= result["low"] and result["high"] <= 1.0


def test_probability_of_improvement_of_identical_samples_is_one_half():
    scores = np.array([[0.1, 0.9], [0.4, 0.3], [0.4, 0.5]])
    assert stats.probability_of_improvement(scores, scores.copy(), reps=50)["probability"] == pytest.approx(0.5)
    assert reference_probability(scores, scores) == pytest.approx(0.5)


def test_probability_of_improvement_needs_the_same_tasks():
    with pytest.raises(ValueError, match="tasks"):
        stats.probability_of_improvement(np.zeros((3, 2)), np.zeros((3, 3)), reps=10)


# ------------------------------------------------------------------------------------ performance profiles

def test_performance_profile_is_the_fraction_of_scores_above_tau():
    normalized = {"PPO": np.array([[0.0, 0.5], [0.5, 1.0], [0.9, 1.2]]), "sb3:PPO": np.array([0.2, 0.4, 0.6, 0.8])}
    taus = np.array([-0.1, 0.0, 0.5, 0.85, 1.0, 1.5])  # 0.0, 0.5, 1.0 equal some scores: strictly greater
    profiles = stats.performance_profile(normalized, taus=taus, reps=100, seed=0)
    assert list(profiles) == ["PPO", "sb3:PPO"]
    for algo, scores in normalized.items():
        got_taus, fraction, band = profiles[algo]
        np.testing.assert_array_equal(got_taus, taus)
        np.testing.assert_allclose(fraction, [np.mean(scores > tau) for tau in taus])
        assert band.shape == (2, taus.size)
        assert np.all(band[0] <= fraction + 1e-12) and np.all(fraction <= band[1] + 1e-12)


def test_performance_profile_default_taus():
    taus, fraction, _ = stats.performance_profile({"A": np.array([0.3, 0.7])}, reps=20)["A"]
    np.testing.assert_allclose(taus, np.linspace(0, 1.1, 56))
    assert fraction[0] == 1.0 and fraction[-1] == 0.0


# --------------------------------------------------------------------------------------------- curve bands

def test_curve_band_interpolates_and_uses_only_the_runs_that_reach_each_x():
    xs = [np.array([0.0, 10.0]), np.array([0.0, 5.0]), np.array([2.0, 4.0])]
    ys = [np.array([0.0, 10.0]), np.array([5.0, 5.0]), np.array([1.0, 3.0])]
    grid = np.array([0.0, 3.0, 7.5, 10.0, 12.0])
    iqm, low, high = stats.curve_band(xs, ys, grid, reps=200, seed=0)
    # x=0: runs 1, 2 (run 3 starts at 2) -> values 0 and 5; two values: the trimmed mean is their mean.
    assert iqm[0] == pytest.approx(2.5) and 0.0 <= low[0] <= 2.5 <= high[0] <= 5.0
    # x=3: all three runs -> 3, 5, 2 (interpolated); 3 values: trim_mean cuts int(0.75) = 0 -> mean.
    assert iqm[1] == pytest.approx(np.mean([3.0, 5.0, 2.0]))
    # x=7.5 and x=10: only run 1 -> its value three times.
    assert (iqm[2], low[2], high[2]) == (7.5, 7.5, 7.5)
    assert (iqm[3], low[3], high[3]) == (10.0, 10.0, 10.0)
    # x=12: past every run -> NaN.
    assert np.isnan(iqm[4]) and np.isnan(low[4]) and np.isnan(high[4])


def test_curve_band_of_identical_runs_has_no_width_and_is_reproducible():
    xs = [np.arange(5.0)] * 4
    ys = [np.array([0.0, 1.0, 4.0, 9.0, 16.0])] * 4
    grid = np.linspace(0, 4, 9)
    iqm, low, high = stats.curve_band(xs, ys, grid)
    np.testing.assert_allclose(iqm, np.interp(grid, xs[0], ys[0]))
    np.testing.assert_allclose(low, iqm)
    np.testing.assert_allclose(high, iqm)
    rng = np.random.default_rng(3)
    noisy = [np.arange(5.0) + rng.normal(size=5) for _ in range(6)]
    first = stats.curve_band(xs[:1] * 6, noisy, grid, reps=100, seed=1)
    second = stats.curve_band(xs[:1] * 6, noisy, grid, reps=100, seed=1)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    assert np.all(first[1] <= first[0] + 1e-12) and np.all(first[0] <= first[2] + 1e-12)


def test_curve_band_with_no_runs_is_nan_and_bad_input_is_rejected():
    iqm, low, high = stats.curve_band([], [], np.array([0.0, 1.0]))
    assert np.all(np.isnan(iqm)) and np.all(np.isnan(low)) and np.all(np.isnan(high))
    with pytest.raises(ValueError, match="non-decreasing"):
        stats.curve_band([np.array([2.0, 1.0])], [np.array([0.0, 1.0])], np.array([1.0]))
    with pytest.raises(ValueError, match="one of each"):
        stats.curve_band([np.array([1.0])], [], np.array([1.0]))


# --------------------------------------------------------------------------------------------- run tables

def run_row(env_id, algo, seed, score, normalized=None, seconds=1.0, success=None, status="finished", **extra):
    return {"env_id": env_id, "algo": algo, "seed": seed, "score": score, "normalized": normalized,
            "seconds": seconds, "success": success, "status": status, **extra}


def test_per_cell_table_counts_failed_runs_success_and_keeps_order():
    rows = [
        run_row("mdparcade/FrozenLake8x8-v0", "QLearning", 0, 1.0, 1.0, 2.0, True, value_ratio=0.9),
        run_row("CartPole-v1", "PPO", 0, 500.0, 1.0, 10.0),
        run_row("mdparcade/FrozenLake8x8-v0", "QLearning", 1, 0.0, 0.0, 4.0, False, value_ratio=0.5),
        run_row("mdparcade/FrozenLake8x8-v0", "QLearning", 2, None, None, 0.5, None, status="failed"),
        run_row("mdparcade/FrozenLake8x8-v0", "QLearning", 3, 1.0, 1.0, 9.0, True, value_ratio=1.0),
        run_row("CartPole-v1", "PPO", 1, 300.0, 0.6, 20.0),
        run_row("CartPole-v1", "sb3:PPO", 0, None, status="failed"),
    ]
    cells = stats.per_cell_table(rows, reps=100)
    assert [(c["env_id"], c["algo"]) for c in cells] == [
        ("mdparcade/FrozenLake8x8-v0", "QLearning"), ("CartPole-v1", "PPO"), ("CartPole-v1", "sb3:PPO")]
    lake, cart, failed = cells
    assert (lake["runs"], lake["failed"]) == (3, 1)
    assert lake["success_rate"] == pytest.approx(2 / 3)
    assert lake["seconds_mean"] == pytest.approx(5.0) and lake["seconds_median"] == pytest.approx(4.0)
    assert lake["value_ratio_mean"] == pytest.approx(0.8)
    assert lake["mean"] == pytest.approx(2 / 3) and lake["median"] == pytest.approx(1.0)
    assert (cart["runs"], cart["failed"]) == (2, 0)
    assert cart["success_rate"] is None and cart["value_ratio_mean"] is None
    assert cart["iqm"] == pytest.approx(400.0) and cart["normalized_iqm"] == pytest.approx(0.8)
    assert cart["iqm_low"] <= cart["iqm"] <= cart["iqm_high"]
    assert (failed["runs"], failed["failed"]) == (0, 1)
    assert failed["iqm"] is None and failed["normalized_iqm"] is None and failed["seconds_mean"] is None


def test_per_cell_table_rejects_unknown_status_and_unscored_finished_runs():
    with pytest.raises(ValueError, match="status"):
        stats.per_cell_table([run_row("E", "A", 0, 1.0, status="crashed")])
    with pytest.raises(ValueError, match="no score"):
        stats.per_cell_table([run_row("E", "A", 0, None)])
    with pytest.raises(ValueError, match="no score"):
        stats.per_cell_table([run_row("E", "A", 0, float("nan"))])


def test_nan_stands_for_missing_numbers_as_collectors_write_them():
    nan = float("nan")
    rows = [run_row("Pong", "PPO", 0, 3.0, nan, nan), run_row("Pong", "PPO", 1, 5.0, nan, 2.0),
            run_row("Pong", "PPO", 2, nan, nan, nan, status="failed"),
            run_row("E1", "PPO", 0, 1.0, 0.9), run_row("E1", "sb3:PPO", 0, 1.0, 0.4),
            run_row("Pong", "sb3:PPO", 0, 1.0, nan)]
    cell = stats.per_cell_table(rows, reps=20)[0]
    assert (cell["runs"], cell["failed"], cell["mean"]) == (2, 1, 4.0)
    assert cell["normalized_iqm"] is None and cell["seconds_mean"] == 2.0
    (entry,) = stats.improvement_table(rows, baseline_pairs(rows), reps=20)
    assert entry["envs"] == ["E1"] and entry["probability"] == 1.0
    assert (entry["probability_low"], entry["probability_high"]) == (entry["low"], entry["high"])
    line = stats.format_table([entry], [("envs", "envs"), ("probability", "P")]).splitlines()[2]
    assert line == "| E1 | 1.00 [1.00, 1.00] |"


def test_improvement_table_pairs_ours_with_sb3_over_shared_envs():
    rows = []
    ppo = {"E1": [0.9, 0.8, 0.7, 0.0], "E2": [0.5, 0.6, 0.4]}  # E1 seed 3 is beyond the min count: dropped
    sb3_ppo = {"E1": [0.8, 0.8, 0.2], "E2": [0.6, 0.5, 0.1], "E3": [1.0, 1.0, 1.0]}
    for algo, per_env in (("PPO", ppo), ("sb3:PPO", sb3_ppo)):
        for env, values in per_env.items():
            rows += [run_row(env, algo, seed, value, value) for seed, value in enumerate(values)]
    rows.append(run_row("E1", "sb3:PPO", 9, None, status="failed"))
    rows += [run_row("E1", "A2C", 0, 0.3, 0.3), run_row("E1", "DQN", 0, 0.3, 0.3)]
    rows += [run_row("E2", "sb3:DQN", 0, 0.3, 0.3)]  # DQN and sb3:DQN share no env
    rows.reverse()  # seeds must be sorted, not taken in row order

    table = stats.improvement_table(rows, baseline_pairs(rows), reps=50)
    # The report's pairs: every "X" with an "sb3:X", in order of first appearance of "ours" in the rows.
    assert [(t["ours"], t["baseline"]) for t in table] == [("DQN", "sb3:DQN"), ("PPO", "sb3:PPO")]
    dqn_row, ppo_row = table
    assert ppo_row["envs"] == ["E2", "E1"]  # order of first appearance in the (reversed) rows
    ours = np.array([ppo["E2"], ppo["E1"][:3]]).T
    theirs = np.array([sb3_ppo["E2"], sb3_ppo["E1"]]).T
    assert ppo_row["probability"] == pytest.approx(reference_probability(ours, theirs))
    assert ppo_row["low"] <= ppo_row["probability"] <= ppo_row["high"]
    assert dqn_row["envs"] == [] and dqn_row["probability"] is None

    explicit = stats.improvement_table(rows, pairs=[("A2C", "DQN")], reps=20)
    assert explicit[0]["envs"] == ["E1"] and explicit[0]["probability"] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="known algorithms"):
        stats.improvement_table(rows, pairs=[("PPO", "sb3:TYPO")], reps=20)


def test_format_table_shows_intervals_and_dashes():
    cells = [{"algo": "PPO", "iqm": 12.34, "iqm_low": 10.1, "iqm_high": 14.0, "runs": 5, "success_rate": None},
             {"algo": "sb3:PPO", "iqm": 1234.5, "iqm_low": None, "iqm_high": None, "runs": 3, "success_rate": 0.5}]
    text = stats.format_table(cells, [("algo", "algo"), ("iqm", "IQM"), ("runs", "runs"), ("success_rate", "ok")])
    assert text.splitlines() == [
        "| algo | IQM | runs | ok |",
        "| --- | --- | --- | --- |",
        "| PPO | 12.3 [10.1, 14.0] | 5 | – |",
        "| sb3:PPO | 1234 | 3 | 0.500 |",
    ]


# ---------------------------------------------------------------------------------------------------- plots

def fake_curves():
    rng = np.random.default_rng(0)
    runs = [(np.arange(0, 1000 * (k + 4), 1000.0), np.arange(k + 4) * 1.5, rng.normal(size=k + 4).cumsum())
            for k in range(3)]
    return {"CartPole-v1": {"PPO": runs, "sb3:PPO": runs[:2]}, "mdparcade/CliffWalking-v0": {"DQN": runs[:1]}}


def test_plots_write_deterministic_pngs_atomically_without_pyplot_figures(tmp_path):
    import matplotlib.pyplot as plt

    figures_before = plt.get_fignums()
    curves_png = plots.learning_curves(fake_curves(), tmp_path / "curves.png", title="compare")
    profile = stats.performance_profile({"PPO": np.array([0.2, 0.9, 1.0]), "sb3:PPO": np.array([0.1, 0.5])},
                                        reps=20)
    profile_png = plots.performance_profiles(profile, tmp_path / "profile.png", title="profiles")
    assert sorted(os.listdir(tmp_path)) == ["curves.png", "profile.png"]  # no temp files left
    for path in (curves_png, profile_png):
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert plt.get_fignums() == figures_before
    first = curves_png.read_bytes()
    plots.learning_curves(fake_curves(), tmp_path / "curves.png", title="compare")
    assert (tmp_path / "curves.png").read_bytes() == first


def test_a_failed_plot_leaves_neither_a_temp_file_nor_a_target(tmp_path, monkeypatch):
    def broken_savefig(self, *args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(plots.Figure, "savefig", broken_savefig)
    with pytest.raises(RuntimeError, match="disk full"):
        plots.performance_profiles({"A": (np.array([0.0, 1.0]), np.array([1.0, 0.0]), np.zeros((2, 2)))},
                                   tmp_path / "profile.png")
    assert os.listdir(tmp_path) == []


def test_plots_reject_empty_input(tmp_path):
    with pytest.raises(ValueError, match="at least one env"):
        plots.learning_curves({}, tmp_path / "x.png")
    with pytest.raises(ValueError, match="at least one algorithm"):
        plots.performance_profiles({}, tmp_path / "x.png")


def test_parity_says_env_by_env_whether_ours_and_sb3_are_distinguishable():
    from experiments.compare.report import parity_table

    rows = [run_row("E1", "PPO", seed, score) for seed, score in enumerate([1.0, 2.0, 3.0, 4.0])]
    rows += [run_row("E1", "sb3:PPO", seed, score) for seed, score in enumerate([1.0, 2.0, 3.0, 4.0])]
    rows += [run_row("E2", "PPO", seed, 10.0 + seed) for seed in range(5)]
    rows += [run_row("E2", "sb3:PPO", seed, float(seed)) for seed in range(5)]
    cells = [{"env_id": "E1", "algo": "PPO", "seconds_mean": 2.0}, {"env_id": "E1", "algo": "sb3:PPO",
                                                                     "seconds_mean": 8.0}]
    e1, e2 = parity_table(rows, cells, reps=200)
    assert (e1["env_id"], e1["ours"], e1["baseline"], e1["runs"]) == ("E1", "PPO", "sb3:PPO", "4, 4")
    assert e1["probability"] == pytest.approx(0.5) and e1["verdict"] == "indistinguishable"
    assert e1["seconds_ratio"] == pytest.approx(0.25)
    # every run of ours beats every run of SB3's: P = 1 by counting pairs, and the interval cannot hold 0.5
    assert e2["probability"] == 1.0 and e2["verdict"] == "ours better" and e2["seconds_ratio"] is None
