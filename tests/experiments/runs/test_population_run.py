"""Runs and populations at the run-folder level: member k's folder equals the single run with seed k, evaluation
and resume points do not change training, and an interrupted population resumes to the uninterrupted result."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from agents.base import Agent
from experiments.runs import Run, RunFolder, RunSpec
from experiments.runs import run as run_module
from experiments.runs.run import PopulationRun

SPEC = RunSpec("DQN", "CartPole-v1", steps=3000, eval_every=1000, eval_episodes=2,
               overrides=dict(num_envs=2, learning_starts=200, train_freq=50, gradient_steps=10, buffer_size=5000,
                              hidden_sizes=(32, 32)))
SEEDS = (0, 1, 2)


def weights(folder) -> torch.Tensor:
    return Agent.load(RunFolder(folder).model_path("mdparcade")).q_net.params.flat


def population(tmp_path, name: str, spec: RunSpec = SPEC) -> PopulationRun:
    group = tmp_path / name
    return PopulationRun([dataclasses.replace(spec, seed=s) for s in SEEDS], [group / f"s{s}" for s in SEEDS], group,
                         progress=False)


@pytest.fixture(scope="module")
def whole(tmp_path_factory):
    root = tmp_path_factory.mktemp("whole")
    population(root, "pop").run_members()
    return root / "pop"


def test_member_k_is_the_single_run_with_seed_k(whole, tmp_path):
    Run(dataclasses.replace(SPEC, seed=1), tmp_path / "single", progress=False).run()
    assert torch.equal(weights(whole / "s1"), weights(tmp_path / "single"))
    single, member = RunFolder(tmp_path / "single").read_metrics(), RunFolder(whole / "s1").read_metrics()
    drop = ("seconds", "steps_per_second", "loss")  # the loss figure is summed in another order: equal to 1e-6
    assert [{k: v for k, v in r.items() if k not in drop} for r in single] == \
        [{k: v for k, v in r.items() if k not in drop} for r in member]
    losses = [(r.get("loss") or 0.0, m.get("loss") or 0.0) for r, m in zip(single, member)]  # "" before training
    assert [a for a, _ in losses] == pytest.approx([b for _, b in losses], rel=1e-5)


def test_how_often_a_run_evaluates_does_not_change_its_weights(whole, tmp_path):
    population(tmp_path, "rarely", dataclasses.replace(SPEC, eval_every=3000)).run_members()
    for seed in SEEDS:
        assert torch.equal(weights(tmp_path / "rarely" / f"s{seed}"), weights(whole / f"s{seed}"))


def test_an_interrupted_population_resumes_to_the_uninterrupted_result(whole, tmp_path, monkeypatch):
    original = run_module.Evaluator.__call__
    calls = {"n": 0}

    def interrupt(self, info):
        result = original(self, info)
        if self.run.checkpoint.is_file():
            calls["n"] += 1
            if calls["n"] == 2:
                raise KeyboardInterrupt
        return result

    monkeypatch.setattr(run_module.Evaluator, "__call__", interrupt)
    with pytest.raises(KeyboardInterrupt):
        population(tmp_path, "cut").run_members()
    assert (tmp_path / "cut" / "population.pt").is_file()
    monkeypatch.setattr(run_module.Evaluator, "__call__", original)
    results = population(tmp_path, "cut").run_members()
    assert all(result.trained for result in results)
    assert not (tmp_path / "cut" / "population.pt").exists()
    for seed in SEEDS:
        assert torch.equal(weights(tmp_path / "cut" / f"s{seed}"), weights(whole / f"s{seed}"))
        rows = RunFolder(tmp_path / "cut" / f"s{seed}").read_metrics()
        assert [r["steps"] for r in rows] == [0, 1000, 2000, 3000]


def test_a_population_is_refused_when_its_runs_differ_in_more_than_the_seed(tmp_path):
    other = dataclasses.replace(SPEC, seed=1, steps=5000)
    with pytest.raises(ValueError, match=r"differ only in their seed, not in \['steps'\]"):
        PopulationRun([SPEC, other], [tmp_path / "a", tmp_path / "b"], tmp_path)
    with pytest.raises(ValueError, match="trains one seed at a time"):
        specs = [RunSpec("QLearning", "CliffWalking", steps=100, seed=s) for s in (0, 1)]
        PopulationRun(specs, [tmp_path / "a", tmp_path / "b"], tmp_path).run_members()
