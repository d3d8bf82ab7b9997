"""The gap to the exact optimum, which no other RL library reports: an agent's greedy policy, read off by
`predict` on every state's observation, evaluated exactly on the env's model against the optimal policy."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from agents.planning import (
    Model,
    PlanningResult,
    optimal_success_probability,
    policy_evaluation,
    success_probability,
    value_iteration,
)


def greedy_policy(predict: Callable[[np.ndarray], np.ndarray], state_observations: np.ndarray) -> np.ndarray:
    """(S,) int64: the action `predict` picks in each state, given the observations of states 0..S-1."""
    return np.asarray(predict(state_observations), dtype=np.int64).reshape(-1)


def value_ratio(value: float, optimal_value: float) -> float:
    """How close V^pi(start) comes to V*(start): 1 is optimal. V^pi / V* when V* > 0; V* / V^pi when V* < 0
    (costs: a policy twice as costly scores 0.5); 1 when V* = 0 = V^pi."""
    if optimal_value > 0:
        return value / optimal_value
    if optimal_value < 0:
        return optimal_value / value if value < 0 else float("inf")
    return 1.0 if value == 0 else float("-inf")


class ExactGap:
    """Scores policies on one model: V*(start) and the best success probability are computed once.

    mdp: the model; gamma: the agent's discount; goal: (S,) bool goal states, or None (no success figures);
    horizon: the env's step limit (success must come within it), or None; solution: value iteration's result
    for this model and gamma when the caller has it already (else it is computed here).
    """

    def __init__(self, mdp: Model, gamma: float, goal: np.ndarray | None = None, horizon: int | None = None,
                 solution: PlanningResult | None = None):
        self.mdp, self.gamma, self.goal, self.horizon = mdp, float(gamma), goal, horizon
        solution = solution if solution is not None else value_iteration(mdp, gamma=self.gamma)
        self.optimal_value = float(mdp.start @ solution.V)
        self.optimal_success = None if goal is None else optimal_success_probability(mdp, goal, horizon)

    def __call__(self, policy: np.ndarray) -> dict[str, float]:
        """{"value", "optimal_value", "value_ratio"} and, with goals, {"success_probability",
        "optimal_success_probability"} for a deterministic (S,) policy."""
        value = float(self.mdp.start @ policy_evaluation(self.mdp, policy, gamma=self.gamma))
        gap = {"value": value, "optimal_value": self.optimal_value,
               "value_ratio": value_ratio(value, self.optimal_value)}
        if self.goal is not None:
            gap["success_probability"] = success_probability(self.mdp, policy, self.goal, self.horizon)
            gap["optimal_success_probability"] = self.optimal_success
        return gap
