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
    (evaluation,) = evaluate_members(lambda obs: np.asarray(predict(obs[0]))[None], env, 1, episodes, seed,
                                     env_kwargs, max_steps)
    return evaluation


def evaluate_members(predict: Callable[[np.ndarray], np.ndarray], env, members: int, episodes: int = 10,
                     seed: int = EVAL_SEED, env_kwargs: dict | None = None,
                     max_steps: int = 1_000_000) -> list[Evaluation]:
    """`evaluate` for K members at once, each on the same episodes (its own vector env seeded `seed`), with one
    call of `predict(obs (K, episodes, ...)) -> actions (K, episodes)` per step (a population's `predict`)."""
    if int(episodes) < 1:
        raise ValueError(f"episodes must be >= 1, got {episodes}")
    made = [make_vector_env(env, int(episodes), env_kwargs)[0] for _ in range(int(members))]
    if any(vec_env.num_envs != int(episodes) for vec_env in made):
        raise ValueError(f"the evaluation env has {made[0].num_envs} copies; it needs one per episode ({episodes})")
    returns = np.zeros((members, episodes))
    lengths = np.zeros((members, episodes), dtype=np.int64)
    running = np.ones((members, episodes), dtype=bool)
    obs = np.stack([vec_env.reset(seed=int(seed))[0] for vec_env in made])
    for _ in range(max_steps):
        actions = np.asarray(predict(obs))
        steps = [vec_env.step(actions[k]) for k, vec_env in enumerate(made)]
        obs = np.stack([step[0] for step in steps])
        rewards, terminated, truncated = (np.stack([step[i] for step in steps]) for i in (1, 2, 3))
        returns += np.where(running, rewards, 0.0)
        lengths += running
        running &= ~(terminated | truncated)
        if not running.any():
            break
    else:
        raise RuntimeError(f"evaluation episodes did not end within {max_steps} steps")
    for vec_env in made:
        vec_env.close()
    return [Evaluation(returns[k], lengths[k]) for k in range(members)]
