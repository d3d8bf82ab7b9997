"""What "success" means for a run, in one place: `mdparcade train` prints it, a run's summary.json and every
report use it.

- an env with an exact model: the greedy policy's exact value within 5% of the optimum (V/V* >= 0.95);
- else an env that declares a reward threshold (CartPole's 475): the final evaluation's mean return reaches it;
- else (a comparison only, which measures a random policy): the normalized score reaches 0.9.
"""

from __future__ import annotations

EXACT_SUCCESS_RATIO = 0.95
NORMALIZED_SUCCESS = 0.9


def success_rule(has_model: bool, reward_threshold: float | None) -> str:
    """The rule in words, as reports state it."""
    if has_model:
        return f"greedy policy's exact value >= {EXACT_SUCCESS_RATIO:g} x optimal"
    if reward_threshold is not None:
        return f"final return >= {reward_threshold:g} (the env's reward threshold)"
    return f"normalized score >= {NORMALIZED_SUCCESS:g}"


def is_success(score: float, value_ratio: float | None, reward_threshold: float | None,
               normalized: float | None = None) -> bool | None:
    """Whether a finished run succeeded by `success_rule` (None: the rule needs a figure that is missing)."""
    if value_ratio is not None:
        return bool(value_ratio >= EXACT_SUCCESS_RATIO)
    if reward_threshold is not None:
        return bool(score >= reward_threshold)
    if normalized is not None:
        return bool(normalized >= NORMALIZED_SUCCESS)
    return None
