"""Evaluation on a separate env: a fixed number of episodes on fixed seeds, one per env copy, so every agent
(ours or stable-baselines3's) is scored on exactly the same episodes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from agents.vector_env import make_vector_env

#: Evaluation episodes are seeded from here (copy i gets EVAL_SEED + i), far from training seeds.
EVAL_SEED = 1_000_000


@dataclass(frozen=True)
class Evaluation:
    """Returns and lengths of the evaluation episodes, in seed order."""

    returns: np.ndarray
    lengths: np.ndarray

    @property
    def mean(self) -> float:
        return float(self.returns.mean())

    @property
    def std(self) -> float:
        return float(self.returns.std())


def evaluate(predict: Callable[[np.ndarray], np.ndarray], env, episodes: int = 10, seed: int = EVAL_SEED,
             env_kwargs: dict | None = None, max_steps: int = 1_000_000) -> Evaluation:
    """Play `episodes` episodes, one in each copy of a vector env seeded `seed` (copy i: seed + i), choosing
    actions for the whole batch with `predict(obs_batch) -> actions` (for an agent:
    `lambda obs: agent.predict(obs, deterministic=True)[0]`). env: an id, an Env or a VectorEnv of
    `episodes` copies. Each copy's first episode counts; `max_steps` guards against an env that never ends.
    """
    if int(episodes) < 1:
        raise ValueError(f"episodes must be >= 1, got {episodes}")
    vec_env, _ = make_vector_env(env, int(episodes), env_kwargs)
    if vec_env.num_envs != int(episodes):
        raise ValueError(f"the evaluation env has {vec_env.num_envs} copies; it needs one per episode ({episodes})")
    returns = np.zeros(episodes)
    lengths = np.zeros(episodes, dtype=np.int64)
    running = np.ones(episodes, dtype=bool)
    obs, _ = vec_env.reset(seed=int(seed))
    for _ in range(max_steps):
        obs, rewards, terminated, truncated, _ = vec_env.step(np.asarray(predict(obs)))
        returns += np.where(running, rewards, 0.0)
        lengths += running
        running &= ~(terminated | truncated)
        if not running.any():
            break
    else:
        raise RuntimeError(f"evaluation episodes did not end within {max_steps} steps")
    vec_env.close()
    return Evaluation(returns, lengths)
