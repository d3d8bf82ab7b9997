"""Replay buffers per member and GAE's arithmetic: storage dtypes as documented, lock-step writes, each member
sampling its own rows with its own generator, and the advantage computed in float64."""

from __future__ import annotations

import numpy as np
import torch

from agents.buffers import ReplayBuffer, compute_gae


def test_gae_is_float64_for_float32_values_and_matches_a_hand_computation():
    rewards = np.array([[1.0], [0.0]], dtype=np.float32)
    values = np.array([[0.5], [0.25]], dtype=np.float32)
    ended = np.zeros((2, 1), bool)
    advantages = compute_gae(rewards, values, np.array([1.0], np.float32), ended, ended, np.zeros((2, 1)),
                             gamma=0.5, gae_lambda=0.5)
    assert advantages.dtype == np.float64
    # delta_1 = 0 + 0.5 * 1 - 0.25 = 0.25; delta_0 = 1 + 0.5 * 0.25 - 0.5 = 0.625; A_0 = 0.625 + 0.25 * 0.25
    np.testing.assert_array_equal(advantages, [[0.6875], [0.25]])


def test_gae_bootstraps_from_float32_last_values_in_float64():
    # One step: A = r + gamma * V(s_T) - V(s_0) = 0.99, computed in float64 (float32 would give 0.99000001).
    never = np.zeros((1, 1), bool)
    advantages = compute_gae(np.zeros((1, 1)), np.zeros((1, 1), np.float32), np.ones(1, np.float32), never, never,
                             np.zeros((1, 1)), gamma=0.99, gae_lambda=0.95)
    assert advantages[0, 0] == 0.99


def test_replay_buffer_keeps_boards_uint8_and_members_apart():
    buffer = ReplayBuffer(2, 4, (2, 2), np.uint8)
    assert buffer.obs.shape == (2, 4, 2, 2) and buffer.obs.dtype == buffer.next_obs.dtype == np.uint8
    assert buffer.rewards.dtype == np.float32 and buffer.actions.dtype == np.int64
    obs = np.arange(24, dtype=np.uint8).reshape(2, 3, 2, 2)  # (K, N, ...): 3 copies per member
    buffer.add(obs, np.array([[0, 1, 2], [3, 4, 5]]), np.array([[0.5, 1.5, 2.5], [3.5, 4.5, 5.5]]), obs + 1,
               np.array([[False, True, False], [True, False, False]]))
    assert buffer.size == 3 and buffer.position == 3
    np.testing.assert_array_equal(buffer.obs[1, 2], obs[1, 2])
    assert buffer.actions[1].tolist()[:3] == [3, 4, 5] and buffer.terminated[0, 1]
    buffer.add(obs[:, :2], np.zeros((2, 2), int), np.zeros((2, 2)), obs[:, :2], np.zeros((2, 2), bool))
    assert buffer.size == 4 and buffer.position == 1  # wrapped around: row 0 overwritten
    np.testing.assert_array_equal(buffer.obs[0, 0], obs[0, 1])


def test_each_member_samples_with_its_own_generator():
    buffer = ReplayBuffer(2, 10, (1,), np.float32)
    buffer.add(np.zeros((2, 10, 1)), np.zeros((2, 10), int), np.zeros((2, 10)), np.zeros((2, 10, 1)),
               np.zeros((2, 10), bool))
    rngs = [np.random.default_rng(3), np.random.default_rng(4)]
    index = buffer.sample_indices(rngs, 6)
    np.testing.assert_array_equal(index[0], np.random.default_rng(3).integers(0, 10, size=6))
    np.testing.assert_array_equal(index[1], np.random.default_rng(4).integers(0, 10, size=6))


def test_replay_state_of_one_member_loads_into_a_buffer_of_one():
    buffer = ReplayBuffer(3, 5, (2,), np.float32)
    rng = np.random.default_rng(0)
    buffer.add(rng.normal(size=(3, 2, 2)), rng.integers(2, size=(3, 2)), rng.normal(size=(3, 2)),
               rng.normal(size=(3, 2, 2)), rng.random((3, 2)) < 0.5)
    state = buffer.state_dict([2])
    assert isinstance(state["obs"], torch.Tensor) and state["obs"].shape == (1, 2, 2)
    alone = ReplayBuffer(1, 5, (2,), np.float32)
    alone.load_state_dict(state)
    np.testing.assert_array_equal(alone.obs[0, :2], buffer.obs[2, :2])
    assert (alone.size, alone.position) == (2, 2)
