"""The exact model of a gridworld as sparse per-(state, action) successor tables, shared by every way to step it.

The single env samples from the Python lists, the vector env from the padded arrays; both pick the same entry.
"""

from __future__ import annotations

from bisect import bisect_right

import numpy as np

from envs.gridworld_maps import CLIFF, GOAL, HOLE, START, WALL
from envs.tabular_mdp import TabularMDP

# FrozenLake's action order and the (row, col) move of each action.
LEFT, DOWN, RIGHT, UP = 0, 1, 2, 3
ACTION_NAMES = ("left", "down", "right", "up")
MOVES = ((0, -1), (1, 0), (0, 1), (-1, 0))
# Dense P[S, A, S'] above this many entries would not fit comfortably in memory (8 bytes each).
MAX_DENSE_ENTRIES = 200_000_000


class TransitionTable:
    """Successor lists of a finite MDP: entry k of (s, a) is (prob, next_state, reward, terminated).

    Built from padded arrays of SA = S * A rows and B columns (entries of probability 0 are dropped, the
    order of the others kept): prob, next, reward (SA, B) and terminated (SA, B) bool.
    Sampling with a uniform u in [0, 1) picks the first entry whose cumulative probability exceeds u.
    Kept arrays: prob, next, reward, terminated (SA, B) (padding: prob 0), cum (SA, B) float64 with padding
    2.0, count (SA,) entries per row;
    start_states (K,) int64 and start_cum (K,) float64 give the initial distribution the same way.
    """

    def __init__(self, prob, next_state, reward, terminated, num_actions: int, terminal, start):
        prob = np.asarray(prob, dtype=np.float64)
        self.num_actions = int(num_actions)
        self.num_states = prob.shape[0] // self.num_actions
        self.terminal = np.asarray(terminal, dtype=bool)
        self.start = np.asarray(start, dtype=np.float64)
        # Move the zero-probability entries to the end of each row, keeping the others in order.
        order = np.argsort(prob <= 0, axis=1, kind="stable")
        self.count = (prob > 0).sum(axis=1)
        width = int(self.count.max())
        order = order[:, :width]
        rows = np.arange(len(prob))[:, None]
        padding = np.arange(width)[None, :] >= self.count[:, None]
        self.prob = np.where(padding, 0.0, prob[rows, order])
        self.next = np.asarray(next_state, dtype=np.int64)[rows, order]
        self.next[padding] = np.broadcast_to(self.next[:, :1], self.next.shape)[padding]
        self.reward = np.where(padding, 0.0, np.asarray(reward, dtype=np.float64)[rows, order])
        self.terminated = np.asarray(terminated, dtype=bool)[rows, order] & ~padding
        self.cum = np.cumsum(self.prob, axis=1)
        self.cum[np.arange(len(prob)), self.count - 1] = 1.0  # every u < 1 picks a real entry despite rounding
        self.cum[padding] = 2.0
        # Python lists of the same numbers for the scalar sampler: bisect on a list beats any numpy call.
        # The padding (cum 2.0 > u) is never picked, so rows need no trimming.
        self.scalar_rows = list(
            zip(self.cum.tolist(), self.next.tolist(), self.reward.tolist(), self.terminated.tolist(), strict=True)
        )
        self._cum_columns = [np.ascontiguousarray(self.cum[:, j]) for j in range(width - 1)]
        self._next_flat, self._reward_flat = self.next.ravel(), self.reward.ravel()
        self._terminated_flat = self.terminated.ravel()
        self.start_states = np.flatnonzero(self.start > 0)
        self.start_cum = np.cumsum(self.start[self.start_states])
        self.start_cum[-1] = 1.0
        self.start_states_list = self.start_states.tolist()
        self.start_cum_list = self.start_cum.tolist()

    def sample_start(self, u: float) -> int:
        return self.start_states_list[bisect_right(self.start_cum_list, u)]

    def sample_starts(self, u: np.ndarray) -> np.ndarray:
        """Start states for uniforms u (N,); element i equals sample_start(u[i])."""
        if len(self.start_states) == 1:
            return np.full(u.shape, self.start_states[0])
        return self.start_states[np.searchsorted(self.start_cum, u, side="right")]

    def sample_step(self, state: int, action: int, u: float) -> tuple[int, float, bool]:
        cum, nexts, rewards, terms = self.scalar_rows[state * self.num_actions + action]
        k = bisect_right(cum, u)
        return nexts[k], rewards[k], terms[k]

    def sample_steps(self, states: np.ndarray, actions: np.ndarray, u: np.ndarray):
        """(next (N,) int64, reward (N,) float64, terminated (N,) bool); element i equals sample_step(...)."""
        width = self.cum.shape[1]
        sa = states * self.num_actions
        sa += actions
        index = sa * width
        for cum_column in self._cum_columns:  # the last column is always >= 1 > u, so it never counts
            index += u >= cum_column[sa]
        return self._next_flat[index], self._reward_flat[index], self._terminated_flat[index]

    def p_dict(self) -> dict:
        """Gymnasium toy_text format {s: {a: [(prob, next_state, reward, terminated), ...]}}."""
        A = self.num_actions
        rows = [
            list(zip(p[:k], n[:k], r[:k], t[:k], strict=True))
            for p, n, r, t, k in zip(
                self.prob.tolist(), self.next.tolist(), self.reward.tolist(), self.terminated.tolist(),
                self.count.tolist(), strict=True,
            )
        ]
        return {s: {a: rows[s * A + a] for a in range(A)} for s in range(self.num_states)}

    def tabular_mdp(self, state_names: tuple = ()) -> TabularMDP:
        """The dense model: P (S, A, S') and expected reward R (S, A)."""
        S, A = self.num_states, self.num_actions
        if S * A * S > MAX_DENSE_ENTRIES:
            raise ValueError(
                f"the dense model P[S, A, S'] of {S} states would need {S * A * S * 8 / 1e9:.1f} GB; "
                "use the successor tables (env.unwrapped.transitions) instead"
            )
        P = np.zeros((S * A, S))
        np.add.at(P, (np.arange(S * A)[:, None], self.next), self.prob)
        R = (self.prob * self.reward).sum(axis=1)
        return TabularMDP(P.reshape(S, A, S), R.reshape(S, A), self.terminal, self.start, state_names)


def gridworld_transitions(
    rows: tuple[str, ...],
    slip: float = 1.0,
    step_reward: float = 0.0,
    goal_reward: float = 1.0,
    hole_reward: float = 0.0,
    cliff_reward: float = -100.0,
) -> TransitionTable:
    """The successor table of a checked map. A move earns the reward of the cell it ends in.

    The intended move happens with probability `slip`, each perpendicular move with (1 - slip) / 2, listed in
    FrozenLake's order (a - 1, a, a + 1). Goals and holes are terminal (self-loops with reward 0); walls and
    cliff cells are never entered (self-loops); entering a cliff cell sends the agent to a start cell (each
    of the K starts with 1/K of the move's probability).
    """
    if not 0.0 <= slip <= 1.0:
        raise ValueError(f"slip must be a probability in [0, 1], got {slip}")
    grid = np.array([list(row) for row in rows])
    height, width = grid.shape
    cells = grid.ravel()
    S = cells.size
    starts = np.flatnonzero(cells == START)
    terminal = (cells == GOAL) | (cells == HOLE)
    cell_reward = np.select([cells == GOAL, cells == HOLE, cells == CLIFF], [goal_reward, hole_reward, cliff_reward],
                            step_reward)
    target = _move_targets(grid)  # (S, 4): the cell each move ends in
    # Outcomes (S, A, 3 moves, K slots): a move into the cliff fans out to the K starts, any other uses slot 0.
    moves = (np.arange(4)[:, None] + np.array([-1, 0, 1])[None, :]) % 4  # (A, 3) in FrozenLake's order
    move_prob = np.array([(1 - slip) / 2, slip, (1 - slip) / 2])
    ends = target[:, moves]  # (S, A, 3)
    into_cliff = (cells == CLIFF)[ends]
    K = len(starts) if into_cliff.any() else 1
    shape = (S, 4, 3, K)
    slot = np.arange(K)
    prob = np.where(into_cliff[..., None], move_prob[:, None] / K, np.where(slot == 0, move_prob[:, None], 0.0))
    prob = np.broadcast_to(prob, shape).copy()
    next_state = np.where(into_cliff[..., None], starts[slot % len(starts)], ends[..., None])
    reward = np.broadcast_to(cell_reward[ends][..., None], shape).copy()
    done = np.where(into_cliff[..., None], False, terminal[ends][..., None])
    # Terminal, wall and cliff cells: one self-loop with reward 0 (terminal rows stay terminated).
    frozen = terminal | (cells == WALL) | (cells == CLIFF)
    prob[frozen] = 0.0
    prob[frozen, :, 0, 0] = 1.0
    next_state = np.broadcast_to(next_state, shape).copy()
    next_state[frozen] = np.arange(S)[frozen, None, None, None]
    reward[frozen] = 0.0
    done = np.broadcast_to(done, shape).copy()
    done[frozen] = terminal[frozen, None, None, None]
    start = np.zeros(S)
    start[starts] = 1.0 / len(starts)
    flat = (S * 4, 3 * K)
    return TransitionTable(prob.reshape(flat), next_state.reshape(flat), reward.reshape(flat), done.reshape(flat),
                           4, terminal, start)


def _move_targets(grid: np.ndarray) -> np.ndarray:
    """(S, 4) int64: the cell index each action's move ends in; off the map or into a wall stays put."""
    height, width = grid.shape
    row, col = np.divmod(np.arange(grid.size), width)
    targets = np.empty((grid.size, 4), dtype=np.int64)
    for action, (dr, dc) in enumerate(MOVES):
        r, c = row + dr, col + dc
        inside = (r >= 0) & (r < height) & (c >= 0) & (c < width)
        r, c = np.where(inside, r, row), np.where(inside, c, col)
        blocked = grid[r, c] == WALL
        targets[:, action] = np.where(blocked, row * width + col, r * width + c)
    return targets
