"""N copies of a gridworld stepped at once with numpy: one RNG call and a few table gathers per step.

Copy i gives bit-for-bit what a single GridWorldEnv (under TimeLimit) seeded the same way gives.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from envs import rng
from envs.gridworld import GridWorldEnv

_ONE = np.uint64(1)


class GridWorldVectorEnv(VectorEnv):
    """A vector of `num_envs` copies of `GridWorldEnv(**kwargs)`, autoresetting in NEXT_STEP mode.

    State per copy lives in arrays (N,): states int64, keys and counters uint64, elapsed_steps int64.
    Like the single env, every reset and every step consumes exactly one uniform from the copy's stream;
    the step after a copy ends resets it (reward 0, not terminated, not truncated, obs = its start obs).
    `reset(seed=s)` seeds copy i with s + i (or with seed[i] if `seed` is a list).
    `max_episode_steps` truncates like Gymnasium's TimeLimit on the single env.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 8, "autoreset_mode": AutoresetMode.NEXT_STEP}
    _STATE = ("states", "keys", "counters", "elapsed_steps", "needs_reset")

    def __init__(self, num_envs: int = 1, max_episode_steps: int | None = None, render_mode=None, **kwargs):
        if num_envs < 1:
            raise ValueError(f"num_envs must be >= 1, got {num_envs}")
        if max_episode_steps is not None and max_episode_steps < 1:
            raise ValueError(f"max_episode_steps must be >= 1 or None, got {max_episode_steps}")
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        self.num_envs = int(num_envs)
        self.max_episode_steps = max_episode_steps
        self.render_mode = render_mode
        # One single env holds the map, the model, the observation encoder and the renderer for all copies.
        self.model_env = GridWorldEnv(render_mode=None if render_mode is None else "rgb_array", **kwargs)
        self.transitions = self.model_env.transitions
        self.observer = self.model_env.observer
        self.single_observation_space = self.model_env.observation_space
        self.single_action_space = self.model_env.action_space
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = spaces.MultiDiscrete(np.full(self.num_envs, 4))

        self.keys: np.ndarray | None = None
        self.counters = np.zeros(self.num_envs, dtype=np.uint64)
        self.states = np.zeros(self.num_envs, dtype=np.int64)
        self.elapsed_steps = np.zeros(self.num_envs, dtype=np.int64)
        self.needs_reset = np.zeros(self.num_envs, dtype=bool)
        self._started = False
        starts = self.transitions.start_states
        self._single_start = int(starts[0]) if len(starts) == 1 else None

    @property
    def mdp(self):
        """The exact model shared by every copy (see GridWorldEnv.mdp)."""
        return self.model_env.mdp

    def reset(self, *, seed: int | list[int] | None = None, options: dict | None = None):
        """Reset every copy (or those where options["reset_mask"] is True); returns (obs, {})."""
        super().reset(seed=seed if isinstance(seed, int) else None)
        if seed is not None:
            self.keys = rng.keys_for_seed(seed, self.num_envs)
            self.counters[:] = 0
        elif self.keys is None:
            self.keys = np.array([rng.random_key(self.np_random) for _ in range(self.num_envs)], dtype=np.uint64)
            self.counters[:] = 0
        mask = np.ones(self.num_envs, dtype=bool)
        if options is not None and "reset_mask" in options:
            mask = np.asarray(options["reset_mask"], dtype=bool)
            if mask.shape != (self.num_envs,):
                raise ValueError(f"options['reset_mask'] must have shape ({self.num_envs},), got {mask.shape}")
        u = rng.uniform(self.keys[mask], self.counters[mask])
        self.counters[mask] += _ONE
        self.states[mask] = self.transitions.sample_starts(u)
        self.elapsed_steps[mask] = 0
        self.needs_reset[mask] = False
        self._started = True
        return self.observer.batch(self.states), {}

    def step(self, actions):
        """Step every copy. actions: ints (N,) in [0, 4). Returns obs, rewards float64 (N,), terminated,
        truncated bool (N,), {}."""
        if not self._started:
            raise RuntimeError("call reset() before step()")
        actions = self._check_actions(actions)
        u = rng.uniform(self.keys, self.counters)
        self.counters += _ONE
        states, rewards, terminated = self.transitions.sample_steps(self.states, actions, u)
        self.elapsed_steps += 1
        if self.max_episode_steps is None:
            truncated = np.zeros(self.num_envs, dtype=bool)
        else:
            truncated = self.elapsed_steps >= self.max_episode_steps
        restart = self.needs_reset
        if restart.any():  # NEXT_STEP autoreset: this step's uniform draws the start state instead
            starts = self._single_start if self._single_start is not None else self.transitions.sample_starts(u)
            np.putmask(states, restart, starts)
            np.putmask(rewards, restart, 0.0)
            np.putmask(self.elapsed_steps, restart, 0)
            keep = ~restart
            terminated &= keep
            truncated &= keep
        self.states = states
        self.needs_reset = terminated | truncated
        return self.observer.batch(states), rewards, terminated, truncated, {}

    def render(self):
        """A tuple of uint8 (H, W, 3) frames, one per copy (render_mode='rgb_array')."""
        if self.render_mode is None:
            gym.logger.warn("render() called without a render_mode; pass render_mode='rgb_array'")
            return None
        frames = []
        for state in self.states.tolist():
            self.model_env.state = state
            frames.append(self.model_env.render())
        return tuple(frames)

    def close_extras(self, **kwargs):
        self.model_env.close()

    def state_dict(self, copies=None) -> dict:
        """Every copy's state (or the rows `copies`) as numpy arrays: states, random keys and counters, elapsed
        steps and pending-reset flags, so a checkpoint continues each copy's episode where it was."""
        if not self._started:
            raise RuntimeError("call reset() before state_dict(): the copies have no state yet")
        rows = slice(None) if copies is None else np.asarray(copies, dtype=np.int64)
        return {name: getattr(self, name)[rows].copy() for name in self._STATE}

    def load_state_dict(self, state: dict) -> None:
        """Restore `state_dict()` output taken from a vector env of the same map with as many copies."""
        if self.keys is None:
            self.keys = np.zeros(self.num_envs, dtype=np.uint64)
        for name in self._STATE:
            value = np.asarray(state[name])
            if value.shape != (self.num_envs,):
                raise ValueError(f"env state {name} has shape {value.shape}, expected ({self.num_envs},)")
            getattr(self, name)[...] = value.astype(getattr(self, name).dtype)
        self._started = True

    def _check_actions(self, actions) -> np.ndarray:
        actions = np.asarray(actions)
        if actions.shape != (self.num_envs,):
            raise ValueError(f"actions must have shape ({self.num_envs},), got {actions.shape}")
        if actions.dtype.kind not in "iu":
            raise ValueError(f"actions must be integers, got dtype {actions.dtype}")
        if (actions & ~3).any():  # any bit above the two lowest (negatives included) means out of range
            bad = int(np.flatnonzero((actions < 0) | (actions > 3))[0])
            raise ValueError(f"action of copy {bad} is {actions[bad]}, must be in [0, 4)")
        return actions.astype(np.int64, copy=False)
