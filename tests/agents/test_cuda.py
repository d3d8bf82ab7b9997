"""Populations on CUDA, where there is one (skipped without): member k is still the single seed-k run on the
same device, and `mdparcade train --seeds ... --device auto` trains on the GPU and writes one ordinary run
folder per member.

On the GPU, batched and single matrix products may take different kernels (different summation orders), so
weights are compared within float tolerance, not bit for bit; trajectories agree exactly while no sampled action
flips, which these short runs do not reach.
"""

from __future__ import annotations

import json

import pytest
import torch
from small_runs import SETTINGS, flats

import envs  # noqa: F401  (registers the mdparcade ids)
from agents.a2c import A2C
from agents.dqn import DQN
from agents.ppo import PPO
from agents.reinforce import REINFORCE

pytestmark = [pytest.mark.cuda, pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")]

@pytest.mark.parametrize("cls", [PPO, A2C, DQN, REINFORCE])
@pytest.mark.parametrize("env_id", ["CartPole-v1", "Catch"])
def test_member_k_is_the_single_run_with_seed_k_on_cuda(cls, env_id):
    population = cls(env_id, seeds=[3, 1], device="cuda", **SETTINGS[cls]).learn(1500)
    assert population.device.type == "cuda"
    single = cls(env_id, seed=1, device="cuda", **SETTINGS[cls]).learn(1500)
    assert population.tracker.episodes[1] == single.tracker.episodes[0]
    for a, b in zip(flats(population, 1), flats(single, 0)):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


def test_train_with_device_auto_runs_a_population_on_cuda(tmp_path):
    from experiments.cli import main

    out = tmp_path / "runs"
    assert main(["train", "PPO", "CartPole-v1", "--seeds", "0-1", "--steps", "2048", "--device", "auto",
                 "--eval-every", "1024", "--quiet", "--out", str(out)]) == 0
    summaries = sorted(out.rglob("summary.json"))
    assert len(summaries) == 2
    for path in summaries:
        assert json.loads(path.read_text())["device"].startswith("cuda")
    # A member trained on the GPU loads on the CPU (as `watch` loads it) and acts.
    from agents.base import Agent

    agent = Agent.load(out / "s1" / "model.pt", device="cpu")
    assert agent.device.type == "cpu"
    actions, _ = agent.predict(torch.zeros((3, 4)).numpy())
    assert actions.shape == (3,)
