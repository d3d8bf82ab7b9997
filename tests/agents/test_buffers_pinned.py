"""Rollout and replay buffers: storage dtypes as documented, and a vector step with a single valid row."""

from __future__ import annotations

import numpy as np
import torch

from agents.buffers import ReplayBuffer, RolloutBuffer, compute_gae


def test_gae_is_float64_for_float32_values_and_matches_a_hand_computation():
    rewards = np.array([[1.0], [0.0]], dtype=np.float32)
    values = np.array([[0.5], [0.25]], dtype=np.float32)
    ended = np.zeros((2, 1), bool)
    advantages = compute_gae(rewards, values, np.array([1.0], np.float32), ended, ended, np.ones((2, 1), bool),
                             gamma=0.5, gae_lambda=0.5)
    assert advantages.dtype == np.float64
    # delta_1 = 0 + 0.5 * 1 - 0.25 = 0.25; delta_0 = 1 + 0.5 * 0.25 - 0.5 = 0.625; A_0 = 0.625 + 0.25 * 0.25
    np.testing.assert_array_equal(advantages, [[0.6875], [0.25]])


def test_rollout_buffer_keeps_the_storage_dtypes():
    buffer = RolloutBuffer(3, 2, (4,), np.uint8, (), torch.int64, torch.device("cpu"))
    assert buffer.obs.dtype == torch.uint8 and buffer.obs.shape == (3, 2, 4)
    assert buffer.actions.dtype == torch.int64 and buffer.actions.shape == (3, 2)
    assert buffer.log_probs.dtype == torch.float32 and buffer.values.shape == (3, 2)
    assert buffer.terminated.dtype == buffer.truncated.dtype == buffer.valid.dtype == np.bool_
    assert buffer.flat(buffer.obs).shape == (6, 4)


def test_replay_buffer_keeps_boards_uint8_and_stores_a_single_valid_row():
    buffer = ReplayBuffer(4, (2, 2), np.uint8)
    assert buffer.obs.dtype == buffer.next_obs.dtype == np.uint8 and buffer.rewards.dtype == np.float32
    obs = np.arange(12, dtype=np.uint8).reshape(3, 2, 2)
    buffer.add(obs, np.array([0, 1, 2]), np.array([0.5, 1.5, 2.5]), obs + 1, np.array([False, True, False]),
               valid=np.array([False, True, False]))
    assert buffer.size == 1 and buffer.position == 1
    np.testing.assert_array_equal(buffer.obs[0], obs[1])
    assert buffer.actions[0] == 1 and buffer.rewards[0] == 1.5 and buffer.terminated[0]
    sampled = buffer.sample(5, np.random.default_rng(0))
    assert (sampled[1] == 1).all()  # only one row to draw from


def test_gae_bootstraps_from_float32_last_values_in_float64():
    # One step: A = r + gamma * V(s_T) - V(s_0) = 0.99, computed in float64 (float32 would give 0.99000001).
    advantages = compute_gae(np.zeros((1, 1)), np.zeros((1, 1), np.float32), np.ones(1, np.float32),
                             np.zeros((1, 1), bool), np.zeros((1, 1), bool), np.ones((1, 1), bool),
                             gamma=0.99, gae_lambda=0.95)
    assert advantages[0, 0] == 0.99
