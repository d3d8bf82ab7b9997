"""Smoke tests of the benchmark scripts: they run and print the tables with every row (no timing asserted)."""

import json

import pytest

from experiments.bench import gridworld, nets, vector_envs


def test_vector_env_table_has_a_row_per_env_and_size_and_the_reference():
    text = vector_envs.vector_env_table(
        ids=["mdparcade/Catch-v0", "mdparcade/FrozenLake8x8-v0"], sizes=(1, 8), time_budget=0.01)
    rows = [line for line in text.splitlines() if line.startswith("| mdparcade/")]
    assert [row.split("|")[1:3] for row in rows] == [
        [" mdparcade/Catch-v0 ", " 1 "], [" mdparcade/Catch-v0 ", " 8 "],
        [" mdparcade/FrozenLake8x8-v0 ", " 1 "], [" mdparcade/FrozenLake8x8-v0 ", " 8 "]]
    assert "CartPole-v1 (Gymnasium's CartPoleVectorEnv, reference) | 4096" in text


def test_minatar_table_has_a_row_per_registered_minatar_game_with_the_ratio(monkeypatch):
    monkeypatch.setattr(vector_envs, "TARGET_SIZE", 8)
    registered = set(vector_envs.registered_ids("envs.game_ids"))
    text = vector_envs.minatar_table(ids=["mdparcade/Breakout-v0", "mdparcade/NotAGame-v0"], time_budget=0.01)
    rows = [line.split("|")[1:-1] for line in text.splitlines() if line.startswith("| mdparcade/")]
    assert [row[0].strip() for row in rows] == ["mdparcade/Breakout-v0"]  # unregistered ids are left out
    ours, defaults, minatar, ratio, floor, meets = (cell.strip() for cell in rows[0][1:])
    assert ratio.endswith("x") and floor == ">= 100x" and meets in ("yes", "no")
    assert "minatar.Environment(game, sticky_action_prob=0.0), act + state per step" in text
    assert set(vector_envs.MINATAR_GAMES) >= {"mdparcade/Asterix-v0", "mdparcade/Freeway-v0"} & registered


def test_gridworld_tables_compare_with_gymnasium_and_a_python_loop():
    (text,) = gridworld.gridworld_tables(quick=True)
    assert "FrozenLake8x8 single env, steps/s" in text
    assert "value iteration, 30x30 maze" in text  # quick mode; the loop baseline is checked against ours inside


def test_nets_benchmark_runs_ours_and_the_plain_loop():
    table = nets.run(epochs=1, batch_size=64, num_samples=256)
    for name in nets.CASES:
        assert f"{name}" in table
    assert table.count(" cpu ") == len(nets.CASES)


def test_supervised_benchmark_prints_every_row_and_the_dendrogram(monkeypatch, tmp_path, capsys):
    from functools import partial

    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.svm import SVC

    from experiments.bench import supervised
    from nets.supervised import CNNClassifier, MLPClassifier

    # The nets train for an epoch or two: this checks the script runs end to end, not the accuracies.
    monkeypatch.setattr(supervised, "MLPClassifier", partial(MLPClassifier, epochs=2))
    monkeypatch.setattr(supervised, "CNNClassifier", partial(CNNClassifier, epochs=1))
    monkeypatch.setitem(supervised.AE, "epochs", 1)
    scikit_mlp = supervised.SkMLPClassifier
    monkeypatch.setattr(supervised, "SkMLPClassifier", lambda **kwargs: scikit_mlp(**{**kwargs, "max_iter": 5}))
    autoencoder = supervised.Autoencoder
    monkeypatch.setattr(supervised, "Autoencoder", lambda **kwargs: autoencoder(**{**kwargs, "epochs": 1}))
    tree = tmp_path / "tree.png"
    assert supervised.main(["--quick", "--dendrogram", str(tree)]) == 0
    out = capsys.readouterr().out
    rows = {line[:line.index("  ")]: line.split() for line in out.splitlines() if "  " in line}
    names = [*supervised.CLASSIFIERS, *supervised.CLUSTERINGS, *(f"spectral kNN-{k} + Ward" for k in (5, 10, 15, 20)),
             "supervised only (labeled rows)", "self-training (pseudo-labels)", "autoencoder pretraining (all rows)"]
    assert [name for name in names if name not in rows] == []
    assert tree.stat().st_size > 0 and f"dendrogram: {tree}" in out
    # A deterministic row against its own computation: SVC's accuracy on the benchmark's split.
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
    svc = SVC().fit(X_train, y_train).score(X_test, y_test)
    assert float(rows["sklearn SVC rbf"][3]) == round(svc, 4)


def test_agents_benchmark_prints_both_sides_hyperparameters_and_a_verdict(capsys):
    from experiments.bench import agents

    assert agents.main(["--contests", "ppo,frozenlake", "--seeds", "1", "--scale", "0.01"]) == 0
    out = capsys.readouterr().out
    for side in ("ours PPO", "SB3 PPO", "ours DQN"):
        assert f"{side}: {{" in out  # its hyperparameters
    assert '"n_steps": 32' in out and '"n_epochs": 20' in out  # SB3 with rl-zoo's CartPole settings
    assert out.count("meets") + out.count("MISSES") == 2


def test_agents_benchmark_verdicts_follow_the_issue_floors():
    from experiments.bench.agents import verdict

    ppo = [["ours PPO", 5.0, 500.0, 500.0, "5/5"], ["SB3 PPO", 15.0, 500.0, 500.0, "5/5"]]
    assert verdict("ppo", ppo).startswith("meets")
    ppo[0][1] = 5.5  # 2.7x faster: not the 3x floor
    assert verdict("ppo", ppo).startswith("MISSES")
    dqn = [["ours DQN", 10.0, 400.0, 100.0, "3/5"], ["SB3 DQN", 30.0, 450.0, 200.0, "4/5"]]
    assert verdict("dqn", dqn).startswith("MISSES")  # fewer seeds solved
    lake = [["ours PPO", 10.0, 0.80, 0.7, "-"], ["ours DQN", 20.0, 0.87, 0.86, "-"], ["SB3 PPO", 90.0, 0.85, 0.8, "-"]]
    assert verdict("frozenlake", lake).startswith("meets: ours DQN 0.870 vs 0.850, 4.50x")


def test_families_benchmark_prints_both_settings_per_algorithm_and_map(monkeypatch, capsys):
    from experiments.bench import families

    monkeypatch.setattr(families, "MAPS", {"slippery": families.MAPS["slippery"]})
    families.main(["--quick"])
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines() if line.startswith(("DQN ", "PPO "))]
    assert [row[:2] for row in rows] == [["DQN", "slippery"], ["PPO", "slippery"]]
    assert all(row[-1] in ("keep", "worse") and row[2].endswith("/1") for row in rows)
    assert "the gridworld family's entry" in out and ("holds:" in out or "FAILS:" in out)


def test_the_families_benchmark_compares_against_what_sb3_uses_for_an_env_without_an_entry():
    from experiments.bench.families import sb3_defaults

    dqn = sb3_defaults("DQN")
    assert (dqn["num_envs"], dqn["learning_rate"], dqn["train_freq"], dqn["target_update_interval"],
            dqn["exploration_fraction"], dqn["hidden_sizes"]) == (1, 1e-4, 4, 10_000, 0.1, (64, 64))
    ppo = sb3_defaults("PPO")
    assert (ppo["num_envs"], ppo["num_steps"], ppo["batch_size"], ppo["ent_coef"], ppo["anneal_lr"]) == \
        (1, 2048, 64, 0.0, False)


def test_minatar_bench_trains_a_population_per_game_and_scores_it_against_random_play(tmp_path, capsys,
                                                                                     monkeypatch):
    from experiments.bench import minatar

    game_preset = minatar.preset  # the game's preset, with a small rollout
    monkeypatch.setattr(minatar, "preset", lambda algo, env_id: {**game_preset(algo, env_id), "num_envs": 4,
                                                                 "num_steps": 32, "batch_size": 64})
    out = tmp_path / "minatar.json"
    assert minatar.main(["--games", "Breakout", "--steps", "512", "--seeds", "2", "--episodes", "2",
                         "--json", str(out)]) == 0
    (result,) = json.loads(out.read_text())
    assert result["game"] == "Breakout" and result["seeds"] == [0, 1] and len(result["ppo"]) == 2
    printed = capsys.readouterr().out
    assert [line.split()[0] for line in printed.splitlines() if line.startswith("Breakout")] == ["Breakout"]
    assert "floor 5x random" in printed
    with pytest.raises(SystemExit, match="unknown game.*Pong"):
        minatar.main(["--games", "Pong"])


def test_minatar_bench_verdict_is_the_floor_times_random_and_a_zero_random_needs_a_positive_mean():
    from experiments.bench.minatar import report

    def row(game, random, ppo):
        return {"game": game, "random": random, "ppo": ppo, "seconds": 1.0, "steps": 10, "episodes": 2}

    assert "meets on every game" in report([row("Breakout", 0.5, [2.4, 2.6])], floor=5)
    assert "MISSES on Asterix" in report([row("Breakout", 0.5, [2.6, 2.6]), row("Asterix", 0.6, [2.9, 2.9])], 5)
    assert "random scores 0" in report([row("Freeway", 0.0, [1.0])], 5)
    assert "MISSES on Freeway" in report([row("Freeway", 0.0, [0.0])], 5)
