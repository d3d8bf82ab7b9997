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

    State per copy, all (N,): paddle_col, ball_row, ball_col, ball_dir, trail_row, trail_col, strike (a brick
    was hit last step), bricks (uint32 bitmask: bit (row - 1) * 10 + col for rows 1-3).
    """

    action_meanings = ("LEFT", "NOOP", "RIGHT")
    channel_names = ("paddle", "ball", "trail", "brick")
    channel_colors = ((80, 200, 255), (255, 255, 255), (120, 120, 150), (230, 90, 60))
    render_fps = 8

    def __init__(self, num_envs: int = 1, sticky_action_prob: float = 0.0):
        super().__init__(num_envs, SIDE, SIDE, sticky_action_prob)
        n = self.num_envs
        self.paddle_col = np.full(n, START_PADDLE, dtype=np.int64)
        self.ball_row = np.full(n, START_ROW, dtype=np.int64)
        self.ball_col = np.zeros(n, dtype=np.int64)
        self.ball_dir = np.full(n, 2, dtype=np.int64)
        self.trail_row = self.ball_row.copy()
        self.trail_col = self.ball_col.copy()
        self.strike = np.zeros(n, dtype=bool)
        self.bricks = np.full(n, ALL_BRICKS, dtype=np.uint32)
        plane = SIDE * SIDE
        self._obs_base = np.arange(n, dtype=np.int64) * (len(self.channel_names) * plane)

    def reset(self, mask: np.ndarray) -> None:
        from_right = rng.integers(self.keys[mask], self.counters[mask], 2, START_SIDE_STREAM)
        self.ball_col[mask] = from_right * (SIDE - 1)
        self.ball_dir[mask] = 2 + from_right  # down-right from the left wall, down-left from the right one
        self.ball_row[mask] = START_ROW
        self.trail_row[mask] = START_ROW
        self.trail_col[mask] = self.ball_col[mask]
        self.paddle_col[mask] = START_PADDLE
        self.strike[mask] = False
        self.bricks[mask] = ALL_BRICKS
        self.score[mask] = 0
        self.counters[mask] += np.uint64(1)

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        move_paddle_(self.paddle_col, actions, SIDE)
        np.copyto(self.trail_row, self.ball_row)
        np.copyto(self.trail_col, self.ball_col)

        direction = self.ball_dir
        col = self.ball_col
        col += DIR_COL_STEP[direction]
        row = self.ball_row
        row += DIR_ROW_STEP[direction]
        off_side = (col < 0) | (col >= SIDE)
        np.maximum(col, 0, out=col)
        np.minimum(col, SIDE - 1, out=col)
        direction ^= off_side * FLIP_SIDEWAYS
        off_top = row < 0
        np.maximum(row, 0, out=row)
        direction ^= off_top * FLIP_VERTICAL
        # min() keeps a ball that already fell past the paddle on the board (step must be total).
        np.minimum(row, SIDE - 1, out=row)

        reward, has_brick = self._hit_bricks(row, col)
        breaks = reward.astype(bool)
        np.copyto(row, self.trail_row, where=breaks)
        direction ^= breaks * FLIP_VERTICAL
        np.copyto(self.strike, has_brick)

        terminated = self._land_on_bottom(row, col, direction, has_brick)
        self.score += breaks
        self.counters += np.uint64(1)
        return reward, terminated

    def _hit_bricks(self, row: np.ndarray, col: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Remove bricks the balls (rows, cols (N,)) moved into, unless they struck one last step.

        Returns (reward float32 (N,), has_brick bool (N,): a brick is at the ball's new cell)."""
        in_brick_rows = (row >= BRICK_ROWS[0]) & (row <= BRICK_ROWS[-1])
        bit = ((row - BRICK_ROWS[0]) * SIDE + col).astype(np.uint32)
        bit *= in_brick_rows  # any valid shift where there is no brick row; masked out below
        has_brick = ((self.bricks >> bit) & np.uint32(1)).astype(bool)
        has_brick &= in_brick_rows
        breaks = has_brick & ~self.strike
        self.bricks ^= breaks.astype(np.uint32) << bit
        return breaks.astype(np.float32), has_brick

    def _land_on_bottom(
        self, row: np.ndarray, col: np.ndarray, direction: np.ndarray, has_brick: np.ndarray
    ) -> np.ndarray:
        """Refill bricks, bounce off the paddle or lose, for balls reaching the bottom row. Returns terminated."""
        at_bottom = row == SIDE - 1
        at_bottom &= ~has_brick
        if not at_bottom.any():
            return at_bottom
        self.bricks |= (at_bottom & (self.bricks == 0)) * ALL_BRICKS
        from_above = at_bottom & (self.trail_col == self.paddle_col)
        diagonal = at_bottom & ~from_above & (col == self.paddle_col)
        direction ^= from_above * FLIP_VERTICAL + diagonal * REVERSE
        bounced = from_above | diagonal
        np.copyto(row, self.trail_row, where=bounced)
        return at_bottom & ~bounced

    def observe(self) -> np.ndarray:
        n = self.num_envs
        obs = np.zeros((n, len(self.channel_names), SIDE, SIDE), dtype=np.uint8)
        flat = obs.reshape(-1)
        plane = SIDE * SIDE
        flat[self._obs_base + (PADDLE * plane + (SIDE - 1) * SIDE) + self.paddle_col] = 1
        flat[self._obs_base + BALL * plane + self.ball_row * SIDE + self.ball_col] = 1
        flat[self._obs_base + TRAIL * plane + self.trail_row * SIDE + self.trail_col] = 1
        # Little-endian bytes of the bitmask unpack to bricks in (row, col) order.
        mask_bytes = self.bricks.astype("<u4").view(np.uint8).reshape(n, 4)
        brick_bits = np.unpackbits(mask_bytes, axis=1, count=NUM_BRICKS, bitorder="little")
        obs[:, BRICK, BRICK_ROWS[0] : BRICK_ROWS[-1] + 1, :] = brick_bits.reshape(n, len(BRICK_ROWS), SIDE)
        return obs
