"""Every registered mdparcade id: its vector env steps bit-for-bit like N single envs (tests/envs/equivalence.py),
and the helper itself catches a dtype or value mismatch."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from equivalence import assert_vector_matches_singles

import envs  # noqa: F401  (registers the ids)
from envs.game_ids import REGISTRY as GAME_REGISTRY
from envs.gridworld_ids import REGISTRY as GRID_REGISTRY

GRID_IDS = [spec["id"] for spec in GRID_REGISTRY]
GAME_IDS = [spec["id"] for spec in GAME_REGISTRY]
ALL_IDS = sorted(env_id for env_id, spec in gym.registry.items()
                 if env_id.startswith("mdparcade/") and spec.vector_entry_point is not None)


def test_every_gridworld_and_game_id_has_a_vector_env():
    assert set(GRID_IDS) | set(GAME_IDS) <= set(ALL_IDS)


@pytest.mark.parametrize("max_episode_steps", [None, 7])
@pytest.mark.parametrize("env_id", ALL_IDS)
def test_short_run_matches_single_envs(env_id, max_episode_steps):
    counts = assert_vector_matches_singles(env_id, 32, 200, seed=11, action_seed=12,
                                           max_episode_steps=max_episode_steps)
    if max_episode_steps is not None:
        assert counts["truncations"] > 0


@pytest.mark.parametrize("obs_mode", ["index", "onehot", "coords", "image"])
@pytest.mark.parametrize("env_id", GRID_IDS)
def test_gridworld_observation_modes_match_single_envs(env_id, obs_mode):
    counts = assert_vector_matches_singles(env_id, 16, 100, seed=5, action_seed=6, max_episode_steps=20,
                                           obs_mode=obs_mode)
    assert counts["terminations"] + counts["truncations"] > 0


@pytest.mark.parametrize("env_id", GRID_IDS)
def test_eight_copies_match_single_envs_over_two_thousand_steps(env_id):
    # Long enough for many episodes of every gridworld (the games' 10,000-step runs are in test_arcade.py).
    counts = assert_vector_matches_singles(env_id, 8, 2_000, seed=99, action_seed=3)
    assert counts["terminations"] + counts["truncations"] >= 8  # every copy ended an episode or more


@pytest.mark.slow
@pytest.mark.parametrize("env_id", ALL_IDS)
def test_sixty_four_copies_match_single_envs_over_ten_thousand_steps(env_id):
    # On an idle core: about 3 s per gridworld, 15 s (Catch) to 40 s (Breakout) per game.
    counts = assert_vector_matches_singles(env_id, 64, 10_000, seed=99, action_seed=3)
    assert counts["terminations"] + counts["truncations"] > 64


class _ObservationAs(gym.ObservationWrapper):
    def __init__(self, env, dtype):
        super().__init__(env)
        self.dtype = dtype

    def observation(self, observation):
        return np.asarray(observation).astype(self.dtype)


class _RewardAsFloat32(gym.RewardWrapper):
    def reward(self, reward):
        return float(np.float32(reward))


@pytest.mark.parametrize(("wrapper", "message"), [
    (lambda env: _ObservationAs(env, np.int32), r"observations after reset of the single envs have dtype int32"),
    (_RewardAsFloat32, r"step \d+: rewards differ"),  # -0.04 rounded to float32 is not -0.04
])
def test_the_helper_catches_a_single_env_that_differs(monkeypatch, wrapper, message):
    make = gym.make
    monkeypatch.setattr(gym, "make", lambda *args, **kwargs: wrapper(make(*args, **kwargs)))
    with pytest.raises(AssertionError, match=message):
        assert_vector_matches_singles("mdparcade/RussellNorvig4x3-v0", 4, 50, seed=0, action_seed=0)
