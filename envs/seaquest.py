"""Seaquest with MinAtar's rules (Young & Tian, 2019) as a batched core: N copies of a 10 x 10 board at once.

`mdparcade/Seaquest-v0` wraps it (envs/arcade.py). Fish, enemy subs and divers live in slots
(envs/seaquest_movers.py); who shoots whom, where MinAtar's list order decides it, is in envs/seaquest_shots.py.
"""

from __future__ import annotations

import numpy as np

from envs import rng
from envs.batched_game import BatchedGame, check_difficulty_ramping
from envs.seaquest_movers import (
    BULLET_PLANE,
    DIVER_PLANE,
    EMPTY_PLANE,
    FISH_PLANE,
    SUB_PLANE,
    TRAIL_PLANE,
    Movers,
    any_slot,
    count_slots,
)
from envs.seaquest_shots import DEAD_BULLET_CELL, FriendlyBullets, resolve_shots

SIDE = 10
MAX_OXYGEN = 200
INIT_SPAWN_INTERVAL = 20
DIVER_SPAWN_INTERVAL = 30
INIT_MOVE_INTERVAL = 5
SHOT_COOL_DOWN = 5
ENEMY_SHOT_INTERVAL = 10
DIVER_MOVE_INTERVAL = 5
MAX_DIVERS = 6
START_COL = 5
LANES = 8  # rows 1-8; row 0 is the surface, row 9 holds the gauges
NOOP, LEFT, UP, RIGHT, DOWN, FIRE = range(6)
(SUB_FRONT, SUB_BACK, FRIENDLY_BULLET, TRAIL, ENEMY_BULLET, ENEMY_FISH, ENEMY_SUB, OXYGEN_GAUGE, DIVER_GAUGE,
 DIVER) = range(10)
PLANE = SIDE * SIDE
CHANNELS = 10
# envs.rng streams of the spawn draws, one per MinAtar call site (all at the step's counter).
ENEMY_SIDE_STREAM, ENEMY_KIND_STREAM, ENEMY_ROW_STREAM, DIVER_SIDE_STREAM, DIVER_ROW_STREAM = range(5)

# Row 9 of the oxygen and diver gauges and the bytes around it that are always 0 (plane 7 row 8 from column 4,
# plane 8 rows 0-8, plane 9 row 0 up to column 3: nothing goes there) are 120 bytes of the observation fixed by
# the two gauges: they are written as one block per copy, from this table (by oxygen cells * 7 + divers shown).
GAUGE_START, GAUGE_END = OXYGEN_GAUGE * PLANE + 84, DIVER * PLANE + 4


def _gauge_blocks() -> np.ndarray:
    blocks = np.zeros((SIDE + 1, MAX_DIVERS + 1, CHANNELS * PLANE), dtype=np.uint8)
    for oxygen_cells in range(SIDE + 1):
        blocks[oxygen_cells, :, OXYGEN_GAUGE * PLANE + 90:OXYGEN_GAUGE * PLANE + 90 + oxygen_cells] = 1
    for divers in range(MAX_DIVERS + 1):
        blocks[:, divers, DIVER_GAUGE * PLANE + 99 - divers:DIVER_GAUGE * PLANE + 99] = 1
    block_bytes = GAUGE_END - GAUGE_START
    return np.ascontiguousarray(blocks[:, :, GAUGE_START:GAUGE_END]).view(f"V{block_bytes}").reshape(-1)


GAUGE_BLOCKS = _gauge_blocks()


class SeaquestGame(BatchedGame):
    """MinAtar Seaquest for N copies.

    Actions: 0 NOOP, 1 LEFT, 2 UP, 3 RIGHT, 4 DOWN, 5 FIRE (MinAtar's minimal set, in its order). The sub starts at
    the surface (row 0, column 5, facing left) and moves one cell per step in rows 0-8; LEFT and RIGHT also turn it.
    FIRE shoots a bullet ahead of it (at most one per 5 steps) that flies one cell per step. Every `spawn_interval`
    steps (20 at first) an enemy, a fish or (one time in three) a sub, appears at the left or right end of a random
    lane (rows 1-8), heading across it, unless an enemy already in that lane heads the other way; every 30 steps a
    diver appears the same way (lanes ignored). Enemies move one cell every `move_interval` + 1 steps (move_interval
    5 at first), divers every 6; every 11 steps a sub fires a bullet that flies the way it heads, one cell per step.
    A bullet hitting an enemy removes both (+1). Touching a diver picks it up, to at most 6. Oxygen (200) drops by
    one on each step below the surface; returning to the surface with no diver terminates, with fewer than 6 uses up
    one diver, with 6 uses up all of them and pays 1 per 20 oxygen left (MinAtar's counter then reads -1, so the
    next 6-diver bonus needs 7 pick-ups); surfacing refills the oxygen and, with difficulty ramping, speeds enemies
    up (spawn_interval down to 1, move_interval down to 2 on every other surfacing). Touching an enemy or an enemy
    bullet, or running out of oxygen, terminates. Channels (MinAtar's): sub_front, sub_back, friendly_bullet, trail
    (the cell behind each fish, sub and diver), enemy_bullet, enemy_fish, enemy_sub, oxygen_guage (sic, row 9 fills
    from the left), diver_guage (row 9, ends at column 8), diver. Score: the rewards' sum. Options:
    sticky_action_prob (BatchedGame) and difficulty_ramping, as MinAtar's.

    MinAtar's list order decides a few rare ties (which of two enemies in one cell a bullet hits, which
    diver is picked up when one more fits); see envs/seaquest_shots.py and `_pick_up`. State per copy, all
    (N,): sub_col, sub_row, sub_right, oxygen, diver_count, shot_timer, spawn_interval, spawn_timer,
    diver_timer, move_interval, ramp_index, surfaced; `bullets` (the sub's: FriendlyBullets), `movers`
    (Movers: fish, subs, divers and the subs' bullets).
    """

    action_meanings = ("NOOP", "LEFT", "UP", "RIGHT", "DOWN", "FIRE")
    channel_names = ("sub_front", "sub_back", "friendly_bullet", "trail", "enemy_bullet", "enemy_fish", "enemy_sub",
                     "oxygen_guage", "diver_guage", "diver")
    channel_colors = ((255, 220, 60), (200, 170, 40), (255, 255, 255), (70, 90, 120), (255, 90, 70), (90, 200, 255),
                      (220, 80, 220), (80, 220, 120), (120, 160, 255), (250, 160, 200))
    render_fps = 8

    def __init__(self, num_envs: int = 1, sticky_action_prob: float = 0.0, difficulty_ramping: bool = True):
        super().__init__(num_envs, SIDE, SIDE, sticky_action_prob)
        self.difficulty_ramping = check_difficulty_ramping(difficulty_ramping)
        n = self.num_envs
        self.sub_col = np.full(n, START_COL, dtype=np.int64)
        self.sub_row = np.zeros(n, dtype=np.int64)
        self.sub_right = np.zeros(n, dtype=bool)
        self.oxygen = np.full(n, MAX_OXYGEN, dtype=np.int64)
        self.diver_count = np.zeros(n, dtype=np.int64)
        self.shot_timer = np.zeros(n, dtype=np.int64)
        self.spawn_interval = np.full(n, INIT_SPAWN_INTERVAL, dtype=np.int64)
        self.spawn_timer = self.spawn_interval.copy()
        self.diver_timer = np.full(n, DIVER_SPAWN_INTERVAL, dtype=np.int64)
        self.move_interval = np.full(n, INIT_MOVE_INTERVAL, dtype=np.int64)
        self.ramp_index = np.zeros(n, dtype=np.int64)
        self.surfaced = np.ones(n, dtype=bool)
        self.bullets = FriendlyBullets(n)
        self.movers = Movers(n)
        self._base = np.arange(n, dtype=np.int64) * (CHANNELS * PLANE)
        self._bullet_base = np.repeat(self._base[:, None] + FRIENDLY_BULLET * PLANE, 2, axis=1)
        self._slot_base = np.zeros((n, 0), dtype=np.int64)

    def reset(self, mask: np.ndarray) -> None:
        rows = np.flatnonzero(mask)
        for name, start in (("sub_col", START_COL), ("sub_row", 0), ("sub_right", False), ("oxygen", MAX_OXYGEN),
                            ("diver_count", 0), ("shot_timer", 0), ("spawn_interval", INIT_SPAWN_INTERVAL),
                            ("spawn_timer", INIT_SPAWN_INTERVAL), ("diver_timer", DIVER_SPAWN_INTERVAL),
                            ("move_interval", INIT_MOVE_INTERVAL), ("ramp_index", 0), ("surfaced", True),
                            ("score", 0)):
            getattr(self, name)[rows] = start
        self.bullets.clear(rows)
        self.movers.clear(rows)
        self.counters[rows] += np.uint64(1)

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self._spawn()
        self._act(actions)
        self.bullets.move()
        movers = self.movers
        alive, moved, cell_before, in_bounds = movers.advance()
        # MinAtar's order is bullets, divers, subs, enemy bullets, fish; these only meet where noted.
        enemy = alive & (movers.plane != DIVER_PLANE)
        killed = moved & ~in_bounds
        reward = self._shots(enemy, moved, in_bounds, cell_before, killed)
        player = movers.spread(self.sub_row * SIDE + self.sub_col)
        at_player = cell_before == player
        at_player |= (movers.cell == player) & in_bounds
        terminated = any_slot(at_player & enemy)  # `enemy` lost the enemies shot before moving
        reached = at_player & alive & (movers.plane == DIVER_PLANE)
        if reached.any():
            killed |= self._pick_up(reached)
        self._subs_fire(enemy, in_bounds)
        terminated |= movers.bullets_hit(player)
        movers.remove(killed)
        terminated |= self._breathe(reward)
        self.spawn_timer -= self.spawn_timer > 0
        self.diver_timer -= self.diver_timer > 0
        self.shot_timer -= self.shot_timer > 0
        self.score += reward
        self.counters += np.uint64(1)
        return reward.astype(np.float32), terminated

    def _spawn(self) -> None:
        """MinAtar's _spawn_enemy and _spawn_diver, where their timers are 0 (an enemy first, then a diver)."""
        enemy_rows = np.flatnonzero(self.spawn_timer == 0)
        if enemy_rows.size:
            self._spawn_enemies(enemy_rows)
        diver_rows = np.flatnonzero(self.diver_timer == 0)
        if diver_rows.size:
            self._spawn_divers(diver_rows)

    def _spawn_enemies(self, rows: np.ndarray) -> None:
        """Side, kind and lane drawn for copies `rows` (int64 (R,)); no enemy if its lane has one heading the
        other way. The spawn timer restarts either way."""
        counters = self.counters[rows]
        side, kind, lane = rng.uniforms(self.keys[rows], counters,
                                        (ENEMY_SIDE_STREAM, ENEMY_KIND_STREAM, ENEMY_ROW_STREAM))
        from_left, is_sub = side < 1 / 2, kind < 1 / 3
        lane = 1 + (lane * LANES).astype(np.int64)  # as rng.integers(..., LANES, ENEMY_ROW_STREAM)
        step = np.where(from_left, 1, -1)
        movers = self.movers
        plane = movers.plane[rows]
        # A live mover's cell // 10 is its lane: every live mover is on the board between steps.
        opposite = ((plane == FISH_PLANE) | (plane == SUB_PLANE)) & (movers.cell[rows] // SIDE == lane[:, None])
        opposite &= movers.step[rows] != step[:, None]
        free = ~any_slot(opposite)
        movers.add(rows[free], col=np.where(from_left, 0, SIDE - 1)[free], row=lane[free], step=step[free],
                   plane=np.where(is_sub, SUB_PLANE, FISH_PLANE)[free], period=self.move_interval[rows[free]] + 1,
                   shot=ENEMY_SHOT_INTERVAL, birth=counters[free].astype(np.int64))
        self.spawn_timer[rows] = self.spawn_interval[rows]

    def _spawn_divers(self, rows: np.ndarray) -> None:
        """A diver at a drawn side and lane, for copies `rows` (int64 (R,))."""
        counters = self.counters[rows]
        side, lane = rng.uniforms(self.keys[rows], counters, (DIVER_SIDE_STREAM, DIVER_ROW_STREAM))
        from_left = side < 1 / 2
        lane = 1 + (lane * LANES).astype(np.int64)
        self.movers.add(rows, col=np.where(from_left, 0, SIDE - 1), row=lane, step=np.where(from_left, 1, -1),
                        plane=DIVER_PLANE, period=DIVER_MOVE_INTERVAL + 1, shot=0, birth=counters.astype(np.int64))
        self.diver_timer[rows] = DIVER_SPAWN_INTERVAL

    def _act(self, actions: np.ndarray) -> None:
        """Fire (if the cool-down is over; a FIRE that cannot shoot does nothing) or move the sub."""
        fire = (actions == FIRE) & (self.shot_timer == 0)
        if fire.any():
            rows = np.flatnonzero(fire)
            self.bullets.fire(rows, self.sub_row[rows], self.sub_col[rows], self.sub_right[rows])
            self.shot_timer[rows] = SHOT_COOL_DOWN
        left, right = actions == LEFT, actions == RIGHT
        self.sub_col += right
        self.sub_col -= left
        np.maximum(self.sub_col, 0, out=self.sub_col)
        np.minimum(self.sub_col, SIDE - 1, out=self.sub_col)
        self.sub_right |= right
        self.sub_right &= ~left
        self.sub_row += actions == DOWN
        self.sub_row -= actions == UP
        np.maximum(self.sub_row, 0, out=self.sub_row)
        np.minimum(self.sub_row, LANES, out=self.sub_row)

    def _shots(self, enemy: np.ndarray, moved: np.ndarray, in_bounds: np.ndarray, cell_before: np.ndarray,
               killed: np.ndarray) -> np.ndarray:
        """Friendly bullets against enemies: where a bullet meets an enemy (before or after the enemies move),
        the order-exact rules decide. Marks the dead in `killed` and drops the enemies shot before moving
        from `enemy` (both bool (N, K), in place); returns the reward so far, int64 (N,)."""
        reward = np.zeros(self.num_envs, dtype=np.int64)
        bullets, movers = self.bullets, self.movers
        if not bullets.any_alive():
            return reward
        older, newer = movers.spread(bullets.cell[:, 0]), movers.spread(bullets.cell[:, 1])
        cell = movers.cell
        near = (cell_before == older) | (cell_before == newer) | (cell == older) | (cell == newer)
        near &= enemy
        rows = np.flatnonzero(any_slot(near))
        if rows.size == 0:
            return reward
        player = (self.sub_row[rows] * SIDE + self.sub_col[rows])[:, None]
        landed = moved[rows] & in_bounds[rows] & (cell[rows] != player)
        before_moving, while_moving, hits, bullet_cells = resolve_shots(
            enemy[rows], movers.plane[rows] == SUB_PLANE, movers.birth[rows], cell_before[rows], cell[rows], landed,
            bullets.cell[rows])
        enemy[rows] &= ~before_moving
        killed[rows] |= before_moving | while_moving
        bullets.cell[rows] = bullet_cells
        reward[rows] = hits
        return reward

    def _pick_up(self, reached: np.ndarray) -> np.ndarray:
        """Divers the sub reached (bool (N, K)) are picked up while fewer than 6 are aboard; MinAtar goes
        through its divers newest first, so where not all fit, the newest do. Returns the picked, bool (N, K)."""
        movers = self.movers
        wanted = count_slots(reached)
        room = MAX_DIVERS - self.diver_count
        picked = reached & movers.spread(wanted <= room).view(bool)
        short = np.flatnonzero((wanted > room) & (room > 0))
        if short.size:
            # Rank the reached divers of these copies by age, newest first, and keep the first `room`.
            birth = np.where(reached[short], movers.birth[short], -1)
            newest_first = np.argsort(-birth, axis=1, kind="stable")
            rank = np.empty_like(newest_first)
            np.put_along_axis(rank, newest_first, np.arange(movers.num_slots), axis=1)
            picked[short] = reached[short] & (rank < room[short, None])
        self.diver_count += count_slots(picked)
        return picked

    def _subs_fire(self, enemy: np.ndarray, in_bounds: np.ndarray) -> None:
        """Subs whose shot timer is 0 fire from their (new) cell, even one shot this step while moving; one
        that left the board fires off it, a bullet MinAtar drops before anyone sees it."""
        movers = self.movers
        fires = enemy & (movers.plane == SUB_PLANE) & (movers.shot == 0)
        movers.shot -= 1
        movers.shot += fires * (ENEMY_SHOT_INTERVAL + 1)
        fires &= in_bounds
        if fires.any():
            movers.fire(fires)

    def _breathe(self, reward: np.ndarray) -> np.ndarray:
        """Oxygen and surfacing; adds the surfacing bonus to `reward` (int64 (N,), in place). Returns
        terminated bool (N,): out of oxygen, or surfacing without divers."""
        terminated = self.oxygen <= 0
        below = self.sub_row > 0
        self.oxygen -= below
        surfacing = ~below & ~self.surfaced
        has_divers = self.diver_count != 0
        terminated |= surfacing & ~has_divers
        self.surfaced = ~below & (self.surfaced | has_divers)
        surfacing &= has_divers
        if surfacing.any():
            self._surface(np.flatnonzero(surfacing), reward)
        return terminated

    def _surface(self, rows: np.ndarray, reward: np.ndarray) -> None:
        """MinAtar's _surface for copies `rows`: the 6-diver bonus, one diver (or all six) used up, oxygen
        refilled, and with ramping faster enemies: spawns every step sooner, moves on every other surfacing."""
        full = self.diver_count[rows] == MAX_DIVERS
        reward[rows] += full * (self.oxygen[rows] * 10 // MAX_OXYGEN)
        self.diver_count[rows] = np.where(full, 0, self.diver_count[rows]) - 1
        self.oxygen[rows] = MAX_OXYGEN
        if not self.difficulty_ramping:
            return
        move, spawn, ramp = self.move_interval[rows], self.spawn_interval[rows], self.ramp_index[rows]
        ramps = (spawn > 1) | (move > 2)
        faster_moves = ramps & (move > 2) & (ramp % 2 == 1)
        self.move_interval[rows] = move - faster_moves
        self.spawn_interval[rows] = spawn - (ramps & (spawn > 1))
        self.ramp_index[rows] = ramp + ramps
        if faster_moves.any():
            # Enemies already on the board take the new interval at their next move, as MinAtar's do.
            sped_up = rows[faster_moves]
            plane = self.movers.plane[sped_up]
            enemies = (plane == FISH_PLANE) | (plane == SUB_PLANE)
            period = self.movers.period[sped_up]
            self.movers.period[sped_up] = np.where(enemies, (self.move_interval[sped_up] + 1)[:, None], period)

    def observe(self) -> np.ndarray:
        n, movers = self.num_envs, self.movers
        obs = np.zeros((n, CHANNELS, SIDE, SIDE), dtype=np.uint8)
        flat = obs.reshape(-1)
        gauges = np.maximum(self.oxygen, 0) * SIDE // MAX_OXYGEN * (MAX_DIVERS + 1)
        gauges += np.clip(self.diver_count, 0, MAX_DIVERS)
        obs.reshape(n, -1)[:, GAUGE_START:GAUGE_END].view(GAUGE_BLOCKS.dtype)[:, 0] = GAUGE_BLOCKS[gauges]
        player = self._base + self.sub_row * SIDE + self.sub_col
        flat[player] = 1
        flat[player + (SUB_BACK * PLANE + 1) - 2 * self.sub_right] = 1  # behind: left when facing right
        # Only the few live things are written: selecting them costs less than writing every slot.
        flying = np.flatnonzero(self.bullets.cell != DEAD_BULLET_CELL)
        flat[self._bullet_base.reshape(-1)[flying] + self.bullets.cell.reshape(-1)[flying]] = 1
        slot_base = self._slot_bases().reshape(-1)
        live = np.flatnonzero(movers.plane != EMPTY_PLANE)
        base = slot_base[live]
        cell = movers.cell.reshape(-1)[live].astype(np.int64)
        step = movers.step.reshape(-1)[live]
        flat[base + movers.plane.reshape(-1)[live] + cell] = 1
        trail = base + TRAIL_PLANE + cell - step  # the cell it came from, if that is on the board
        flat[trail[(movers.col.reshape(-1)[live] - step).view(np.uint8) < SIDE]] = 1
        flying = np.flatnonzero(movers.bullet_col.view(np.uint8) < SIDE)
        flat[slot_base[flying] + BULLET_PLANE + movers.bullet_cell.reshape(-1)[flying]] = 1
        return obs

    def _slot_bases(self) -> np.ndarray:
        """Each slot's copy offset in the flat observation, int64 (N, K) (made again when slots are added)."""
        if self._slot_base.shape[1] != self.movers.num_slots:
            self._slot_base = np.repeat(self._base[:, None], self.movers.num_slots, axis=1)
        return self._slot_base
