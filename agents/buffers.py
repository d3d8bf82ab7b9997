"""Advantages by generalized advantage estimation (on-policy agents) and each member's circular replay buffer
(DQN).

Copies autoreset in the same step (agents/vector_env.py), so every stored step is a real transition; a
truncated episode bootstraps from the value of its last observation, kept apart from the next episode's first.
"""

from __future__ import annotations

import numpy as np
import torch


def compute_gae(rewards: np.ndarray, values: np.ndarray, last_values: np.ndarray, terminated: np.ndarray,
                truncated: np.ndarray, final_values: np.ndarray, gamma: float, gae_lambda: float) -> np.ndarray:
    """Advantages A_t (T, M) by GAE (Schulman et al. 2016), for a rollout of T steps of M copies.

        delta_t = r_t + gamma * (1 - terminated_t) * V'_t - V(s_t)
        A_t     = delta_t + gamma * lambda * (1 - done_t) * A_{t+1},   done_t = terminated_t or truncated_t

    V'_t is the value of the observation that followed s_t in its episode: V(s_{t+1}) = values[t + 1] (or
    last_values (M,) after the last step) within an episode, final_values[t] (the value of the episode's last
    observation) where step t truncated it; where it terminated nothing is bootstrapped. stable-baselines3 adds
    gamma * V(last observation) to a truncated step's reward and then cuts there, which is the same sum.
    """
    steps = rewards.shape[0]
    advantages = np.zeros(values.shape, dtype=np.float64)
    following = np.zeros(values.shape[1:], dtype=np.float64)
    for t in range(steps - 1, -1, -1):
        next_value = np.asarray(last_values, dtype=np.float64) if t == steps - 1 else values[t + 1]
        next_value = np.where(truncated[t], final_values[t], next_value)
        delta = rewards[t] + gamma * np.where(terminated[t], 0.0, next_value) - values[t]
        following = delta + gamma * gae_lambda * np.where(terminated[t] | truncated[t], 0.0, following)
        advantages[t] = following
    return advantages


class ReplayBuffer:
    """Each member's circular buffer of (obs, action, reward, next_obs, terminated), preallocated as (K,
    capacity, ...) numpy arrays; boards stay uint8. Members add in lock-step (N rows each per vector step), so
    they share the write position and size; each samples its own rows with its own generator."""

    def __init__(self, members: int, capacity: int, obs_shape: tuple[int, ...], obs_dtype):
        self.members, self.capacity = int(members), int(capacity)
        self.obs = np.zeros((self.members, self.capacity, *obs_shape), dtype=obs_dtype)
        self.next_obs = np.zeros_like(self.obs)
        self.actions = np.zeros((self.members, self.capacity), dtype=np.int64)
        self.rewards = np.zeros((self.members, self.capacity), dtype=np.float32)
        self.terminated = np.zeros((self.members, self.capacity), dtype=bool)
        self.position = 0
        self.size = 0

    def add(self, obs: np.ndarray, actions: np.ndarray, rewards: np.ndarray, next_obs: np.ndarray,
            terminated: np.ndarray) -> None:
        """Store one vector step: every argument (K, N, ...); next_obs of an ended episode is its last obs."""
        rows = obs.shape[1]
        index = (self.position + np.arange(rows)) % self.capacity
        self.obs[:, index] = obs
        self.next_obs[:, index] = next_obs
        self.actions[:, index] = actions
        self.rewards[:, index] = rewards
        self.terminated[:, index] = terminated
        self.position = int((self.position + rows) % self.capacity)
        self.size = min(self.size + rows, self.capacity)

    def sample_indices(self, rngs: list[np.random.Generator], count: int) -> np.ndarray:
        """(K, count) row indices, uniform with replacement over the filled rows, member k's from rngs[k]."""
        return np.stack([rng.integers(0, self.size, size=count) for rng in rngs])

    def gather(self, index: np.ndarray) -> tuple[np.ndarray, ...]:
        """(obs, actions, rewards, next_obs, terminated) at (K, count) indices, each (K, count, ...)."""
        members = np.arange(self.members)[:, None]
        return (self.obs[members, index], self.actions[members, index], self.rewards[members, index],
                self.next_obs[members, index], self.terminated[members, index])

    def state_dict(self, members=None) -> dict:
        """The filled rows of the listed members (all by default) as tensors, for a resume checkpoint."""
        rows = slice(None) if members is None else list(members)
        n = self.size
        return {name: torch.from_numpy(getattr(self, name)[rows, :n].copy())
                for name in ("obs", "next_obs", "actions", "rewards", "terminated")} | {
            "position": self.position, "size": self.size}

    def load_state_dict(self, state: dict) -> None:
        n = int(state["size"])
        for name in ("obs", "next_obs", "actions", "rewards", "terminated"):
            getattr(self, name)[:, :n] = state[name].numpy()
        self.position, self.size = int(state["position"]), n
