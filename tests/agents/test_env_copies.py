"""The env copies a population trains on: copy i of the member seeded s is a single env seeded s + i (as
stable-baselines3's make_vec_env seeds it), autoreset in the same step, and its state saves and restores."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import envs  # noqa: F401  (registers the mdparcade ids)
from agents.env_state import from_plain, to_plain
from agents.vector_env import EpisodeTracker, make_population_env


def singles_for(env_id: str, seeds: list[int], num_envs: int) -> list[gym.Env]:
    singles = []
    for seed in seeds:
        for i in range(num_envs):
            env = gym.make(env_id)
            env.reset(seed=seed + i)
            singles.append(env)
    return singles


def balancing_actions(obs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Push the cart towards the pole's lean (CartPole lasts to its 500-step limit), with a few random moves."""
    lean = (obs[:, 2] + 0.5 * obs[:, 3] > 0).astype(np.int64)
    return np.where(rng.random(len(obs)) < 0.05, rng.integers(2, size=len(obs)), lean)


@pytest.mark.parametrize("env_id, steps", [("CartPole-v1", 1500), ("FrozenLake8x8", 600), ("Catch", 100),
                                           ("Acrobot-v1", 510)])
def test_copies_equal_single_envs_seeded_seed_plus_i_with_same_step_autoreset(env_id, steps):
    seeds, n = [5, 40], 3
    population, env_id = make_population_env(env_id, n, len(seeds))
    singles = singles_for(env_id, seeds, n)
    obs = population.reset(seeds)
    np.testing.assert_array_equal(obs, np.stack([gym.make(env_id).reset(seed=s + i)[0] for s in seeds
                                                 for i in range(n)]))
    rng = np.random.default_rng(0)
    ends = truncations = 0
    for _ in range(steps):
        if env_id == "CartPole-v1":
            actions = balancing_actions(obs, rng)
        else:
            actions = rng.integers(population.single_action_space.n, size=len(singles))
        obs, rewards, terminated, truncated, final_obs = population.step(actions)
        finals = []
        for i, env in enumerate(singles):
            o, r, te, tr, _ = env.step(int(actions[i]))
            assert (r, te, tr) == (rewards[i], terminated[i], truncated[i])
            if te or tr:
                finals.append(o)
                o, _ = env.reset()
                ends += 1
                truncations += bool(tr)
            np.testing.assert_array_equal(o, obs[i])
        if finals:
            np.testing.assert_array_equal(np.stack(finals), final_obs)
    assert ends > 0
    if env_id == "CartPole-v1":
        assert truncations > 0  # the 500-step limit was reached and matched


@pytest.mark.parametrize("env_id", ["CartPole-v1", "FrozenLake8x8", "Breakout", "Snake", "Acrobot-v1"])
def test_saved_copies_continue_where_they_were(env_id):
    first, _ = make_population_env(env_id, 2, 2)
    second, _ = make_population_env(env_id, 2, 2)
    first.reset([1, 2])
    second.reset([8, 9])
    rng = np.random.default_rng(0)
    n_actions = first.single_action_space.n
    for _ in range(30):
        first.step(rng.integers(n_actions, size=4))
    second.load_state_dict(from_plain(to_plain(first.state_dict())))
    for _ in range(200):
        actions = rng.integers(n_actions, size=4)
        a, b = first.step(actions), second.step(actions)
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y)


def test_one_members_copies_load_into_an_env_of_one_member():
    population, _ = make_population_env("FrozenLake8x8", 3, 2)
    population.reset([0, 10])
    rng = np.random.default_rng(1)
    for _ in range(25):
        population.step(rng.integers(4, size=6))
    member, _ = make_population_env("FrozenLake8x8", 3, 1)
    member.load_state_dict(population.state_dict([1]))
    for _ in range(100):
        actions = rng.integers(4, size=6)
        together = population.step(actions)
        alone = member.step(actions[3:])
        np.testing.assert_array_equal(together[0][3:], alone[0])
        np.testing.assert_array_equal(together[1][3:], alone[1])


def test_episode_tracker_counts_each_members_episodes():
    tracker = EpisodeTracker(2, 2)
    ones = np.ones(4)
    never = np.zeros(4, dtype=bool)
    tracker.update(ones, never, never)
    done = tracker.update(ones * 2, np.array([True, False, False, False]), np.array([False, False, False, True]))
    assert done.tolist() == [True, False, False, True]
    assert tracker.episodes.tolist() == [1, 1]
    assert list(tracker.recent_returns[0]) == [3.0] and list(tracker.recent_lengths[1]) == [2]
    np.testing.assert_array_equal(tracker.mean_returns(), [3.0, 3.0])
    assert np.isnan(EpisodeTracker(1, 1).mean_returns()[0])


def test_a_population_needs_an_id_or_an_env_not_a_vector_env():
    vector = gym.make_vec("CartPole-v1", 2, vectorization_mode="sync")
    with pytest.raises(ValueError, match="population of several members needs an env id"):
        make_population_env(vector, 2, 2)
