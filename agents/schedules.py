"""Schedules of a value over training steps, shared by the tabular and the deep agents.

Epsilon (exploration), step sizes and PPO's clip range all follow one of these; each is a frozen dataclass that
is called with the step count and saved as a plain dict.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass


@dataclass(frozen=True)
class Constant:
    """value at every step."""

    value: float

    def __call__(self, step: int) -> float:
        return self.value


@dataclass(frozen=True)
class LinearDecay:
    """From `start` at step 0 linearly to `end` at step `steps`, then `end`."""

    start: float
    end: float
    steps: int

    def __call__(self, step: int) -> float:
        return self.start + (self.end - self.start) * min(step / max(self.steps, 1), 1.0)


@dataclass(frozen=True)
class ExponentialDecay:
    """end + (start - end) * rate**step: from `start` geometrically towards `end`."""

    start: float
    end: float
    rate: float

    def __call__(self, step: int) -> float:
        return self.end + (self.start - self.end) * self.rate**step


Schedule = Constant | LinearDecay | ExponentialDecay
_SCHEDULES = {cls.__name__: cls for cls in (Constant, LinearDecay, ExponentialDecay)}


def as_schedule(value: float | Schedule | dict, name: str, low: float, high: float) -> Schedule:
    """A schedule from a number (constant), a schedule or a saved dict; its values must lie in [low, high]."""
    if isinstance(value, dict):
        kind = value.get("kind")
        if kind not in _SCHEDULES:
            raise ValueError(f"{name}: unknown schedule kind {kind!r}; choose one of {sorted(_SCHEDULES)}")
        value = _SCHEDULES[kind](**{k: v for k, v in value.items() if k != "kind"})
    elif isinstance(value, int | float) and not isinstance(value, bool):
        value = Constant(float(value))
    if not isinstance(value, tuple(_SCHEDULES.values())):
        raise ValueError(f"{name} must be a number or a schedule (Constant, LinearDecay, ExponentialDecay), "
                         f"got {value!r}")
    ends = [value.value] if isinstance(value, Constant) else [value.start, value.end]
    if not all(low <= v <= high for v in ends):
        raise ValueError(f"{name} must stay within [{low}, {high}], got {value}")
    if isinstance(value, ExponentialDecay) and not 0.0 < value.rate <= 1.0:
        raise ValueError(f"{name}: ExponentialDecay needs 0 < rate <= 1, got {value.rate}")
    return value


def schedule_to_dict(schedule: Schedule) -> dict:
    return {"kind": type(schedule).__name__, **dataclasses.asdict(schedule)}
