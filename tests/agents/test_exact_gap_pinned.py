"""The exact gap to the optimum and the schedule checks, pinned on hand-worked cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
from test_planning_pinned import RIGHT, STAY, delayed_reward_chain  # noqa: F401  (the same hand-worked chain)

from agents.exact_gap import ExactGap, greedy_policy, value_ratio
from agents.schedules import Constant, ExponentialDecay, LinearDecay, as_schedule, schedule_to_dict


def test_greedy_policy_flattens_a_column_of_float_actions_to_int64():
    policy = greedy_policy(lambda obs: np.asarray(obs, dtype=np.float32)[:, None] % 2, np.arange(5))
    assert policy.dtype == np.int64 and policy.shape == (5,)
    assert policy.tolist() == [0, 1, 0, 1, 0]


@pytest.mark.parametrize("value,optimal,expected", [
    (0.5, 2.0, 0.25),            # rewards: a fraction of the optimum
    (0.25, 0.5, 0.5),            # an optimum below 1 is still a reward
    (-4.0, -2.0, 0.5),           # costs: twice as costly scores 0.5
    (-1.0, -0.5, 0.5),
    (0.0, -2.0, math.inf),       # costs, but the policy's value is not negative
    (0.5, -2.0, math.inf),
    (1.0, -2.0, math.inf),
    (0.0, 0.0, 1.0),             # V* = 0 = V^pi
    (1.0, 0.0, -math.inf),
    (-1.0, 0.0, -math.inf),
])
def test_value_ratio_cases(value, optimal, expected):
    assert value_ratio(value, optimal) == expected


def test_exact_gap_with_and_without_goals():
    mdp = delayed_reward_chain()
    stay, right = np.full(4, STAY), np.full(4, RIGHT)
    no_goal = ExactGap(mdp, 0.5)
    assert no_goal.optimal_success is None
    assert no_goal(right) == {"value": 0.25, "optimal_value": 0.25, "value_ratio": 1.0}
    assert no_goal(stay) == {"value": 0.0, "optimal_value": 0.25, "value_ratio": 0.0}
    goal = np.array([False, False, False, True])
    with_goal = ExactGap(mdp, 0.5, goal=goal, horizon=2)
    assert with_goal.optimal_success == 0.0  # the goal is three steps away
    assert with_goal(right)["success_probability"] == 0.0
    assert ExactGap(mdp, 0.5, goal=goal)(right)["optimal_success_probability"] == 1.0


def test_as_schedule_checks_kind_type_range_and_rate():
    assert as_schedule(0.3, "epsilon", 0.0, 1.0) == Constant(0.3)
    saved = schedule_to_dict(ExponentialDecay(1.0, 0.1, rate=0.5))
    assert as_schedule(saved, "epsilon", 0.0, 1.0) == ExponentialDecay(1.0, 0.1, rate=0.5)
    with pytest.raises(ValueError, match=r"epsilon: unknown schedule kind 'Cosine'; choose one of "
                                         r"\['Constant', 'ExponentialDecay', 'LinearDecay'\]"):
        as_schedule({"kind": "Cosine", "value": 1.0}, "epsilon", 0.0, 1.0)
    with pytest.raises(ValueError, match=r"alpha must be a number or a schedule .* got 'fast'"):
        as_schedule("fast", "alpha", 0.0, 1.0)
    with pytest.raises(ValueError, match=r"alpha must stay within \[0.0, 1.0\]"):
        as_schedule(LinearDecay(1.0, 1.5, steps=10), "alpha", 0.0, 1.0)
    # 0 < rate <= 1: rate 1 is a constant schedule, rate 0 and rates above 1 are rejected.
    assert as_schedule(ExponentialDecay(0.5, 0.1, rate=1.0), "epsilon", 0.0, 1.0)(100) == 0.5
    for rate in (0.0, 1.5):
        with pytest.raises(ValueError, match=rf"epsilon: ExponentialDecay needs 0 < rate <= 1, got {rate}"):
            as_schedule(ExponentialDecay(0.5, 0.1, rate=rate), "epsilon", 0.0, 1.0)


def test_linear_decay_over_a_single_step():
    decay = LinearDecay(1.0, 0.0, steps=1)
    assert [decay(0), decay(1), decay(5)] == [1.0, 0.0, 0.0]
