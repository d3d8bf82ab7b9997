"""Populations: member k of a K-member population is the single run with seed k (same weights, same
trajectories), `member(k)` is an ordinary agent, and a population predicts for K batches at once."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from small_runs import SETTINGS, flats

import envs  # noqa: F401  (registers the mdparcade ids)
from agents.a2c import A2C
from agents.base import Agent
from agents.dqn import DQN
from agents.ppo import PPO
from agents.reinforce import REINFORCE

SEEDS = [3, 1, 2, 0]
ENVS = {"CartPole-v1": 2000, "Catch": 1500}


@pytest.mark.parametrize("cls", [PPO, A2C, DQN, REINFORCE])
@pytest.mark.parametrize("env_id", list(ENVS))
def test_member_k_is_the_single_run_with_seed_k(cls, env_id):
    steps = ENVS[env_id]
    population = cls(env_id, seeds=SEEDS, **SETTINGS[cls]).learn(steps)
    for k in (0, 3):  # the first and the last position of the stack
        single = cls(env_id, seed=SEEDS[k], **SETTINGS[cls]).learn(steps)
        assert single.num_timesteps == population.num_timesteps
        # Trajectories: the same episodes ended with the same returns.
        assert population.tracker.episodes[k] == single.tracker.episodes[0]
        assert list(population.tracker.recent_returns[k]) == list(single.tracker.recent_returns[0])
        np.testing.assert_array_equal(population._per_member(population._obs)[k], single._obs)
        for a, b in zip(flats(population, k), flats(single, 0)):
            if cls is REINFORCE:  # its batches are padded to the longest member's: sums round differently
                torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
            else:
                assert torch.equal(a, b)


def test_dqn_member_k_is_its_single_run_while_members_backpropagate_through_different_live_units(monkeypatch):
    """At a large learning rate many relu units of the Q-nets die, each member's differently; StackedMLP then
    multiplies each member's live rows only, and member k must still be the single run with seed k bit for bit."""
    from nets.stacked import StackedMLP

    live_counts = []
    live_rows_backward = StackedMLP._live_rows_backward

    def spy(self, i, grad):
        live_counts.append((self._inputs[i + 1].amax(2) > 0).sum(1).tolist())
        return live_rows_backward(self, i, grad)

    monkeypatch.setattr(StackedMLP, "_live_rows_backward", spy)
    settings = dict(learning_rate=2.3e-3, learning_starts=100, train_freq=16, gradient_steps=4, batch_size=32,
                    hidden_sizes=(64, 64))
    population = DQN("CartPole-v1", seeds=SEEDS, **settings).learn(1000)
    assert any(len(set(counts)) > 1 and min(counts) < 0.8 * 64 for counts in live_counts)
    for k in (0, 3):
        single = DQN("CartPole-v1", seed=SEEDS[k], **settings).learn(1000)
        assert population.tracker.episodes[k] == single.tracker.episodes[0]
        assert all(torch.equal(a, b) for a, b in zip(flats(population, k), flats(single, 0)))


def test_member_k_matches_its_single_run_even_when_target_kl_stops_members_at_different_steps():
    settings = dict(num_steps=16, batch_size=32, n_epochs=8, target_kl=0.002, learning_rate=3e-3)
    population = PPO("CartPole-v1", seeds=[0, 1, 2], **settings)
    seen = []
    population.learn(1024, callback=lambda agent, info: seen.append([m["gradient_steps"] for m in info["members"]]))
    assert any(len(set(steps)) > 1 for steps in seen)  # members stopped at different minibatches
    for k in range(3):
        single = PPO("CartPole-v1", seed=k, **settings).learn(1024)
        for a, b in zip(flats(population, k), flats(single, 0)):
            assert torch.equal(a, b)


def test_member_is_an_ordinary_agent_that_saves_loads_and_continues(tmp_path):
    population = PPO("FrozenLake8x8", seeds=[4, 5, 6], num_steps=32, batch_size=64, n_epochs=2).learn(1024)
    states = np.arange(64)
    together, _ = population.predict(np.stack([states] * 3))
    assert together.shape == (3, 64)
    member = population.member(1)
    assert member.num_members == 1 and member.seeds == (5,) and member.config.seed == 5
    loaded = Agent.load(member.save(tmp_path / "member.pt"))
    assert type(loaded) is PPO and loaded.num_members == 1
    np.testing.assert_array_equal(loaded.predict(states)[0], together[1])
    np.testing.assert_allclose(loaded.state_values(states), population.state_values(np.stack([states] * 3))[1],
                               rtol=1e-6)
    member.learn(512)
    population.learn(512)
    for a, b in zip(flats(member, 0), flats(population, 1)):
        assert torch.equal(a, b)
    loaded_whole = Agent.load(population.save(tmp_path / "population.pt"))
    assert loaded_whole.seeds == (4, 5, 6)


def test_a_dqn_member_continues_with_its_replay_buffer_and_env_copies():
    population = DQN("CartPole-v1", seeds=[4, 5], **SETTINGS[DQN]).learn(600)
    member = population.member(1)
    assert member.replay.size == population.replay.size
    member.learn(400)
    population.learn(400)
    for a, b in zip(flats(member, 0), flats(population, 1)):
        assert torch.equal(a, b)


def test_callback_info_keeps_single_run_keys_and_adds_members():
    single_info, population_info = [], []
    PPO("CartPole-v1", seed=0, num_steps=16, batch_size=64, n_epochs=1).learn(
        256, callback=lambda a, info: single_info.append(info))
    PPO("CartPole-v1", seeds=[0, 1], num_steps=16, batch_size=64, n_epochs=1).learn(
        256, callback=lambda a, info: population_info.append(info))
    last = single_info[-1]
    for key in ("num_timesteps", "seconds", "steps_per_second", "recent_return", "episodes", "policy_loss",
                "value_loss", "entropy", "approx_kl", "clip_fraction", "learning_rate", "clip_range",
                "explained_variance"):
        assert isinstance(last[key], (int, float)), key
    assert len(last["members"]) == 1 and last["members"][0]["policy_loss"] == last["policy_loss"]
    members = population_info[-1]["members"]
    assert len(members) == 2
    assert population_info[-1]["value_loss"] == pytest.approx(np.mean([m["value_loss"] for m in members]))
    assert members[0]["policy_loss"] == pytest.approx(single_info[-1]["policy_loss"])


def test_population_predict_takes_one_batch_per_member_and_names_a_wrong_shape():
    agent = DQN("CartPole-v1", seeds=[0, 1])
    actions, _ = agent.predict(np.zeros((2, 5, 4), dtype=np.float32))
    assert actions.shape == (2, 5)
    for wrong in [(5, 4), (3, 5, 4), (2, 5, 3)]:  # members, or an observation's shape
        with pytest.raises(ValueError, match=rf"^a population of 2 takes observations of shape \(2, B, \*\(4,\)\), "
                                             rf"got {re.escape(str(wrong))}$"):
            agent.predict(np.zeros(wrong, dtype=np.float32))


def test_seeds_and_seed_together_must_agree():
    with pytest.raises(ValueError, match="give PPOConfig.seed or seeds="):
        PPO("CartPole-v1", seed=1, seeds=[2, 3])
    with pytest.raises(ValueError, match="at least one seed"):
        PPO("CartPole-v1", seeds=[])
    assert PPO("CartPole-v1", seeds=[7]).config.seed == 7
    assert PPO("CartPole-v1", seeds=[7, 8]).config.seed is None
    with pytest.raises(ValueError, match="member must be in"):
        PPO("CartPole-v1", seeds=[7, 8]).member(2)


def test_nets_of_each_member_are_those_nets_builds_from_its_seed():
    import nets
    from nets.init import orthogonal_init

    agent = PPO("CartPole-v1", seeds=[0, 9])
    torch.manual_seed(9)
    policy_net = orthogonal_init(nets.mlp(4, (64, 64), 2, "tanh"), output_gain=0.01)
    for a, b in zip(agent.policy.member_nets(1)["policy_net"].parameters(), policy_net.parameters()):
        assert torch.equal(a, b)


@pytest.mark.parametrize("cls", [PPO, A2C])
def test_member_k_is_its_single_run_when_members_truncate_different_numbers_of_episodes(cls):
    """Truncated episodes bootstrap from their last observation's value: each member's rows of that forward are
    padded to a width that does not depend on how many the other members truncated (it once did, and member 0
    drifted from its single run by float rounding)."""
    settings, limit = (dict(num_steps=64, batch_size=64, n_epochs=2) if cls is PPO else {}), {"max_episode_steps": 12}
    population = cls("mdparcade/FrozenLake8x8-v0", env_kwargs=limit, seeds=[3, 1, 2, 0], **settings).learn(3000)
    single = cls("mdparcade/FrozenLake8x8-v0", env_kwargs=limit, seed=3, **settings).learn(3000)
    assert population.tracker.episodes[0] == single.tracker.episodes[0] > 100
    for a, b in zip(flats(population, 0), flats(single, 0)):
        assert torch.equal(a, b)


def adam_with_idle_weights(monkeypatch, flush: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """Weights and first moments after one gradient on every weight, then 900 steps in which half the weights
    get gradient 0 (a dead ReLU's): their first moments decay through the denormal range."""
    import contextlib

    import agents.population as population
    from nets.stacked import ParameterStack

    if not flush:
        monkeypatch.setattr(population, "flush_denormals", lambda device: contextlib.nullcontext())
    torch.manual_seed(0)
    stack = ParameterStack([[("w", torch.randn(32))] for _ in range(2)])
    optimizer = population.StackedOptimizer(stack, torch.optim.Adam, lr=1e-3, fused=True)
    for step in range(900):
        stack.grad.copy_(torch.randn(stack.grad.shape))
        if step:
            stack.grad[:, :16] = 0.0
        optimizer.step()
    return stack.flat.clone(), torch.stack([optimizer.optimizer.state[row]["exp_avg"] for row in stack.rows()])


def test_adams_flushed_denormal_moments_leave_the_weights_bit_for_bit_unchanged(monkeypatch):
    flushed, moments = adam_with_idle_weights(monkeypatch, flush=True)
    kept, denormal_moments = adam_with_idle_weights(monkeypatch, flush=False)
    tiny = torch.finfo(torch.float32).tiny
    assert ((denormal_moments[:, :16].abs() < tiny) & (denormal_moments[:, :16] != 0)).any()  # the slow case arose
    assert (moments[:, :16] == 0).all() and torch.equal(moments[:, 16:], denormal_moments[:, 16:])
    assert torch.equal(flushed, kept)


def test_flush_denormals_restores_the_setting_it_found():
    from nets.stacked import flush_denormals

    denormal = torch.tensor([1e-40])
    with flush_denormals(torch.device("cpu")):
        assert denormal.mul(1.0)[0] == 0
    assert denormal.mul(1.0)[0] != 0
    torch.set_flush_denormal(True)
    try:
        with flush_denormals(torch.device("cpu")):
            pass
        assert denormal.mul(1.0)[0] == 0  # on before the block: still on after it
    finally:
        torch.set_flush_denormal(False)


def test_populations_take_adams_fused_kernel_on_the_cpu_only():
    from agents.population import fused_if_cpu

    assert fused_if_cpu(torch.device("cpu")) == {"fused": True}
    assert fused_if_cpu(torch.device("cuda")) == {}
    assert DQN("CartPole-v1", seeds=[0, 1]).optimizer._fused_adam
