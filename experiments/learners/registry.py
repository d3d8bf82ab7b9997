"""The algorithm names a run can train, resolved in one place: which family trains a name, its canonical
spelling, and whether it is a baseline (stable-baselines3's, written ``sb3:PPO``).

Families are listed here explicitly, each by the module that defines its learner, which is imported only when
a learner of that family is needed: naming or checking an algorithm imports no torch and no SB3.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

BASELINE_PREFIX = "sb3:"


@dataclass(frozen=True)
class Family:
    """One family of learners: the names it trains and where its Learner class lives ("module:Class")."""

    name: str
    algorithms: tuple[str, ...]
    learner: str
    summary: str


#: Every family, in the order the command line lists them.
FAMILIES: tuple[Family, ...] = (
    Family("mdparcade", ("PPO", "DQN", "A2C", "REINFORCE"), "experiments.learners.ours:DeepLearner",
           "our deep agents (agents/)"),
    Family("sb3", ("sb3:PPO", "sb3:DQN", "sb3:A2C"), "experiments.learners.sb3:SB3Learner",
           "stable-baselines3 with rl-zoo's presets"),
    Family("tabular", ("QLearning", "SARSA", "ExpectedSARSA"), "experiments.learners.tabular:TabularLearner",
           "tabular learners, on envs with Discrete spaces"),
    Family("planner", ("ValueIteration",), "experiments.learners.planner:PlannerLearner",
           "value iteration on the env's exact model (no env steps)"),
)
_BY_NAME = {family.name: family for family in FAMILIES}
#: Algorithms that give the same result whatever the seed: a suite runs them once.
DETERMINISTIC = frozenset({"ValueIteration"})


def all_names() -> list[str]:
    """Every algorithm name, as specs, folders and reports write it."""
    return [name for family in FAMILIES for name in family.algorithms]


def resolve_algorithm(name: str) -> tuple[Family, str]:
    """(family, canonical name) for a name in any case: 'ppo' -> PPO, 'SB3:dqn' -> sb3:DQN.

    An unknown name is a ValueError listing the valid ones.
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"algorithm must be a non-empty string, got {name!r}")
    for family in FAMILIES:
        for known in family.algorithms:
            if known.lower() == name.lower():
                return family, known
    raise ValueError(f"unknown algorithm {name!r}; choose one of {', '.join(all_names())}")


def canonical_name(name: str) -> str:
    return resolve_algorithm(name)[1]


def family_of(name: str) -> Family:
    return resolve_algorithm(name)[0]


def is_baseline(name: str) -> bool:
    """Whether `name` is a stable-baselines3 baseline (the ``sb3:`` prefix)."""
    return name.lower().startswith(BASELINE_PREFIX)


def base_algorithm(name: str) -> str:
    """The algorithm without its baseline prefix: 'sb3:PPO' -> 'PPO', 'PPO' -> 'PPO'."""
    return name[len(BASELINE_PREFIX):] if is_baseline(name) else name


def learner_class(name: str):
    """The Learner subclass that trains `name` (its module is imported now)."""
    module_name, _, class_name = family_of(name).learner.partition(":")
    return getattr(importlib.import_module(module_name), class_name)


def family_named(family: str) -> Family:
    return _BY_NAME[family]


def make_learner(algo: str, env_id: str, seed: int = 0, overrides: dict | None = None,
                 env_kwargs: dict | None = None, device: str = "auto", seeds=None):
    """A learner for a canonical algorithm name and a resolved env id, its overrides typed and checked; `seeds`
    (several) make a population, where the family supports it."""
    name = canonical_name(algo)
    cls = learner_class(name)
    seeds = tuple(seeds) if seeds is not None else None
    return cls(name, env_id, seeds[0] if seeds else seed, cls.check_overrides(name, overrides or {}, env_id),
               env_kwargs or {}, device, seeds=seeds)
