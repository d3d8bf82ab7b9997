"""Gymnasium environments: gridworld MDPs with exact models and small arcade games, single and vectorized.

Importing `envs` registers every env as `mdparcade/<Name>-v0`.
"""

from envs.registration import register_envs
from envs.tabular_mdp import TabularMDP

register_envs()

__all__ = ["TabularMDP", "register_envs"]
