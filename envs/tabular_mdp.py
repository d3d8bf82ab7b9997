"""The exact model of a finite MDP as dense numpy arrays, shared by gridworld envs and exact planners."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class TabularMDP:
    """A finite MDP.

    P: (S, A, S') transition probabilities, each row sums to 1.
    R: (S, A) expected immediate reward.
    terminal: (S,) bool; a terminal state's value is 0 and episodes end on entering it.
    start: (S,) initial-state distribution, sums to 1.
    """

    P: np.ndarray
    R: np.ndarray
    terminal: np.ndarray
    start: np.ndarray
    state_names: tuple = field(default=(), compare=False)

    def __post_init__(self):
        P = np.asarray(self.P, dtype=np.float64)
        R = np.asarray(self.R, dtype=np.float64)
        terminal = np.asarray(self.terminal, dtype=bool)
        start = np.asarray(self.start, dtype=np.float64)
        if P.ndim != 3 or P.shape[0] != P.shape[2]:
            raise ValueError(f"P must have shape (S, A, S), got {P.shape}")
        S, A, _ = P.shape
        if R.shape != (S, A):
            raise ValueError(f"R must have shape (S, A) = {(S, A)}, got {R.shape}")
        if terminal.shape != (S,) or start.shape != (S,):
            raise ValueError(
                f"terminal and start must have shape ({S},), got {terminal.shape} and {start.shape}"
            )
        if (P < 0).any() or not np.allclose(P.sum(axis=2), 1.0, atol=1e-9):
            bad = np.argwhere(~np.isclose(P.sum(axis=2), 1.0, atol=1e-9) | (P < 0).any(axis=2))
            s, a = bad[0] if len(bad) else (0, 0)
            raise ValueError(f"P[{s}, {a}, :] is not a probability distribution (sum {P[s, a].sum():.6g})")
        if (start < 0).any() or not np.isclose(start.sum(), 1.0):
            raise ValueError(f"start must be a probability distribution, sums to {start.sum():.6g}")
        for name, value in (("P", P), ("R", R), ("terminal", terminal), ("start", start)):
            value.setflags(write=False)
            object.__setattr__(self, name, value)

    @property
    def num_states(self) -> int:
        return self.P.shape[0]

    @property
    def num_actions(self) -> int:
        return self.P.shape[1]
