"""Space Invaders with MinAtar's rules (Young & Tian, 2019) as a batched core: N copies of a 10 x 10 board at once.

`mdparcade/SpaceInvaders-v0` wraps it (envs/arcade.py). Aliens and bullets are 100-bit boards (two uint64 words
per copy, bit row * 10 + col), so moving a whole wave or every bullet is a shift and the observation one unpack.
"""

from __future__ import annotations

import numpy as np

from envs.batched_game import BatchedGame, check_difficulty_ramping

SIDE = 10
CELLS = SIDE * SIDE
START_POS = 5
SHOT_COOL_DOWN = 5
ENEMY_MOVE_INTERVAL = 12
FASTEST_MOVE_INTERVAL = 6
ENEMY_SHOT_INTERVAL = 10
WAVE_SIZE = 4 * 6  # rows 0-3, columns 2-7
NOOP, LEFT, RIGHT, FIRE = range(4)
CANNON, ALIEN, ALIEN_LEFT, ALIEN_RIGHT, FRIENDLY_BULLET, ENEMY_BULLET = range(6)

_U = np.uint64


def board_of(cells) -> np.ndarray:
    """The board (uint64 (2,)) with the given (row, col) cells set."""
    bits = np.zeros(128, dtype=np.uint8)
    for row, col in cells:
        bits[row * SIDE + col] = 1
    return np.packbits(bits, bitorder="little").view(np.uint64)


WAVE = board_of((row, col) for row in range(4) for col in range(2, 8))
COLUMN_0 = board_of((row, 0) for row in range(SIDE))
COLUMN_9 = board_of((row, SIDE - 1) for row in range(SIDE))
NOT_COLUMN_0, NOT_COLUMN_9 = ~COLUMN_0, ~COLUMN_9
ROW_9 = board_of((SIDE - 1, col) for col in range(SIDE))  # all in the high word, from bit 90 - 64 = 26
ROW_9_SHIFT, ROW_SHIFT, ROW_BITS, HIGH_BITS = _U(90 - 64), _U(SIDE), _U((1 << SIDE) - 1), _U((1 << 36) - 1)
ONE, TOP, SPILL = _U(1), _U(63), _U(64 - SIDE)


def _nearest_column_table() -> np.ndarray:
    """int64 (1024, 10): for a mask of occupied columns and the cannon's column, the occupied column nearest to
    it, the left one on a tie (MinAtar sorts columns by distance, stably); 0 for an empty mask."""
    table = np.zeros((1 << SIDE, SIDE), dtype=np.int64)
    for pos in range(SIDE):
        order = sorted(range(SIDE), key=lambda col: abs(col - pos))
        for mask in range(1, 1 << SIDE):
            table[mask, pos] = next(col for col in order if mask >> col & 1)
    return table


NEAREST_COLUMN = _nearest_column_table()


def rows_up(board: np.ndarray) -> None:
    """Every cell of boards (uint64 (R, 2), in place) one row up; row 0 leaves."""
    low, high = board[:, 0], board[:, 1]
    low >>= ROW_SHIFT
    low |= high << SPILL
    high >>= ROW_SHIFT


def rows_down(board: np.ndarray, wrap: bool = False) -> None:
    """Every cell one row down; row 9 leaves, or with `wrap` comes back as row 0 (MinAtar's np.roll)."""
    low, high = board[:, 0], board[:, 1]
    bottom = (high >> ROW_9_SHIFT) & ROW_BITS
    high <<= ROW_SHIFT
    high |= low >> SPILL
    high &= HIGH_BITS
    low <<= ROW_SHIFT
    if wrap:
        low |= bottom


def columns_left(board: np.ndarray) -> None:
    """Every cell one column left; column 0 leaves."""
    board &= NOT_COLUMN_0
    low, high = board[:, 0], board[:, 1]
    low >>= ONE
    low |= high << TOP
    high >>= ONE


def columns_right(board: np.ndarray) -> None:
    """Every cell one column right; column 9 leaves."""
    board &= NOT_COLUMN_9
    low, high = board[:, 0], board[:, 1]
    high <<= ONE
    high |= low >> TOP
    low <<= ONE


def any_cell(board: np.ndarray) -> np.ndarray:
    """Whether each board (uint64 (R, 2)) has a cell set: bool (R,)."""
    return (board[:, 0] | board[:, 1]) != 0


def column_mask(board: np.ndarray) -> np.ndarray:
    """The columns holding a cell, as 10-bit masks int64 (R,)."""
    low, high = board[:, 0], board[:, 1]
    columns = low & ROW_BITS
    for row in range(1, SIDE):
        shift = row * SIDE
        if shift + SIDE <= 64:
            columns |= low >> _U(shift)
        elif shift >= 64:
            columns |= high >> _U(shift - 64)
        else:  # row 6 straddles the two words
            columns |= (low >> _U(shift)) | (high << _U(64 - shift))
    return (columns & ROW_BITS).astype(np.int64)


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
    aliens shot. Options: sticky_action_prob (BatchedGame) and difficulty_ramping, as MinAtar's.

    State per copy, all (N,): pos, shot_timer, alien_dir (-1 or +1), move_interval, move_timer, shot_timer of
    the aliens (alien_shot_timer), ramp_index, alien_count; boards aliens, friendly_bullets, enemy_bullets
    (uint64 (N, 2): bit row * 10 + col of the 128 is set where that cell is occupied).
    """

    action_meanings = ("NOOP", "LEFT", "RIGHT", "FIRE")
    channel_names = ("cannon", "alien", "alien_left", "alien_right", "friendly_bullet", "enemy_bullet")
    channel_colors = (
        (80, 200, 255), (120, 230, 120), (90, 210, 160), (160, 230, 90), (255, 255, 255), (255, 90, 70)
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
        self.aliens = np.tile(WAVE, (n, 1))
        self.friendly_bullets = np.zeros((n, 2), dtype=np.uint64)
        self.enemy_bullets = np.zeros((n, 2), dtype=np.uint64)

    def reset(self, mask: np.ndarray) -> None:
        rows = np.flatnonzero(mask)
        for name, start in (("pos", START_POS), ("shot_timer", 0), ("alien_dir", -1),
                            ("move_interval", ENEMY_MOVE_INTERVAL), ("move_timer", ENEMY_MOVE_INTERVAL),
                            ("alien_shot_timer", ENEMY_SHOT_INTERVAL), ("ramp_index", 0),
                            ("alien_count", WAVE_SIZE), ("aliens", WAVE), ("friendly_bullets", 0),
                            ("enemy_bullets", 0), ("score", 0)):
            getattr(self, name)[rows] = start
        self.counters[rows] += np.uint64(1)

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self._act(actions)
        rows_up(self.friendly_bullets)
        rows_down(self.enemy_bullets)
        cannon = ONE << (ROW_9_SHIFT + self.pos.astype(np.uint64))  # bit of (9, pos) in the high word
        terminated = (self.enemy_bullets[:, 1] & cannon) != 0
        terminated |= (self.aliens[:, 1] & cannon) != 0
        moving = np.flatnonzero(self.move_timer == 0)
        if moving.size:
            terminated[moving] |= self._move_aliens(moving, cannon[moving])
        shooting = np.flatnonzero(self.alien_shot_timer == 0)
        if shooting.size:
            self._drop_bullets(shooting)
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
        self.friendly_bullets[:, 1] |= fire.astype(np.uint64) << (ROW_9_SHIFT + self.pos.astype(np.uint64))
        self.shot_timer += fire * SHOT_COOL_DOWN
        self.pos += actions == RIGHT
        self.pos -= actions == LEFT
        np.maximum(self.pos, 0, out=self.pos)
        np.minimum(self.pos, SIDE - 1, out=self.pos)

    def _move_aliens(self, rows: np.ndarray, cannon: np.ndarray) -> np.ndarray:
        """Move the waves of copies `rows` (int64 (R,), their move timer is 0) one column, or one row down where an
        alien is at the wall ahead (turning them). Returns terminated bool (R,)."""
        aliens = self.aliens[rows]
        self.move_timer[rows] = np.minimum(self.alien_count[rows], self.move_interval[rows])
        heading_left = self.alien_dir[rows] < 0
        at_wall = np.where(heading_left, any_cell(aliens & COLUMN_0), any_cell(aliens & COLUMN_9))
        self.alien_dir[rows] *= 1 - 2 * at_wall
        terminated = at_wall & ((aliens[:, 1] & ROW_9[1]) != 0)
        # MinAtar rolls the board: a wave turning on the bottom row wraps to the top (the episode ends then).
        for group, move in ((at_wall, lambda board: rows_down(board, wrap=True)),
                            (~at_wall & heading_left, columns_left), (~at_wall & ~heading_left, columns_right)):
            if group.any():
                moved = aliens[group]
                move(moved)
                aliens[group] = moved
        self.aliens[rows] = aliens
        return terminated | ((aliens[:, 1] & cannon) != 0)

    def _drop_bullets(self, rows: np.ndarray) -> None:
        """The alien nearest the cannon drops a bullet onto its own cell, in copies `rows` (int64 (R,))."""
        self.alien_shot_timer[rows] = ENEMY_SHOT_INTERVAL
        aliens = self.aliens[rows]
        columns = column_mask(aliens)
        rows, aliens, columns = rows[columns != 0], aliens[columns != 0], columns[columns != 0]  # a wave is never
        col = NEAREST_COLUMN[columns, self.pos[rows]]  # empty in play: a cleared one is replaced the same step
        bits = (np.arange(SIDE) * SIDE + col[:, None]).astype(np.uint64)  # (R, 10): the column's cells, by row
        in_column = (np.where(bits >= 64, aliens[:, 1:], aliens[:, :1]) >> (bits & TOP)) & ONE
        lowest = SIDE - 1 - np.argmax(in_column[:, ::-1], axis=1)
        bit = (lowest * SIDE + col).astype(np.uint64)
        high = bit >= 64
        self.enemy_bullets[rows, high.astype(np.int64)] |= ONE << (bit & TOP)

    def _shoot_aliens(self) -> np.ndarray:
        """Remove aliens where a friendly bullet is, with the bullets; returns reward float32 (N,)."""
        kills = self.aliens & self.friendly_bullets
        reward = np.zeros(self.num_envs, dtype=np.float32)
        hit = np.flatnonzero(any_cell(kills))
        if hit.size:
            self.aliens ^= kills
            self.friendly_bullets ^= kills
            count = np.unpackbits(kills[hit].view(np.uint8), axis=1).sum(axis=1, dtype=np.int64)
            reward[hit] = count
            self.alien_count[hit] -= count
            self.score[hit] += count
        return reward

    def _new_wave(self, cleared: np.ndarray) -> None:
        """A new wave in the cleared copies (bool (N,)); with ramping it moves one step faster, down to 6."""
        self.aliens[cleared] = WAVE
        self.alien_count[cleared] = WAVE_SIZE
        if self.difficulty_ramping:
            faster = cleared & (self.move_interval > FASTEST_MOVE_INTERVAL)
            self.move_interval -= faster
            self.ramp_index += faster

    def observe(self) -> np.ndarray:
        # Every channel is a board, the cannon's too; the boards are packed back to back (channel c at bit 100 c)
        # so that one unpack of 600 bits per copy is the observation.
        n = self.num_envs
        packed = np.zeros((n, PACKED_WORDS), dtype=np.uint64)
        cannon = np.zeros((n, 2), dtype=np.uint64)
        cannon[:, 1] = ONE << (ROW_9_SHIFT + self.pos.astype(np.uint64))
        heading_left = (self.alien_dir < 0).astype(np.uint64)[:, None]
        for channel, board in enumerate((cannon, self.aliens, self.aliens * heading_left,
                                         self.aliens * (ONE - heading_left), self.friendly_bullets,
                                         self.enemy_bullets)):
            _pack_board(packed, board, channel * CELLS)
        bits = np.unpackbits(packed.view(np.uint8), axis=1, count=len(self.channel_names) * CELLS, bitorder="little")
        return bits.reshape(n, len(self.channel_names), SIDE, SIDE)


PACKED_WORDS = (6 * CELLS + 63) // 64


def _pack_board(packed: np.ndarray, board: np.ndarray, offset: int) -> None:
    """OR the 100 cells of boards (uint64 (N, 2)) into packed rows of bits (uint64 (N, W)) from bit `offset`."""
    for half, at in ((0, offset), (1, offset + 64)):
        word, shift = divmod(at, 64)
        value = board[:, half]
        packed[:, word] |= value << _U(shift)
        if shift:
            packed[:, word + 1] |= value >> _U(64 - shift)
