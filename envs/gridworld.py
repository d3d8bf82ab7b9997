"""Gridworld MDPs built from text maps, with their exact model (`env.unwrapped.mdp`, `env.unwrapped.P`).

Map characters: S start (several: uniform start), . floor, # wall, G goal, H hole, C cliff (back to start).
"""

from __future__ import annotations

import operator

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from envs import rng
from envs.gridworld_maps import CLIFF, FROZEN_LAKE_4X4, GOAL, HOLE, WALL, generate_maze, load_map
from envs.gridworld_model import ACTION_NAMES, TransitionTable, gridworld_transitions

__all__ = ["GridWorldEnv", "GridObservation", "generate_maze", "OBS_MODES", "ACTION_NAMES"]

OBS_MODES = ("index", "onehot", "coords", "image")
# Channels of the "image" observation, in order; the agent is the last.
IMAGE_CHANNELS = (WALL, GOAL, HOLE, CLIFF)


class GridObservation:
    """Turns state indices into observations of one mode: one state (`single`) or a batch (`batch`).

    index: int in [0, S); onehot: float32 (S,); coords: float32 (row, col);
    image: float32 (5, H, W) channels walls, goals, holes, cliffs, agent.
    """

    def __init__(self, rows: tuple[str, ...], mode: str):
        if mode not in OBS_MODES:
            raise ValueError(f"obs_mode must be one of {OBS_MODES}, got {mode!r}")
        self.mode = mode
        self.height, self.width = len(rows), len(rows[0])
        self.num_states = self.height * self.width
        grid = np.array([list(row) for row in rows])
        self.static_image = np.zeros((len(IMAGE_CHANNELS) + 1, self.height, self.width), dtype=np.float32)
        for channel, char in enumerate(IMAGE_CHANNELS):
            self.static_image[channel] = grid == char
        if mode == "index":
            self.space = spaces.Discrete(self.num_states)
        elif mode == "onehot":
            self.space = spaces.Box(0.0, 1.0, (self.num_states,), dtype=np.float32)
        elif mode == "coords":
            # At least 1: Gymnasium's checker rejects a Box whose low equals its high (a one-row map).
            high = np.array([max(self.height - 1, 1), max(self.width - 1, 1)], dtype=np.float32)
            self.space = spaces.Box(np.zeros(2, dtype=np.float32), high, dtype=np.float32)
        else:
            self.space = spaces.Box(0.0, 1.0, self.static_image.shape, dtype=np.float32)

    def single(self, state: int):
        if self.mode == "index":
            return state
        if self.mode == "onehot":
            obs = np.zeros(self.num_states, dtype=np.float32)
            obs[state] = 1.0
            return obs
        row, col = divmod(state, self.width)
        if self.mode == "coords":
            return np.array([row, col], dtype=np.float32)
        obs = self.static_image.copy()
        obs[-1, row, col] = 1.0
        return obs

    def batch(self, states: np.ndarray) -> np.ndarray:
        """Observations of states (N,) int64: (N,) int64, (N, S), (N, 2) or (N, 5, H, W) float32."""
        if self.mode == "index":
            return states.copy()
        n = len(states)
        if self.mode == "onehot":
            obs = np.zeros((n, self.num_states), dtype=np.float32)
            obs[np.arange(n), states] = 1.0
            return obs
        rows, cols = np.divmod(states, self.width)
        if self.mode == "coords":
            return np.stack([rows, cols], axis=1).astype(np.float32)
        obs = np.repeat(self.static_image[None], n, axis=0)
        obs[np.arange(n), -1, rows, cols] = 1.0
        return obs


class GridWorldEnv(gym.Env):
    """A gridworld from a text map. Actions Discrete(4): 0 left, 1 down, 2 right, 3 up (FrozenLake's order).

    State index = row * width + col over all cells. A move into a wall or off the map stays in place. The
    intended move happens with probability `slip`, each perpendicular one with (1 - slip) / 2. A move earns
    the reward of the cell it ends in: `goal_reward` (G, terminal), `hole_reward` (H, terminal),
    `cliff_reward` (C, and the agent goes back to a start cell), else `step_reward`.

    map: a built-in name (see envs.gridworld_maps.BUILTIN_MAPS), a path to a .txt file, or a list of rows.
    max_episode_steps: truncate after this many steps (like TimeLimit; gym.make adds TimeLimit instead).
    """

    metadata = {"render_modes": ["human", "rgb_array"], "render_fps": 8}

    def __init__(
        self,
        map=FROZEN_LAKE_4X4,
        slip: float = 1.0,
        step_reward: float = 0.0,
        goal_reward: float = 1.0,
        hole_reward: float = 0.0,
        cliff_reward: float = -100.0,
        max_episode_steps: int | None = None,
        obs_mode: str = "index",
        render_mode: str | None = None,
    ):
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be None or one of {self.metadata['render_modes']}, got {render_mode!r}")
        if max_episode_steps is not None and max_episode_steps < 1:
            raise ValueError(f"max_episode_steps must be >= 1 or None, got {max_episode_steps}")
        self.map = map
        self.slip = slip
        self.step_reward = step_reward
        self.goal_reward = goal_reward
        self.hole_reward = hole_reward
        self.cliff_reward = cliff_reward
        self.max_episode_steps = max_episode_steps
        self.obs_mode = obs_mode
        self.render_mode = render_mode

        self.rows = load_map(map)
        self.height, self.width = len(self.rows), len(self.rows[0])
        self.transitions: TransitionTable = gridworld_transitions(
            self.rows, slip, step_reward, goal_reward, hole_reward, cliff_reward
        )
        self.observer = GridObservation(self.rows, obs_mode)
        self.observation_space = self.observer.space
        self.action_space = spaces.Discrete(4)

        self.state: int | None = None
        self.last_action: int | None = None
        self.key: int | None = None
        self.counter = 0
        self.elapsed_steps = 0
        self.overlay_values: np.ndarray | None = None
        self.overlay_policy: np.ndarray | None = None
        self._mdp = None
        self._p_dict = None
        self._renderer = None

    # The exact model --------------------------------------------------------------------------------------
    @property
    def mdp(self):
        """The TabularMDP: P (S, A, S'), R (S, A), terminal (S,), start (S,). Built on first use."""
        if self._mdp is None:
            names = tuple(f"({r},{c})" for r in range(self.height) for c in range(self.width))
            self._mdp = self.transitions.tabular_mdp(names)
        return self._mdp

    @property
    def P(self) -> dict:
        """Gymnasium toy_text format {s: {a: [(prob, next_state, reward, terminated), ...]}}."""
        if self._p_dict is None:
            self._p_dict = self.transitions.p_dict()
        return self._p_dict

    # Gymnasium API ----------------------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self.key, self.counter = rng.stream_after_reset(seed, self.key, self.counter, self.np_random)
        self.state = self.transitions.sample_start(rng.uniform_scalar(self.key, self.counter))
        self.counter += 1
        self.last_action = None
        self.elapsed_steps = 0
        if self.render_mode == "human":
            self.render()
        return self.observer.single(self.state), {}

    def step(self, action):
        if self.state is None:
            raise RuntimeError("call reset() before step()")
        action = operator.index(action)
        if not 0 <= action < 4:
            raise ValueError(f"action must be in [0, 4) (0 left, 1 down, 2 right, 3 up), got {action}")
        u = rng.uniform_scalar(self.key, self.counter)
        self.counter += 1
        self.state, reward, terminated = self.transitions.sample_step(self.state, action, u)
        self.last_action = action
        self.elapsed_steps += 1
        truncated = self.max_episode_steps is not None and self.elapsed_steps >= self.max_episode_steps
        if self.render_mode == "human":
            self.render()
        return self.observer.single(self.state), reward, terminated, truncated, {}

    # Rendering --------------------------------------------------------------------------------------------
    def set_overlay(self, values=None, policy=None) -> None:
        """Draw `values` (S,) floats as a heatmap and `policy` (S,) action ints as arrows; None clears."""
        S = self.transitions.num_states
        if values is not None:
            values = np.asarray(values, dtype=np.float64)
            if values.shape != (S,):
                raise ValueError(f"values must have shape ({S},), got {values.shape}")
        if policy is not None:
            policy = np.asarray(policy)
            if policy.shape != (S,):
                raise ValueError(f"policy must have shape ({S},), got {policy.shape}")
            if not np.issubdtype(policy.dtype, np.integer) or policy.min() < 0 or policy.max() > 3:
                raise ValueError("policy must hold action ints in [0, 4)")
        self.overlay_values, self.overlay_policy = values, policy

    def render(self):
        if self.render_mode is None:
            gym.logger.warn("render() called without a render_mode; pass render_mode='rgb_array' or 'human'")
            return None
        if self._renderer is None:
            from envs.gridworld_render import GridRenderer

            self._renderer = GridRenderer(self.rows, caption=self._caption())
        surface = self._renderer.draw(self.state, self.overlay_values, self.overlay_policy)
        if self.render_mode == "rgb_array":
            from envs.window import surface_pixels

            return surface_pixels(surface)
        self._renderer.show(surface, self.metadata["render_fps"])
        return None

    def get_keys_to_action(self) -> dict[tuple[int, ...], int]:
        """Arrow keys -> actions, in the format gymnasium.utils.play.play uses."""
        from envs.gridworld_render import arrow_keys_to_action

        return arrow_keys_to_action()

    def close(self):
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_renderer"] = None  # pygame surfaces and windows do not pickle
        return state

    def _caption(self) -> str:
        return self.spec.id if self.spec is not None else "GridWorld"
