"""Space Invaders with MinAtar's rules (Young & Tian, 2019) as a batched core: N copies of a 10 x 10 board at once.

`mdparcade/SpaceInvaders-v0` wraps it (envs/arcade.py). Boards are rows of bits, so a move is a shift.
"""

from __future__ import annotations

import numpy as np

from envs.batched_game import BatchedGame, check_difficulty_ramping

SIDE = 10
BOARD_ROWS = 16  # rows 10-15 stay empty: a board row is a uint16, so a whole board is 4 uint64 words
FULL_ROW = (1 << SIDE) - 1
LEFT_COLUMN, RIGHT_COLUMN = 1, 1 << (SIDE - 1)
WAVE_ROWS = 4
WAVE_ROW_BITS = sum(1 << col for col in range(2, 8))  # a new wave fills columns 2-7 ...
WAVE_SIZE = WAVE_ROWS * 6  # ... of rows 0-3
START_POS = 5
SHOT_COOL_DOWN = 5
ENEMY_MOVE_INTERVAL = 12
FASTEST_MOVE_INTERVAL = 6
ENEMY_SHOT_INTERVAL = 10
NOOP, LEFT, RIGHT, FIRE = range(4)
CANNON, ALIEN, ALIEN_LEFT, ALIEN_RIGHT, FRIENDLY_BULLET, ENEMY_BULLET = range(6)


def _nearest_column_table() -> np.ndarray:
    """int64 (1024, 10): for a mask of occupied columns and the cannon's column, the occupied column nearest to
    it, the left one on a tie (MinAtar sorts columns by distance, stably); 0 for an empty mask (never used)."""
    table = np.zeros((1 << SIDE, SIDE), dtype=np.int64)
    for pos in range(SIDE):
        order = sorted(range(SIDE), key=lambda col: abs(col - pos))
        for mask in range(1, 1 << SIDE):
            table[mask, pos] = next(col for col in order if mask >> col & 1)
    return table


NEAREST_COLUMN = _nearest_column_table()


def board_any(board: np.ndarray) -> np.ndarray:
    """Whether each board (uint16 (N, 16)) has any cell set: bool (N,)."""
    words = board.view(np.uint64)
    return (words[:, 0] | words[:, 1] | words[:, 2]) != 0


def board_planes(boards: np.ndarray) -> np.ndarray:
    """Boards uint16 (..., 16) as 0/1 cells uint8 (..., 10, 10) (bit c of row r is cell (r, c))."""
    bits = np.unpackbits(boards.view(np.uint8), axis=-1, bitorder="little")
    return bits.reshape(*boards.shape[:-1], BOARD_ROWS, 16)[..., :SIDE, :SIDE]


class SpaceInvadersGame(BatchedGame):
    """MinAtar Space Invaders for N copies.

    Actions: 0 NOOP, 1 LEFT, 2 RIGHT, 3 FIRE (MinAtar's minimal set, in its order). The cannon moves along the
    bottom row; FIRE puts a bullet above it unless the last shot was under 5 steps ago, and bullets fly one row
    up per step. A wave of 4 x 6 aliens (rows 0-3, columns 2-7) moves one column sideways every `interval`
    steps (at most one per remaining alien); when an alien is at the wall it is heading for, the whole wave
    instead steps one row down and turns. Every 11th step the alien nearest the cannon's column (ties to the
    left; the lowest one in that column) drops a bullet that falls one row per step. A bullet hitting an alien
    removes both (+1). The episode terminates when an alien bullet or an alien reaches the cannon, or the wave
    turns while on the bottom row. A cleared wave is replaced at once, and with difficulty ramping the new one
    moves faster (`interval` 12, one less per wave down to 6). Channels: cannon, alien, alien_left,
    alien_right (the aliens again, in the plane of their direction), friendly_bullet, enemy_bullet. Score:
    aliens shot.

    State per copy, all (N,): pos, shot_timer, alien_dir (-1 or +1), move_interval, move_timer, shot_timer of
    the aliens (alien_shot_timer), ramp_index, alien_count; boards aliens, friendly_bullets, enemy_bullets as
    uint16 (N, 16), bit c of row r set where (r, c) is occupied (rows 10-15 unused).
    """

    action_meanings = ("NOOP", "LEFT", "RIGHT", "FIRE")
    channel_names = ("cannon", "alien", "alien_left", "alien_right", "friendly_bullet", "enemy_bullet")
    channel_colors = (
        (80, 200, 255), (120, 230, 120), (120, 230, 120), (120, 230, 120), (255, 255, 255), (255, 90, 70)
    )
    render_fps = 8

    def __init__(self, num_envs: int = 1, sticky_action_prob: float = 0.0, difficulty_ramping: bool = True):
        super().__init__(num_envs, SIDE, SIDE, sticky_action_prob)
        self.difficulty_ramping = check_difficulty_ramping(difficulty_ramping)
        n = self.num_envs
        self.pos = np.full(n, START_POS, dtype=np.int64)
        self.shot_timer = np.zeros(n, dtype=np.int64)
        self.alien_dir = np.full(n, -1, dtype=np.int64)
        self.move_interval = np.full(n, ENEMY_MOVE_INTERVAL, dtype=np.int64)
        self.move_timer = self.move_interval.copy()
        self.alien_shot_timer = np.full(n, ENEMY_SHOT_INTERVAL, dtype=np.int64)
        self.ramp_index = np.zeros(n, dtype=np.int64)
        self.alien_count = np.full(n, WAVE_SIZE, dtype=np.int64)
        self.aliens = np.zeros((n, BOARD_ROWS), dtype=np.uint16)
        self.aliens[:, :WAVE_ROWS] = WAVE_ROW_BITS
        self.friendly_bullets = np.zeros((n, BOARD_ROWS), dtype=np.uint16)
        self.enemy_bullets = np.zeros((n, BOARD_ROWS), dtype=np.uint16)
        self._cannon_index = np.arange(n, dtype=np.int64) * (len(self.channel_names) * SIDE * SIDE) + (SIDE - 1) * SIDE

    def reset(self, mask: np.ndarray) -> None:
        self.pos[mask] = START_POS
        self.shot_timer[mask] = 0
        self.alien_dir[mask] = -1
        self.move_interval[mask] = ENEMY_MOVE_INTERVAL
        self.move_timer[mask] = ENEMY_MOVE_INTERVAL
        self.alien_shot_timer[mask] = ENEMY_SHOT_INTERVAL
        self.ramp_index[mask] = 0
        self.alien_count[mask] = WAVE_SIZE
        self.aliens[mask] = 0
        self.aliens[mask, :WAVE_ROWS] = WAVE_ROW_BITS
        self.friendly_bullets[mask] = 0
        self.enemy_bullets[mask] = 0
        self.score[mask] = 0
        self.counters[mask] += np.uint64(1)

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self._act(actions)
        friendly, enemy, aliens = self.friendly_bullets, self.enemy_bullets, self.aliens
        friendly[:, : SIDE - 1] = friendly[:, 1:SIDE]  # up one row; a bullet in row 0 leaves
        friendly[:, SIDE - 1] = 0
        enemy[:, 1:SIDE] = enemy[:, : SIDE - 1]  # down one row; a bullet in row 9 leaves
        enemy[:, 0] = 0
        cannon_bit = np.left_shift(1, self.pos).astype(np.uint16)
        terminated = (enemy[:, SIDE - 1] & cannon_bit) != 0
        terminated |= (aliens[:, SIDE - 1] & cannon_bit) != 0
        moving = self.move_timer == 0
        if moving.any():
            terminated |= self._move_aliens(np.flatnonzero(moving), cannon_bit)
        shooting = self.alien_shot_timer == 0
        if shooting.any():
            self._drop_bullets(np.flatnonzero(shooting))
        reward = self._shoot_aliens()
        self.shot_timer -= self.shot_timer > 0
        self.move_timer -= 1
        self.alien_shot_timer -= 1
        cleared = self.alien_count == 0
        if cleared.any():
            self._new_wave(cleared)
        self.counters += np.uint64(1)
        return reward, terminated

    def _act(self, actions: np.ndarray) -> None:
        """Fire (if the cool-down is over) or move the cannon, for actions int64 (N,)."""
        fire = (actions == FIRE) & (self.shot_timer == 0)
        self.friendly_bullets[:, SIDE - 1] |= (fire.astype(np.uint16) << self.pos.astype(np.uint16))
        self.shot_timer += fire * SHOT_COOL_DOWN
        self.pos += actions == RIGHT
        self.pos -= actions == LEFT
        np.maximum(self.pos, 0, out=self.pos)
        np.minimum(self.pos, SIDE - 1, out=self.pos)

    def _move_aliens(self, rows: np.ndarray, cannon_bit: np.ndarray) -> np.ndarray:
        """Move the waves of copies `rows` (int64 (R,), their move timer is 0) one column, or one row down where an
        alien is at the wall ahead (turning them). Returns terminated bool (N,) for those copies."""
        terminated = np.zeros(self.num_envs, dtype=bool)
        aliens = self.aliens[rows]
        self.move_timer[rows] = np.minimum(self.alien_count[rows], self.move_interval[rows])
        columns = _column_mask(aliens)
        heading_left = self.alien_dir[rows] < 0
        at_wall = np.where(heading_left, columns & LEFT_COLUMN, columns & RIGHT_COLUMN) != 0
        self.alien_dir[rows] *= 1 - 2 * at_wall
        terminated[rows] = at_wall & (aliens[:, SIDE - 1] != 0)
        # MinAtar rolls the board: a wave turning on the bottom row wraps to the top (the episode ends then).
        down = np.roll(aliens[:, :SIDE], 1, axis=1)
        sideways = np.where(heading_left[:, None], aliens[:, :SIDE] >> 1, aliens[:, :SIDE] << 1)
        aliens[:, :SIDE] = np.where(at_wall[:, None], down, sideways)
        self.aliens[rows] = aliens
        terminated[rows] |= (aliens[:, SIDE - 1] & cannon_bit[rows]) != 0
        return terminated

    def _drop_bullets(self, rows: np.ndarray) -> None:
        """The alien nearest the cannon drops a bullet onto its own cell, in copies `rows` (int64 (R,))."""
        self.alien_shot_timer[rows] = ENEMY_SHOT_INTERVAL
        aliens = self.aliens[rows, :SIDE]
        columns = _column_mask(aliens)
        col = NEAREST_COLUMN[columns, self.pos[rows]].astype(np.uint16)
        in_column = (aliens >> col[:, None]) & 1
        lowest = SIDE - 1 - np.argmax(in_column[:, ::-1], axis=1)
        has_alien = columns != 0  # always true in play: an empty board gets a new wave the same step
        self.enemy_bullets[rows[has_alien], lowest[has_alien]] |= np.uint16(1) << col[has_alien]

    def _shoot_aliens(self) -> np.ndarray:
        """Remove aliens where a friendly bullet is, with the bullets; returns reward float32 (N,)."""
        kills = self.aliens & self.friendly_bullets
        reward = np.zeros(self.num_envs, dtype=np.float32)
        hit = board_any(kills)
        if hit.any():
            self.aliens ^= kills
            self.friendly_bullets ^= kills
            count = np.unpackbits(kills[hit].view(np.uint8), axis=1).sum(axis=1, dtype=np.int64)
            reward[hit] = count
            self.alien_count[hit] -= count
            self.score[hit] += count
        return reward

    def _new_wave(self, cleared: np.ndarray) -> None:
        """A new wave in the cleared copies (bool (N,)); with ramping it moves one step faster, down to 6."""
        self.aliens[cleared, :WAVE_ROWS] = WAVE_ROW_BITS
        self.alien_count[cleared] = WAVE_SIZE
        if self.difficulty_ramping:
            faster = cleared & (self.move_interval > FASTEST_MOVE_INTERVAL)
            self.move_interval -= faster
            self.ramp_index += faster

    def observe(self) -> np.ndarray:
        n = self.num_envs
        obs = np.zeros((n, len(self.channel_names), SIDE, SIDE), dtype=np.uint8)
        obs.reshape(-1)[self._cannon_index + self.pos] = 1
        planes = board_planes(np.stack([self.aliens, self.friendly_bullets, self.enemy_bullets], axis=1))
        obs[:, ALIEN] = planes[:, 0]
        obs[:, FRIENDLY_BULLET] = planes[:, 1]
        obs[:, ENEMY_BULLET] = planes[:, 2]
        heading_left = self.alien_dir < 0
        obs[heading_left, ALIEN_LEFT] = planes[heading_left, 0]
        heading_right = ~heading_left
        obs[heading_right, ALIEN_RIGHT] = planes[heading_right, 0]
        return obs


def _column_mask(aliens: np.ndarray) -> np.ndarray:
    """Columns holding an alien, as a 10-bit mask int64 (R,), from boards uint16 (R, >= 10)."""
    columns = aliens[:, 0].copy()
    for row in range(1, SIDE):
        columns |= aliens[:, row]
    return columns.astype(np.int64)
