"""Catch's rules, checked on hand-computed episodes."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import envs  # noqa: F401  (registers the ids)
from envs.catch import CatchGame

LEFT, STAY, RIGHT = 0, 1, 2


def positions(obs: np.ndarray) -> tuple[int, tuple[int, int]]:
    """(paddle column, (ball row, ball column)) read off a (2, 10, 5) observation."""
    assert obs[0, :9].sum() == 0 and obs[0, 9].sum() == 1 and obs[1].sum() == 1
    ball_row, ball_col = np.argwhere(obs[1])[0]
    return int(np.argmax(obs[0, 9])), (int(ball_row), int(ball_col))


def play_episode(env: gym.Env, seed: int, policy) -> tuple[list[float], list[bool], int]:
    obs, _ = env.reset(seed=seed)
    rewards, terminations = [], []
    while not (terminations and terminations[-1]):
        obs, reward, terminated, truncated, info = env.step(policy(obs))
        assert not truncated
        rewards.append(reward)
        terminations.append(terminated)
    return rewards, terminations, info["score"]


def test_reset_puts_ball_on_the_top_row_and_paddle_in_the_middle_and_every_column_occurs():
    env = gym.make("mdparcade/Catch-v0")
    start_columns = set()
    for seed in range(40):
        obs, info = env.reset(seed=seed)
        paddle, (ball_row, ball_col) = positions(obs)
        assert (paddle, ball_row, info["score"]) == (2, 0, 0)
        start_columns.add(ball_col)
    assert start_columns == {0, 1, 2, 3, 4}
    assert env.observation_space == gym.spaces.Box(0, 1, (2, 10, 5), np.uint8)
    assert env.action_space == gym.spaces.Discrete(3)


def test_ball_falls_one_row_per_step_and_paddle_follows_actions():
    env = gym.make("mdparcade/Catch-v0")
    obs, _ = env.reset(seed=0)
    _, (_, ball_col) = positions(obs)
    expected_paddle = 2
    for row, action in enumerate([LEFT, LEFT, LEFT, RIGHT, STAY, RIGHT, RIGHT, RIGHT], start=1):
        obs, reward, terminated, _, _ = env.step(action)
        expected_paddle = min(4, max(0, expected_paddle + action - 1))
        assert positions(obs) == (expected_paddle, (row, ball_col))
        assert (reward, terminated) == (0.0, False)
    assert expected_paddle == 4  # 3 without the wall that stopped the paddle at 0


@pytest.mark.parametrize("seed", range(6))
def test_following_the_ball_catches_it_for_plus_one_after_nine_steps(seed):
    def follow(obs):
        paddle, (_, ball_col) = positions(obs)
        return int(np.sign(ball_col - paddle)) + 1

    rewards, terminations, score = play_episode(gym.make("mdparcade/Catch-v0"), seed, follow)
    assert rewards == [0.0] * 8 + [1.0]
    assert terminations == [False] * 8 + [True]
    assert score == 1


@pytest.mark.parametrize("seed", range(6))
def test_staying_put_wins_only_when_the_ball_starts_in_the_middle(seed):
    env = gym.make("mdparcade/Catch-v0")
    _, (_, ball_col) = positions(env.reset(seed=seed)[0])
    rewards, _, score = play_episode(env, seed, lambda obs: STAY)
    expected = 1.0 if ball_col == 2 else -1.0
    assert rewards == [0.0] * 8 + [expected] and score == expected


def test_running_away_from_the_ball_misses_for_minus_one():
    env = gym.make("mdparcade/Catch-v0")
    for seed in range(10):
        _, (_, ball_col) = positions(env.reset(seed=seed)[0])
        away = RIGHT if ball_col < 2 else LEFT
        rewards, terminations, score = play_episode(env, seed, lambda obs, away=away: away)
        assert rewards[-1] == -1.0 and sum(rewards) == -1.0 and score == -1 and len(rewards) == 9


def test_core_steps_many_copies_and_stays_in_range_after_landing():
    game = CatchGame(num_envs=3)
    everyone = np.ones(3, dtype=bool)
    game.seed(everyone, np.array([1, 2, 3], dtype=np.uint64))
    game.reset(everyone)
    game.ball_col[:] = [0, 2, 4]
    for _ in range(9):
        reward, terminated = game.step(np.array([LEFT, STAY, RIGHT]))
    assert reward.tolist() == [1.0, 1.0, 1.0] and terminated.all()
    assert reward.dtype == np.float32 and terminated.dtype == np.bool_
    game.step(np.array([RIGHT, RIGHT, RIGHT]))  # total: a landed ball stays on the board
    obs = game.observe()
    assert obs.shape == (3, 2, 10, 5) and (obs.sum(axis=(2, 3)) == 1).all()
    assert game.counters.tolist() == [11, 11, 11]  # one for the reset, one per step
