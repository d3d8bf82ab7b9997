"""Breakout with MinAtar's rules (Young & Tian, 2019) as a batched core: N copies of a 10 x 10 board at once.

`mdparcade/Breakout-v0` wraps it (envs/arcade.py). The rules are numba-compiled loops over the copies (`_step`,
`_reset`, `_observe`) that read and write the class's numpy state arrays in place.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from envs import rng_jit
from envs.batched_game import BatchedGame

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

_PLANE = SIDE * SIDE
_BOTTOM = (SIDE - 1) * SIDE  # the first cell of the bottom row
_FIRST_BRICK = BRICK_ROWS[0] * SIDE  # the cell of brick bit 0; brick bit b is cell _FIRST_BRICK + b
_CHANNELS = 4
# The observation as 8-byte words (uint64, little-endian, as on every platform numba runs on): a copy's 400 bytes
# are 50 words, and its brick cells (bytes 310-339) are the low bytes of word 38 from byte 6 on, words 39-41
# and the low half of word 42; the rest of words 38 and 42 is the empty brick row 0 and row 4.
_WORDS = _CHANNELS * _PLANE // 8
_BRICK_WORD = (BRICK * _PLANE + _FIRST_BRICK) // 8
_BRICK_SHIFT = np.uint64((BRICK * _PLANE + _FIRST_BRICK) % 8 * 8)
assert _BRICK_SHIFT == 6 * 8 and NUM_BRICKS == 2 + 3 * 8 + 4  # the split `_observe` writes
_BYTES = np.uint64(0x0101010101010101)
_BIT_OF_BYTE = np.uint64(0x8040201008040201)
_LOW_7 = np.uint64(0x7F7F7F7F7F7F7F7F)


@njit(cache=True, inline="always")
def _bits_to_bytes(bits):
    """uint64 whose byte k is bit k of `bits` (uint64 < 256): each byte a copy of `bits` masked to its own bit,
    then + 0x7F carries a set bit into the byte's top bit."""
    return ((((bits * _BYTES) & _BIT_OF_BYTE) + _LOW_7) >> np.uint64(7)) & _BYTES


@njit(cache=True, inline="always")
def _set_byte(words, base, offset):
    """Set byte base + offset of the little-endian words to 1, unless the offset is outside the copy's 400 bytes
    (a state loaded with a cell off the board must not write into another copy or outside the array)."""
    if 0 <= offset < _CHANNELS * _PLANE:
        byte = np.uint64(base + offset)
        words[byte >> np.uint64(3)] |= np.uint64(1) << ((byte & np.uint64(7)) << np.uint64(3))


@njit(cache=True)
def _reset(mask, keys, counters, score, paddle_col, ball_cell, trail_cell, ball_dir, strike, bricks):
    for i in range(mask.shape[0]):
        if mask[i]:
            # rng.integers(keys, counters, 2, stream) is the top bit of the stream's 64 bits: read it directly.
            from_right = np.int64(rng_jit.bits(keys[i], counters[i], START_SIDE_STREAM) >> np.uint64(63))
            start = START_ROW * SIDE + from_right * (SIDE - 1)
            ball_cell[i] = start
            trail_cell[i] = start
            ball_dir[i] = 2 + from_right  # down-right from the left wall, down-left from the right one
            paddle_col[i] = START_PADDLE
            strike[i] = False
            bricks[i] = ALL_BRICKS
            score[i] = 0
            counters[i] += np.uint64(1)


@njit(cache=True)
def _step(actions, counters, score, paddle_col, ball_cell, trail_cell, ball_dir, strike, bricks, reward,
          terminated):
    """One move of every copy. Every rule is arithmetic on 0/1 flags, without branches or table lookups, so
    that LLVM vectorizes the loop over copies."""
    for i in range(actions.shape[0]):
        paddle = min(max(paddle_col[i] + actions[i] - 1, 0), SIDE - 1)
        paddle_col[i] = paddle
        last = ball_cell[i]
        trail_cell[i] = last
        direction = ball_dir[i]
        last_row = (last * 205) >> 11  # last // 10 for 0 <= last < 1029, without a division
        last_col = last - last_row * SIDE
        # DIR_ROW_STEP[direction] is 2 * down - 1, DIR_COL_STEP[direction] is 2 * right - 1.
        down = direction >> 1
        right = (direction ^ down) & 1
        row = last_row + 2 * down - 1
        col = last_col + 2 * right - 1
        # Off a side wall: clamped, dir ^ 1; off the ceiling: dir ^ 3. A ball already on the bottom row stays
        # there (so that the step is total).
        direction ^= ((col < 0) | (col >= SIDE)) * FLIP_SIDEWAYS ^ (row < 0) * FLIP_VERTICAL
        row = min(max(row, 0), SIDE - 1)
        col = min(max(col, 0), SIDE - 1)
        cell = row * SIDE + col

        # A ball entering a brick breaks it, unless it struck one last step; then it goes back to its row.
        offset = cell - _FIRST_BRICK
        in_wall = (offset >= 0) & (offset < NUM_BRICKS)
        brick = (np.uint32(1) << np.uint32(offset & 31)) * np.uint32(in_wall) & bricks[i]
        has_brick = brick != 0
        breaks = has_brick & ~strike[i]
        strike[i] = has_brick
        wall = bricks[i] ^ brick * np.uint32(breaks)
        cell -= (2 * (direction >> 1) - 1) * SIDE * breaks  # back to the row it came from
        direction ^= breaks * FLIP_VERTICAL

        # On the bottom row (bricks are never there): refill an empty wall; bounce straight back up if the ball
        # fell onto the paddle's column from directly above it, back the way it came if it landed diagonally on
        # the paddle; otherwise the episode terminates.
        at_bottom = cell >= _BOTTOM
        bricks[i] = wall | ALL_BRICKS * np.uint32(at_bottom & (wall == 0))
        from_above = at_bottom & (last_col == paddle)
        diagonal = at_bottom & ~from_above & (col == paddle)
        direction ^= from_above * FLIP_VERTICAL + diagonal * REVERSE
        bounced = from_above | diagonal
        cell -= bounced * SIDE  # back to the row it came from
        ball_cell[i] = cell
        ball_dir[i] = direction
        terminated[i] = at_bottom & ~bounced
        reward[i] = np.float32(breaks)
        score[i] += breaks
        counters[i] += np.uint64(1)


@njit(cache=True)
def _observe(words, paddle_col, ball_cell, trail_cell, bricks):
    """Fill the observation, as uint64 words (N * 50): each copy's words written once (zeros, and the brick
    rows from the bitmask), then its paddle, ball and trail bytes set."""
    for i in range(paddle_col.shape[0]):
        first = np.uint64(i) * np.uint64(_WORDS)
        for j in range(_BRICK_WORD):
            words[first + np.uint64(j)] = np.uint64(0)
        wall = np.uint64(bricks[i])
        brick_words = first + np.uint64(_BRICK_WORD)
        words[brick_words] = _bits_to_bytes(wall & np.uint64(0x3)) << _BRICK_SHIFT
        words[brick_words + np.uint64(1)] = _bits_to_bytes((wall >> np.uint64(2)) & np.uint64(0xFF))
        words[brick_words + np.uint64(2)] = _bits_to_bytes((wall >> np.uint64(10)) & np.uint64(0xFF))
        words[brick_words + np.uint64(3)] = _bits_to_bytes((wall >> np.uint64(18)) & np.uint64(0xFF))
        words[brick_words + np.uint64(4)] = _bits_to_bytes((wall >> np.uint64(26)) & np.uint64(0xF))
        for j in range(_BRICK_WORD + 5, _WORDS):
            words[first + np.uint64(j)] = np.uint64(0)
        base = i * (_CHANNELS * _PLANE)
        _set_byte(words, base, PADDLE * _PLANE + _BOTTOM + paddle_col[i])
        _set_byte(words, base, BALL * _PLANE + ball_cell[i])
        _set_byte(words, base, TRAIL * _PLANE + trail_cell[i])


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
    compiled = True

    def __init__(self, num_envs: int = 1, sticky_action_prob: float = 0.0):
        super().__init__(num_envs, SIDE, SIDE, sticky_action_prob)
        n = self.num_envs
        self.paddle_col = np.full(n, START_PADDLE, dtype=np.int64)
        self.ball_cell = np.full(n, START_ROW * SIDE, dtype=np.int64)
        self.ball_dir = np.full(n, 2, dtype=np.int64)
        self.trail_cell = self.ball_cell.copy()
        self.strike = np.zeros(n, dtype=bool)
        self.bricks = np.full(n, ALL_BRICKS, dtype=np.uint32)

    def _cell_part(self, cells: np.ndarray, part: int) -> np.ndarray:
        value = np.divmod(cells, SIDE)[part]
        value.flags.writeable = False  # a copy: writing to it would change nothing
        return value

    ball_row = property(lambda self: self._cell_part(self.ball_cell, 0), doc="The ball's row, int64 (N,).")
    ball_col = property(lambda self: self._cell_part(self.ball_cell, 1), doc="The ball's column, int64 (N,).")
    trail_row = property(lambda self: self._cell_part(self.trail_cell, 0), doc="The trail's row, int64 (N,).")
    trail_col = property(lambda self: self._cell_part(self.trail_cell, 1), doc="The trail's column, int64 (N,).")

    def reset(self, mask: np.ndarray) -> None:
        _reset(self._per_copy(mask, np.bool_, "mask"), self.keys, self.counters, self.score, self.paddle_col,
               self.ball_cell, self.trail_cell, self.ball_dir, self.strike, self.bricks)

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        actions = self._per_copy(actions, np.int64, "actions")
        reward = np.empty(self.num_envs, dtype=np.float32)
        terminated = np.empty(self.num_envs, dtype=bool)
        _step(actions, self.counters, self.score, self.paddle_col, self.ball_cell, self.trail_cell, self.ball_dir,
              self.strike, self.bricks, reward, terminated)
        return reward, terminated

    def observe(self) -> np.ndarray:
        obs = np.empty((self.num_envs, len(self.channel_names), SIDE, SIDE), dtype=np.uint8)
        _observe(obs.reshape(-1).view(np.uint64), self.paddle_col, self.ball_cell, self.trail_cell, self.bricks)
        return obs
