"""Seaquest with MinAtar's rules (Young & Tian, 2019) as a batched core: N copies of a 10 x 10 board at once.

`mdparcade/Seaquest-v0` wraps it (envs/arcade.py). Fish, enemy subs and divers live in slots
(envs/seaquest_movers.py); who shoots whom, where MinAtar's list order decides it, is in envs/seaquest_shots.py.
The kernels below (`_step_copies`, `_reset_copies`, `_draw_copies`) are compiled by numba; they run the rules of
this module and of those two over the state arrays, one kernel call per `step`, `reset` and `observe`.
"""

from __future__ import annotations

from collections import namedtuple
from operator import attrgetter

import numpy as np
from numba import njit
from numba.core import options as numba_options

from envs import autoreset_jit, rng_jit
from envs import seaquest_movers as movers
from envs import seaquest_shots as shots
from envs.batched_game import BatchedGame, check_difficulty_ramping
from envs.seaquest_movers import (
    DIVER_PLANE,
    ENEMY_SHOT_INTERVAL,
    FISH_PLANE,
    SLOT_BLOCK,
    SUB_PLANE,
    MoverArrays,
    Movers,
)
from envs.seaquest_shots import BulletArrays, FriendlyBullets

SIDE = 10
MAX_OXYGEN = 200
INIT_SPAWN_INTERVAL = 20
DIVER_SPAWN_INTERVAL = 30
INIT_MOVE_INTERVAL = 5
SHOT_COOL_DOWN = 5
DIVER_MOVE_INTERVAL = 5
MAX_DIVERS = 6
START_COL = 5
LANES = 8  # rows 1-8; row 0 is the surface, row 9 holds the gauges
NOOP, LEFT, UP, RIGHT, DOWN, FIRE = range(6)
NUM_ACTIONS = FIRE + 1
(SUB_FRONT, SUB_BACK, FRIENDLY_BULLET, TRAIL, ENEMY_BULLET, ENEMY_FISH, ENEMY_SUB, OXYGEN_GAUGE, DIVER_GAUGE,
 DIVER) = range(10)
PLANE = SIDE * SIDE
CHANNELS = 10
BLOCK = CHANNELS * PLANE  # one copy's bytes of the observation
# envs.rng streams of the spawn draws, one per MinAtar call site (all at the step's counter).
ENEMY_SIDE_STREAM, ENEMY_KIND_STREAM, ENEMY_ROW_STREAM, DIVER_SIDE_STREAM, DIVER_ROW_STREAM = range(5)

# The kernels are compiled without numba's reference counting (its private `_nrt` option): they allocate
# nothing, and with it every rule function inlined into a per-copy loop would count references to each array it
# is handed, at every copy (measured: the step took 1.4x as long). A numba without the option compiles them with
# it: as correct, slower. Numba's cache notices edits to this file only: after editing envs/seaquest_movers.py,
# envs/seaquest_shots.py or envs/rng_jit.py, run `make clean-numba` (it deletes envs/__pycache__/*.nb[ic]).
_kernel = njit(cache=True, **({"_nrt": False} if hasattr(numba_options.DefaultOptions, "_nrt") else {}))


def _gauge_words(first_byte: int, cells) -> tuple[int, np.ndarray]:
    """The two uint64 words of a copy's observation block holding a gauge row whose first cell is byte
    `first_byte`: (index of the first word, words per gauge reading (R, 2)), for each reading's cells set."""
    word = first_byte // 8
    table = np.zeros((len(cells), 16), dtype=np.uint8)
    for reading, set_cells in enumerate(cells):
        table[reading, np.asarray(set_cells, dtype=np.int64) + first_byte - 8 * word] = 1
    return word, table.view(np.uint64)


# The gauges (row 9 of channels oxygen_guage and diver_guage) as words: one table row per reading, 0-10 oxygen
# cells filled from the left, 0-6 divers ending at column 8.
_OXYGEN_WORD, _OXYGEN_WORDS = _gauge_words(OXYGEN_GAUGE * PLANE + (SIDE - 1) * SIDE,
                                           [range(cells) for cells in range(SIDE + 1)])
_DIVER_WORD, _DIVER_WORDS = _gauge_words(DIVER_GAUGE * PLANE + (SIDE - 1) * SIDE,
                                         [range(SIDE - 1 - divers, SIDE - 1) for divers in range(MAX_DIVERS + 1)])

# The game's own per-copy state arrays (SeaquestGame's attributes of these names), as the kernels use them.
CopyArrays = namedtuple("CopyArrays", ("keys", "counters", "score", "sub_col", "sub_row", "sub_right", "oxygen",
                                       "diver_count", "shot_timer", "spawn_interval", "spawn_timer", "diver_timer",
                                       "move_interval", "ramp_index", "surfaced"))
# The kernels take the whole state as one flat run of arrays (`SeaquestGame._state`): the fields of CopyArrays,
# then BulletArrays' (of the game's `bullets`), then MoverArrays' (of its `movers`), and `_unpack` regroups them.
# Numba types a call's arrays one by one in compiled code but a namedtuple of arrays in Python (measured: 6.7 us
# a call against 2 us); one attrgetter fetches them all (0.7 us against 1.3 for three).
_state_fields = attrgetter(*CopyArrays._fields, *(f"bullets.{name}" for name in BulletArrays._fields),
                           *(f"movers.{name}" for name in MoverArrays._fields))
_COPY_END = len(CopyArrays._fields)
_BULLETS_END = _COPY_END + len(BulletArrays._fields)


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
    diver is picked up when one more fits); see envs/seaquest_shots.py and `pick_up` in
    envs/seaquest_movers.py. State per copy, all (N,): sub_col, sub_row, sub_right, oxygen, diver_count,
    shot_timer, spawn_interval, spawn_timer, diver_timer, move_interval, ramp_index, surfaced (int32 but for the
    bools sub_right and surfaced: narrower than int64, so that the flat loops over the copies do more copies to an
    instruction); `bullets` (the sub's: FriendlyBullets), `movers` (Movers: fish, subs, divers and the subs'
    bullets).

    The rules run in numba-compiled kernels over these arrays (`_step_copies`, `_reset_copies`, `_draw_copies`),
    one call per `step`, `reset` and `observe`.
    """

    action_meanings = ("NOOP", "LEFT", "UP", "RIGHT", "DOWN", "FIRE")
    channel_names = ("sub_front", "sub_back", "friendly_bullet", "trail", "enemy_bullet", "enemy_fish", "enemy_sub",
                     "oxygen_guage", "diver_guage", "diver")
    channel_colors = ((255, 220, 60), (200, 170, 40), (255, 255, 255), (70, 90, 120), (255, 90, 70), (90, 200, 255),
                      (220, 80, 220), (80, 220, 120), (120, 160, 255), (250, 160, 200))
    render_fps = 8
    compiled = True
    state_holders = ("bullets", "movers")

    def __init__(self, num_envs: int = 1, sticky_action_prob: float = 0.0, difficulty_ramping: bool = True):
        super().__init__(num_envs, SIDE, SIDE, sticky_action_prob)
        self.difficulty_ramping = check_difficulty_ramping(difficulty_ramping)
        n = self.num_envs
        self.sub_col = np.full(n, START_COL, dtype=np.int32)
        self.sub_row = np.zeros(n, dtype=np.int32)
        self.sub_right = np.zeros(n, dtype=bool)
        self.oxygen = np.full(n, MAX_OXYGEN, dtype=np.int32)
        self.diver_count = np.zeros(n, dtype=np.int32)
        self.shot_timer = np.zeros(n, dtype=np.int32)
        self.spawn_interval = np.full(n, INIT_SPAWN_INTERVAL, dtype=np.int32)
        self.spawn_timer = self.spawn_interval.copy()
        self.diver_timer = np.full(n, DIVER_SPAWN_INTERVAL, dtype=np.int32)
        self.move_interval = np.full(n, INIT_MOVE_INTERVAL, dtype=np.int32)
        self.ramp_index = np.zeros(n, dtype=np.int32)
        self.surfaced = np.ones(n, dtype=bool)
        self.bullets = FriendlyBullets(n)
        self.movers = Movers(n)

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """BatchedGame's, after giving the movers as many slots as the saved ones have (they grow in play). A
        state saved while `movers.plane` held 100 * the channel (int16, before 2026-12-05) loads as well."""
        saved = state.get("movers.col")
        if saved is not None and np.ndim(saved) == 2 and np.shape(saved)[1] != self.movers.num_slots:
            self.movers = Movers(self.num_envs, np.shape(saved)[1])
        planes = state.get("movers.plane")
        if planes is not None and np.size(planes) and np.max(planes) >= 100:
            state = {**state, "movers.plane": np.asarray(planes) // 100}
        super().load_state_dict(state)

    def _state(self) -> tuple[np.ndarray, ...]:
        """The state arrays as the kernels take them (see `_unpack`)."""
        return _state_fields(self)

    def _scratch(self) -> tuple[np.ndarray, ...]:
        """The kernels' scratch: per slot, flags uint8 (N, K) (observe's `visible`), offsets int16 (3, N, K),
        spread int8 (3, N, K); per copy, union uint64 (N,), gains int64 (N,), need uint8 (N rounded up to a
        multiple of 8, zero past N) and copies int64 (N,) (seaquest_movers.flagged's). Made again when the movers
        grow. (The kernels take the uint64 views they need themselves: a view kept here would
        lose its link to its array in a pickled or copied game.)"""
        scratch = getattr(self, "_scratch_arrays", None)
        if scratch is None or scratch[0].shape[1] != self.movers.num_slots:
            n, k = self.num_envs, self.movers.num_slots
            self._scratch_arrays = scratch = (
                np.zeros((n, k), dtype=np.uint8), np.zeros((3, n, k), dtype=np.int16),
                np.zeros((3, n, k), dtype=np.int8), np.zeros(n, dtype=np.uint64), np.zeros(n, dtype=np.int64),
                np.zeros(-(-n // 8) * 8, dtype=np.uint8), np.zeros(n, dtype=np.int64))
        return scratch

    def reset(self, mask: np.ndarray) -> None:
        need, copies = self._scratch()[5:]
        _reset_copies(self._per_copy(mask, np.bool_, "mask"), need, copies, *self._state())

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        reward = np.empty(self.num_envs, dtype=np.float32)
        terminated = np.empty(self.num_envs, dtype=bool)
        self._run_step(_step_copies, self._per_copy(actions, np.int64, "actions"), reward, terminated)
        return reward, terminated

    def vector_step(self, actions: np.ndarray, needs_reset: np.ndarray, episode_steps: np.ndarray,
                    max_episode_steps: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """BatchedGame's, in one kernel call (`_vector_step_copies`): at 4096 copies the separate calls of the
        step, the restarts, the bookkeeping and the observation cost a tenth of the step."""
        actions = self._per_copy(actions, np.int64, "actions")
        if self._sticky_below:
            self.check_action_range(actions)  # before the draws write last_action
            actions = self._sticky_actions(actions)
        n = self.num_envs
        reward, terminated = np.empty(n, dtype=np.float32), np.empty(n, dtype=bool)
        truncated, obs = np.empty(n, dtype=bool), np.empty((n, CHANNELS, SIDE, SIDE), dtype=np.uint8)
        if not self._run_step(_vector_step_copies, actions, reward, terminated, truncated,
                              self._in_place(needs_reset, np.bool_, "needs_reset"),
                              self._in_place(episode_steps, np.int64, "episode_steps"), int(max_episode_steps),
                              self.last_action, self.noop, obs.reshape(-1)):
            self.check_action_range(actions)  # the kernel found one out of range, and changed nothing: raises
        return obs, reward, terminated, truncated

    def _run_step(self, kernel, actions: np.ndarray, *outputs) -> bool:
        """Call `kernel` (`_step_copies` or `_vector_step_copies`, with `outputs` after its first four
        arguments) until every copy has stepped, adding mover slots where a copy lacks a free one. False if the
        kernel refused the actions (`_vector_step_copies` checks their range)."""
        done, first = 0, True
        while True:
            done = kernel(first, done, actions, self.difficulty_ramping, *outputs, *self._scratch(), *self._state())
            if done == self.num_envs:
                return True
            if done < 0:
                return False
            first = False
            # Copy `done` lacks a free slot for a new mover; it and the later copies are still to spawn, the rest of
            # the step to come for all.
            self.movers.grow()

    def observe(self) -> np.ndarray:
        obs = np.empty((self.num_envs, CHANNELS, SIDE, SIDE), dtype=np.uint8)
        visible, offsets = self._scratch()[:2]
        _draw_copies(obs.reshape(-1), visible, offsets, *self._state())
        return obs


@njit(cache=True, inline="always")
def _unpack(state):
    """The kernels' flat `state` (SeaquestGame._state) as (CopyArrays, BulletArrays, MoverArrays)."""
    return (CopyArrays(*state[:_COPY_END]), BulletArrays(*state[_COPY_END:_BULLETS_END]),
            MoverArrays(*state[_BULLETS_END:]))


@_kernel
def _reset_copies(mask, need, copies, *state):
    """`SeaquestGame.reset`: the start state in the copies where `mask`, whose counters advance by 1 (need,
    copies: scratch for seaquest_movers.flagged)."""
    c, b, m = _unpack(state)
    for j in range(_flag_copies(mask, need, copies)):
        i = copies[j]
        _start(c, b, m, i)
        c.counters[i] += np.uint64(1)


@njit(cache=True, inline="always")
def _flag_copies(mask, need, copies):
    """The copies where `mask` (bool (N,)), listed into `copies` by seaquest_movers.flagged (through `need`,
    its padded uint8 copy); returns how many."""
    for i in range(len(mask)):
        need[i] = mask[i]
    return movers.flagged(need, copies)


@njit(cache=True, inline="always")
def _start(c, b, m, i):
    """The start state in copy i (its counter aside)."""
    c.sub_col[i], c.sub_row[i], c.sub_right[i] = START_COL, 0, False
    c.oxygen[i], c.diver_count[i], c.shot_timer[i] = MAX_OXYGEN, 0, 0
    c.spawn_interval[i] = c.spawn_timer[i] = INIT_SPAWN_INTERVAL
    c.diver_timer[i] = DIVER_SPAWN_INTERVAL
    c.move_interval[i], c.ramp_index[i], c.surfaced[i], c.score[i] = INIT_MOVE_INTERVAL, 0, True, 0
    shots.clear(b, i)
    movers.clear(m, i)


@_kernel
def _vector_step_copies(first, start, actions, ramping, reward, terminated, truncated, needs_reset, episode_steps,
                        max_episode_steps, last_action, noop, flat, flags, offsets, spread, union, gains, need,
                        copies, *state):
    """`SeaquestGame.vector_step`: -1, changing nothing, if an action is out of range; else `_step_copies` (its
    return value, and where it stops, as there); then, once every copy has stepped, the restart of the copies in
    `needs_reset`, autoreset_jit's `finish_step` and `_draw_copies` into `flat`. A restarted copy keeps the
    step's counter advance: a rewind by 1 and the reset's advance by 1 cancel out."""
    c, b, m = _unpack(state)
    if first:
        out_of_range = False
        for i in range(len(actions)):  # without a branch, vectorized; negative actions read as huge ones
            out_of_range |= np.uint64(actions[i]) >= np.uint64(NUM_ACTIONS)
        if out_of_range:
            return -1
        for i in range(len(actions)):
            last_action[i] = actions[i]
    done = _step_copies(first, start, actions, ramping, reward, terminated, flags, offsets, spread, union, gains,
                        need, copies, *state)
    if done < len(actions):
        return done
    for j in range(_flag_copies(needs_reset, need, copies)):
        i = copies[j]
        _start(c, b, m, i)
        last_action[i] = noop
    autoreset_jit.finish_step(needs_reset, reward, terminated, truncated, episode_steps, max_episode_steps)
    _draw_copies(flat, flags, offsets, *state)
    return done


@_kernel
def _step_copies(first, start, actions, ramping, reward, terminated, flags, offsets, spread, union, gains, need,
                 copies, *state):
    """`SeaquestGame.step` (flags...: the scratch of `SeaquestGame._scratch`, offsets unused; state:
    SeaquestGame._state); writes `reward` and `terminated`. Returns the number of copies, or
    the first copy (from `start`) that needs a free mover slot it lacks, when only the copies before it have
    spawned: the caller adds slots and calls again from there (`first`, False then, is `_vector_step_copies'`).

    MinAtar's order is spawns, the sub's move, bullets, divers, subs, enemy bullets, fish; these only meet where
    noted in the rules called (envs/seaquest_shots.py's `resolve_shots`, envs/seaquest_movers.py's `pick_up`).
    Each rule that every copy follows is a flat loop over all copies (or all slots), which the compiler turns
    into vector instructions; the rarer rules (spawns, firing, shots, pick-ups, surfacing) run per copy where a
    flat loop flagged them (`need`, listed into `copies` by seaquest_movers.flagged).
    """
    c, b, m = _unpack(state)
    flag_words, spread_words = flags.view(np.uint64), spread.view(np.uint64)
    n = len(actions)
    for i in range(n):
        need[i] = (c.spawn_timer[i] == 0) | (c.diver_timer[i] == 0)
    for j in range(movers.flagged(need, copies)):
        i = copies[j]
        if i >= start and not _spawn(c, m, i):
            return i
    _fire_and_move_subs(c, b, actions)
    shots.move(b)
    _spread(c, b, spread_words)
    movers.advance(m, flags, spread)
    movers.copy_flags(flag_words, union)
    for i in range(n):
        gains[i] = 0
        need[i] = (union[i] & movers.NEAR_BYTES) != 0
    for j in range(movers.flagged(need, copies)):
        i = copies[j]
        gains[i] = _shoot(b, m, flags, spread_words[1], i, c.sub_row[i] * SIDE + c.sub_col[i])
        union[i] = 0
        for block in range(flag_words.shape[1]):
            union[i] |= flag_words[i, block]
    for i in range(n):
        terminated[i] = (union[i] & movers.HIT_BYTES) != 0
        need[i] = (union[i] & movers.REACHED_BYTES) != 0
    for j in range(movers.flagged(need, copies)):
        i = copies[j]
        c.diver_count[i] += movers.pick_up(m, flags, i, MAX_DIVERS - c.diver_count[i])
    _breathe(c, need, terminated)
    for j in range(movers.flagged(need, copies)):
        i = copies[j]
        gains[i] += _surface(c, m, i, ramping)
    for i in range(n):
        c.spawn_timer[i] -= c.spawn_timer[i] > 0
        c.diver_timer[i] -= c.diver_timer[i] > 0
        c.shot_timer[i] -= c.shot_timer[i] > 0
        c.score[i] += gains[i]
        c.counters[i] += np.uint64(1)
        reward[i] = gains[i]
    return n


@njit(cache=True, inline="always")
def _shoot(b, m, flags, waiting, i, player):
    """The shots of copy i, whose slots NEAR a bullet `advance` left waiting: shots.resolve_shots (returned: the
    hits), then movers.settle_slot for each of those slots. waiting: uint64 (N, K / 8) scratch (the older bullet
    row of `_spread`'s, done with by then), where they are marked first (resolve_shots clears NEAR)."""
    flag_words = flags.view(np.uint64)
    for block in range(flag_words.shape[1]):
        waiting[i, block] = movers.nonzero_bytes(flag_words[i, block] & movers.NEAR_BYTES)
    hits = shots.resolve_shots(b, m, flags, i, player)
    for block in range(flag_words.shape[1]):
        bits = waiting[i, block]
        while bits:
            slot, bits = movers.pop_slot(bits)
            movers.settle_slot(m, flags, i, block * SLOT_BLOCK + slot, player)
    return hits


@njit(cache=True, inline="always")
def _spawn(c, m, i):
    """MinAtar's _spawn_enemy and _spawn_diver in copy i, where their timers are 0 (an enemy first, then a
    diver), with side, kind and lane drawn at the copy's counter. No enemy if its lane has one heading the other
    way; the spawn timer restarts either way. Returns False, changing nothing, if the copy lacks free slots."""
    enemy, diver = c.spawn_timer[i] == 0, c.diver_timer[i] == 0
    key, counter = c.keys[i], c.counters[i]
    enemy_left = is_sub = diver_left = False
    enemy_lane = enemy_step = diver_lane = 0
    if enemy:
        enemy_left = rng_jit.uniform(key, counter, ENEMY_SIDE_STREAM) < 1 / 2
        is_sub = rng_jit.uniform(key, counter, ENEMY_KIND_STREAM) < 1 / 3
        enemy_lane = 1 + rng_jit.integers(key, counter, LANES, ENEMY_ROW_STREAM)
        enemy_step = 1 if enemy_left else -1
    new_enemy = enemy and not movers.lane_blocked(m, i, enemy_lane, enemy_step)
    if diver:
        diver_left = rng_jit.uniform(key, counter, DIVER_SIDE_STREAM) < 1 / 2
        diver_lane = 1 + rng_jit.integers(key, counter, LANES, DIVER_ROW_STREAM)
    if movers.free_slots(m, i) < np.int64(new_enemy) + np.int64(diver):
        return False
    birth = np.int64(counter)
    if new_enemy:
        movers.add(m, i, 0 if enemy_left else SIDE - 1, enemy_lane, enemy_step, SUB_PLANE if is_sub else FISH_PLANE,
                   c.move_interval[i] + 1, ENEMY_SHOT_INTERVAL, birth)
    if enemy:
        c.spawn_timer[i] = c.spawn_interval[i]
    if diver:
        movers.add(m, i, 0 if diver_left else SIDE - 1, diver_lane, 1 if diver_left else -1, DIVER_PLANE,
                   DIVER_MOVE_INTERVAL + 1, 0, birth)
        c.diver_timer[i] = DIVER_SPAWN_INTERVAL
    return True


@njit(cache=True, inline="always")
def _fire_and_move_subs(c, b, actions):
    """A FIRE shoots where the shot timer allows (a FIRE that cannot shoot does nothing), then every sub moves
    (LEFT and RIGHT also turn it; it stays in columns 0-9 and rows 0-8)."""
    cells, cols, steps = shots.pairs(b)
    for i in range(len(actions)):
        action = actions[i]
        fires = (action == FIRE) & (c.shot_timer[i] == 0)
        shots.fire(cells, cols, steps, i, fires, c.sub_row[i], c.sub_col[i], c.sub_right[i])
        c.shot_timer[i] = SHOT_COOL_DOWN if fires else c.shot_timer[i]
        left, right = action == LEFT, action == RIGHT
        c.sub_col[i] = min(max(c.sub_col[i] + np.int64(right) - np.int64(left), 0), SIDE - 1)
        c.sub_row[i] = min(max(c.sub_row[i] + np.int64(action == DOWN) - np.int64(action == UP), 0), LANES)
        c.sub_right[i] = (c.sub_right[i] | right) & (not left)


@njit(cache=True, inline="always")
def _spread(c, b, spread_words):
    """Each copy's sub cell and its bullets' cells, which `advance` compares the movers' cells with, repeated
    over its slots (as int8 bytes of uint64 words)."""
    player, older, newer = spread_words[0], spread_words[1], spread_words[2]
    # Both bullet cells of a copy read as one uint16 (shots.pairs): contiguous loads, where reading the int8
    # (N, 2) array's columns one by one kept the loop from being vectorized (measured: 5.6 against 1.7 us).
    cells = shots.pairs(b)[0]
    for i in range(player.shape[0]):  # the first 8 slots, in a loop the compiler vectorizes
        player[i, 0] = np.uint64(np.uint8(c.sub_row[i] * SIDE + c.sub_col[i])) * movers.BYTES
        older[i, 0] = np.uint64((cells[i] >> shots.OLDER_SHIFT) & np.uint16(0xFF)) * movers.BYTES
        newer[i, 0] = np.uint64((cells[i] >> shots.NEWER_SHIFT) & np.uint16(0xFF)) * movers.BYTES
    for block in range(1, player.shape[1]):
        for i in range(player.shape[0]):
            player[i, block], older[i, block], newer[i, block] = player[i, 0], older[i, 0], newer[i, 0]


@njit(cache=True, inline="always")
def _breathe(c, surfacing, terminated):
    """Oxygen and surfacing: out of oxygen or surfacing without divers terminates (added to `terminated`);
    `surfacing` (uint8, the step's `need`) marks the copies that surface with divers (MinAtar's _surface
    follows)."""
    for i in range(len(terminated)):
        below = c.sub_row[i] > 0
        ended = terminated[i] | (c.oxygen[i] <= 0)
        c.oxygen[i] -= below
        up = (not below) & (not c.surfaced[i])
        has_divers = c.diver_count[i] != 0
        terminated[i] = ended | (up & (not has_divers))
        c.surfaced[i] = (not below) & (c.surfaced[i] | has_divers)
        surfacing[i] = up & has_divers


@njit(cache=True, inline="always")
def _surface(c, m, i, ramping):
    """MinAtar's _surface in copy i: the 6-diver bonus (returned), one diver (or all six) used up, oxygen
    refilled, and with ramping faster enemies: spawns every step sooner, moves on every other surfacing."""
    full = c.diver_count[i] == MAX_DIVERS
    bonus = c.oxygen[i] * 10 // MAX_OXYGEN if full else 0
    c.diver_count[i] = (0 if full else c.diver_count[i]) - 1
    c.oxygen[i] = MAX_OXYGEN
    if ramping:
        move, spawn, ramp = c.move_interval[i], c.spawn_interval[i], c.ramp_index[i]
        if spawn > 1 or move > 2:
            c.ramp_index[i] = ramp + 1
            if spawn > 1:
                c.spawn_interval[i] = spawn - 1
            if move > 2 and ramp % 2 == 1:
                c.move_interval[i] = move - 1
                movers.set_enemy_period(m, i, move)  # the new interval + 1
    return bonus


@_kernel
def _draw_copies(flat, visible, offsets, *state):
    """`SeaquestGame.observe` into `flat`, the new observation's bytes: each copy's block is zeroed, then its
    gauges (row 9), sub, bullets and movers are set. visible, offsets: scratch for seaquest_movers.locate (which
    finds where every slot shows in one vectorized loop)."""
    c, b, m = _unpack(state)
    words, visible_words = flat.view(np.uint64), visible.view(np.uint64)
    movers.locate(m, visible, offsets)
    for i in range(len(c.sub_row)):
        base, word = i * BLOCK, i * (BLOCK // 8)
        for j in range(BLOCK // 8):
            words[word + j] = 0
        oxygen_cells = min(max(c.oxygen[i], 0) * SIDE // MAX_OXYGEN, SIDE)
        words[word + _OXYGEN_WORD], words[word + _OXYGEN_WORD + 1] = _OXYGEN_WORDS[oxygen_cells]
        if c.diver_count[i] > 0:  # in about a tenth of the copies: else the zeroed words show no diver
            divers_shown = min(c.diver_count[i], MAX_DIVERS)
            words[word + _DIVER_WORD], words[word + _DIVER_WORD + 1] = _DIVER_WORDS[divers_shown]
        player = c.sub_row[i] * SIDE + c.sub_col[i]
        movers.put(flat, base, SUB_FRONT * PLANE + player)
        # The cell behind: left when facing right.
        movers.put(flat, base, SUB_BACK * PLANE + player + (-1 if c.sub_right[i] else 1))
        shots.draw(b, i, flat, base)
        movers.draw(visible, visible_words, offsets, i, flat, base)
