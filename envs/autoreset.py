"""The vector env's per-copy bookkeeping around a step (`BatchedGame.vector_step`, envs/batched_game.py), and
sticky actions (`BatchedGame.act`), in numpy.

envs/autoreset_jit.py has the same functions compiled by numba, for the games whose rules are compiled: at
thousands of copies its one loop costs less than these numpy calls, but loading numba costs a process about a
second, which a numpy game (Catch, Snake, Space Invaders) should not pay. `for_game` picks the module.
Order in a step: `sticky_actions` (in `act`), the game's step, `rewind_counters`, the game's `restart` of the
copies that ended on the previous step, then `finish_step`.
"""

from __future__ import annotations

import sys
from types import ModuleType

import numpy as np

from envs import rng


def for_game(game) -> ModuleType:
    """envs.autoreset_jit for a game whose class sets `compiled`, else this module."""
    if not game.compiled:
        return sys.modules[__name__]
    from envs import autoreset_jit

    return autoreset_jit


def sticky_actions(actions, last_action, keys, counters, stream, below, always):
    """The actions played: copy i repeats last_action[i] where its draw's 64 bits (envs.rng `stream`) are below
    `below` (uint64) or `always`, else plays actions[i]; last_action becomes them. A new array (`actions` is not
    modified)."""
    if always:
        played = last_action.copy()
    elif len(actions) == 1:  # the scalar hash (same bits) costs a tenth of the array one for one copy
        repeat = rng.bits_scalar(int(keys[0]), int(counters[0]), stream) < int(below)
        played = last_action.copy() if repeat else actions.copy()
    else:
        played = np.where(rng.bits(keys, counters, stream) < below, last_action, actions)
    np.copyto(last_action, played)
    return played


def rewind_counters(needs_reset, counters):
    """Undo the step's counter advance (exactly 1, by the BatchedGame contract) of the copies about to reset,
    so that their reset draws what a single env's reset() draws."""
    counters[needs_reset] -= np.uint64(1)


def finish_step(needs_reset, reward, terminated, truncated, episode_steps, max_episode_steps):
    """After the step (and the restart of the copies in `needs_reset`): a restarted copy reports reward 0, not
    terminated, step 0; every other copy counts the step. Then truncation (at `max_episode_steps`; 0: none)
    and the next step's `needs_reset`. Arrays are (N,) and edited in place."""
    episode_steps += 1
    reward[needs_reset] = 0.0
    terminated[needs_reset] = False
    episode_steps[needs_reset] = 0
    if max_episode_steps > 0:
        np.greater_equal(episode_steps, max_episode_steps, out=truncated)
    else:
        truncated.fill(False)
    np.logical_or(terminated, truncated, out=needs_reset)
