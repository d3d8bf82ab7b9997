"""Evaluations and checkpoints do not change training: saving a resume point continues every env copy's
episode instead of restarting it, so a run's weights do not depend on how often it evaluates, and a run
resumed from a checkpoint ends exactly where the uninterrupted run ends (CPU, bit for bit)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch
from small_runs import SETTINGS

import envs  # noqa: F401  (registers the mdparcade ids)
from agents.a2c import A2C
from agents.base import Agent
from agents.dqn import DQN
from agents.env_state import env_state, load_env_state
from agents.evaluation import evaluate
from agents.ppo import PPO
from agents.reinforce import REINFORCE


def weights(agent) -> list[torch.Tensor]:
    return [stack.flat.clone() for stack in agent._stacks().values()]


def evaluating_checkpointer(path, every: int, env_id: str):
    """What a run does at each evaluation: score the greedy policy on separate envs, write a resume point."""
    marks = {"next": every}

    def callback(agent, info):
        if agent.num_timesteps >= marks["next"]:
            marks["next"] = (agent.num_timesteps // every + 1) * every
            if agent.num_members == 1:
                evaluate(lambda obs: agent.predict(obs)[0], env_id, episodes=2)
            agent.save(path, resume=True)
    return callback


@pytest.mark.parametrize("cls", [PPO, DQN, REINFORCE])
@pytest.mark.parametrize("seeds", [[3], [3, 4]])
def test_evaluation_frequency_does_not_change_the_weights(cls, seeds, tmp_path):
    env_id, steps = "CartPole-v1", 3000
    finals = []
    for every in (None, 500, 2000):
        agent = cls(env_id, seeds=seeds, **SETTINGS[cls])
        callback = None if every is None else evaluating_checkpointer(tmp_path / f"{every}.pt", every, env_id)
        agent.learn(steps, callback=callback)
        finals.append(weights(agent))
    for other in finals[1:]:
        assert all(torch.equal(a, b) for a, b in zip(finals[0], other))


def interrupted_and_resumed(cls, env_id, seeds, tmp_path, total=3000, cut=1200):
    def save_once_past_cut(path, stop: bool):
        def callback(agent, info):
            if agent.num_timesteps >= cut and not path.exists():
                agent.save(path, resume=True)
                return False if stop else None
            return None
        return callback

    uninterrupted = cls(env_id, seeds=seeds, **SETTINGS[cls])
    uninterrupted.learn(total, callback=save_once_past_cut(tmp_path / "kept.pt", stop=False))
    interrupted = cls(env_id, seeds=seeds, **SETTINGS[cls])
    interrupted.learn(total, callback=save_once_past_cut(tmp_path / "resume.pt", stop=True))
    assert interrupted.num_timesteps < uninterrupted.num_timesteps
    resumed = Agent.load(tmp_path / "resume.pt")
    resumed.learn(resumed.remaining_timesteps())
    return uninterrupted, resumed


@pytest.mark.parametrize("cls", [PPO, A2C, DQN, REINFORCE])
@pytest.mark.parametrize("env_id", ["CartPole-v1", "FrozenLake8x8", "Catch", "Acrobot-v1"])
def test_a_resumed_run_ends_with_the_same_weights(cls, env_id, tmp_path):
    if cls is REINFORCE and env_id == "Acrobot-v1":
        pytest.skip("random Acrobot episodes last 500 steps: REINFORCE completes no batch within the budget")
    uninterrupted, resumed = interrupted_and_resumed(cls, env_id, [11], tmp_path)
    assert resumed.num_timesteps == uninterrupted.num_timesteps
    assert all(torch.equal(a, b) for a, b in zip(weights(resumed), weights(uninterrupted)))
    assert list(resumed.tracker.recent_returns[0]) == list(uninterrupted.tracker.recent_returns[0])


@pytest.mark.parametrize("cls", [PPO, DQN, REINFORCE])
def test_a_resumed_population_ends_with_the_same_weights(cls, tmp_path):
    uninterrupted, resumed = interrupted_and_resumed(cls, "CartPole-v1", [5, 6, 7], tmp_path)
    assert resumed.seeds == (5, 6, 7)
    assert all(torch.equal(a, b) for a, b in zip(weights(resumed), weights(uninterrupted)))


def test_checkpoints_load_with_weights_only_and_hold_the_env_copies(tmp_path):
    agent = PPO("CartPole-v1", seeds=[0, 1], num_steps=16, batch_size=64, n_epochs=1).learn(300)
    record = torch.load(agent.save(tmp_path / "a.pt", resume=True), weights_only=True)
    assert record["agent"]["seeds"] == [0, 1] and record["agent"]["env"]["copies"] is not None


def test_normalization_statistics_and_reward_scaling_resume_exactly(tmp_path):
    uninterrupted, resumed = None, None
    settings = dict(num_steps=16, batch_size=64, n_epochs=2, normalize_obs=True, normalize_reward=True)
    SETTINGS[PPO], saved = settings, SETTINGS[PPO]
    try:
        uninterrupted, resumed = interrupted_and_resumed(PPO, "Acrobot-v1", [2], tmp_path, total=2000, cut=700)
    finally:
        SETTINGS[PPO] = saved
    np.testing.assert_array_equal(resumed.normalizer.mean, uninterrupted.normalizer.mean)
    assert all(torch.equal(a, b) for a, b in zip(weights(resumed), weights(uninterrupted)))


@pytest.mark.parametrize("env_id", ["CartPole-v1", "Acrobot-v1", "Pendulum-v1"])
def test_a_gymnasium_env_state_continues_the_episode(env_id):
    first, second = gym.make(env_id), gym.make(env_id)
    first.reset(seed=3)
    second.reset(seed=99)
    rng = np.random.default_rng(0)
    first.action_space.seed(0)

    def draw():
        return first.action_space.sample() if env_id == "Pendulum-v1" else int(rng.integers(2))

    for _ in range(8):  # mid-episode: with these seeds no episode ends in its first 8 steps
        assert not any(first.step(draw())[2:4])
    load_env_state(second, env_state(first))
    for _ in range(400):  # through ends, resets (the env's own generator) and the time limit
        action = draw()
        a, b = first.step(action), second.step(action)
        np.testing.assert_array_equal(a[0], b[0])
        assert a[1:4] == b[1:4]
        if a[2] or a[3]:
            np.testing.assert_array_equal(first.reset()[0], second.reset()[0])


def test_reinforce_resumes_the_ended_episodes_its_batch_has_not_used_yet(tmp_path):
    """A learn call can end between two of REINFORCE's updates: the episodes that ended since the last update
    wait in the checkpoint (inputs, actions, rewards and the tail value) and make up the next batch after
    loading, as they do in the run that never stopped."""
    settings = dict(batch_episodes=6, num_envs=2)
    uninterrupted = REINFORCE("CartPole-v1", seeds=[1, 2], **settings).learn(300)
    interrupted = REINFORCE("CartPole-v1", seeds=[1, 2], **settings).learn(300)
    assert all(0 < len(episodes) < 6 for episodes in interrupted._finished)  # ended, not yet used
    resumed = Agent.load(interrupted.save(tmp_path / "cut.pt", resume=True))
    uninterrupted.learn(400)
    resumed.learn(400)
    assert all(torch.equal(a, b) for a, b in zip(weights(resumed), weights(uninterrupted)))
