"""Rollout storage with generalized advantage estimation (on-policy agents) and a circular replay buffer (DQN).

Both keep `terminated` and `truncated` apart and never train on the reset step that next-step autoreset
inserts after an episode ends.
"""

from __future__ import annotations

import numpy as np
import torch


def compute_gae(rewards: np.ndarray, values: np.ndarray, last_values: np.ndarray, terminated: np.ndarray,
                truncated: np.ndarray, valid: np.ndarray, gamma: float, gae_lambda: float) -> np.ndarray:
    """Advantages A_t (T, N) by GAE (Schulman et al. 2016), for a rollout of T steps of N copies.

        delta_t = r_t + gamma * V(s_{t+1}) * (1 - terminated_t) - V(s_t)
        A_t     = delta_t + gamma * lambda * (1 - done_t) * A_{t+1},   done_t = terminated_t or truncated_t

    values (T, N): V(s_t); last_values (N,): V(s_T) after the rollout. Under next-step autoreset the
    observation after a step that ends an episode is that episode's last real observation, so V(s_{t+1}) is
    what a truncated episode bootstraps from, and a terminated one does not. `valid` (T, N) is False on the
    reset steps that follow an end: their advantage is 0 and nothing flows across them.
    """
    steps = rewards.shape[0]
    advantages = np.zeros_like(values, dtype=np.float64)
    next_value = np.asarray(last_values, dtype=np.float64)
    next_advantage = np.zeros_like(next_value)
    for t in range(steps - 1, -1, -1):
        bootstrap = np.where(terminated[t], 0.0, next_value)
        delta = rewards[t] + gamma * bootstrap - values[t]
        ended = terminated[t] | truncated[t]
        advantage = delta + gamma * gae_lambda * np.where(ended, 0.0, next_advantage)
        advantages[t] = np.where(valid[t], advantage, 0.0)
        next_value, next_advantage = values[t], advantages[t]
    return advantages


class RolloutBuffer:
    """(T, N) storage allocated once: observations in their storage dtype and the policy's outputs on the
    device; rewards and episode ends in numpy for the advantage computation."""

    def __init__(self, num_steps: int, num_envs: int, obs_shape: tuple[int, ...], obs_dtype, action_shape: tuple,
                 action_dtype: torch.dtype, device: torch.device):
        self.num_steps, self.num_envs = num_steps, num_envs
        torch_obs_dtype = torch.from_numpy(np.zeros(0, dtype=obs_dtype)).dtype
        self.obs = torch.zeros((num_steps, num_envs, *obs_shape), dtype=torch_obs_dtype, device=device)
        self.actions = torch.zeros((num_steps, num_envs, *action_shape), dtype=action_dtype, device=device)
        self.log_probs = torch.zeros((num_steps, num_envs), device=device)
        self.values = torch.zeros((num_steps, num_envs), device=device)
        self.rewards = np.zeros((num_steps, num_envs))
        self.terminated = np.zeros((num_steps, num_envs), dtype=bool)
        self.truncated = np.zeros((num_steps, num_envs), dtype=bool)
        self.valid = np.zeros((num_steps, num_envs), dtype=bool)

    def flat(self, tensor: torch.Tensor) -> torch.Tensor:
        """(T, N, ...) -> (T * N, ...) view."""
        return tensor.reshape(self.num_steps * self.num_envs, *tensor.shape[2:])


class ReplayBuffer:
    """A circular buffer of (obs, action, reward, next_obs, terminated), preallocated in numpy.

    Boards stay uint8. `add` takes one vector step and keeps the rows where `valid` (not a reset step).
    """

    def __init__(self, capacity: int, obs_shape: tuple[int, ...], obs_dtype):
        self.capacity = int(capacity)
        self.obs = np.zeros((self.capacity, *obs_shape), dtype=obs_dtype)
        self.next_obs = np.zeros((self.capacity, *obs_shape), dtype=obs_dtype)
        self.actions = np.zeros(self.capacity, dtype=np.int64)
        self.rewards = np.zeros(self.capacity, dtype=np.float32)
        self.terminated = np.zeros(self.capacity, dtype=bool)
        self.position = 0
        self.size = 0

    def add(self, obs, actions, rewards, next_obs, terminated, valid) -> None:
        rows = np.flatnonzero(valid)
        if rows.size == 0:
            return
        index = (self.position + np.arange(rows.size)) % self.capacity
        self.obs[index] = obs[rows]
        self.next_obs[index] = next_obs[rows]
        self.actions[index] = actions[rows]
        self.rewards[index] = rewards[rows]
        self.terminated[index] = terminated[rows]
        self.position = int((self.position + rows.size) % self.capacity)
        self.size = min(self.size + rows.size, self.capacity)

    def sample(self, batch_size: int, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
        index = rng.integers(0, self.size, size=batch_size)
        return self.obs[index], self.actions[index], self.rewards[index], self.next_obs[index], self.terminated[index]

    def state_dict(self) -> dict:
        """The filled part as tensors, for a resume checkpoint."""
        n = self.size
        return {"obs": torch.from_numpy(self.obs[:n].copy()), "next_obs": torch.from_numpy(self.next_obs[:n].copy()),
                "actions": torch.from_numpy(self.actions[:n].copy()),
                "rewards": torch.from_numpy(self.rewards[:n].copy()),
                "terminated": torch.from_numpy(self.terminated[:n].copy()),
                "position": self.position, "size": self.size}

    def load_state_dict(self, state: dict) -> None:
        n = int(state["size"])
        for name in ("obs", "next_obs", "actions", "rewards", "terminated"):
            getattr(self, name)[:n] = state[name].numpy()
        self.position, self.size = int(state["position"]), n
