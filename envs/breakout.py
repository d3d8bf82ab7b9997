"""Breakout with MinAtar's rules (Young & Tian, 2019) as a batched core: N copies of a 10 x 10 board at once.

`mdparcade/Breakout-v0` wraps it (envs/arcade.py). Each rule is an array operation over all copies.
"""

from __future__ import annotations

import numpy as np

from envs import rng
from envs.batched_game import BatchedGame, move_paddle_

SIDE = 10
BRICK_ROWS = (1, 2, 3)
START_ROW = 3
START_PADDLE = 4
NUM_BRICKS = len(BRICK_ROWS) * SIDE
ALL_BRICKS = np.uint32((1 << NUM_BRICKS) - 1)
PADDLE, BALL, TRAIL, BRICK = range(4)
# envs.rng stream of reset's draw: the ball starts at the left (0) or the right (1) wall.
START_SIDE_STREAM = 0

# Ball directions, as in MinAtar: 0 up-left, 1 up-right, 2 down-right, 3 down-left. With this numbering the
# reflections are XORs: off a side wall dir ^ 1, off the ceiling or a brick dir ^ 3, back the way it came dir ^ 2.
DIR_COL_STEP = np.array([-1, 1, 1, -1], dtype=np.int64)
DIR_ROW_STEP = np.array([-1, -1, 1, 1], dtype=np.int64)
FLIP_SIDEWAYS, FLIP_VERTICAL, REVERSE = 1, 3, 2


def _wall_tables() -> tuple[np.ndarray, np.ndarray]:
    """The ball's cell and direction after one move from (direction, cell), at index direction * 100 + cell:
    off the side walls (clamped, dir ^ 1) and the ceiling (dir ^ 3); kept on the bottom row if it is already
    there (so that `step` is total)."""
    direction, cell = np.divmod(np.arange(4 * SIDE * SIDE), SIDE * SIDE)
    row, col = np.divmod(cell, SIDE)
    row, col = row + DIR_ROW_STEP[direction], col + DIR_COL_STEP[direction]
    off_side, off_top = (col < 0) | (col >= SIDE), row < 0
    direction = direction ^ (off_side * FLIP_SIDEWAYS) ^ (off_top * FLIP_VERTICAL)
    cell = np.clip(row, 0, SIDE - 1) * SIDE + np.clip(col, 0, SIDE - 1)
    return cell.astype(np.int64), direction.astype(np.int64)


_WALL_CELL, _WALL_DIR = _wall_tables()
_CELLS = np.arange(SIDE * SIDE)
_COL_OF_CELL = (_CELLS % SIDE).astype(np.int64)
# The brick bit of each cell (0 outside rows 1-3), and the cell step back to the row a ball came from.
_BRICK_BIT = np.where((_CELLS >= SIDE) & (_CELLS < SIDE * (1 + NUM_BRICKS // SIDE)),
                      np.left_shift(1, np.clip(_CELLS - SIDE, 0, 31)), 0).astype(np.uint32)
_ROW_BACK = -SIDE * DIR_ROW_STEP
# Brick plane rows 1-3 from the brick bitmask, 15 cells at a time: row k of _HALF_WALL is bits 0-14 of k as
# bytes, viewed as one 15-byte item so that a take copies whole items.
_HALF_WALL = ((np.arange(1 << 15)[:, None] >> np.arange(15)) & 1).astype(np.uint8)
_HALF_WALL = np.ascontiguousarray(_HALF_WALL).view("V15").reshape(-1)
# One observation row (4 planes of 10 x 10) as fields: the brick rows are the two 15-cell halves.
_OBS_ROW = np.dtype([("before", "V310"), ("wall_low", "V15"), ("wall_high", "V15"), ("after", "V60")])


class BreakoutGame(BatchedGame):
    """MinAtar Breakout for N copies.

    Actions: 0 LEFT, 1 NOOP, 2 RIGHT (paddle on the bottom row stops at the walls). The ball moves one cell
    diagonally per step and bounces off the side walls, the ceiling and the paddle; it starts on row 3 at the
    left wall going down-right or the right wall going down-left (a fair coin per episode). A ball entering a
    brick removes it (+1) and bounces back; it cannot break bricks on two steps in a row (it passes into the
    second one instead). Bricks fill rows 1-3 and are refilled when the ball reaches the bottom row with none
    left. A ball arriving on the bottom row bounces straight back up if it fell onto the paddle's column from
    directly above it, or back the way it came if it lands diagonally on the paddle; otherwise the episode
    terminates. Channels: paddle, ball, trail (the ball's previous cell), brick. Score: bricks broken.
    MinAtar's Breakout does not ramp its difficulty, so only its sticky actions are an option.

    State per copy, all (N,): paddle_col int64, ball_cell and trail_cell int64 (row * 10 + col; the trail is
    the ball's previous cell), ball_dir int64, strike bool (a brick was hit last step), bricks uint32 (bitmask:
    bit (row - 1) * 10 + col for rows 1-3). ball_row, ball_col, trail_row, trail_col read the cells (read-only).
    """

    action_meanings = ("LEFT", "NOOP", "RIGHT")
    channel_names = ("paddle", "ball", "trail", "brick")
    channel_colors = ((80, 200, 255), (255, 255, 255), (120, 120, 150), (230, 90, 60))
    render_fps = 8

    def __init__(self, num_envs: int = 1, sticky_action_prob: float = 0.0):
        super().__init__(num_envs, SIDE, SIDE, sticky_action_prob)
        n = self.num_envs
        self.paddle_col = np.full(n, START_PADDLE, dtype=np.int64)
        self.ball_cell = np.full(n, START_ROW * SIDE, dtype=np.int64)
        self.ball_dir = np.full(n, 2, dtype=np.int64)
        self.trail_cell = self.ball_cell.copy()
        self.strike = np.zeros(n, dtype=bool)
        self.bricks = np.full(n, ALL_BRICKS, dtype=np.uint32)
        # Flat observation index of each copy's paddle row, ball plane and trail plane.
        base = np.arange(n, dtype=np.int64) * (len(self.channel_names) * SIDE * SIDE)
        self._paddle_base = base + (PADDLE * SIDE * SIDE + (SIDE - 1) * SIDE)
        self._ball_base = base + BALL * SIDE * SIDE
        self._trail_base = base + TRAIL * SIDE * SIDE

    def _cell_part(self, cells: np.ndarray, part: int) -> np.ndarray:
        value = np.divmod(cells, SIDE)[part]
        value.flags.writeable = False  # a copy: writing to it would change nothing
        return value

    ball_row = property(lambda self: self._cell_part(self.ball_cell, 0), doc="The ball's row, int64 (N,).")
    ball_col = property(lambda self: self._cell_part(self.ball_cell, 1), doc="The ball's column, int64 (N,).")
    trail_row = property(lambda self: self._cell_part(self.trail_cell, 0), doc="The trail's row, int64 (N,).")
    trail_col = property(lambda self: self._cell_part(self.trail_cell, 1), doc="The trail's column, int64 (N,).")

    def reset(self, mask: np.ndarray) -> None:
        copies = np.flatnonzero(mask)
        from_right = rng.integers(self.keys[copies], self.counters[copies], 2, START_SIDE_STREAM)
        start = START_ROW * SIDE + from_right * (SIDE - 1)
        self.ball_cell[copies] = start
        self.trail_cell[copies] = start
        self.ball_dir[copies] = 2 + from_right  # down-right from the left wall, down-left from the right one
        self.paddle_col[copies] = START_PADDLE
        self.strike[copies] = False
        self.bricks[copies] = ALL_BRICKS
        self.score[copies] = 0
        self.counters[copies] += np.uint64(1)

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        move_paddle_(self.paddle_col, actions, SIDE)
        np.copyto(self.trail_cell, self.ball_cell)
        state = self.ball_dir * (SIDE * SIDE)
        state += self.ball_cell
        cell = _WALL_CELL.take(state)
        direction = _WALL_DIR.take(state)

        # A ball entering a brick breaks it, unless it struck one last step; then it goes back to its row.
        brick = _BRICK_BIT.take(cell)
        brick &= self.bricks
        has_brick = brick != 0
        breaks = has_brick & ~self.strike
        self.strike = has_brick
        brick *= breaks
        self.bricks ^= brick
        cell += _ROW_BACK.take(direction) * breaks
        direction ^= breaks * FLIP_VERTICAL

        at_bottom = cell >= (SIDE - 1) * SIDE  # bricks are never on the bottom row
        terminated = self._land_on_bottom(cell, direction, at_bottom) if at_bottom.any() else at_bottom
        self.ball_cell, self.ball_dir = cell, direction
        self.score += breaks
        self.counters += np.uint64(1)
        return breaks.astype(np.float32), terminated

    def _land_on_bottom(self, cell: np.ndarray, direction: np.ndarray, at_bottom: np.ndarray) -> np.ndarray:
        """Refill bricks, bounce off the paddle or lose, for balls reaching the bottom row (`at_bottom`, bool
        (N,)). cell, direction: the balls' new cells and directions (int64 (N,)), updated in place. Returns
        terminated."""
        self.bricks |= (at_bottom & (self.bricks == 0)) * ALL_BRICKS
        from_above = _COL_OF_CELL.take(self.trail_cell) == self.paddle_col
        from_above &= at_bottom
        diagonal = _COL_OF_CELL.take(cell) == self.paddle_col
        diagonal &= at_bottom
        diagonal &= ~from_above
        direction ^= from_above * FLIP_VERTICAL + diagonal * REVERSE
        bounced = from_above | diagonal
        cell -= bounced * SIDE  # back to the row it came from
        return at_bottom & ~bounced

    def observe(self) -> np.ndarray:
        n = self.num_envs
        obs = np.zeros((n, len(self.channel_names), SIDE, SIDE), dtype=np.uint8)
        flat = obs.reshape(-1)
        flat[self._paddle_base + self.paddle_col] = 1
        flat[self._ball_base + self.ball_cell] = 1
        flat[self._trail_base + self.trail_cell] = 1
        # The brick rows, 15 cells at a time from a table of bit patterns (unpackbits costs twice as much).
        rows = obs.reshape(n, -1).view(_OBS_ROW).reshape(n)
        rows["wall_low"] = _HALF_WALL.take(self.bricks & np.uint32(0x7FFF))
        rows["wall_high"] = _HALF_WALL.take(self.bricks >> np.uint32(15))
        return obs
