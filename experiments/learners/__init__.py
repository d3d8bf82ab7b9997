"""Learners: one interface (`Learner`) over our deep agents, stable-baselines3, the tabular learners and
value iteration; the registry of algorithm names; typed overrides; our presets and rl-zoo's."""

from experiments.learners.base import LearnCallback, Learner
from experiments.learners.registry import (
    all_names,
    canonical_name,
    is_baseline,
    learner_class,
    make_learner,
    resolve_algorithm,
)

__all__ = ["LearnCallback", "Learner", "all_names", "canonical_name", "is_baseline", "learner_class",
           "make_learner", "resolve_algorithm"]
