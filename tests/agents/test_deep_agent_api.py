"""The deep agents' shared API (agents/deep.py): learn's step counts and callback, attaching and rebuilding envs
with their kwargs, errors that say what is wrong, what a save holds, and members of a normalized population."""

from __future__ import annotations

import time
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.envs.classic_control import CartPoleEnv

import envs  # noqa: F401  (registers the mdparcade ids)
from agents.dqn import DQN
from agents.ppo import PPO

SMALL_PPO = dict(num_envs=1, num_steps=8, batch_size=8, n_epochs=1)


def test_learn_takes_zero_steps_and_refuses_negative_ones():
    agent = PPO("CartPole-v1", seed=0, **SMALL_PPO)
    assert agent.progress_remaining() == 1.0 and agent.remaining_timesteps() == 0  # before any learn call
    assert agent.learn(0) is agent and agent.num_timesteps == 0
    with pytest.raises(ValueError, match=r"total_timesteps must be >= 0, got -1"):
        agent.learn(-1)
    agent.learn(20)
    assert agent.num_timesteps == 24 and agent.remaining_timesteps() == 0  # whole iterations of 8 steps


def test_the_callback_sees_this_calls_time_and_steps_and_can_stop_learning():
    agent = PPO("CartPole-v1", seed=0, **SMALL_PPO).learn(16)
    infos = []
    started = time.perf_counter()
    agent.learn(24, callback=lambda _, info: infos.append(info))
    elapsed = time.perf_counter() - started
    assert [info["num_timesteps"] for info in infos] == [24, 32, 40]
    for info in infos:  # seconds since this call began; steps of this call (not the agent's total) per second
        assert 0 < info["seconds"] <= elapsed
        assert info["steps_per_second"] == pytest.approx((info["num_timesteps"] - 16) / info["seconds"])
    assert agent.learn(10_000, callback=lambda *_: False) is agent and agent.num_timesteps == 48  # one iteration


def test_a_populations_callback_averages_its_members_and_leaves_all_missing_figures_nan_quietly():
    agent = PPO("Corridor", seeds=[0, 1], **SMALL_PPO)  # 8 steps cannot reach the goal 9 cells away: no episode
    infos = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy warns on the mean of no numbers
        agent.learn(8, callback=lambda _, info: infos.append(info))
    (info,) = infos
    assert np.isnan(info["recent_return"]) and info["episodes"] == 0
    assert info["value_loss"] == pytest.approx(np.mean([member["value_loss"] for member in info["members"]]))


def test_set_env_keeps_the_kwargs_and_refuses_other_spaces_by_name():
    agent = DQN("Corridor", seed=0, learning_starts=10**9)
    agent.set_env("Corridor", {"max_episode_steps": 3})
    assert agent.env_id == "mdparcade/Corridor-v0" and agent.env_kwargs == {"max_episode_steps": 3}
    agent.learn(256)
    assert agent.tracker.episodes[0] == 256 // 3  # every episode cut at 3 steps (the goal is 9 steps away)
    with pytest.raises(ValueError, match=r"env observation space Box.* differs from the agent's Discrete\(10\)"):
        agent.set_env("CartPole-v1")
    other = CartPoleEnv()
    other.action_space = gym.spaces.Discrete(3)
    with pytest.raises(ValueError, match=r"env action space Discrete\(3\) differs from the agent's Discrete\(2\)"):
        DQN("CartPole-v1", seed=0).set_env(other)


@pytest.mark.parametrize("learn_first", [False, True], ids=["saved-before-learning", "saved-while-learning"])
def test_a_loaded_agent_rebuilds_its_env_with_its_kwargs(tmp_path, learn_first):
    agent = DQN("Corridor", seed=0, learning_starts=10**9, env_kwargs={"max_episode_steps": 3})
    if learn_first:
        agent.learn(256)
    loaded = DQN.load(agent.save(tmp_path / "dqn.pt"))
    loaded.learn(256)
    assert loaded.env_kwargs == {"max_episode_steps": 3}
    assert loaded.tracker.episodes[0] == loaded.num_timesteps // 3


def test_an_agent_of_an_unregistered_env_says_how_to_attach_one_after_loading(tmp_path):
    agent = PPO(CartPoleEnv(), seed=0, **SMALL_PPO)  # no spec: nothing to rebuild the env from
    assert agent.env_id is None
    loaded = PPO.load(agent.save(tmp_path / "ppo.pt"))
    with pytest.raises(ValueError, match=r"^this agent has no env; pass env= to load\(\) or call set_env\(env\) "
                                         r"before learn\(\)$"):
        loaded.learn(8)


def test_normalize_obs_needs_flat_box_observations():
    with pytest.raises(ValueError, match=r"normalize_obs applies to flat Box observations, not Discrete\(10\)"):
        PPO("Corridor", seed=0, normalize_obs=True)


def test_a_normalized_populations_member_carries_its_own_statistics_as_its_single_run():
    population = PPO("CartPole-v1", seeds=[0, 1], normalize_obs=True, **SMALL_PPO).learn(16)
    single = PPO("CartPole-v1", seed=1, normalize_obs=True, **SMALL_PPO).learn(16)
    member = population.member(1)
    assert member.normalizer.mean.shape == single.normalizer.mean.shape == (1, 4)
    np.testing.assert_array_equal(member.normalizer.mean, single.normalizer.mean)
    np.testing.assert_array_equal(member.normalizer.var, single.normalizer.var)
    assert not np.array_equal(population.normalizer.mean[0], population.normalizer.mean[1])


def test_a_member_is_a_copy_the_population_does_not_share():
    population = PPO("CartPole-v1", seeds=[0, 1], **SMALL_PPO).learn(16)
    flats = [stack.flat.clone() for stack in population._stacks().values()]
    population.member(0).learn(16)
    assert all(np.array_equal(flat.numpy(), stack.flat.numpy())
               for flat, stack in zip(flats, population._stacks().values()))


def test_save_leaves_the_replay_out_unless_resuming_and_a_population_file_has_no_single_seed(tmp_path):
    agent = DQN("Corridor", seeds=[3, 4], learning_starts=10**9).learn(256)
    plain = DQN.load(agent.save(tmp_path / "plain.pt"))
    resumable = DQN.load(agent.save(tmp_path / "resume.pt", resume=True))
    assert plain.replay.size == 0 and resumable.replay.size == agent.replay.size == 256
    assert plain.config.seed is None and agent.member(1).config.seed == 4


def test_a_config_object_is_the_base_that_keywords_override_and_hidden_sizes_become_a_tuple():
    from agents.ppo import PPOConfig

    agent = PPO("CartPole-v1", PPOConfig(learning_rate=0.123, n_epochs=2), seed=0, n_epochs=3,
                hidden_sizes=[16, 8])
    assert (agent.config.learning_rate, agent.config.n_epochs, agent.config.hidden_sizes) == (0.123, 3, (16, 8))
    with pytest.raises(ValueError, match=r"^config must be a PPOConfig, got dict$"):
        PPO("CartPole-v1", {"learning_rate": 0.1})
    with pytest.raises(ValueError, match=r"^unknown PPOConfig key\(s\) \['n_epoch'\]; the keys are: "
                                         r"num_envs, num_steps, batch_size, n_epochs, "):
        PPO("CartPole-v1", n_epoch=3)


def test_load_attaches_the_env_it_is_given(tmp_path):
    path = PPO("CartPole-v1", seed=0, **SMALL_PPO).learn(8).save(tmp_path / "ppo.pt")
    loaded = PPO.load(path, env=gym.make("CartPole-v1", max_episode_steps=5))
    loaded.learn(16)  # its copies start afresh in the env given: every episode ends within 5 steps
    assert loaded.num_timesteps == 24 and loaded.tracker.episodes[0] >= 16 // 5
