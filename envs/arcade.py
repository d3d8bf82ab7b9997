"""Gymnasium wrappers around a batched game core (envs/batched_game.py): `GameEnv` is the N = 1 case,
`GameVectorEnv` steps N copies in one core, and both give bit-for-bit the same trajectories for the same seeds.
"""

from __future__ import annotations

import importlib
import operator
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from envs import rng
from envs.arcade_render import PixelArtRenderer
from envs.batched_game import BatchedGame, describe_actions, noop_action

RENDER_MODES = ["human", "rgb_array"]
# Action names that a keyboard key plays; the no-op (envs.batched_game.noop_action) is played when no key is held.
KEY_OF_ACTION_NAME = {"LEFT": "K_LEFT", "RIGHT": "K_RIGHT", "UP": "K_UP", "DOWN": "K_DOWN", "FIRE": "K_SPACE"}


def resolve_game(game: type[BatchedGame] | str) -> type[BatchedGame]:
    """The game class from a class or a "module:ClassName" string (the form registry kwargs use)."""
    if isinstance(game, str):
        module_name, _, class_name = game.partition(":")
        try:
            game = getattr(importlib.import_module(module_name), class_name)
        except (ImportError, AttributeError) as err:
            raise ValueError(f"cannot load game {game!r}: expected 'module:ClassName' ({err})") from err
    if not (isinstance(game, type) and issubclass(game, BatchedGame)):
        raise ValueError(f"game must be a BatchedGame subclass or 'module:ClassName', got {game!r}")
    return game


def keys_to_action(action_meanings: tuple[str, ...]) -> dict[tuple[int, ...], int]:
    """Arrow keys (and space for FIRE) -> action index, from the actions' names, for gymnasium.utils.play."""
    import pygame

    return {
        (getattr(pygame, KEY_OF_ACTION_NAME[name]),): action
        for action, name in enumerate(action_meanings)
        if name in KEY_OF_ACTION_NAME
    }


def _observation_space(game: BatchedGame) -> spaces.Box:
    return spaces.Box(0, game.observation_high, shape=game.obs_shape, dtype=np.uint8)


class _RenderingMixin:
    """Shared by both wrappers: pixel art of the first copies of the core, and pickling without pygame."""

    game: BatchedGame
    render_mode: str | None
    metadata: dict[str, Any]
    _renderer: PixelArtRenderer | None
    _render_copies: int

    def _draw(self) -> None:
        if self._renderer is None:
            self._renderer = PixelArtRenderer(
                self.game.channel_colors,
                self.game.height,
                self.game.width,
                num_boards=self._render_copies,
                caption=type(self.game).__name__,
            )
        shown = slice(0, self._render_copies)
        self._renderer.draw(self.game.observe()[shown], self.game.score[shown])

    def render(self) -> np.ndarray | None:
        """rgb_array: uint8 (H, W, 3) frame; human: draw into the window and return None."""
        if self.render_mode is None:
            gym.logger.warn("render() called without a render_mode; pass render_mode='rgb_array' or 'human'.")
            return None
        self._draw()
        if self.render_mode == "human":
            self._renderer.show(self.metadata["render_fps"])
            return None
        return self._renderer.rgb_array()

    def _close_renderer(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_renderer"] = None  # pygame Surfaces do not pickle; a new one is made on the next render
        return state


def _check_render_mode(render_mode: str | None) -> None:
    if render_mode is not None and render_mode not in RENDER_MODES:
        raise ValueError(f"render_mode must be None or one of {RENDER_MODES}, got {render_mode!r}")


class GameEnv(_RenderingMixin, gym.Env):
    """One copy of a game: a `BatchedGame` core with N = 1.

    Observation: uint8 (C, H, W) planes, one per `game.channel_names`. Action: Discrete(len(action_meanings)).
    info["score"]: the episode's score so far. game: a BatchedGame subclass or "module:ClassName";
    game_options go to its constructor.
    """

    metadata = {"render_modes": RENDER_MODES, "render_fps": 10}

    def __init__(self, game: type[BatchedGame] | str, render_mode: str | None = None, **game_options: Any):
        _check_render_mode(render_mode)
        self.game = resolve_game(game)(num_envs=1, **game_options)
        self.metadata = {**GameEnv.metadata, "render_fps": self.game.render_fps}
        self.render_mode = render_mode
        self.observation_space = _observation_space(self.game)
        self.action_space = spaces.Discrete(self.game.num_actions)
        self.noop_action = noop_action(self.game.action_meanings)
        self._all = np.ones(1, dtype=bool)
        self._action = np.zeros(1, dtype=np.int64)
        self._keyed = False
        self._renderer = None
        self._render_copies = 1

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        """With a seed: key the copy from it. Without: continue the copy's random stream (a fresh random key
        the very first time), so a later reset() draws what the vector env's autoreset draws."""
        super().reset(seed=seed)
        if seed is not None:
            self.game.seed(self._all, np.array([rng.seed_to_key(seed)], dtype=np.uint64))
        elif not self._keyed:
            self.game.seed(self._all, np.array([rng.random_key(self.np_random)], dtype=np.uint64))
        self._keyed = True
        self.game.restart(self._all)
        if self.render_mode == "human":
            self.render()
        return self.game.observe()[0], {"score": int(self.game.score[0])}

    def step(self, action: int):
        self._action[0] = self._check_action(action)
        reward, terminated = self.game.act(self._action)
        if self.render_mode == "human":
            self.render()
        info = {"score": int(self.game.score[0])}
        return self.game.observe()[0], float(reward[0]), bool(terminated[0]), False, info

    def _check_action(self, action: Any) -> int:
        try:
            index = operator.index(action)
        except TypeError:
            raise ValueError(f"action must be an integer, got {action!r}") from None
        if not 0 <= index < self.game.num_actions:
            raise ValueError(
                f"action {index} is out of range: valid actions are 0..{self.game.num_actions - 1} "
                f"({describe_actions(self.game.action_meanings)})"
            )
        return index

    def get_keys_to_action(self) -> dict[tuple[int, ...], int]:
        """Pygame key tuples -> actions, for gymnasium.utils.play.play (no key held: `noop_action`, or
        the last key's action where that is None)."""
        return keys_to_action(self.game.action_meanings)

    def close(self) -> None:
        self._close_renderer()


class GameVectorEnv(_RenderingMixin, VectorEnv):
    """N copies of a game in one `BatchedGame` core, with next-step autoreset.

    reset(seed=s) seeds copy i with s + i, as N single envs reset with seeds s, s + 1, ... (or with seed[i] when
    `seed` is a list of N ints). Copy i is truncated
    after `max_episode_steps` steps (None: never). On the step after copy i ended it is reset instead of
    stepped (reward 0, terminated and truncated False), drawing exactly what a single env's reset() draws.
    Observations: uint8 (N, C, H, W); actions: int (N,). render() draws the first `render_copies` copies tiled.
    """

    metadata = {"render_modes": RENDER_MODES, "render_fps": 10, "autoreset_mode": AutoresetMode.NEXT_STEP}

    def __init__(
        self,
        game: type[BatchedGame] | str,
        num_envs: int = 1,
        max_episode_steps: int | None = None,
        render_mode: str | None = None,
        render_copies: int = 4,
        **game_options: Any,
    ):
        _check_render_mode(render_mode)
        if max_episode_steps is not None and max_episode_steps < 1:
            raise ValueError(f"max_episode_steps must be >= 1 or None, got {max_episode_steps}")
        self.game = resolve_game(game)(num_envs=num_envs, **game_options)
        self.num_envs = self.game.num_envs
        self.max_episode_steps = max_episode_steps
        self.render_mode = render_mode
        self.metadata = {**GameVectorEnv.metadata, "render_fps": self.game.render_fps}
        self.single_observation_space = _observation_space(self.game)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.single_action_space = spaces.Discrete(self.game.num_actions)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.episode_steps = np.zeros(self.num_envs, dtype=np.int64)
        self._needs_reset = np.zeros(self.num_envs, dtype=bool)
        self._keyed = np.zeros(self.num_envs, dtype=bool)
        self._renderer = None
        self._render_copies = max(1, min(render_copies, self.num_envs))

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        """Reset every copy, or those in options["reset_mask"] (bool (N,)). Returns (obs (N, C, H, W), {})."""
        super().reset(seed=seed if isinstance(seed, int | np.integer) else None)
        mask = self._reset_mask(options)
        if seed is not None:
            self.game.seed(mask, rng.keys_for_seed(seed, self.num_envs)[mask])
        else:
            unkeyed = mask & ~self._keyed
            if unkeyed.any():
                keys = [rng.random_key(self.np_random) for _ in range(int(unkeyed.sum()))]
                self.game.seed(unkeyed, np.array(keys, dtype=np.uint64))
        self._keyed |= mask
        self.game.restart(mask)
        self.episode_steps[mask] = 0
        self._needs_reset[mask] = False
        if self.render_mode == "human":
            self.render()
        return self.game.observe(), {}

    def state_dict(self, copies=None) -> dict[str, Any]:
        """Every copy's state (or the rows `copies`) as numpy arrays: the game's state arrays, the step counts
        and the pending-reset flags, so a checkpoint continues each copy's episode where it was."""
        rows = slice(None) if copies is None else np.asarray(copies, dtype=np.int64)
        return {"game": self.game.state_dict(copies), "episode_steps": self.episode_steps[rows].copy(),
                "needs_reset": self._needs_reset[rows].copy(), "keyed": self._keyed[rows].copy()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore `state_dict()` output taken from a vector env of the same game with as many copies."""
        self.game.load_state_dict(state["game"])
        for name, target in (("episode_steps", self.episode_steps), ("needs_reset", self._needs_reset),
                             ("keyed", self._keyed)):
            value = np.asarray(state[name])
            if value.shape != target.shape:
                raise ValueError(f"env state {name} has shape {value.shape}, expected {target.shape}")
            target[...] = value

    def _reset_mask(self, options: dict[str, Any] | None) -> np.ndarray:
        if options is None or options.get("reset_mask") is None:
            return np.ones(self.num_envs, dtype=bool)
        mask = np.asarray(options["reset_mask"])
        if mask.dtype != np.bool_ or mask.shape != (self.num_envs,):
            raise ValueError(
                f"options['reset_mask'] must be a bool array of shape ({self.num_envs},), "
                f"got dtype {mask.dtype} and shape {mask.shape}"
            )
        return mask

    def step(self, actions: np.ndarray):
        """actions: int (N,). Returns obs uint8 (N, C, H, W), reward float32 (N,), terminated, truncated
        bool (N,), and an empty info dict."""
        obs, reward, terminated, truncated = self.game.vector_step(
            self._check_actions(actions), self._needs_reset, self.episode_steps, self.max_episode_steps or 0)
        if self.render_mode == "human":
            self.render()
        return obs, reward, terminated, truncated, {}

    def _check_actions(self, actions: Any) -> np.ndarray:
        """`actions` as int64 (N,); their range is the game's to check (`BatchedGame.vector_step`)."""
        actions = np.asarray(actions)
        if actions.shape != (self.num_envs,):
            raise ValueError(f"actions must have shape ({self.num_envs},), got shape {actions.shape}")
        if actions.dtype.kind not in "iu":
            raise ValueError(f"actions must be integers, got dtype {actions.dtype}")
        return actions.astype(np.int64, copy=False)

    def close_extras(self, **kwargs: Any) -> None:
        self._close_renderer()
