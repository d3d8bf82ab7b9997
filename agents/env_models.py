"""An env's exact model, read once: its tables for the planners, its goal cells and step limit, and its optimal
solution, cached per (env id, env kwargs, gamma) so that a planner run, its exact scoring and a report's
reference all share one value iteration."""

from __future__ import annotations

import functools
import json

import gymnasium as gym
import numpy as np

from agents.exact_gap import ExactGap
from agents.planning import Model, PlanningResult, SparseMDP, value_iteration


def has_exact_model(env: gym.Env) -> bool:
    """Whether the env exposes an exact model (successor tables or a dense `env.unwrapped.mdp`)."""
    unwrapped = env.unwrapped
    return getattr(unwrapped, "transitions", None) is not None or getattr(unwrapped, "mdp", None) is not None


def step_limit(env: gym.Env, env_kwargs: dict) -> int | None:
    """The episode step limit: `max_episode_steps` given to gym.make, else the registered one (None: no limit)."""
    registered = env.spec.max_episode_steps if env.spec is not None else None
    return env_kwargs.get("max_episode_steps", registered)


def exact_model(env: gym.Env) -> Model:
    """The env's model for the planners: sparse from its successor tables when it has them (any size of
    map), else its dense `env.unwrapped.mdp`."""
    unwrapped = env.unwrapped
    table = getattr(unwrapped, "transitions", None)
    if table is not None:
        # cum holds cumulative probabilities padded with 2.0; the last real entry is exactly 1.0.
        probabilities = np.diff(np.minimum(table.cum, 1.0), axis=1, prepend=0.0)
        return SparseMDP.from_successors(table.next, probabilities, table.reward, table.terminal, table.start)
    if not has_exact_model(env):
        raise ValueError(f"{env.spec.id if env.spec else env} has no exact model (env.unwrapped.mdp); "
                         "only the gridworld envs have one")
    return unwrapped.mdp


def goal_mask(env: gym.Env) -> np.ndarray | None:
    """(S,) bool: the goal cells 'G' of a gridworld, or None for an env without a text map."""
    rows = getattr(env.unwrapped, "rows", None)
    return None if rows is None else np.array(list("".join(rows))) == "G"


class ModelInfo:
    """What the exact side of a run needs from one env, read once: the model, the goal cells, the step limit
    and the observation of every state (what an agent's `predict` sees there)."""

    def __init__(self, env_id: str, env_kwargs: dict):
        env = gym.make(env_id, **env_kwargs)
        try:
            self.has_model = has_exact_model(env)
            self.horizon = step_limit(env, env_kwargs)
            if self.has_model:
                self.model = exact_model(env)
                self.goal = goal_mask(env)
                observer = getattr(env.unwrapped, "observer", None)
                states = np.arange(self.model.num_states)
                self.observations = observer.batch(states) if observer is not None else states
        finally:
            env.close()


def _key(env_kwargs: dict | None) -> str:
    return json.dumps(env_kwargs or {}, sort_keys=True, default=str)


@functools.lru_cache(maxsize=32)
def _model_info(env_id: str, kwargs_key: str) -> ModelInfo:
    return ModelInfo(env_id, json.loads(kwargs_key))


def model_info(env_id: str, env_kwargs: dict | None = None) -> ModelInfo:
    """The cached `ModelInfo` of `gym.make(env_id, **env_kwargs)`."""
    return _model_info(env_id, _key(env_kwargs))


@functools.lru_cache(maxsize=32)
def _optimal_solution(env_id: str, kwargs_key: str, gamma: float, tol: float) -> PlanningResult:
    info = _model_info(env_id, kwargs_key)
    if not info.has_model:
        raise ValueError(f"{env_id} has no exact model; value iteration needs one (the gridworld envs have it)")
    return value_iteration(info.model, gamma, tol=tol)


def optimal_solution(env_id: str, env_kwargs: dict | None, gamma: float, tol: float = 1e-8) -> PlanningResult:
    """Value iteration on the env's exact model, solved once per (env, kwargs, gamma, tol) in a process."""
    return _optimal_solution(env_id, _key(env_kwargs), float(gamma), float(tol))


def exact_gap(env_id: str, env_kwargs: dict | None, gamma: float) -> ExactGap | None:
    """The `ExactGap` scorer of an env with a model (sharing `optimal_solution`), else None."""
    info = model_info(env_id, env_kwargs)
    if not info.has_model:
        return None
    return ExactGap(info.model, gamma, info.goal, info.horizon, solution=optimal_solution(env_id, env_kwargs, gamma))
