"""The things that cross Seaquest's lanes (rows 1-8): fish, enemy subs and divers, as K slots per game copy.

Fields are (N, K) arrays with K a multiple of 8, so that a question about all slots of a copy reads one uint64
word per 8 slots: numpy reduces along a short axis slowly, and this is the hot path of every Seaquest step.
"""

from __future__ import annotations

import numpy as np

SIDE = 10
SLOT_BLOCK = 8
# `plane` is 100 * the observation channel a mover is drawn in: 5 enemy_fish, 6 enemy_sub, 9 diver (3 trails,
# 4 enemy bullets); EMPTY_PLANE marks a free slot.
FISH_PLANE, SUB_PLANE, DIVER_PLANE, EMPTY_PLANE, TRAIL_PLANE, BULLET_PLANE = 500, 600, 900, 800, 300, 400
_BYTE_ONES = np.uint64(0x0101010101010101)
_BYTE_SUM_SHIFT = np.uint64(56)
_LOW_BYTE = np.uint64(0xFF)


def any_slot(mask: np.ndarray) -> np.ndarray:
    """Whether any slot of each row is set: bool (R,) for a C-contiguous bool (R, K), K a multiple of 8."""
    words = mask.view(np.uint64)
    found = words[:, 0] != 0
    for block in range(1, words.shape[1]):
        found |= words[:, block] != 0
    return found


def count_slots(mask: np.ndarray) -> np.ndarray:
    """How many slots of each row are set: int64 (R,) for a C-contiguous bool (R, K), K a multiple of 8.
    Multiplying a word of 0/1 bytes by 0x0101...01 sums its bytes into the top byte."""
    words = mask.view(np.uint64)
    count = (words[:, 0] * _BYTE_ONES) >> _BYTE_SUM_SHIFT
    for block in range(1, words.shape[1]):
        count += (words[:, block] * _BYTE_ONES) >> _BYTE_SUM_SHIFT
    return count.astype(np.int64)


def first_slot(mask: np.ndarray) -> np.ndarray:
    """The lowest set slot of each row (0 where none is): int64 (R,) for a C-contiguous bool (R, K). The lowest
    set bit of a word, x & -x, is a power of two whose log2 is exact in float64."""
    words = mask.view(np.uint64)
    slot = np.zeros(len(mask), dtype=np.int64)
    for block in reversed(range(words.shape[1])):
        word = words[:, block]
        empty = word == 0
        lowest_bit = (word & (~word + np.uint64(1))) | empty  # 1 for an empty word, to keep log2 finite
        lowest = np.log2(lowest_bit.astype(np.float64)).astype(np.int64) // 8
        if block == 0:
            return np.where(empty, slot, lowest)
        slot = np.where(empty, slot, block * SLOT_BLOCK + lowest)
    return slot


class Movers:
    """K slots per copy of things moving along a lane, one cell sideways whenever their timer runs out.

    Fields, all (N, K): col, cell (row * 10 + col), step (+1 heading right, -1 left), timer, period, shot
    (int8); plane (int16, see FISH_PLANE...; EMPTY_PLANE marks a free slot); birth (int64: the copy's counter
    on the step it appeared, so that slots need no order: MinAtar keeps its movers in lists by age, and where
    that order decides something the rules compare births).

    A mover moves on the steps its timer is 0 and its timer then restarts at period - 1; on other steps the
    timer counts down. `shot` is an enemy sub's shot timer (unused for fish and divers).

    Enemy bullets live in the slot of the sub that fired them: bullet_col, bullet_cell, bullet_step (int8
    (N, K)); a slot has a bullet while bullet_col is on the board (0-9). One slot never needs two: a sub fires
    every 11 steps and its bullet leaves the board within 10, and a sub taking over a freed slot fires for the
    first time 10 steps after it appeared, by when its predecessor's last bullet is gone.
    """

    def __init__(self, num_envs: int, num_slots: int = SLOT_BLOCK):
        if num_slots < SLOT_BLOCK or num_slots % SLOT_BLOCK:
            raise ValueError(f"num_slots must be a positive multiple of {SLOT_BLOCK}, got {num_slots}")
        self.num_envs = int(num_envs)
        shape = (self.num_envs, num_slots)
        self.col = np.zeros(shape, dtype=np.int8)
        self.cell = np.zeros(shape, dtype=np.int8)
        self.step = np.ones(shape, dtype=np.int8)
        self.timer = np.zeros(shape, dtype=np.int8)
        self.period = np.ones(shape, dtype=np.int8)
        self.shot = np.zeros(shape, dtype=np.int8)
        self.plane = np.full(shape, EMPTY_PLANE, dtype=np.int16)
        self.birth = np.zeros(shape, dtype=np.int64)
        self.bullet_col = np.full(shape, -1, dtype=np.int8)
        self.bullet_cell = np.zeros(shape, dtype=np.int8)
        self.bullet_step = np.zeros(shape, dtype=np.int8)

    _FIELDS = ("col", "cell", "step", "timer", "period", "shot", "plane", "birth", "bullet_col", "bullet_cell",
               "bullet_step")

    @property
    def num_slots(self) -> int:
        return self.col.shape[1]

    def spread(self, values: np.ndarray) -> np.ndarray:
        """Per-copy values (int (N,), in int8 range) repeated over the slots: int8 (N, K), built as bytes of
        uint64 words (a broadcast (N, 1) operand is slow on a short last axis)."""
        words = (values.astype(np.uint64) & _LOW_BYTE) * _BYTE_ONES
        blocks = self.num_slots // SLOT_BLOCK
        if blocks > 1:
            words = np.repeat(words, blocks)
        return words.view(np.int8).reshape(self.num_envs, self.num_slots)

    def advance(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Count down every timer and move the movers whose timer was 0.

        Returns (alive, moved, cell_before, in_bounds): bool, bool, int8, bool (N, K). A mover that moved off
        the board keeps its slot (col -1 or 10) until `remove`; in_bounds is False for it.
        """
        alive = self.plane != EMPTY_PLANE
        moved = self.timer == 0
        moved &= alive
        cell_before = self.cell.copy()
        delta = moved * self.step
        self.col += delta
        self.cell += delta
        # Empty slots count down too (int8 wraps around); `alive` keeps them from moving.
        self.timer -= 1
        self.timer += moved * self.period
        in_bounds = self.col.view(np.uint8) < SIDE  # col -1 reads as 255
        return alive, moved, cell_before, in_bounds

    def fire(self, fires: np.ndarray) -> None:
        """The movers where `fires` (bool (N, K)) put a bullet on their own cell, heading their way."""
        self.bullet_col += fires * (self.col - self.bullet_col)
        self.bullet_cell += fires * (self.cell - self.bullet_cell)
        self.bullet_step += fires * (self.step - self.bullet_step)

    def bullets_hit(self, player: np.ndarray) -> np.ndarray:
        """Enemy bullets hit a sub at `player` (each copy's cell spread over the slots, int8 (N, K)) where they
        are, then fly one cell (leaving at the walls) and hit it there. Returns bool (N,)."""
        flying = self.bullet_col.view(np.uint8) < SIDE
        if not flying.any():
            return np.zeros(self.num_envs, dtype=bool)
        hit = (self.bullet_cell == player) & flying
        delta = flying * self.bullet_step
        self.bullet_col += delta
        self.bullet_cell += delta
        flying = self.bullet_col.view(np.uint8) < SIDE
        hit |= (self.bullet_cell == player) & flying
        return any_slot(hit)

    def add(self, rows: np.ndarray, col: np.ndarray, row: np.ndarray, step: np.ndarray, plane: np.ndarray,
            period: np.ndarray, shot: int, birth: np.ndarray) -> None:
        """Put one new mover into a free slot of each copy in `rows` (int64 (R,), distinct); the other
        arguments are (R,) arrays (shot a number). A new mover's timer is period - 1. Adds slots if needed."""
        if rows.size == 0:
            return
        free = self.plane[rows] == EMPTY_PLANE
        while not any_slot(free).all():
            self.grow()
            free = self.plane[rows] == EMPTY_PLANE
        at = rows * self.num_slots + first_slot(free)
        for name, value in (("col", col), ("cell", row * SIDE + col), ("step", step), ("timer", period - 1),
                            ("period", period), ("shot", shot), ("plane", plane), ("birth", birth)):
            getattr(self, name).reshape(-1)[at] = value

    def remove(self, mask: np.ndarray) -> None:
        """Free the slots where `mask` (bool (N, K))."""
        self.plane += mask * (EMPTY_PLANE - self.plane).astype(np.int16)

    def clear(self, copies: np.ndarray) -> None:
        """Free every slot and remove every bullet of the copies `copies` (int64 (R,) or bool (N,))."""
        self.plane[copies] = EMPTY_PLANE
        self.bullet_col[copies] = -1

    def grow(self) -> None:
        """Add SLOT_BLOCK free slots to every copy (rare: late in an episode, when many things are on screen)."""
        extra = Movers(self.num_envs, SLOT_BLOCK)
        for name in self._FIELDS:
            setattr(self, name, np.concatenate([getattr(self, name), getattr(extra, name)], axis=1))
