"""The contract every arcade game's rules meet: one batched numpy core that steps N copies at once.

The single env is the N = 1 case of the same core; the vector env is the N > 1 case (see envs/arcade.py).
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np


def move_paddle_(paddle: np.ndarray, actions: np.ndarray, width: int) -> np.ndarray:
    """Move paddles (int64 (N,), in place) by actions 0 LEFT, 1 STAY, 2 RIGHT; they stop at the walls."""
    paddle += actions
    paddle -= 1
    np.maximum(paddle, 0, out=paddle)  # np.clip costs more per call than these two
    np.minimum(paddle, width - 1, out=paddle)
    return paddle


class BatchedGame(ABC):
    """Rules of one game for N copies. Every state array has a leading axis of length N.

    Randomness: copy i draws only from `envs.rng` with key `self.keys[i]` and counter `self.counters[i]`
    (use distinct `stream=` numbers for the several draws of one call). Each call of `reset` advances the
    counters of the copies it resets by exactly 1, each call of `step` advances every copy's counter by
    exactly 1. So copy i's draws depend only on its key and its own history, and N copies stepped together
    give bit-for-bit what N single envs give.

    `score[i]` is copy i's score in its current episode, as the game counts points (shown when rendering and
    returned in info["score"]); `reset` zeroes it for the copies it resets and `step` updates it.

    `step` must be total: well defined (no exception, no out-of-range index) for every copy, even one that
    has just terminated; the vector env discards such a copy's results and resets it.

    State lives in public numpy arrays with a leading axis of length N (`keys`, `counters`, `score` and the
    game's own); arrays derived from N alone (offsets into the observation) are private (leading underscore).
    `state_dict` saves exactly the public per-copy arrays, so a checkpoint can continue every copy's episode.
    """

    #: Names of the Discrete actions, in action-index order.
    action_meanings: tuple[str, ...] = ()
    #: Names of the observation channels (C of the C x H x W uint8 grid).
    channel_names: tuple[str, ...] = ()
    #: RGB colour of each channel when drawn as pixel art (later channels paint over earlier ones).
    channel_colors: tuple[tuple[int, int, int], ...] = ()
    #: Largest value an observation cell takes (the Box high); 1 for 0/1 planes.
    observation_high: int = 1
    #: Steps per second when a person plays it (the env's metadata["render_fps"]).
    render_fps: int = 10

    def __init__(self, num_envs: int, height: int, width: int):
        if num_envs < 1:
            raise ValueError(f"num_envs must be >= 1, got {num_envs}")
        self.num_envs = int(num_envs)
        self.height = int(height)
        self.width = int(width)
        self.keys = np.zeros(self.num_envs, dtype=np.uint64)
        self.counters = np.zeros(self.num_envs, dtype=np.uint64)
        self.score = np.zeros(self.num_envs, dtype=np.int64)

    @property
    def obs_shape(self) -> tuple[int, int, int]:
        return (len(self.channel_names), self.height, self.width)

    @property
    def num_actions(self) -> int:
        return len(self.action_meanings)

    def seed(self, mask: np.ndarray, keys: np.ndarray) -> None:
        """Give the copies where `mask` (bool, (N,)) new keys (uint64, (mask.sum(),)); zero their counters."""
        self.keys[mask] = keys
        self.counters[mask] = 0

    def state_arrays(self) -> list[str]:
        """Names of the per-copy state arrays: public ndarray attributes with a leading axis of length N."""
        return sorted(name for name, value in vars(self).items() if not name.startswith("_")
                      and isinstance(value, np.ndarray) and value.ndim >= 1 and value.shape[0] == self.num_envs)

    def state_dict(self, copies=None) -> dict[str, np.ndarray]:
        """Copies of the state arrays, all copies or the rows `copies` (index array or list)."""
        rows = slice(None) if copies is None else np.asarray(copies, dtype=np.int64)
        return {name: getattr(self, name)[rows].copy() for name in self.state_arrays()}

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Set every state array from `state_dict()` output of the same game with the same N."""
        names = self.state_arrays()
        if sorted(state) != names:
            raise ValueError(f"game state holds {sorted(state)}, this game has {names}")
        for name in names:
            value = np.asarray(state[name])
            target = getattr(self, name)
            if value.shape != target.shape:
                raise ValueError(f"game state {name} has shape {value.shape}, expected {target.shape}")
            target[...] = value

    @abstractmethod
    def reset(self, mask: np.ndarray) -> None:
        """Start a new episode in the copies where `mask` (bool, (N,)); advance their counters by 1."""

    @abstractmethod
    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Advance every copy by one move. actions: int64 (N,) already range-checked.

        Returns (reward float32 (N,), terminated bool (N,)) as new arrays (the vector env edits them in place
        for copies it resets); advances every counter by 1.
        """

    @abstractmethod
    def observe(self) -> np.ndarray:
        """The observation of every copy: uint8 (N, C, H, W) with values 0..observation_high.

        Returns a new array the caller owns (not a buffer reused by the next call): wrappers hand it to users
        who keep observations, e.g. in a replay buffer.
        """
