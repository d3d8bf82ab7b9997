"""Finding mdparcade envs by id and reading their exact models, for the command line and the benchmarks."""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from agents.planning import Model, SparseMDP


def mdparcade_ids() -> list[str]:
    """Every registered mdparcade env id, sorted."""
    import envs

    return sorted(envs.register_envs())


def resolve_env_id(env_id: str) -> str:
    """The registered mdparcade id for `env_id` (the `mdparcade/` prefix and the `-v0` may be left out).

    An unknown id is a ValueError that lists the valid ones.
    """
    ours = mdparcade_ids()
    for candidate in (env_id, f"mdparcade/{env_id}", f"mdparcade/{env_id}-v0"):
        if candidate in ours:
            return candidate
    raise ValueError(f"unknown env id {env_id!r}; the mdparcade ids are: {', '.join(ours)}")


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
                         "solve works on the gridworld envs")
    return unwrapped.mdp


def goal_mask(env: gym.Env) -> np.ndarray | None:
    """(S,) bool: the goal cells 'G' of a gridworld, or None for an env without a text map."""
    rows = getattr(env.unwrapped, "rows", None)
    return None if rows is None else np.array(list("".join(rows))) == "G"
