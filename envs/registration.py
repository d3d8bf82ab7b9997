"""Registers every mdparcade env id with Gymnasium (idempotent)."""

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
