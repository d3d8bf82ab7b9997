"""Turning observations into net inputs: one-hot for Discrete, float (C, H, W) boards for CNNs, flat floats
otherwise; and the running mean and variance that optional observation normalization divides by.
"""

from __future__ import annotations

import numpy as np
import torch
from gymnasium import spaces


class ObservationEncoder:
    """Net input for a single observation space.

    kind "discrete": Discrete(n) -> one-hot float (n,); "image": Box of shape (C, H, W) -> float (C, H, W), for
    `nets.cnn`; "vector": any other Box -> float, flattened. `storage_dtype` is what buffers keep (uint8 boards
    stay uint8, Discrete obs stay int64 indices), `encode` turns a batch of those into float32 on the device.
    """

    def __init__(self, space: spaces.Space):
        if isinstance(space, spaces.Discrete):
            self.kind, self.shape = "discrete", (int(space.n),)
            self.storage_shape, self.storage_dtype = (), np.int64
            self.offset = int(space.start)
        elif isinstance(space, spaces.Box) and len(space.shape) == 3:
            self.kind, self.shape = "image", tuple(int(v) for v in space.shape)
            self.storage_shape, self.storage_dtype = self.shape, space.dtype
        elif isinstance(space, spaces.Box):
            self.kind, self.shape = "vector", (int(np.prod(space.shape)),)
            self.storage_shape, self.storage_dtype = tuple(int(v) for v in space.shape), np.float32
        else:
            raise ValueError(f"deep agents take Discrete or Box observations, got {space!r}")
        self.space = space

    @property
    def flat_dim(self) -> int:
        return int(np.prod(self.shape))

    def is_batch(self, obs: np.ndarray) -> bool:
        """True for a batch of observations, False for one; anything else is a ValueError naming the shape."""
        if obs.shape == self.storage_shape:
            return False
        if obs.shape[1:] == self.storage_shape:
            return True
        raise ValueError(f"observation of shape {obs.shape} does not match the space {self.space} "
                         f"(expected {self.storage_shape} or (N, *{self.storage_shape}))")

    def to_storage(self, obs) -> np.ndarray:
        """A batch of raw observations as the dtype buffers keep."""
        return np.asarray(obs, dtype=self.storage_dtype)

    def encode(self, batch: np.ndarray | torch.Tensor, device: torch.device) -> torch.Tensor:
        """(N, *storage_shape) observations -> (N, *shape) float32 net input on `device`."""
        batch = torch.as_tensor(batch, device=device)
        if self.kind == "discrete":
            index = batch.long() - self.offset
            if index.numel() and (index.min() < 0 or index.max() >= self.shape[0]):
                raise ValueError(f"Discrete observation out of range [{self.offset}, {self.offset + self.shape[0]})")
            return torch.nn.functional.one_hot(index, self.shape[0]).float()
        batch = batch.float()
        return batch if self.kind == "image" else batch.reshape(batch.shape[0], -1)

    def describe(self) -> dict:
        """Plain values that rebuild the space with `space_from_description`."""
        return describe_space(self.space)


def describe_space(space: spaces.Space) -> dict:
    """A Discrete or Box space as plain values (for checkpoints read with weights_only=True)."""
    if isinstance(space, spaces.Discrete):
        return {"type": "Discrete", "n": int(space.n), "start": int(space.start)}
    if isinstance(space, spaces.Box):
        return {"type": "Box", "low": space.low.tolist(), "high": space.high.tolist(), "dtype": str(space.dtype)}
    raise ValueError(f"cannot describe space {space!r}")


def space_from_description(description: dict) -> spaces.Space:
    if description["type"] == "Discrete":
        return spaces.Discrete(description["n"], start=description["start"])
    dtype = np.dtype(description["dtype"])
    return spaces.Box(np.array(description["low"], dtype=dtype), np.array(description["high"], dtype=dtype),
                      dtype=dtype)


class RunningNormalizer:
    """Each member's running mean and variance of a stream (parallel Welford, as stable-baselines3's
    RunningMeanStd, which starts its count at 1e-4), and x -> clip((x - mean) / sqrt(var + 1e-8), +-clip).

    Statistics have a leading member axis (K, *shape); `update` takes (K, N, *shape), one batch per member.
    Observation statistics are part of the model: saved with it and used, frozen, by `predict`.
    """

    def __init__(self, shape: tuple[int, ...], members: int = 1, clip: float = 10.0, epsilon: float = 1e-8,
                 initial_count: float = 1e-4):
        self.mean = np.zeros((members, *shape))
        self.var = np.ones((members, *shape))
        self.count = float(initial_count)
        self.clip = clip
        self.epsilon = epsilon

    def update(self, batch: np.ndarray) -> None:
        batch_mean, batch_var, n = batch.mean(axis=1), batch.var(axis=1), batch.shape[1]
        delta = batch_mean - self.mean
        total = self.count + n
        self.mean = self.mean + delta * n / total
        self.var = (self.var * self.count + batch_var * n + delta**2 * self.count * n / total) / total
        self.count = total

    def normalize(self, batch: np.ndarray) -> np.ndarray:
        """(K, B, *shape) -> float32, each member's rows by its own statistics."""
        shape = (self.mean.shape[0], 1, *self.mean.shape[1:])
        scaled = (batch - self.mean.reshape(shape)) / np.sqrt(self.var.reshape(shape) + self.epsilon)
        return np.clip(scaled, -self.clip, self.clip).astype(np.float32)

    def normalize_rows(self, rows: np.ndarray, members: np.ndarray) -> np.ndarray:
        """(R, *shape) observations, row r belonging to member members[r] -> float32 normalized rows."""
        scaled = (rows - self.mean[members]) / np.sqrt(self.var[members] + self.epsilon)
        return np.clip(scaled, -self.clip, self.clip).astype(np.float32)

    def state_dict(self, members=None) -> dict:
        rows = slice(None) if members is None else list(members)
        return {"mean": torch.from_numpy(self.mean[rows].copy()), "var": torch.from_numpy(self.var[rows].copy()),
                "count": float(self.count), "clip": float(self.clip)}

    def load_state_dict(self, state: dict) -> None:
        self.mean, self.var = state["mean"].numpy().copy(), state["var"].numpy().copy()
        self.count, self.clip = float(state["count"]), float(state["clip"])


class ReturnNormalizer:
    """Reward scaling of stable-baselines3's VecNormalize (rl-zoo's `normalize: true`), per member: rewards are
    divided by the running standard deviation of each copy's discounted return and clipped to +-10.

        R <- gamma R + r;  update the variance with R;  r' = clip(r / sqrt(var + 1e-8), -10, 10);  R <- 0 at ends
    """

    def __init__(self, members: int, num_envs: int, gamma: float, clip: float = 10.0):
        self.statistics = RunningNormalizer((), members, clip=clip)
        self.returns = np.zeros((members, num_envs))
        self.gamma = gamma

    def __call__(self, rewards: np.ndarray, done: np.ndarray) -> np.ndarray:
        """(K * N,) raw rewards and episode ends -> (K * N,) scaled rewards (float32); updates the statistics."""
        shape = self.returns.shape
        self.returns = self.returns * self.gamma + rewards.reshape(shape)
        self.statistics.update(self.returns)
        std = np.sqrt(self.statistics.var + self.statistics.epsilon)[:, None]
        scaled = np.clip(rewards.reshape(shape) / std, -self.statistics.clip, self.statistics.clip)
        self.returns[done.reshape(shape)] = 0.0
        return scaled.reshape(-1).astype(np.float32)

    def state_dict(self, members=None) -> dict:
        rows = slice(None) if members is None else list(members)
        return {"statistics": self.statistics.state_dict(members),
                "returns": torch.from_numpy(self.returns[rows].copy())}

    def load_state_dict(self, state: dict) -> None:
        self.statistics.load_state_dict(state["statistics"])
        self.returns = state["returns"].numpy().copy()
