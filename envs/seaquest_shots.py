"""The sub's bullets in Seaquest, and who they hit where MinAtar's list order decides it.

MinAtar moves its bullets and enemies one by one, in list order; a vectorized step agrees with that everywhere
except where a bullet meets several enemies or two bullets meet one. `resolve_shots` replays the order for
the few copies where a bullet meets an enemy at all.
"""

from __future__ import annotations

import numpy as np

from envs.seaquest_movers import any_slot, count_slots, first_slot

SIDE = 10
# The cell of "no bullet": no mover is ever there (int8, as Movers.spread passes it on).
DEAD_BULLET_CELL = -128
_LAST, _NEVER = np.iinfo(np.int64).max, -1


class FriendlyBullets:
    """The sub's bullets, two slots per copy: 0 the older, 1 the newer (MinAtar's list order). At most two fly
    at once: the sub shoots at most every 5 steps and a bullet leaves the board within 10.

    Fields (N, 2), int64: cell (row * 10 + col, DEAD_BULLET_CELL where there is no bullet), col, step (+1
    heading right, -1 left).
    """

    def __init__(self, num_envs: int):
        self.cell = np.full((num_envs, 2), DEAD_BULLET_CELL, dtype=np.int64)
        self.col = np.zeros((num_envs, 2), dtype=np.int64)
        self.step = np.ones((num_envs, 2), dtype=np.int64)

    def any_alive(self) -> bool:
        return bool((self.cell != DEAD_BULLET_CELL).any())

    def clear(self, copies: np.ndarray) -> None:
        """Remove the bullets of the copies where `copies` (bool (N,))."""
        self.cell[copies] = DEAD_BULLET_CELL

    def fire(self, rows: np.ndarray, row: np.ndarray, col: np.ndarray, right: np.ndarray) -> None:
        """A new bullet in copies `rows` (int64 (R,)) at (row, col), heading right where `right` (all (R,)).
        The newer bullet, if any, becomes the older one (whose slot is free then; see the class doc)."""
        newer_alive = self.cell[rows, 1] != DEAD_BULLET_CELL
        for field in (self.cell, self.col, self.step):
            field[rows, 0] = np.where(newer_alive, field[rows, 1], field[rows, 0])
        self.cell[rows, 1] = row * SIDE + col
        self.col[rows, 1] = col
        self.step[rows, 1] = np.where(right, 1, -1)

    def move(self) -> None:
        """Every bullet flies one cell; those leaving the board are gone."""
        alive = self.cell != DEAD_BULLET_CELL
        delta = self.step * alive
        self.col += delta
        self.cell += delta
        gone = alive & ((self.col < 0) | (self.col >= SIDE))
        self.cell += gone * (DEAD_BULLET_CELL - self.cell)


def resolve_shots(enemy: np.ndarray, is_sub: np.ndarray, birth: np.ndarray, cell_before: np.ndarray,
                  cell_after: np.ndarray, landed: np.ndarray, bullet_cells: np.ndarray):
    """MinAtar's bullet hits, in its order, for R copies.

    enemy, is_sub: bool (R, K), the live enemies and which are subs; birth: int64 (R, K) (older = smaller);
    cell_before, cell_after: int (R, K) the enemies' cells before and after this step's move; landed: bool
    (R, K), the enemies that moved onto a board cell other than the sub's (only they check for bullets when
    moving); bullet_cells: int64 (R, 2), after the bullets moved (slot 0 the older bullet).

    First MinAtar's bullet loop, newest bullet first: each hits the oldest fish in its cell, else the oldest
    sub there. Then its subs loop and its fish loop, newest enemy first: an enemy that landed on a bullet takes
    the oldest bullet in that cell; so each bullet, oldest first, is taken by the newest enemy landing on it.
    Returns (shot before moving, shot while moving: bool (R, K), hits int64 (R,), bullet cells after).
    """
    enemy = enemy.copy()
    bullet_cells = bullet_cells.copy()
    before_moving, while_moving = np.zeros_like(enemy), np.zeros_like(enemy)
    hits = np.zeros(len(enemy), dtype=np.int64)
    rows = np.arange(len(enemy))

    def take(targets: np.ndarray, bullet: int, oldest: bool, shot: np.ndarray) -> None:
        if not targets.any():
            return
        count = count_slots(targets)
        hit = count > 0
        slot = first_slot(targets)
        several = np.flatnonzero(count > 1)  # only there does the order matter
        if several.size:
            if oldest:
                slot[several] = np.where(targets[several], birth[several], _LAST).argmin(axis=1)
            else:
                slot[several] = np.where(targets[several], birth[several], _NEVER).argmax(axis=1)
        shot[rows[hit], slot[hit]] = True
        enemy[rows[hit], slot[hit]] = False
        bullet_cells[hit, bullet] = DEAD_BULLET_CELL
        hits[hit] += 1

    for bullet in (1, 0):
        there = enemy & (cell_before == bullet_cells[:, bullet, None])
        fish = there & ~is_sub
        subs = there & is_sub
        subs[any_slot(fish)] = False
        take(fish | subs, bullet, True, before_moving)
    for kind in (is_sub, ~is_sub):
        for bullet in (0, 1):
            take(enemy & kind & landed & (cell_after == bullet_cells[:, bullet, None]), bullet, False, while_moving)
    return before_moving, while_moving, hits, bullet_cells
