"""Sticky actions (MinAtar's sticky_action_prob), shared by every game through BatchedGame.act: how often an
action repeats, that a repeat is exactly the previous action, and that vector envs still equal single envs."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest
from equivalence import assert_vector_matches_singles

import envs  # noqa: F401  (registers the ids)
from envs import rng
from envs.batched_game import STICKY_ACTION_STREAM
from envs.breakout import BreakoutGame
from envs.game_ids import REGISTRY

STICKY_IDS = [spec["id"] for spec in REGISTRY if "sticky_action_prob" in spec["kwargs"]]
OTHER_IDS = [spec["id"] for spec in REGISTRY if "sticky_action_prob" not in spec["kwargs"]]


def test_the_minatar_games_default_to_minatars_options_and_the_others_have_no_stickiness():
    assert "mdparcade/Breakout-v0" in STICKY_IDS and "mdparcade/Catch-v0" in OTHER_IDS
    for env_id in STICKY_IDS:
        game = gym.make(env_id).unwrapped.game
        assert game.sticky_action_prob == 0.1
        assert getattr(game, "difficulty_ramping", True) is True
        assert gym.make(env_id, sticky_action_prob=0.0).unwrapped.game.sticky_action_prob == 0.0
    for env_id in OTHER_IDS:
        assert gym.make(env_id).unwrapped.game.sticky_action_prob == 0.0


@pytest.mark.parametrize("bad", [1.5, -0.1, float("nan"), "0.1", True, None])
def test_bad_probability_is_a_value_error_naming_the_range(bad):
    with pytest.raises(ValueError, match=r"sticky_action_prob must be a number in \[0, 1\], got"):
        BreakoutGame(2, sticky_action_prob=bad)


def _play_changing_actions(game: BreakoutGame, num_steps: int) -> np.ndarray:
    """Ask every copy for an action other than its last one at every step; return which steps repeated."""
    repeated = np.zeros((num_steps, game.num_envs), dtype=bool)
    for t in range(num_steps):
        asked = (game.last_action + 1) % game.num_actions
        before = game.last_action.copy()
        game.act(asked)
        repeated[t] = game.last_action == before
        assert np.array_equal(game.last_action, np.where(repeated[t], before, asked))
    return repeated


@pytest.mark.parametrize("probability", [0.1, 0.25, 0.9])
def test_the_fraction_of_repeats_is_the_probability(probability):
    game = BreakoutGame(4096, sticky_action_prob=probability)
    everyone = np.ones(game.num_envs, dtype=bool)
    game.seed(everyone, rng.seed_to_keys(123, game.num_envs))
    game.restart(everyone)
    repeated = _play_changing_actions(game, 40)
    draws = repeated.size
    # Within 5 binomial standard deviations (a fixed seed: the test is deterministic, not flaky).
    tolerance = 5 * math.sqrt(probability * (1 - probability) / draws)
    assert abs(repeated.mean() - probability) < tolerance
    # Repeats are independent of the copy and of time: every copy and every step sees some.
    assert repeated.any(axis=0).mean() > 0.9 and repeated.any(axis=1).all()


def test_the_draw_is_the_documented_uniform_on_the_reserved_stream():
    probability = 0.37
    game = BreakoutGame(512, sticky_action_prob=probability)
    everyone = np.ones(game.num_envs, dtype=bool)
    game.seed(everyone, rng.seed_to_keys(5, game.num_envs))
    game.restart(everyone)
    for _ in range(30):
        expected = rng.uniform(game.keys, game.counters, STICKY_ACTION_STREAM) < probability
        assert np.array_equal(_play_changing_actions(game, 1)[0], expected)


def test_probability_zero_never_repeats_and_one_always_does():
    game = BreakoutGame(256, sticky_action_prob=0.0)
    everyone = np.ones(game.num_envs, dtype=bool)
    game.seed(everyone, rng.seed_to_keys(0, game.num_envs))
    game.restart(everyone)
    assert not _play_changing_actions(game, 50).any()
    game = BreakoutGame(8, sticky_action_prob=1.0)
    game.seed(np.ones(8, dtype=bool), rng.seed_to_keys(0, 8))
    game.restart(np.ones(8, dtype=bool))
    assert _play_changing_actions(game, 20).all()
    assert (game.last_action == game.noop).all() and (game.paddle_col == 4).all()  # the no-op, forever


@pytest.mark.parametrize("env_id", STICKY_IDS)
def test_a_repeat_plays_exactly_the_previous_action(env_id):
    """A sticky env equals a non-sticky one fed the actions actually played: the asked action, or where the
    sticky draw (computed here from the documented stream) is below the probability, the previous one."""
    sticky = gym.make(env_id, sticky_action_prob=0.5)
    plain = gym.make(env_id, sticky_action_prob=0.0)
    num_actions = int(sticky.action_space.n)
    actions = np.random.default_rng(0).integers(0, num_actions, 3000)
    obs, _ = sticky.reset(seed=9)
    assert np.array_equal(obs, plain.reset(seed=9)[0])
    game = sticky.unwrapped.game
    played, repeats = game.noop, 0
    for action in actions:
        if rng.uniform_scalar(int(game.keys[0]), int(game.counters[0]), STICKY_ACTION_STREAM) < 0.5:
            repeats += played != action
        else:
            played = int(action)
        got, expected = sticky.step(int(action)), plain.step(played)
        assert np.array_equal(got[0], expected[0]) and got[1:4] == expected[1:4]
        if got[2] or got[3]:
            obs, _ = sticky.reset()
            assert np.array_equal(obs, plain.reset()[0])
            played = game.noop  # a new episode starts from the no-op (MinAtar would keep the last action)
            assert game.last_action[0] == game.noop
    assert repeats > 500


@pytest.mark.parametrize("env_id", STICKY_IDS)
def test_vector_env_with_sticky_actions_matches_single_envs(env_id):
    counts = assert_vector_matches_singles(env_id, 16, 400, seed=3, action_seed=4, max_episode_steps=50,
                                           sticky_action_prob=0.5)
    assert counts["terminations"] + counts["truncations"] >= 16 * 7  # each copy: <= 50 steps and an autoreset step
