"""Making the vector env a deep agent collects from, and keeping episode statistics under next-step autoreset.

Registered ids with a native vector entry point (every mdparcade id, CartPole-v1) get it; any other id gets
Gymnasium's SyncVectorEnv; a user's own `gymnasium.Env` or `VectorEnv` is used as it is.
"""

from __future__ import annotations

import copy
from collections import deque

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode, SyncVectorEnv, VectorEnv

from envs import resolve_env_id


def make_vector_env(env, num_envs: int, env_kwargs: dict | None = None) -> tuple[VectorEnv, str | None]:
    """(vector env, registered id or None) for an id string, a `gymnasium.Env` or a `VectorEnv`.

    An id uses its native vector entry point when it has one, else SyncVectorEnv of `num_envs` copies.
    A single Env becomes a SyncVectorEnv of itself and `num_envs - 1` deep copies. A VectorEnv is taken as it
    is (its own number of copies); it must autoreset in next-step mode, as Gymnasium's vector envs do.
    """
    if int(num_envs) < 1:
        raise ValueError(f"num_envs must be >= 1, got {num_envs}")
    env_kwargs = dict(env_kwargs or {})
    if isinstance(env, str):
        env_id = resolve_env_id(env)
        native = gym.spec(env_id).vector_entry_point is not None
        mode = "vector_entry_point" if native else "sync"
        return gym.make_vec(env_id, num_envs=int(num_envs), vectorization_mode=mode, **env_kwargs), env_id
    if env_kwargs:
        raise ValueError("env_kwargs apply only when the env is given by id")
    if isinstance(env, VectorEnv):
        mode = env.metadata.get("autoreset_mode", AutoresetMode.NEXT_STEP)
        if mode != AutoresetMode.NEXT_STEP:
            raise ValueError(f"the vector env autoresets in {mode} mode; deep agents need next-step autoreset "
                             "(Gymnasium's default)")
        return env, (env.spec.id if env.spec is not None else None)
    if isinstance(env, gym.Env):
        copies = [env] + [copy.deepcopy(env) for _ in range(int(num_envs) - 1)]
        vec = SyncVectorEnv([(lambda e=e: e) for e in copies])
        return vec, (env.spec.id if env.spec is not None else None)
    raise ValueError(f"env must be an env id, a gymnasium.Env or a gymnasium VectorEnv, got {type(env).__name__}")


def restart_seed(seed: int | None, num_timesteps: int) -> int | None:
    """The seed the envs restart from at step `num_timesteps` of a run seeded `seed` (None stays None).

    Training restarts its envs at the start of `learn` and at every resume checkpoint from this seed, so a run
    resumed from a checkpoint sees the same episodes as the run that wrote it.
    """
    if seed is None:
        return None
    return int(np.random.SeedSequence([int(seed), int(num_timesteps)]).generate_state(1)[0] >> 1)


class EpisodeTracker:
    """Returns and lengths of the episodes that end in a vector env, under next-step autoreset.

    `update(rewards, terminated, truncated)` after every vector step; the step after a copy's episode ends is
    its reset step (reward 0), which starts the next episode and is not counted.
    """

    def __init__(self, num_envs: int, window: int = 100):
        self.returns = np.zeros(num_envs)
        self.lengths = np.zeros(num_envs, dtype=np.int64)
        self.resetting = np.zeros(num_envs, dtype=bool)
        self.recent_returns: deque[float] = deque(maxlen=window)
        self.recent_lengths: deque[int] = deque(maxlen=window)
        self.episodes = 0

    def restart(self) -> None:
        """All copies were just reset by hand: drop the episodes in flight."""
        self.returns[:] = 0.0
        self.lengths[:] = 0
        self.resetting[:] = False

    def update(self, rewards: np.ndarray, terminated: np.ndarray, truncated: np.ndarray) -> np.ndarray:
        """Count one vector step; returns the mask of copies whose step was a real transition (not a reset)."""
        real = ~self.resetting
        self.returns += np.where(real, rewards, 0.0)
        self.lengths += real
        done = (terminated | truncated) & real
        if done.any():
            self.recent_returns.extend(self.returns[done].tolist())
            self.recent_lengths.extend(self.lengths[done].tolist())
            self.episodes += int(done.sum())
            self.returns[done] = 0.0
            self.lengths[done] = 0
        self.resetting = done
        return real

    def mean_return(self) -> float:
        return float(np.mean(self.recent_returns)) if self.recent_returns else float("nan")
