"""What every deep agent does the same way: config from a frozen dataclass, the vector env, seeding with the
agent's own generators, `learn`'s loop and callback, `predict` for one observation or a batch, and
checkpoints (state dicts, optimizer and RNG states, normalization statistics) that resume bit-for-bit on CPU.

An algorithm subclasses `DeepAgent` and writes `_build` (nets, optimizer), `_iteration` (collect, update),
`_act` and `_values`.
"""

from __future__ import annotations

import dataclasses
import os
import time
import typing
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from gymnasium import spaces

from agents.base import Agent, Callback
from agents.encoding import ObservationEncoder, RunningNormalizer, describe_space, space_from_description
from agents.schedules import Constant, LinearDecay
from agents.vector_env import EpisodeTracker, make_vector_env, restart_seed
from nets.device import get_device


def make_config(config_class: type, config=None, overrides: dict | None = None):
    """`config_class` (a frozen dataclass) from an optional base config and keyword overrides.

    Unknown keys are a ValueError listing the known ones; the dataclass's `__post_init__` checks values.
    """
    config = config if config is not None else config_class()
    if not isinstance(config, config_class):
        raise ValueError(f"config must be a {config_class.__name__}, got {type(config).__name__}")
    overrides = dict(overrides or {})
    known = [field.name for field in dataclasses.fields(config_class)]
    unknown = sorted(set(overrides) - set(known))
    if unknown:
        raise ValueError(f"unknown {config_class.__name__} key(s) {unknown}; the keys are: {', '.join(known)}")
    if "hidden_sizes" in overrides:
        overrides["hidden_sizes"] = tuple(int(v) for v in overrides["hidden_sizes"])
    return dataclasses.replace(config, **overrides)


def config_field_types(config_class: type) -> dict[str, Any]:
    """Field name -> resolved type annotation, for parsing `--set key=value` on the command line."""
    hints = typing.get_type_hints(config_class)
    return {field.name: hints[field.name] for field in dataclasses.fields(config_class)}


def check_positive(config, *names: str) -> None:
    for name in names:
        if getattr(config, name) <= 0:
            raise ValueError(f"{type(config).__name__}.{name} must be > 0, got {getattr(config, name)}")


def check_fraction(config, *names: str) -> None:
    for name in names:
        if not 0.0 <= getattr(config, name) <= 1.0:
            raise ValueError(f"{type(config).__name__}.{name} must be in [0, 1], got {getattr(config, name)}")


def fused_if_cpu(device: torch.device) -> dict:
    """Adam's fused kernel on CPU: one call per step instead of several per parameter tensor, which is what a
    small net's step costs; on CUDA torch picks its own fast path."""
    return {"fused": True} if device.type == "cpu" else {}


class DeepAgent(Agent):
    """Base of DQN, PPO, A2C and REINFORCE.

    env: an env id (mdparcade ids may drop the prefix), a `gymnasium.Env` or a `VectorEnv`.
    config: the algorithm's config dataclass; keyword arguments override its fields.
    env_kwargs: passed to `gym.make_vec` when `env` is an id. device: "auto" (cuda, mps, cpu) or a torch device.
    """

    config_class: ClassVar[type]
    #: Whether observation normalization is available (config field `normalize_obs`).
    supports_obs_normalization: ClassVar[bool] = False

    def __init__(self, env, config=None, *, env_kwargs: dict | None = None, device: str = "auto", **overrides):
        config = make_config(self.config_class, config, overrides)
        vec_env, env_id = make_vector_env(env, config.num_envs, env_kwargs)
        self._setup(config, vec_env.single_observation_space, vec_env.single_action_space, device, env_id,
                    env_kwargs)
        self._attach(vec_env)

    def _setup(self, config, observation_space: spaces.Space, action_space: spaces.Space, device, env_id,
               env_kwargs) -> None:
        self.config = config
        self.device = get_device(device)
        self.observation_space, self.action_space = observation_space, action_space
        self.encoder = ObservationEncoder(observation_space)
        self.env_id, self.env_kwargs = env_id, dict(env_kwargs or {})
        use_normalizer = getattr(config, "normalize_obs", False)
        if use_normalizer and self.encoder.kind != "vector":
            raise ValueError(f"normalize_obs applies to flat Box observations, not {observation_space!r}")
        self.normalizer = RunningNormalizer(self.encoder.storage_shape) if use_normalizer else None
        seed = config.seed if config.seed is not None else int(np.random.SeedSequence().generate_state(1)[0])
        with torch.random.fork_rng(devices=[]):  # initialize the nets from the seed, leave the global RNG alone
            torch.manual_seed(seed)
            self._build()
        self.generator = torch.Generator(device=self.device).manual_seed(seed)
        self.rng = np.random.default_rng(seed)
        self.num_timesteps = 0
        self._learn_end = 0
        self._restart_pending = True
        self.env = None
        self.last_logs: dict[str, float] = {}

    def _attach(self, vec_env) -> None:
        if vec_env.single_observation_space != self.observation_space:
            raise ValueError(f"env observation space {vec_env.single_observation_space} differs from the "
                             f"agent's {self.observation_space}")
        if vec_env.single_action_space != self.action_space:
            raise ValueError(f"env action space {vec_env.single_action_space} differs from the agent's "
                             f"{self.action_space}")
        self.env = vec_env
        self.num_envs = vec_env.num_envs
        self.tracker = EpisodeTracker(self.num_envs)
        saved = getattr(self, "_saved_episodes", None)
        if saved is not None:  # loaded from a checkpoint: the episode count and recent returns go on
            self.tracker.episodes = int(saved["episodes"])
            self.tracker.recent_returns.extend(float(r) for r in saved["recent_returns"])
            self._saved_episodes = None
        self._restart_pending = True
        self._on_env_attached()

    def set_env(self, env, env_kwargs: dict | None = None) -> None:
        """Attach an env (id, Env or VectorEnv) with the agent's spaces, for further learning."""
        vec_env, env_id = make_vector_env(env, self.config.num_envs, env_kwargs)
        self._attach(vec_env)
        if env_id is not None:
            self.env_id, self.env_kwargs = env_id, dict(env_kwargs or {})

    # Hooks for the algorithms ------------------------------------------------------------------------------
    def _build(self) -> None:
        """Create the nets and optimizers (the torch RNG is seeded here)."""
        raise NotImplementedError

    def _on_env_attached(self) -> None:
        """Allocate storage that depends on the number of env copies."""

    def _iteration(self) -> dict[str, float]:
        """Collect experience and update once; advance `num_timesteps`; return the figures to log."""
        raise NotImplementedError

    def _act(self, x: torch.Tensor, deterministic: bool) -> torch.Tensor:
        """Actions for a batch of net inputs."""
        raise NotImplementedError

    def _values(self, x: torch.Tensor) -> torch.Tensor:
        """The agent's own state values for a batch of net inputs (critic, or max over Q)."""
        raise NotImplementedError

    def _modules(self) -> dict[str, torch.nn.Module]:
        raise NotImplementedError

    def _optimizers(self) -> dict[str, torch.optim.Optimizer]:
        raise NotImplementedError

    def _extra_state(self, resume: bool) -> dict:
        return {}

    def _load_extra_state(self, state: dict) -> None:
        pass

    # Learning ---------------------------------------------------------------------------------------------
    def learn(self, total_timesteps: int, callback: Callback | None = None) -> DeepAgent:
        """Train for at least `total_timesteps` more env steps (whole rollouts); return self.

        Step counts carry on across calls; annealed quantities run from the agent's first step to the end of
        this call. The env copies restart at the start of each call, seeded from the config's seed and the
        step count. `callback(agent, info)` runs after every iteration; returning False stops.
        """
        if int(total_timesteps) < 0:
            raise ValueError(f"total_timesteps must be >= 0, got {total_timesteps}")
        if self.env is None:
            if self.env_id is None:
                raise ValueError("this agent has no env; pass env= to load() or call set_env(env) before learn()")
            self.set_env(self.env_id, self.env_kwargs)
        self._learn_end = self.num_timesteps + int(total_timesteps)
        self._restart_pending = True
        started, start_steps = time.perf_counter(), self.num_timesteps
        while self.num_timesteps < self._learn_end:
            if self._restart_pending:
                self._restart_envs()
            self.last_logs = self._iteration()
            if callback is not None:
                seconds = time.perf_counter() - started
                info = {"num_timesteps": self.num_timesteps, "seconds": seconds,
                        "steps_per_second": (self.num_timesteps - start_steps) / max(seconds, 1e-9),
                        "recent_return": self.tracker.mean_return(), "episodes": self.tracker.episodes,
                        **self.last_logs}
                if callback(self, info) is False:
                    break
        return self

    def _restart_envs(self) -> None:
        obs, _ = self.env.reset(seed=restart_seed(self.config.seed, self.num_timesteps))
        self._obs = self.encoder.to_storage(obs)
        self.tracker.restart()
        self._restart_pending = False

    def progress(self) -> float:
        """Fraction of this learn call's span done: num_timesteps / end step (0 before learning)."""
        return min(self.num_timesteps / self._learn_end, 1.0) if self._learn_end else 0.0

    def annealed(self, start: float, anneal: bool) -> float:
        """`start` now, or, when `anneal`, its value falling linearly to 0 over the learn call (rl-zoo's `lin_`),
        read at the current step count."""
        return (LinearDecay(start, 0.0, self._learn_end) if anneal else Constant(start))(self.num_timesteps)

    def set_learning_rate(self, learning_rate: float) -> None:
        for group in self.optimizer.param_groups:
            group["lr"] = learning_rate

    def gradient_step(self, loss: torch.Tensor) -> None:
        """Backpropagate `loss`, clip the gradient norm to the config's `max_grad_norm`, take an optimizer step."""
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.parameters, self.config.max_grad_norm)
        self.optimizer.step()

    def _input(self, obs: np.ndarray) -> torch.Tensor:
        """A batch of observations (storage dtype) -> float net input on the device (normalized if on)."""
        if self.normalizer is not None:
            obs = self.normalizer.normalize(obs)
        return self.encoder.encode(obs, self.device)

    def _env_actions(self, actions: torch.Tensor) -> np.ndarray:
        """Actions as the env takes them: Box actions clipped to the bounds (the buffer keeps them unclipped)."""
        actions = actions.cpu().numpy()
        if isinstance(self.action_space, spaces.Box):
            return np.clip(actions, self.action_space.low, self.action_space.high)
        return actions

    # Acting -----------------------------------------------------------------------------------------------
    @torch.no_grad()
    def predict(self, obs, deterministic: bool = True) -> tuple[np.ndarray, None]:
        """Action(s) for one observation or a batch (N, *obs_shape); the greedy/mean action if deterministic."""
        obs = self.encoder.to_storage(obs)
        batch = self.encoder.is_batch(obs)
        actions = self._env_actions(self._act(self._input(obs if batch else obs[None]), deterministic))
        return (actions if batch else actions[0]), None

    @torch.no_grad()
    def state_values(self, obs) -> np.ndarray:
        """(N,) the agent's own value estimates for a batch of observations (for overlays and diagnostics)."""
        obs = self.encoder.to_storage(obs)
        batch = obs if self.encoder.is_batch(obs) else obs[None]
        return self._values(self._input(batch)).cpu().numpy().astype(np.float64)

    # Saving -----------------------------------------------------------------------------------------------
    def save(self, path: str | os.PathLike, resume: bool = False) -> Path:
        """Write the agent to one file atomically. `resume=True` also stores what exact resumption needs
        (the replay buffer) and marks a resume point: the env copies restart here, as they will in a run
        resumed from this file, so both runs continue identically."""
        self._saving_for_resume = resume
        written = super().save(path)
        if resume:
            self._restart_pending = True
        return written

    def config_dict(self) -> dict:
        """The config as plain values (JSON and weights_only checkpoints take no tuples)."""
        config = dataclasses.asdict(self.config)
        config["hidden_sizes"] = list(config["hidden_sizes"])
        return config

    def _checkpoint(self) -> dict:
        return {
            "config": self.config_dict(),
            "observation_space": describe_space(self.observation_space),
            "action_space": describe_space(self.action_space),
            "env_id": self.env_id,
            "env_kwargs": self.env_kwargs,
            "num_timesteps": self.num_timesteps,
            "learn_end": self._learn_end,
            "modules": {name: module.state_dict() for name, module in self._modules().items()},
            "optimizers": {name: opt.state_dict() for name, opt in self._optimizers().items()},
            "rng": {"torch": self.generator.get_state(), "numpy": self.rng.bit_generator.state},
            "normalizer": None if self.normalizer is None else self.normalizer.state_dict(),
            "extra": self._extra_state(getattr(self, "_saving_for_resume", False)),
            "episodes": {"episodes": self.tracker.episodes, "recent_returns": list(self.tracker.recent_returns)}
            if self.env is not None else None,
        }

    @classmethod
    def _from_checkpoint(cls, checkpoint: dict, env=None, device: str = "auto") -> DeepAgent:
        agent = cls.__new__(cls)
        saved = checkpoint["config"]
        config = cls.config_class(**{**saved, "hidden_sizes": tuple(saved["hidden_sizes"])})
        agent._setup(config, space_from_description(checkpoint["observation_space"]),
                     space_from_description(checkpoint["action_space"]), device, checkpoint["env_id"],
                     checkpoint["env_kwargs"])
        for name, module in agent._modules().items():
            module.load_state_dict(checkpoint["modules"][name])
        for name, optimizer in agent._optimizers().items():
            optimizer.load_state_dict(checkpoint["optimizers"][name])
        try:
            agent.generator.set_state(checkpoint["rng"]["torch"])
        except RuntimeError:  # saved on another device type: sampling restarts from the seed (no exact resume)
            pass
        agent.rng.bit_generator.state = checkpoint["rng"]["numpy"]
        if agent.normalizer is not None:
            agent.normalizer.load_state_dict(checkpoint["normalizer"])
        agent.num_timesteps = int(checkpoint["num_timesteps"])
        agent._learn_end = int(checkpoint["learn_end"])
        agent._load_extra_state(checkpoint["extra"])
        agent._saved_episodes = checkpoint.get("episodes")
        if env is not None:
            agent.set_env(env)
        return agent

    def remaining_timesteps(self) -> int:
        """Steps left of the learn call this agent was saved in (for resuming: `learn(remaining_timesteps())`)."""
        return max(self._learn_end - self.num_timesteps, 0)
