"""The things that cross Seaquest's lanes (rows 1-8): fish, enemy subs and divers, as K slots per game copy.

`Movers` holds the (N, K) arrays; the functions below are their rules, compiled by numba and inlined into the
step and observe kernels of envs/seaquest.py. The rules every slot follows each step (`advance`, `locate`) are
flat loops over all N * K slots, which the compiler turns into vector instructions; the rest (spawns, pick-ups,
and in envs/seaquest_shots.py the shots, after which `settle_slot` ends the step of the slots they could change)
run per copy, where `advance` flagged a need.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

SIDE = 10
SLOT_BLOCK = 8
DEAD_BULLET_CELL = -128  # the cell of "no bullet" (envs/seaquest_shots.py): no mover is ever there
# `plane` is the observation channel a mover is drawn in: 5 enemy_fish, 6 enemy_sub, 9 diver; EMPTY_PLANE (8, the
# diver gauge's, where no mover is drawn) marks a free slot. Trails and enemy bullets are drawn at these offsets
# into a copy's observation block (100 * channel 3 and 4).
FISH_PLANE, SUB_PLANE, DIVER_PLANE, EMPTY_PLANE = 5, 6, 9, 8
TRAIL_PLANE, BULLET_PLANE = 300, 400
ENEMY_SHOT_INTERVAL = 10
# Bits of a slot's flags (uint8 (N, K), the step kernel's scratch). Set by `advance`: MOVED this step; ENEMY, a
# live fish or sub (cleared for one shot before moving); KILLED, to be removed (moved off the board, or shot);
# NEAR, an enemy in the cell of one of the sub's bullets before or after moving (cleared once a bullet hits it);
# AT_SUB, a live mover in the sub's cell before or after moving (on the board); ARMED, an enemy sub whose shot
# timer has run out. Set by `_settle`: HIT, the slot terminates the copy (an enemy at the sub, or its enemy bullet
# hit the sub); REACHED, a diver at the sub (cleared when it is picked up).
MOVED, ENEMY, KILLED, NEAR, AT_SUB, ARMED, HIT, REACHED = 1, 2, 4, 8, 16, 32, 64, 128
# A flag byte repeated over the 8 slots of a uint64 word (flags viewed as (N, K / 8) uint64).
BYTES = np.uint64(0x0101010101010101)
NEAR_BYTES, HIT_BYTES, REACHED_BYTES = (np.uint64(flag * 0x0101010101010101) for flag in (NEAR, HIT, REACHED))

MoverArrays = namedtuple("MoverArrays", ("col", "cell", "step", "timer", "period", "shot", "plane", "birth",
                                         "bullet_col", "bullet_cell", "bullet_step"))


class Movers:
    """K slots per copy of things moving along a lane, one cell sideways whenever their timer runs out.

    Fields, all (N, K): col, cell (row * 10 + col), step (+1 heading right, -1 left), timer, period, shot
    (int8); plane (int8, see FISH_PLANE...; EMPTY_PLANE marks a free slot); birth (int64: the copy's counter
    on the step it appeared, so that slots need no order: MinAtar keeps its movers in lists by age, and where
    that order decides something the rules compare births). K starts at 8 and grows by 8 (`grow`) when a copy
    has no free slot for a new mover.

    A mover moves on the steps its timer is 0 and its timer then restarts at period - 1; on other steps the
    timer counts down. `shot` is an enemy sub's shot timer (unused for fish and divers).

    Enemy bullets live in the slot of the sub that fired them: bullet_col, bullet_cell, bullet_step (int8
    (N, K)); a slot has a bullet while bullet_col is on the board (0-9). One slot never needs two: a sub fires
    every 11 steps and its bullet leaves the board within 10, and a sub taking over a freed slot fires for the
    first time 10 steps after it appeared, by when its predecessor's last bullet is gone.
    """

    def __init__(self, num_envs: int, num_slots: int = SLOT_BLOCK):
        if num_slots < SLOT_BLOCK or num_slots % SLOT_BLOCK:
            raise ValueError(f"num_slots must be a positive multiple of {SLOT_BLOCK}, got {num_slots}")
        self.num_envs = int(num_envs)
        shape = (self.num_envs, num_slots)
        self.col = np.zeros(shape, dtype=np.int8)
        self.cell = np.zeros(shape, dtype=np.int8)
        self.step = np.ones(shape, dtype=np.int8)
        self.timer = np.zeros(shape, dtype=np.int8)
        self.period = np.ones(shape, dtype=np.int8)
        self.shot = np.zeros(shape, dtype=np.int8)
        self.plane = np.full(shape, EMPTY_PLANE, dtype=np.int8)
        self.birth = np.zeros(shape, dtype=np.int64)
        self.bullet_col = np.full(shape, -1, dtype=np.int8)
        self.bullet_cell = np.zeros(shape, dtype=np.int8)
        self.bullet_step = np.zeros(shape, dtype=np.int8)

    @property
    def num_slots(self) -> int:
        return self.col.shape[1]

    def clear(self, copies: np.ndarray) -> None:
        """Free every slot and remove every bullet of the copies `copies` (int64 (R,) or bool (N,))."""
        self.plane[copies] = EMPTY_PLANE
        self.bullet_col[copies] = -1

    def grow(self) -> None:
        """Add SLOT_BLOCK free slots to every copy (rare: late in an episode, when many things are on screen)."""
        extra = Movers(self.num_envs, SLOT_BLOCK)
        for name in MoverArrays._fields:
            setattr(self, name, np.concatenate([getattr(self, name), getattr(extra, name)], axis=1))


@njit(cache=True, inline="always")
def on_board(col):
    """Whether a column (any int type) is on the board, 0-9."""
    return 0 <= col < SIDE


@njit(cache=True, inline="always")
def _on_board8(col):
    """`on_board` for an int8, kept in 8 bits so that the flat loops vectorize 32 slots to an instruction."""
    return np.uint8(col) < np.uint8(SIDE)


# ----------------------------------------------------------------------------- per copy: reset, spawns

@njit(cache=True, inline="always")
def clear(m, i):
    """Free every slot and remove every bullet of copy i."""
    for k in range(m.plane.shape[1]):
        m.plane[i, k] = EMPTY_PLANE
        m.bullet_col[i, k] = -1


@njit(cache=True, inline="always")
def lane_blocked(m, i, lane, step):
    """Whether copy i has a fish or sub in `lane` heading the other way than `step` (+1 or -1). A live mover's
    cell // 10 is its lane: every live mover is on the board between steps."""
    for k in range(m.plane.shape[1]):
        plane = m.plane[i, k]
        if (plane == FISH_PLANE or plane == SUB_PLANE) and m.cell[i, k] // SIDE == lane and m.step[i, k] != step:
            return True
    return False


@njit(cache=True, inline="always")
def free_slots(m, i):
    """How many slots of copy i are free."""
    free = 0
    for k in range(m.plane.shape[1]):
        free += m.plane[i, k] == EMPTY_PLANE
    return free


@njit(cache=True, inline="always")
def add(m, i, col, row, step, plane, period, shot, birth):
    """Put a new mover into the first free slot of copy i (the caller makes sure there is one) with its timer
    at period - 1 and its shot timer at `shot` (`advance` counts both down in the step it appears)."""
    for k in range(m.plane.shape[1]):
        if m.plane[i, k] == EMPTY_PLANE:
            m.col[i, k] = col
            m.cell[i, k] = row * SIDE + col
            m.step[i, k] = step
            m.timer[i, k] = period - 1
            m.period[i, k] = period
            m.shot[i, k] = shot
            m.plane[i, k] = plane
            m.birth[i, k] = birth
            return


# ----------------------------------------------------------------------------- every slot

@njit(cache=True, inline="always")
def advance(m, flags, spread):
    """Every slot's step up to the shots (envs/seaquest_shots.py's `resolve_shots`), and the rest of it
    (`settle_slot`) for every slot the shots cannot change, in one flat loop over all slots.

    Every slot's move and shot timers count down by one (int8 wraps around; empty slots, fish and divers count
    down too): a live mover whose timer then reads -1 moves one cell and its timer restarts at period - 1, and a
    sub whose shot timer reads -1 is ARMED. Every slot's flags (see MOVED...) are set. The slots NEAR a bullet
    wait for the shots: their copy's step settles them (`settle_slot`) once `resolve_shots` has run; the others
    settle here. spread: int8 (3, N, K), each copy's sub cell, older and newer bullet cell (DEAD_BULLET_CELL for
    none) repeated over its slots."""
    plane, timer, step, period = m.plane.reshape(-1), m.timer.reshape(-1), m.step.reshape(-1), m.period.reshape(-1)
    col, cell, shot = m.col.reshape(-1), m.cell.reshape(-1), m.shot.reshape(-1)
    bullet_col, bullet_cell = m.bullet_col.reshape(-1), m.bullet_cell.reshape(-1)
    bullet_step = m.bullet_step.reshape(-1)
    player, older, newer, flag = spread[0].reshape(-1), spread[1].reshape(-1), spread[2].reshape(-1), flags.reshape(-1)
    for j in range(plane.size):
        live = plane[j] != EMPTY_PLANE
        enemy = live & (plane[j] != DIVER_PLANE)
        counted = np.int8(timer[j] - 1)
        shot_counted = np.int8(shot[j] - 1)
        moved = live & (counted == -1)
        delta = np.int8(step[j] * moved)
        before = cell[j]
        after = np.int8(before + delta)
        col_after = np.int8(col[j] + delta)
        cell[j], col[j] = after, col_after
        timer[j] = np.int8(counted + period[j] * moved)
        inside = _on_board8(col_after)
        at_sub = live & ((before == player[j]) | ((after == player[j]) & inside))
        near = enemy & ((before == older[j]) | (before == newer[j]) | (after == older[j]) | (after == newer[j]))
        armed = enemy & (plane[j] == SUB_PLANE) & (shot_counted == -1)
        f = (np.uint8(moved) | (np.uint8(enemy) << np.uint8(1)) | (np.uint8(moved & (not inside)) << np.uint8(2))
             | (np.uint8(near) << np.uint8(3)) | (np.uint8(at_sub) << np.uint8(4)) | (np.uint8(armed) << np.uint8(5)))
        settled = _settle(f, plane[j], col_after, after, step[j], shot_counted, bullet_col[j], bullet_cell[j],
                          bullet_step[j], player[j])
        wait = -np.int8(near)  # all bits set where the slot waits for the shots
        shot[j] = _pick(wait, shot_counted, settled[0])
        bullet_col[j] = _pick(wait, bullet_col[j], settled[1])
        bullet_cell[j] = _pick(wait, bullet_cell[j], settled[2])
        bullet_step[j] = _pick(wait, bullet_step[j], settled[3])
        plane[j] = _pick(wait, plane[j], settled[4])
        flag[j] = _pick(np.uint8(wait), f, settled[5])


@njit(cache=True, inline="always")
def locate(m, visible, offsets):
    """Where each slot shows in its copy's observation block (1000 bytes), for `draw`: offsets int16 (3, N, K),
    the mover's cell in its plane, the trail cell behind it (the cell it came from, if that is on the board)
    and its enemy bullet's cell, each -1 where there is none or (only in states the rules never reach) it
    falls off the block; visible uint8 (N, K), nonzero where a slot shows anything."""
    plane, cell, step, col = m.plane.reshape(-1), m.cell.reshape(-1), m.step.reshape(-1), m.col.reshape(-1)
    bullet_col, bullet_cell = m.bullet_col.reshape(-1), m.bullet_cell.reshape(-1)
    body, trail, bullet = offsets[0].reshape(-1), offsets[1].reshape(-1), offsets[2].reshape(-1)
    seen = visible.reshape(-1)
    for j in range(plane.size):
        live = plane[j] != EMPTY_PLANE
        at = np.int16(np.int16(plane[j]) * np.int16(SIDE * SIDE) + cell[j])
        behind = np.int16(TRAIL_PLANE + cell[j] - step[j])
        shot = np.int16(BULLET_PLANE + bullet_cell[j])
        body[j] = at if live & _in_block(at) else np.int16(-1)
        trail[j] = behind if live & _on_board8(np.int8(col[j] - step[j])) & _in_block(behind) else np.int16(-1)
        bullet[j] = shot if _on_board8(bullet_col[j]) & _in_block(shot) else np.int16(-1)
        seen[j] = np.uint8(body[j] >= 0) | np.uint8(trail[j] >= 0) | np.uint8(bullet[j] >= 0)


@njit(cache=True, inline="always")
def _in_block(offset):
    return np.uint16(offset) < np.uint16(10 * SIDE * SIDE)


# ----------------------------------------------------------------------------- per copy: the flagged slots

@njit(cache=True, inline="always")
def copy_flags(flag_words, union):
    """union: uint64 (N,), each copy's slots' flags or-ed together, a word of 8 flag bytes (test it with
    NEAR_BYTES...)."""
    for i in range(len(union)):
        union[i] = flag_words[i, 0]
    for block in range(1, flag_words.shape[1]):
        for i in range(len(union)):
            union[i] |= flag_words[i, block]


@intrinsic
def _trailing_zeros(typingctx, word):
    """The index of the lowest set bit of a nonzero uint64 (LLVM's cttz)."""
    if word != types.uint64:
        return None

    def codegen(context, builder, signature, args):
        return builder.cttz(args[0], ir.Constant(ir.IntType(1), 0))

    return types.uint64(types.uint64), codegen


@njit(cache=True, inline="always")
def nonzero_bytes(word):
    """Bit 0 of each byte of a uint64 set where that byte is nonzero (shifts of up to 7 stay within a byte)."""
    word |= word >> np.uint64(4)
    word |= word >> np.uint64(2)
    word |= word >> np.uint64(1)
    return word & BYTES


@njit(cache=True, inline="always")
def pop_slot(bits):
    """The lowest byte set in `bits` (from `nonzero_bytes`) as a slot within its word, and `bits` without it:
    loops over the few flagged slots so, rather than testing every slot (a branch the CPU cannot predict)."""
    return np.int64(_trailing_zeros(bits) >> np.uint64(3)), bits & (bits - np.uint64(1))


@njit(cache=True, inline="always")
def flagged(need, copies):
    """The indices of the nonzero bytes of `need` (uint8, its length a multiple of 8, zero past the copies), in
    order, into `copies` (int64); returns how many. For a rule that applies to few copies: a loop over this list
    tests one word per 8 copies, where a loop over all copies would branch at each (measured at 4096 copies with
    none flagged: under 1 us against 3.5-6 us a rule)."""
    count = 0
    need_words = need.view(np.uint64)
    for word in range(need_words.shape[0]):
        bits = nonzero_bytes(need_words[word])
        while bits:
            slot, bits = pop_slot(bits)
            copies[count] = word * 8 + slot
            count += 1
    return count


@njit(cache=True, inline="always")
def cell_before(m, flags, i, k):
    """Slot k's cell before this step's move."""
    return np.int8(m.cell[i, k] - m.step[i, k]) if flags[i, k] & MOVED else m.cell[i, k]


@njit(cache=True, inline="always")
def _pick(mask, new, old):
    """`new` where `mask` (all bits set) else `old`, without a branch (which would keep the loop from being
    vectorized)."""
    return (new & mask) | (old & ~mask)


@njit(cache=True, inline="always")
def _settle(f, plane, col, cell, step, shot, bullet_col, bullet_cell, bullet_step, player):
    """The rest of a slot's step, once the shots are resolved: an ARMED sub still an ENEMY fires from its (new)
    cell, even one shot this step while moving (one that left the board fires off it, a bullet MinAtar drops
    before anyone sees it), and its shot timer restarts at 10; its enemy bullet, if on the board, hits the sub
    where it is, flies one cell (leaving at the walls) and hits it there; an ENEMY at the sub or a bullet hitting
    it sets HIT, a diver at the sub REACHED; a KILLED mover's slot is freed. Takes the slot's flags `f` and
    fields (after `advance` moved it) and the sub's cell; returns the new shot, bullet_col, bullet_cell,
    bullet_step, plane and flags, without a branch (it runs inside `advance`'s vectorized loop)."""
    enemy = (f & np.uint8(ENEMY)) != 0
    fires = enemy & ((f & np.uint8(ARMED)) != 0)
    new_shot = _pick(-np.int8(fires), np.int8(ENEMY_SHOT_INTERVAL), shot)
    aimed = -np.int8(fires & _on_board8(col))
    new_col = np.int8(_pick(aimed, col, bullet_col))
    new_cell = np.int8(_pick(aimed, cell, bullet_cell))
    new_step = np.int8(_pick(aimed, step, bullet_step))
    flying = _on_board8(new_col)
    hit = flying & (new_cell == player)
    delta = np.int8(new_step * flying)
    new_col, new_cell = np.int8(new_col + delta), np.int8(new_cell + delta)
    hit |= _on_board8(new_col) & (new_cell == player)
    at_sub = (f & np.uint8(AT_SUB)) != 0
    hit |= at_sub & enemy
    reached = at_sub & (plane == DIVER_PLANE)
    killed = -np.int8((f & np.uint8(KILLED)) != 0)
    new_plane = np.int8(_pick(killed, np.int8(EMPTY_PLANE), plane))
    new_f = f | (np.uint8(hit) << np.uint8(6)) | (np.uint8(reached) << np.uint8(7))
    return new_shot, new_col, new_cell, new_step, new_plane, new_f


@njit(cache=True, inline="always")
def settle_slot(m, flags, i, k, player):
    """`_settle` for slot k of copy i, one `advance` left waiting for the shots (`player`: the sub's cell)."""
    (m.shot[i, k], m.bullet_col[i, k], m.bullet_cell[i, k], m.bullet_step[i, k], m.plane[i, k],
     flags[i, k]) = _settle(flags[i, k], m.plane[i, k], m.col[i, k], m.cell[i, k], m.step[i, k], m.shot[i, k],
                            m.bullet_col[i, k], m.bullet_cell[i, k], m.bullet_step[i, k], player)


@njit(cache=True, inline="always")
def pick_up(m, flags, i, room):
    """Divers the sub reached (REACHED) are picked up (their slots freed) while fewer than 6 are aboard, `room`
    more fit. MinAtar goes through its divers newest first, so where not all fit, the newest do (of equal
    births the lower slot). Returns how many were picked."""
    wanted = 0
    for k in range(m.plane.shape[1]):
        wanted += (flags[i, k] & REACHED) != 0
    if wanted <= room:
        for k in range(m.plane.shape[1]):
            if flags[i, k] & REACHED:
                m.plane[i, k] = EMPTY_PLANE
        return wanted
    if room <= 0:
        return 0
    for _ in range(room):
        newest = -1
        for k in range(m.plane.shape[1]):
            if flags[i, k] & REACHED and (newest < 0 or m.birth[i, k] > m.birth[i, newest]):
                newest = k
        flags[i, newest] &= ~REACHED
        m.plane[i, newest] = EMPTY_PLANE
    return room


@njit(cache=True, inline="always")
def set_enemy_period(m, i, period):
    """Enemies of copy i already on the board take a new period at their next move, as MinAtar's do."""
    for k in range(m.plane.shape[1]):
        if m.plane[i, k] == FISH_PLANE or m.plane[i, k] == SUB_PLANE:
            m.period[i, k] = period


# ----------------------------------------------------------------------------- drawing

@njit(cache=True, inline="always")
def put(flat, base, offset):
    """Set byte `offset` of a copy's observation block (1000 bytes from `base`); offsets off the block (only
    from states the rules never reach) are dropped rather than written into another copy."""
    if 0 <= offset < 10 * SIDE * SIDE:
        flat[base + offset] = 1


@njit(cache=True, inline="always")
def draw(visible, visible_words, offsets, i, flat, base):
    """Copy i's movers, their trails and the enemy bullets into its observation block at `base` of the flat
    observation, from `locate` (visible_words: visible viewed as uint64)."""
    for block in range(visible_words.shape[1]):
        bits = nonzero_bytes(visible_words[i, block])
        while bits:
            slot, bits = pop_slot(bits)
            k = block * SLOT_BLOCK + slot
            for layer in range(3):
                if offsets[layer, i, k] >= 0:
                    flat[base + offsets[layer, i, k]] = 1
