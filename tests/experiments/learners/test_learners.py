"""One interface over every side of a comparison: names, run folders of stable-baselines3 and value iteration
that `watch` plays, and the best achievable return that normalizes scores."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from agents.env_models import exact_model, goal_mask
from agents.planning import optimal_return, optimal_success_probability
from experiments.cli import main
from experiments.learners import all_names, canonical_name, is_baseline, resolve_algorithm
from experiments.learners.registry import base_algorithm


def names(name: str) -> tuple[str, str]:
    family, canonical = resolve_algorithm(name)
    return family.name, canonical


def test_names_resolve_case_insensitively_and_unknown_ones_list_the_valid_ones():
    assert names("ppo") == ("mdparcade", "PPO")
    assert names("SB3:dqn") == ("sb3", "sb3:DQN")
    assert names("qlearning") == ("tabular", "QLearning")
    assert canonical_name("valueiteration") == "ValueIteration"
    with pytest.raises(ValueError, match=r"unknown algorithm 'zoo:PPO'.*sb3:PPO"):
        names("zoo:PPO")
    with pytest.raises(ValueError, match=r"unknown algorithm 'sb3:SAC'.*sb3:PPO"):
        names("sb3:SAC")
    assert {"PPO", "sb3:PPO", "QLearning", "ValueIteration"} <= set(all_names())


def test_the_baseline_rule_is_the_sb3_prefix():
    assert is_baseline("sb3:PPO") and not is_baseline("PPO") and not is_baseline("QLearning")
    assert base_algorithm("sb3:DQN") == "DQN" and base_algorithm("A2C") == "A2C"


def test_learners_load_only_when_used():
    # Naming and checking algorithms must not import torch or stable-baselines3 (the command line's start-up).
    import subprocess
    import sys

    code = ("import sys; from experiments.learners import registry; registry.all_names(); "
            "registry.resolve_algorithm('sb3:ppo'); print(sorted({'torch', 'stable_baselines3'} & set(sys.modules)))")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip() == "[]"


def test_optimal_return_is_the_best_success_probability_on_frozenlake_and_minus_13_on_cliffwalking():
    env = gym.make("mdparcade/FrozenLake8x8-v0")
    model = exact_model(env)
    # reward 1 only on reaching the goal: the best expected return within 200 steps is the best probability of
    # reaching it within 200 steps, computed by a separate backward induction over goal indicators
    assert optimal_return(model, 200) == pytest.approx(optimal_success_probability(model, goal_mask(env), 200))
    assert optimal_return(model, 200) == pytest.approx(0.9132, abs=1e-4)
    assert optimal_return(model, 0) == 0.0
    with pytest.raises(ValueError, match="horizon must be >= 0"):
        optimal_return(model, -1)
    cliff = exact_model(gym.make("mdparcade/CliffWalking-v0"))
    assert optimal_return(cliff, 500) == pytest.approx(-13.0)  # 13 steps along the cliff, -1 each
    assert optimal_return(cliff, 5) == pytest.approx(-5.0)  # cut off before the goal: 5 steps of -1


def test_watch_records_a_stable_baselines3_run_and_a_value_iteration_run(tmp_path, capsys):
    sb3_run, vi_run = tmp_path / "sb3", tmp_path / "vi"
    assert main(["train", "sb3:PPO", "Catch", "--steps", "512", "--eval-every", "512", "--eval-episodes", "2",
                 "--out", str(sb3_run), "--quiet"]) == 0
    assert (sb3_run / "model.zip").is_file() and not (sb3_run / "model.pt").exists()
    assert main(["train", "ValueIteration", "CliffWalking", "--out", str(vi_run), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["watch", str(sb3_run), "--record", str(tmp_path / "sb3.gif"), "--episodes", "2"]) == 0
    assert "watching sb3:PPO on mdparcade/Catch-v0" in capsys.readouterr().out
    assert main(["watch", str(vi_run), "--record", str(tmp_path / "vi.gif")]) == 0
    assert "return -13 in 13 steps" in capsys.readouterr().out  # the optimal path
    for gif in ("sb3.gif", "vi.gif"):
        assert (tmp_path / gif).read_bytes()[:6] == b"GIF89a"


def test_train_types_sb3_settings_and_names_an_unknown_one(tmp_path, capsys):
    assert main(["train", "sb3:DQN", "CartPole-v1", "--steps", "300", "--set", "learning_starts=100",
                 "--set", "policy_kwargs=dict(net_arch=[32])", "--eval-every", "300", "--eval-episodes", "1",
                 "--out", str(tmp_path / "dqn"), "--quiet"]) == 0
    import json

    config = json.loads((tmp_path / "dqn" / "config.json").read_text())
    assert config["overrides"]["learning_starts"] == 100 and config["config"]["policy_kwargs"]["net_arch"] == [32]
    assert main(["train", "sb3:DQN", "CartPole-v1", "--set", "learning_start=100"]) == 2
    assert "learning_start" in capsys.readouterr().err


def test_a_tabular_run_resumes_from_its_checkpoint(tmp_path):
    from experiments.learners import make_learner

    learner = make_learner("QLearning", "mdparcade/CliffWalking-v0", seed=3)
    learner.start()
    learner.learn(500, lambda info: None)
    learner.save_checkpoint(tmp_path / "checkpoint.pt")
    again = make_learner("QLearning", "mdparcade/CliffWalking-v0", seed=3)
    again.resume(tmp_path / "checkpoint.pt")
    assert again.num_timesteps == learner.num_timesteps and again.remaining(2000) == 2000 - learner.num_timesteps
    observations = np.arange(48)
    assert np.array_equal(again.predict(observations), learner.predict(observations))
