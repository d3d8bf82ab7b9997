"""The sub's bullets in Seaquest, and who they hit where MinAtar's list order decides it.

MinAtar moves its bullets and enemies one by one, in list order; that order decides who is hit where a bullet
meets several enemies or two bullets meet one. `resolve_shots` replays it for one copy. The functions here are
compiled by numba and called from the step and observe kernels in envs/seaquest.py.
"""

from __future__ import annotations

import sys
from collections import namedtuple

import numpy as np
from numba import njit

from envs.seaquest_movers import (
    DEAD_BULLET_CELL,  # the cell of "no bullet": no mover is ever there
    ENEMY,
    KILLED,
    MOVED,
    NEAR,
    SUB_PLANE,
    cell_before,
    on_board,
)

SIDE = 10
FRIENDLY_BULLET_PLANE = 200  # 100 * the observation channel friendly_bullet
NOWHERE = 800  # a byte of a copy's observation block that is always 0: diver_guage row 0, column 0

BulletArrays = namedtuple("BulletArrays", ("cell", "col", "step"))
# A copy's two bullets' bytes of one field (cell, col or step: [i, 0] the older, [i, 1] the newer) read as one
# uint16 (see `pairs`): the shifts that bring each byte down.
OLDER_SHIFT, NEWER_SHIFT = (np.uint16(0), np.uint16(8)) if sys.byteorder == "little" else (np.uint16(8), np.uint16(0))
_DEAD_BYTE = np.uint16(DEAD_BULLET_CELL & 0xFF)


class FriendlyBullets:
    """The sub's bullets, two slots per copy: 0 the older, 1 the newer (MinAtar's list order). At most two fly
    at once: the sub shoots at most every 5 steps and a bullet leaves the board within 10.

    Fields (N, 2), int8: cell (row * 10 + col, DEAD_BULLET_CELL where there is no bullet), col, step (+1
    heading right, -1 left).
    """

    def __init__(self, num_envs: int):
        self.cell = np.full((num_envs, 2), DEAD_BULLET_CELL, dtype=np.int8)
        self.col = np.zeros((num_envs, 2), dtype=np.int8)
        self.step = np.ones((num_envs, 2), dtype=np.int8)


@njit(cache=True, inline="always")
def clear(b, i):
    """Remove the bullets of copy i."""
    b.cell[i, 0] = b.cell[i, 1] = DEAD_BULLET_CELL


@njit(cache=True, inline="always")
def pairs(b):
    """The cell, col and step arrays with each copy's two bytes read as one uint16 ((N,) each): a loop over the
    copies then loads them contiguously, and the compiler vectorizes it."""
    return b.cell.view(np.uint16).reshape(-1), b.col.view(np.uint16).reshape(-1), b.step.view(np.uint16).reshape(-1)


@njit(cache=True, inline="always")
def _byte(pair, shift):
    return (pair >> shift) & np.uint16(0xFF)


@njit(cache=True, inline="always")
def fire(cells, cols, steps, i, fires, row, col, right):
    """Where `fires`, a new bullet in copy i at (row, col), heading right if `right`; the newer bullet, if any,
    becomes the older one (whose slot is free then; see FriendlyBullets). cells, cols, steps: `pairs(b)`. Without a
    branch, so that the loop over all copies calling it is vectorized."""
    cell, col_pair, step = cells[i], cols[i], steps[i]
    shift = _byte(cell, NEWER_SHIFT) != _DEAD_BYTE  # the newer bullet flies: it becomes the older one
    older_shift = NEWER_SHIFT if shift else OLDER_SHIFT
    new_cell = (_byte(cell, older_shift) << OLDER_SHIFT) | (np.uint16(np.uint8(row * SIDE + col)) << NEWER_SHIFT)
    new_col = (_byte(col_pair, older_shift) << OLDER_SHIFT) | (np.uint16(np.uint8(col)) << NEWER_SHIFT)
    new_step = (_byte(step, older_shift) << OLDER_SHIFT) | (np.uint16(1 if right else 0xFF) << NEWER_SHIFT)
    cells[i] = new_cell if fires else cell
    cols[i] = new_col if fires else col_pair
    steps[i] = new_step if fires else step


@njit(cache=True, inline="always")
def move(b):
    """Every bullet flies one cell; those leaving the board are gone (a flat loop over all copies' bullets,
    arithmetic rather than branches)."""
    cell, col, step = b.cell.reshape(-1), b.col.reshape(-1), b.step.reshape(-1)
    for j in range(cell.size):
        delta = step[j] * (cell[j] != DEAD_BULLET_CELL)
        col[j] += delta
        cell[j] = cell[j] + delta if on_board(col[j]) else DEAD_BULLET_CELL


@njit(cache=True, inline="always")
def _take(b, flags, i, k, bullet, lost):
    """Enemy slot k takes bullet `bullet`: both are gone; the slot loses the flags `lost`."""
    flags[i, k] = (flags[i, k] & ~lost) | KILLED
    b.cell[i, bullet] = DEAD_BULLET_CELL


@njit(cache=True, inline="always")
def resolve_shots(b, m, flags, i, player):
    """MinAtar's bullet hits in copy i, in its order, after the bullets and the movers (m: MoverArrays) moved;
    `flags` are the movers' (envs/seaquest_movers.py): only the enemies NEAR a bullet can be hit. `player` is the
    sub's cell. Returns how many hit.

    First MinAtar's bullet loop, newest bullet first: each hits the oldest fish in its cell (where the enemies
    were before moving), else the oldest sub there; those enemies are shot before moving (they lose ENEMY: they
    neither touch the sub nor fire). Then its subs loop and its fish loop, newest enemy first: an enemy that
    moved onto a board cell other than the sub's takes the oldest bullet in that cell; so each bullet, oldest
    first, is taken by the newest enemy landing on it. Every enemy hit is KILLED and no longer NEAR.
    """
    hits = 0
    slots = m.plane.shape[1]
    for bullet in (1, 0):
        bullet_cell = b.cell[i, bullet]
        target, target_is_sub = -1, True
        for k in range(slots):
            if flags[i, k] & NEAR and cell_before(m, flags, i, k) == bullet_cell:
                is_sub = m.plane[i, k] == SUB_PLANE
                if target < 0 or (target_is_sub and not is_sub) or (
                        is_sub == target_is_sub and m.birth[i, k] < m.birth[i, target]):
                    target, target_is_sub = k, is_sub
        if target >= 0:
            _take(b, flags, i, target, bullet, ENEMY | NEAR)
            hits += 1
    for subs in (True, False):
        for bullet in (0, 1):
            bullet_cell = b.cell[i, bullet]
            target = -1
            for k in range(slots):
                if (flags[i, k] & NEAR and flags[i, k] & MOVED and (m.plane[i, k] == SUB_PLANE) == subs
                        and m.cell[i, k] == bullet_cell and m.cell[i, k] != player and on_board(m.col[i, k])
                        and (target < 0 or m.birth[i, k] > m.birth[i, target])):
                    target = k
            if target >= 0:
                _take(b, flags, i, target, bullet, NEAR)
                hits += 1
    return hits


@njit(cache=True, inline="always")
def draw(b, i, flat, base):
    """Copy i's bullets into its observation block at `base` of the flat observation. The newer one without a
    branch (it flies in about a third of the copies: a branch would be mispredicted): a dead one writes 0 to byte
    NOWHERE of the block instead. The older one, which flies in under 1% of them, only if it does."""
    cell = b.cell[i, 1]
    alive = (0 <= cell) & (cell < SIDE * SIDE)
    flat[base + (FRIENDLY_BULLET_PLANE + cell if alive else NOWHERE)] = alive
    cell = b.cell[i, 0]
    if (0 <= cell) & (cell < SIDE * SIDE):
        flat[base + FRIENDLY_BULLET_PLANE + cell] = 1
