"""The vector env's per-copy bookkeeping around a step, compiled by numba: at thousands of copies, a handful of
numpy calls on (N,) arrays costs as much as a compiled game's whole step.

Used by `GameVectorEnv.step` (envs/arcade.py) in this order: `rewind_counters`, the game's `restart` of the
copies that ended on the previous step, then `finish_step`.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def rewind_counters(needs_reset, counters):
    """Undo the step's counter advance (exactly 1, by the BatchedGame contract) of the copies about to reset,
    so that their reset draws what a single env's reset() draws."""
    for i in range(needs_reset.shape[0]):
        if needs_reset[i]:
            counters[i] -= np.uint64(1)


@njit(cache=True)
def finish_step(needs_reset, reward, terminated, truncated, episode_steps, max_episode_steps):
    """After the step (and the restart of the copies in `needs_reset`): a restarted copy reports reward 0, not
    terminated, step 0; every other copy counts the step. Then truncation (at `max_episode_steps`; 0: none)
    and the next step's `needs_reset`. Arrays are (N,) and edited in place."""
    for i in range(needs_reset.shape[0]):
        if needs_reset[i]:
            reward[i] = 0.0
            terminated[i] = False
            episode_steps[i] = 0
        else:
            episode_steps[i] += 1
        truncated[i] = max_episode_steps > 0 and episode_steps[i] >= max_episode_steps
        needs_reset[i] = terminated[i] or truncated[i]
