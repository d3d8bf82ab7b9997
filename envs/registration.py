"""Registers every mdparcade env id with Gymnasium (idempotent), and resolves the ids users type."""

from __future__ import annotations

import importlib

import gymnasium as gym

# Each module here defines `REGISTRY`: a list of dicts of keyword arguments for `gymnasium.register`.
_REGISTRY_MODULES = ("envs.gridworld_ids", "envs.game_ids")


def register_envs() -> list[str]:
    """Register all ids; return them. Safe to call more than once."""
    ids = []
    for module_name in _REGISTRY_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as err:
            if err.name != module_name:
                raise
            continue
        for spec in module.REGISTRY:
            if spec["id"] not in gym.registry:
                gym.register(**spec)
            ids.append(spec["id"])
    return ids


def resolve_env_id(env_id: str) -> str:
    """The Gymnasium id for `env_id`: an mdparcade id may leave out its `mdparcade/` prefix and its `-v0`
    (`Catch`, `FrozenLake8x8`); any other registered Gymnasium id (`CartPole-v1`) is taken as it is.

    An unknown id is a ValueError naming it and listing the mdparcade ids.
    """
    ours = register_envs()
    if not isinstance(env_id, str) or not env_id:
        raise ValueError(f"env id must be a non-empty string, got {env_id!r}")
    for candidate in (env_id, f"mdparcade/{env_id}", f"mdparcade/{env_id}-v0"):
        if candidate in gym.registry:
            return candidate
    raise ValueError(f"unknown env id {env_id!r}; the mdparcade ids are: {', '.join(sorted(ours))}; any "
                     "registered Gymnasium id (CartPole-v1, Acrobot-v1, ...) works too")
