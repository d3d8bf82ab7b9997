"""Catch (bsuite-style), as a batched core: a ball falls down a 10 x 5 board and the paddle must be under it.

`mdparcade/Catch-v0` wraps it (envs/arcade.py); the rules below run for N copies at once with no Python loop.
"""

from __future__ import annotations

import numpy as np

from envs import rng
from envs.batched_game import BatchedGame, move_paddle_

ROWS = 10
COLUMNS = 5


class CatchGame(BatchedGame):
    """Ball starts in a random column of row 0 and falls one row per step; the paddle lives on the last row.

    Actions: 0 LEFT, 1 STAY, 2 RIGHT (paddle stops at the walls). When the ball reaches the last row the
    episode terminates with reward +1 if the paddle is under it, else -1 (0 on every other step); after
    ROWS - 1 = 9 steps. Channels: paddle, ball. Score: the episode's reward sum (+1 or -1 at the end).
    """

    action_meanings = ("LEFT", "STAY", "RIGHT")
    channel_names = ("paddle", "ball")
    channel_colors = ((80, 200, 255), (255, 210, 60))
    render_fps = 5

    def __init__(self, num_envs: int = 1):
        super().__init__(num_envs, ROWS, COLUMNS)
        self.paddle_col = np.full(self.num_envs, COLUMNS // 2, dtype=np.int64)
        self.ball_row = np.zeros(self.num_envs, dtype=np.int64)
        self.ball_col = np.zeros(self.num_envs, dtype=np.int64)
        # Offsets of each copy's paddle row and ball plane in its flattened (C * H * W) observation.
        self._paddle_base = np.arange(self.num_envs, dtype=np.int64) * (2 * ROWS * COLUMNS) + (ROWS - 1) * COLUMNS
        self._ball_base = self._paddle_base - (ROWS - 1) * COLUMNS + ROWS * COLUMNS

    def reset(self, mask: np.ndarray) -> None:
        start_col = rng.integers(self.keys[mask], self.counters[mask], COLUMNS)
        self.ball_col[mask] = start_col
        self.ball_row[mask] = 0
        self.paddle_col[mask] = COLUMNS // 2
        self.score[mask] = 0
        self.counters[mask] += np.uint64(1)

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        paddle = move_paddle_(self.paddle_col, actions, COLUMNS)
        # min() keeps a copy that already landed on the last row there (step must be total).
        ball_row = self.ball_row
        ball_row += 1
        np.minimum(ball_row, ROWS - 1, out=ball_row)
        terminated = ball_row == ROWS - 1
        caught = self.ball_col == paddle
        reward = np.where(terminated, np.where(caught, np.float32(1.0), np.float32(-1.0)), np.float32(0.0))
        self.score += reward.astype(np.int64)
        self.counters += np.uint64(1)
        return reward, terminated

    def observe(self) -> np.ndarray:
        obs = np.zeros((self.num_envs, 2, ROWS, COLUMNS), dtype=np.uint8)
        flat = obs.reshape(-1)
        flat[self._paddle_base + self.paddle_col] = 1
        flat[self._ball_base + self.ball_row * COLUMNS + self.ball_col] = 1
        return obs
