"""Gymnasium environments: gridworld MDPs with exact models and small arcade games, single and vectorized.

Importing `envs` registers every env as `mdparcade/<Name>-v0`; `resolve_env_id` turns a short name into one.
"""

from envs.registration import register_envs, resolve_env_id
from envs.tabular_mdp import TabularMDP

register_envs()

__all__ = ["TabularMDP", "register_envs", "resolve_env_id"]
