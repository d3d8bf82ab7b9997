"""`mdparcade train`: the run folder, the exact gap in summary.json, resuming an interrupted run, and
one-line errors for unknown algorithms, env ids and config keys."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import torch

from agents.base import Agent
from agents.planning import policy_evaluation, success_probability
from experiments.cli import main
from experiments.runs import Run, RunFolder, RunSpec
from experiments.runs import run as runs

TINY_PPO = ["--set", "num_envs=4", "--set", "num_steps=64", "--set", "batch_size=128", "--set", "n_epochs=2"]


def train(tmp_path, *extra: str) -> int:
    return main(["train", "PPO", "FrozenLake8x8", "--steps", "2048", "--eval-every", "1024", "--quiet",
                 "--out", str(tmp_path / "run"), *TINY_PPO, *extra])


def test_train_writes_the_run_folder(tmp_path, capsys):
    assert train(tmp_path) == 0
    out = capsys.readouterr().out
    assert "on cpu" in out and "exact: V(start)" in out
    run = tmp_path / "run"
    written = sorted(p.name for p in run.iterdir() if p.name != "tensorboard")  # that one: the optional extra
    assert written == ["config.json", "metrics.csv", "model.pt", "summary.json"]
    config = json.loads((run / "config.json").read_text())
    assert config["algo"] == "PPO" and config["env_id"] == "mdparcade/FrozenLake8x8-v0"
    assert config["config"]["n_epochs"] == 2 and config["config"]["seed"] == 0
    assert {"torch", "gymnasium", "numpy", "python"} <= set(config["versions"])
    assert config["command"].startswith("mdparcade")
    with open(run / "metrics.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["steps"]) for r in rows] == [0, 1024, 2048]
    for column in ("seconds", "eval_mean", "eval_std", "train_return", "steps_per_second", "value_ratio",
                   "policy_loss", "value_loss"):
        assert column in rows[0]
    summary = json.loads((run / "summary.json").read_text())
    assert summary["device"] == "cpu" and summary["steps"] == 2048


def test_summary_exact_values_equal_an_independent_policy_evaluation(tmp_path):
    import gymnasium as gym

    assert train(tmp_path, "--steps", "4096") == 0
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    agent = Agent.load(tmp_path / "run" / "model.pt")
    env = gym.make("mdparcade/FrozenLake8x8-v0")
    mdp = env.unwrapped.mdp
    policy = np.array([int(agent.predict(s)[0]) for s in range(mdp.num_states)])  # one state at a time
    goal = np.array(list("".join(env.unwrapped.rows))) == "G"
    exact = summary["exact"]
    assert exact["value"] == pytest.approx(float(mdp.start @ policy_evaluation(mdp, policy, agent.config.gamma)))
    assert exact["success_probability"] == pytest.approx(success_probability(mdp, policy, goal, horizon=200))
    assert exact["optimal_success_probability"] == pytest.approx(0.9132, abs=1e-4)


def test_an_interrupted_run_resumes_and_ends_as_an_uninterrupted_one(tmp_path, monkeypatch):
    spec = dict(algo="DQN", env_id="CartPole-v1", steps=3000, eval_every=1000, eval_episodes=2,
                overrides=dict(num_envs=2, learning_starts=200, train_freq=100, gradient_steps=10))
    Run(RunSpec(**spec), tmp_path / "whole", progress=False).run()

    calls = {"n": 0}
    original = runs.Evaluator.__call__

    def interrupt_after_first_checkpoint(self, info):
        result = original(self, info)
        if self.run.folder.checkpoint_path.exists():
            calls["n"] += 1
            if calls["n"] == 3:
                raise KeyboardInterrupt
        return result

    monkeypatch.setattr(runs.Evaluator, "__call__", interrupt_after_first_checkpoint)
    with pytest.raises(KeyboardInterrupt):
        Run(RunSpec(**spec), tmp_path / "cut", progress=False).run()
    assert (tmp_path / "cut" / "checkpoint.pt").exists() and not (tmp_path / "cut" / "summary.json").exists()
    monkeypatch.setattr(runs.Evaluator, "__call__", original)
    Run(RunSpec(**spec), tmp_path / "cut", progress=False).run()

    whole, cut = Agent.load(tmp_path / "whole" / "model.pt"), Agent.load(tmp_path / "cut" / "model.pt")
    assert torch.equal(whole.q_net.params.flat, cut.q_net.params.flat)
    whole_rows, cut_rows = RunFolder(tmp_path / "whole").read_metrics(), RunFolder(tmp_path / "cut").read_metrics()
    assert [r["steps"] for r in cut_rows] == [0, 1000, 2000, 3000]
    # the resumed run's metrics keep their rows and types: ints stay ints, the episode count goes on
    assert all(isinstance(r["steps"], int) and isinstance(r["episodes"], int) for r in cut_rows)
    assert [r["episodes"] for r in cut_rows] == [r["episodes"] for r in whole_rows]
    assert not (tmp_path / "cut" / "checkpoint.pt").exists()


def test_a_finished_run_is_not_repeated_and_another_run_in_the_folder_is_refused(tmp_path):
    assert train(tmp_path) == 0
    before = (tmp_path / "run" / "model.pt").stat().st_mtime_ns
    assert train(tmp_path) == 0
    assert (tmp_path / "run" / "model.pt").stat().st_mtime_ns == before
    with pytest.raises(ValueError, match="holds a different run"):
        Run(RunSpec("PPO", "FrozenLake8x8", steps=2048, seed=1), tmp_path / "run").run()


def test_from_config_reproduces_a_run(tmp_path):
    assert train(tmp_path) == 0
    assert main(["train", "--from", str(tmp_path / "run" / "config.json"), "--quiet",
                 "--out", str(tmp_path / "again")]) == 0
    first = Agent.load(tmp_path / "run" / "model.pt")
    second = Agent.load(tmp_path / "again" / "model.pt")
    assert torch.equal(first.policy.params.flat, second.policy.params.flat)


@pytest.mark.parametrize("argv, message", [
    (["train", "PPX", "CartPole-v1"], "unknown algorithm 'PPX'; choose one of PPO, DQN, A2C, REINFORCE"),
    (["train", "PPO", "NoSuchEnv-v0"], "unknown env id 'NoSuchEnv-v0'"),
    (["train", "PPO", "CartPole-v1", "--set", "n_epoch=3"], "unknown PPO key(s) ['n_epoch']; the keys are:"),
    (["train", "PPO", "CartPole-v1", "--set", "n_epochs=many"], "n_epochs='many': expected int"),
    (["train", "PPO", "CartPole-v1", "--set", "n_epochs"], "--set takes KEY=VALUE, got 'n_epochs'"),
])
def test_command_line_errors_are_one_line(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("mdparcade train: error:") and message in err and "\n" not in err


def test_set_values_are_typed_by_the_config_dataclass(tmp_path):
    from agents.ppo import PPO
    from experiments.learners.overrides import typed_overrides

    parsed = typed_overrides(PPO.config_class, {"hidden_sizes": "32,32", "target_kl": "none", "anneal_lr": "false",
                                                "learning_rate": "3e-4", "n_epochs": "4"}, "PPO")
    assert parsed == {"hidden_sizes": (32, 32), "target_kl": None, "anneal_lr": False, "learning_rate": 3e-4,
                      "n_epochs": 4}


def test_tensorboard_scalars_are_written_when_tensorboard_is_installed(tmp_path):
    pytest.importorskip("tensorboard")  # the optional extra; `make test` installs it with .[dev]
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    assert train(tmp_path, "--tensorboard") == 0
    events = EventAccumulator(str(tmp_path / "run" / "tensorboard"))
    events.Reload()
    eval_mean = events.Scalars("eval_mean")
    assert [e.step for e in eval_mean] == [0, 1024, 2048]
    rows = RunFolder(tmp_path / "run").read_metrics()
    assert [e.value for e in eval_mean] == pytest.approx([r["eval_mean"] for r in rows])
    assert "policy_loss" in events.Tags()["scalars"]
