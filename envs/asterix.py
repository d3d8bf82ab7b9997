"""Asterix with MinAtar's rules (Young & Tian, 2019) as a batched core: N copies of a 10 x 10 board at once.

`mdparcade/Asterix-v0` wraps it (envs/arcade.py). The rules are numba-compiled loops over the copies (`_step`,
`_reset`, `_observe`) that read and write the class's numpy state arrays in place.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from envs import rng_jit
from envs.batched_game import BatchedGame, check_difficulty_ramping

SIDE = 10
SLOTS = 8  # one entity row per slot: slot s lives on row s + 1
PLAYER, ENEMY, TRAIL, GOLD = range(4)
START_X = START_Y = 5
INIT_SPAWN_SPEED, INIT_MOVE_INTERVAL, RAMP_INTERVAL = 10, 5, 100
# envs.rng streams of a step's spawn draws (tests/envs/test_asterix.py maps MinAtar's calls to them).
SPAWN_SIDE_STREAM, SPAWN_GOLD_STREAM, SPAWN_SLOT_STREAM = 1, 2, 3

CHANNELS = 4
_PLANE = SIDE * SIDE
_NUM_ACTIONS = 5
# Player cell (row * SIDE + col) after each action (NOOP, LEFT, UP, RIGHT, DOWN: MinAtar's minimal action set
# n, l, u, r, d, in order) from each cell, at index action * _PLANE + cell; the player stays in rows 1-8.
_ROWS, _COLS = np.divmod(np.arange(_PLANE), SIDE)
_NEXT_CELL = np.concatenate([
    np.clip(_ROWS + dy, 1, SLOTS) * SIDE + np.clip(_COLS + dx, 0, SIDE - 1)
    for dx, dy in ((0, 0), (-1, 0), (0, -1), (1, 0), (0, 1))
]).astype(np.int64)


def _empty_slot_tables() -> tuple[np.ndarray, np.ndarray]:
    """For an 8-bit mask whose bit s says slot s is empty: how many are empty (int64, by mask), and the k-th
    (from 0) empty slot (int64, at index mask * SLOTS + k; 0 where there is none)."""
    count = np.zeros(256, dtype=np.int64)
    nth = np.zeros((256, SLOTS), dtype=np.int64)
    for mask in range(256):
        empty = [slot for slot in range(SLOTS) if mask >> slot & 1]
        count[mask] = len(empty)
        nth[mask, : len(empty)] = empty
    return count, nth.reshape(-1)


_NUM_EMPTY, _NTH_EMPTY = _empty_slot_tables()


@njit(cache=True, inline="always")
def _spawn(key, counter, empty):
    """MinAtar's _spawn_entity, given the copy's key and counter and the 8-bit mask of its empty slots (not 0):
    side, kind, then a uniformly chosen empty slot. Returns (slot, column, direction, plane * 100)."""
    # MinAtar's slot_options[randint(len(slot_options))]: the k-th empty slot (table lookups: no branches).
    slot = _NTH_EMPTY[empty * SLOTS + rng_jit.integers(key, counter, _NUM_EMPTY[empty], SPAWN_SLOT_STREAM)]
    right = rng_jit.uniform(key, counter, SPAWN_SIDE_STREAM) < 1 / 2
    gold = rng_jit.uniform(key, counter, SPAWN_GOLD_STREAM) < 1 / 3
    return slot, 0 if right else SIDE - 1, 1 if right else -1, GOLD * _PLANE if gold else ENEMY * _PLANE


@njit(cache=True)
def _reset(mask, counters, score, player_cell, ent_dir, ent_obs, ent_trail, spawn_speed, spawn_timer, move_speed,
           move_timer, ramp_timer, ramp_index):
    """Start a new episode in the copies where mask (bool (N,)), advancing their counters by 1. Slot arrays are
    (N, SLOTS), as in `_step`."""
    for i in range(mask.shape[0]):
        if mask[i]:
            player_cell[i] = START_Y * SIDE + START_X
            for slot in range(SLOTS):
                ent_dir[i, slot] = 0
                ent_obs[i, slot] = 0
                ent_trail[i, slot] = 0
            spawn_speed[i] = INIT_SPAWN_SPEED
            spawn_timer[i] = INIT_SPAWN_SPEED
            move_speed[i] = INIT_MOVE_INTERVAL
            move_timer[i] = INIT_MOVE_INTERVAL
            ramp_timer[i] = RAMP_INTERVAL
            ramp_index[i] = 0
            score[i] = 0
            counters[i] += np.uint64(1)


@njit(cache=True)
def _step(actions, keys, counters, score, player_cell, ent_x, ent_dir, ent_obs, ent_trail, spawn_speed, spawn_timer,
          move_speed, move_timer, ramp_timer, ramp_index, ramping, reward, terminated):
    """Advance every copy by one step, in MinAtar's order: spawn, player move, touch, entity move, touch, clocks,
    difficulty ramp (if `ramping`). Writes reward (float32 (N,)) and terminated (bool (N,)) for every copy.
    The slot arrays are (N, SLOTS)."""
    for i in range(actions.shape[0]):
        if spawn_timer[i] == 0:  # MinAtar's _spawn_entity, into an empty slot if there is one
            empty = 0
            for s in range(SLOTS):
                empty |= (ent_dir[i, s] == 0) << s
            if empty != 0:
                slot, x, direction, plane = _spawn(keys[i], counters[i], empty)
                ent_x[i, slot] = x
                ent_dir[i, slot] = direction
                ent_obs[i, slot] = plane + (slot + 1) * SIDE + x
                ent_trail[i, slot] = TRAIL * _PLANE - plane - direction
            spawn_timer[i] = spawn_speed[i]
        # The player moves one cell within rows 1-8 (a table lookup: dividing by SIDE costs more). Clamping
        # the lookup keeps it in the table for any state and action (an action outside 0-4 reads as NOOP).
        action = actions[i]
        if action < 0 or action >= _NUM_ACTIONS:
            action = 0
        cell = _NEXT_CELL[action * _PLANE + min(max(player_cell[i], 0), _PLANE - 1)]
        player_cell[i] = cell
        slot = (cell * 205 >> 11) - 1  # the slot of the cell's row (cell // 10 for cells below 1029)
        # Gold on the player's cell is collected (before and after the entities move); an enemy there ends it.
        entity = ent_obs[i, slot] - cell
        gold = 1 if entity == GOLD * _PLANE else 0
        hit = entity == ENEMY * _PLANE
        if gold:
            ent_dir[i, slot] = 0
            ent_obs[i, slot] = 0
        if move_timer[i] == 0:
            move_timer[i] = move_speed[i]
            for s in range(SLOTS):  # every entity moves one cell along its row and vanishes past the wall
                direction = ent_dir[i, s]
                ent_x[i, s] += direction
                stays = np.uint8(ent_x[i, s]) <= SIDE - 1  # -1 reads as 255: gone past either wall
                ent_dir[i, s] = direction * stays
                ent_obs[i, s] = (ent_obs[i, s] + direction) * stays
            entity = ent_obs[i, slot] - cell
            hit |= entity == ENEMY * _PLANE
            if entity == GOLD * _PLANE:
                gold += 1
                ent_dir[i, slot] = 0
                ent_obs[i, slot] = 0
        spawn_timer[i] -= 1
        move_timer[i] -= 1
        if ramping and (spawn_speed[i] > 1 or move_speed[i] > 1):  # MinAtar's difficulty ramp
            if ramp_timer[i] < 0:
                if move_speed[i] > 1 and ramp_index[i] % 2 == 1:
                    move_speed[i] -= 1
                if spawn_speed[i] > 1:
                    spawn_speed[i] -= 1
                ramp_index[i] += 1
                ramp_timer[i] = RAMP_INTERVAL
            else:
                ramp_timer[i] -= 1
        score[i] += gold
        counters[i] += np.uint64(1)
        reward[i] = gold
        terminated[i] = hit


# Bytes of a uint64 holding a copy's 8 slots (int8 each): high bits, low 7 bits, tens.
_HIGH, _LOW, _TENS = np.uint64(0x8080808080808080), np.uint64(0x7F7F7F7F7F7F7F7F), np.uint64(0x0A0A0A0A0A0A0A0A)


@njit(cache=True)
def _observe(obs, player_cell, ent_x, ent_dir, ent_obs, ent_trail):
    """Fill obs (uint8, flat, N * CHANNELS * SIDE * SIDE): entities, their trails, the player. ent_x and ent_dir
    are copy-major (N, SLOTS) and C-contiguous: a copy's 8 slots are read as one uint64.

    Writes are unsigned and branch-free: an entity with no cell (a slot with no entity, ent_obs 0), a trail off
    the board, or any index past the copy's block writes the player plane's cell (0, 0), which the player
    never lights (it stays in rows 1-8) and which is cleared after the entities."""
    size = np.uint64(CHANNELS * _PLANE)
    none = np.uint64(0)
    x_words = ent_x.view(np.uint64)
    dir_words = ent_dir.view(np.uint64)
    for i in range(player_cell.shape[0]):
        base = np.uint64(i) * size
        for j in range(CHANNELS * _PLANE):
            obs[base + np.uint64(j)] = 0
        # A trail is on the board where its entity was, if it has one and has moved (not just spawned at a
        # wall): direction != 0 and 0 <= x - direction <= 9 (int8), for all 8 slots at once, in each byte's
        # high bit.
        x, direction = x_words[i, 0], dir_words[i, 0]
        back = ((x | _HIGH) - (direction & _LOW)) ^ ((x ^ ~direction) & _HIGH)  # bytewise x - direction
        on_board = ~(((back | _HIGH) - _TENS) | back) & (((direction & _LOW) + _LOW) | direction) & _HIGH
        for slot in range(SLOTS):
            entity = ent_obs[i, slot]
            cell = np.uint64(np.int64(entity))
            obs[base + (cell if cell < size else none)] = 1
            cell = np.uint64(np.int64(np.int16(entity + ent_trail[i, slot])))
            lit = (((on_board >> np.uint64(8 * slot + 7)) & np.uint64(1)) != none) & (cell < size)
            obs[base + (cell if lit else none)] = 1
        obs[base] = 0
        cell = np.uint64(player_cell[i])
        obs[base + (cell if cell < size else none)] = 1


class AsterixGame(BatchedGame):
    """MinAtar Asterix for N copies.

    Rules: the player starts at (row 5, col 5) and moves one cell per step within rows 1-8. Every
    `spawn_speed` steps (10 at first) an entity appears in a random empty row of rows 1-8 (if there is one),
    at the left wall moving right or at the right wall moving left (a fair coin): gold with probability 1/3,
    else an enemy. Every `move_speed` steps (5 at first) all entities move one cell along their row, and
    vanish past the wall. Touching gold, before or after the entities move, collects it (+1); touching an
    enemy ends the episode. With difficulty ramping (MinAtar's default), every 102nd step spawn_speed drops by
    one (down to 1), and every second time move_speed does too (down to 1), until both are 1. Channels:
    player, enemy, trail (the cell an entity has just left: its direction), gold. Actions: NOOP, LEFT, UP,
    RIGHT, DOWN. Score: gold collected.

    State: player_cell int64 (N,) (row * 10 + col); per slot (N, SLOTS), indexed [copy, slot] (slot s is row
    s + 1): ent_x int8 (column),
    ent_dir int8 (+1 right, -1 left, 0 no entity), ent_obs int16 (the entity's index in its copy's flat
    observation, plane * 100 + row * 10 + col; 0 when there is none), ent_trail int16 (its trail's index minus
    ent_obs); and spawn_speed, spawn_timer, move_speed, move_timer, ramp_timer, ramp_index int16 (N,).
    """

    action_meanings = ("NOOP", "LEFT", "UP", "RIGHT", "DOWN")
    channel_names = ("player", "enemy", "trail", "gold")
    channel_colors = ((80, 200, 255), (230, 60, 60), (120, 120, 150), (250, 210, 60))
    render_fps = 8
    compiled = True

    def __init__(self, num_envs: int = 1, sticky_action_prob: float = 0.0, difficulty_ramping: bool = True):
        super().__init__(num_envs, SIDE, SIDE, sticky_action_prob)
        self.difficulty_ramping = check_difficulty_ramping(difficulty_ramping)
        n = self.num_envs
        self.player_cell = np.full(n, START_Y * SIDE + START_X, dtype=np.int64)
        # Copy-major (N, SLOTS): the kernels read a copy's slots together (slot-major rows N apart, all in one
        # cache set when N is a power of two, made them twice as slow), and state_dict saves them by copy.
        self.ent_x = np.zeros((n, SLOTS), dtype=np.int8)
        self.ent_dir = np.zeros((n, SLOTS), dtype=np.int8)
        self.ent_obs = np.zeros((n, SLOTS), dtype=np.int16)
        self.ent_trail = np.zeros((n, SLOTS), dtype=np.int16)
        self.spawn_speed = np.full(n, INIT_SPAWN_SPEED, dtype=np.int16)
        self.spawn_timer = self.spawn_speed.copy()
        self.move_speed = np.full(n, INIT_MOVE_INTERVAL, dtype=np.int16)
        self.move_timer = self.move_speed.copy()
        self.ramp_timer = np.full(n, RAMP_INTERVAL, dtype=np.int16)
        self.ramp_index = np.zeros(n, dtype=np.int16)

    def reset(self, mask: np.ndarray) -> None:
        _reset(self._per_copy(mask, np.bool_, "mask"), self.counters, self.score, self.player_cell, self.ent_dir,
               self.ent_obs, self.ent_trail, self.spawn_speed, self.spawn_timer, self.move_speed,
               self.move_timer, self.ramp_timer, self.ramp_index)

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        actions = self._per_copy(actions, np.int64, "actions")
        reward = np.empty(self.num_envs, dtype=np.float32)
        terminated = np.empty(self.num_envs, dtype=np.bool_)
        _step(actions, self.keys, self.counters, self.score, self.player_cell, self.ent_x, self.ent_dir,
              self.ent_obs, self.ent_trail, self.spawn_speed, self.spawn_timer, self.move_speed, self.move_timer,
              self.ramp_timer, self.ramp_index, self.difficulty_ramping, reward, terminated)
        return reward, terminated

    def observe(self) -> np.ndarray:
        obs = np.empty((self.num_envs, CHANNELS, SIDE, SIDE), dtype=np.uint8)
        _observe(obs.reshape(-1), self.player_cell, self.ent_x,
                 self.ent_dir, self.ent_obs, self.ent_trail)
        return obs
