"""Asterix with MinAtar's rules (Young & Tian, 2019) as a batched core: N copies of a 10 x 10 board at once.

`mdparcade/Asterix-v0` wraps it (envs/arcade.py). Each rule is an array operation over all copies and slots.
"""

from __future__ import annotations

import numpy as np

from envs import rng
from envs.batched_game import BatchedGame, check_difficulty_ramping

SIDE = 10
SLOTS = 8  # one entity row per slot: slot s lives on row s + 1
PLAYER, ENEMY, TRAIL, GOLD = range(4)
START_X = START_Y = 5
INIT_SPAWN_SPEED, INIT_MOVE_INTERVAL, RAMP_INTERVAL = 10, 5, 100
# envs.rng streams of a step's spawn draws (tests/envs/test_asterix.py maps MinAtar's calls to them).
SPAWN_SIDE_STREAM, SPAWN_GOLD_STREAM, SPAWN_SLOT_STREAM = 1, 2, 3

_PLANE = SIDE * SIDE
# Player cell (row * SIDE + col) after each action (NOOP, LEFT, UP, RIGHT, DOWN: MinAtar's minimal action set
# n, l, u, r, d, in order) from each cell, at index action * _PLANE + cell; the player stays in rows 1-8.
_ROWS, _COLS = np.divmod(np.arange(_PLANE), SIDE)
_NEXT_CELL = np.concatenate([
    np.clip(_ROWS + dy, 1, SLOTS) * SIDE + np.clip(_COLS + dx, 0, SIDE - 1)
    for dx, dy in ((0, 0), (-1, 0), (0, -1), (1, 0), (0, 1))
]).astype(np.int64)


def _empty_slot_tables() -> tuple[np.ndarray, np.ndarray]:
    """For an 8-bit mask whose bit s says slot s is empty: how many are empty (int8, by mask), and the k-th
    (from 0) empty slot (int64, at index mask * SLOTS + k; SLOTS where there is none)."""
    count = np.zeros(256, dtype=np.int8)
    nth = np.full((256, SLOTS), SLOTS, dtype=np.int64)
    for mask in range(256):
        empty = [slot for slot in range(SLOTS) if mask >> slot & 1]
        count[mask] = len(empty)
        nth[mask, : len(empty)] = empty
    return count, nth.reshape(-1)


_SLOT_BIT = (1 << np.arange(SLOTS, dtype=np.uint8))[:, None]
_NUM_EMPTY, _NTH_EMPTY = _empty_slot_tables()


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

    State: player_cell int64 (N,) (row * 10 + col); per slot (SLOTS, N), slot-major so that per-copy values
    broadcast along the long axis: ent_x int8 (column), ent_dir int8 (+1 right, -1 left, 0 no entity),
    ent_obs int16 (the entity's index in its copy's flat observation, plane * 100 + row * 10 + col; 0 when
    there is none), ent_trail int16 (its trail's index minus ent_obs); and spawn_speed, spawn_timer,
    move_speed, move_timer, ramp_timer, ramp_index int16 (N,).
    """

    action_meanings = ("NOOP", "LEFT", "UP", "RIGHT", "DOWN")
    channel_names = ("player", "enemy", "trail", "gold")
    channel_colors = ((80, 200, 255), (230, 60, 60), (120, 120, 150), (250, 210, 60))
    render_fps = 8

    def __init__(self, num_envs: int = 1, sticky_action_prob: float = 0.0, difficulty_ramping: bool = True):
        super().__init__(num_envs, SIDE, SIDE, sticky_action_prob)
        self.difficulty_ramping = check_difficulty_ramping(difficulty_ramping)
        n = self.num_envs
        self.player_cell = np.full(n, START_Y * SIDE + START_X, dtype=np.int64)
        self.ent_x = np.zeros((SLOTS, n), dtype=np.int8)
        self.ent_dir = np.zeros((SLOTS, n), dtype=np.int8)
        self.ent_obs = np.zeros((SLOTS, n), dtype=np.int16)
        self.ent_trail = np.zeros((SLOTS, n), dtype=np.int16)
        self.spawn_speed = np.full(n, INIT_SPAWN_SPEED, dtype=np.int16)
        self.spawn_timer = self.spawn_speed.copy()
        self.move_speed = np.full(n, INIT_MOVE_INTERVAL, dtype=np.int16)
        self.move_timer = self.move_speed.copy()
        self.ramp_timer = np.full(n, RAMP_INTERVAL, dtype=np.int16)
        self.ramp_index = np.zeros(n, dtype=np.int16)
        self._copy = np.arange(n, dtype=np.int64)
        # Flat index, in (SLOTS, N) arrays, of the slot on a player cell's row (rows 1-8), less the copy.
        self._slot_of_cell = np.maximum(_ROWS - 1, 0).astype(np.int64) * n
        self._obs_base = self._copy * (len(self.channel_names) * _PLANE)
        self._cells = np.zeros((2, SLOTS, n), dtype=np.int16)  # observe()'s entity and trail indices

    def reset(self, mask: np.ndarray) -> None:
        copies = np.flatnonzero(mask)
        self.player_cell[copies] = START_Y * SIDE + START_X
        for slots in (self.ent_dir, self.ent_obs, self.ent_trail):
            slots[:, copies] = 0
        for speed, timer, start in ((self.spawn_speed, self.spawn_timer, INIT_SPAWN_SPEED),
                                    (self.move_speed, self.move_timer, INIT_MOVE_INTERVAL)):
            speed[copies] = start
            timer[copies] = start
        self.ramp_timer[copies] = RAMP_INTERVAL
        self.ramp_index[copies] = 0
        self.score[copies] = 0
        self.counters[copies] += np.uint64(1)

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        spawning = self.spawn_timer == 0
        if spawning.any():
            self._spawn(np.flatnonzero(spawning))
            np.copyto(self.spawn_timer, self.spawn_speed, where=spawning)
        self.player_cell = _NEXT_CELL.take(actions * _PLANE + self.player_cell)
        player_slot = self._slot_of_cell.take(self.player_cell)
        player_slot += self._copy
        gold, terminated = self._touch(player_slot)
        moving = self.move_timer == 0
        if moving.any():
            np.copyto(self.move_timer, self.move_speed, where=moving)
            step = self.ent_dir * moving
            self.ent_x += step
            self.ent_obs += step
            stays = self.ent_x.view(np.uint8) <= SIDE - 1  # -1 reads as 255: gone past either wall
            self.ent_dir *= stays
            self.ent_obs *= stays
            more_gold, hit = self._touch(player_slot)
            gold += more_gold
            terminated |= hit
        self.spawn_timer -= 1
        self.move_timer -= 1
        if self.difficulty_ramping:
            self._ramp()
        self.score += gold
        self.counters += np.uint64(1)
        return gold.astype(np.float32), terminated

    def _touch(self, player_slot: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Collect gold on the player's cell, and find enemies there. player_slot: flat (SLOTS, N) index of the
        player's row's slot (int64 (N,)). Returns (gold collected uint8 (N,), touched an enemy bool (N,))."""
        entity = self.ent_obs.reshape(-1)[player_slot]
        entity -= self.player_cell.astype(np.int16)
        collected = entity == GOLD * _PLANE
        if collected.any():
            gone = player_slot[collected]
            self.ent_dir.reshape(-1)[gone] = 0
            self.ent_obs.reshape(-1)[gone] = 0
        return collected.view(np.uint8), entity == ENEMY * _PLANE

    def _spawn(self, copies: np.ndarray) -> None:
        """MinAtar's _spawn_entity for `copies` (int64 (m,)): side, kind, then a uniformly chosen empty slot."""
        keys, counters = self.keys[copies], self.counters[copies]
        side, kind, slot_draw = rng.uniforms(keys, counters, (SPAWN_SIDE_STREAM, SPAWN_GOLD_STREAM, SPAWN_SLOT_STREAM))
        empty = np.take(self.ent_dir, copies, axis=1) == 0
        mask = np.bitwise_or.reduce(empty.view(np.uint8) * _SLOT_BIT, axis=0)
        # MinAtar's slot_options[randint(len(slot_options))]
        slot = _NTH_EMPTY.take(mask.astype(np.int64) * SLOTS + (slot_draw * _NUM_EMPTY.take(mask)).astype(np.int64))
        placed = slot < SLOTS
        slot, copies, right, gold = slot[placed], copies[placed], side[placed] < 1 / 2, kind[placed] < 1 / 3
        flat = slot * self.num_envs + copies
        direction = np.where(right, 1, -1)
        x = np.where(right, 0, SIDE - 1)
        plane = np.where(gold, GOLD * _PLANE, ENEMY * _PLANE)
        self.ent_x.reshape(-1)[flat] = x
        self.ent_dir.reshape(-1)[flat] = direction
        self.ent_obs.reshape(-1)[flat] = plane + (slot + 1) * SIDE + x
        self.ent_trail.reshape(-1)[flat] = TRAIL * _PLANE - plane - direction

    def _ramp(self) -> None:
        """MinAtar's difficulty ramp: a tick of the ramp timer or, when it has run out, faster play."""
        ramping = self.spawn_speed > 1
        ramping |= self.move_speed > 1
        expired = self.ramp_timer < 0
        expired &= ramping
        self.ramp_timer -= ramping ^ expired
        if expired.any():
            self.move_speed -= expired & (self.move_speed > 1) & (self.ramp_index % 2 == 1)
            self.spawn_speed -= expired & (self.spawn_speed > 1)
            self.ramp_index += expired
            np.copyto(self.ramp_timer, RAMP_INTERVAL, where=expired)

    def observe(self) -> np.ndarray:
        obs = np.zeros((self.num_envs, len(self.channel_names), SIDE, SIDE), dtype=np.uint8)
        flat = obs.reshape(-1)
        # Entity and trail cells; a slot with no entity, or a trail off the board, points at the player
        # plane's cell (0, 0), never lit (the player stays in rows 1-8), and cleared after the write.
        entity, trail = self._cells
        np.copyto(entity, self.ent_obs)
        np.add(self.ent_obs, self.ent_trail, out=trail)
        back = self.ent_x - self.ent_dir
        on_board = back.view(np.uint8) <= SIDE - 1
        on_board &= self.ent_dir != 0
        trail *= on_board
        # Indices in copy-major order: the writes then land close together (a third faster than slot-major).
        flat[self._obs_base[:, None] + self._cells.reshape(2 * SLOTS, -1).T] = 1
        flat[self._obs_base] = 0
        flat[self._obs_base + self.player_cell] = 1
        return obs
