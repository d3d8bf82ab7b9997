"""What every deep agent does the same way, for a population of K members trained as one batched model (the
single run is the population of one): config from a frozen dataclass, seeds, the env copies, `learn`'s loop
and callback, `predict`, `member(k)`, and checkpoints that hold everything an exact resume needs (weights,
optimizer moments, every member's generators, the env copies' state, normalization statistics).

An algorithm subclasses `DeepAgent` and writes `_build` (nets, optimizer), `_iteration` (collect, update),
`_act` and `_values`, and lists its stacks and optimizers in `_stacks` and `_optimizers`.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import time
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch
from gymnasium import spaces

from agents.base import Agent, Callback
from agents.encoding import ObservationEncoder, RunningNormalizer, describe_space, space_from_description
from agents.env_state import decode_array, encode_array, from_plain, to_plain
from agents.population import MemberGenerators, StackedOptimizer, resolve_seeds
from agents.vector_env import EpisodeTracker, PopulationEnv, make_population_env
from nets.checkpoint import CheckpointError
from nets.device import get_device
from nets.stacked import ParameterStack

#: Layout of a deep agent's checkpoint: 2 = member-stacked parameters with env state (this version).
CHECKPOINT_LAYOUT = 2


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


def check_positive(config, *names: str) -> None:
    for name in names:
        if getattr(config, name) <= 0:
            raise ValueError(f"{type(config).__name__}.{name} must be > 0, got {getattr(config, name)}")


def check_fraction(config, *names: str) -> None:
    for name in names:
        if not 0.0 <= getattr(config, name) <= 1.0:
            raise ValueError(f"{type(config).__name__}.{name} must be in [0, 1], got {getattr(config, name)}")


class DeepAgent(Agent):
    """Base of DQN, PPO, A2C and REINFORCE.

    env: an env id (mdparcade ids may drop the prefix), a `gymnasium.Env` or (one member) a `VectorEnv`.
    config: the algorithm's config dataclass; keyword arguments override its fields.
    seeds: K ints make a population of K members, member k the single run with seed seeds[k]; without it, the
    config's `seed` makes a population of one. env_kwargs: passed to Gymnasium when `env` is an id.
    device: "auto" (cuda, mps, cpu) or a torch device.
    """

    config_class: ClassVar[type]
    #: Whether observation normalization is available (config field `normalize_obs`).
    supports_obs_normalization: ClassVar[bool] = False

    def __init__(self, env, config=None, *, seeds=None, env_kwargs: dict | None = None, device: str = "auto",
                 **overrides):
        config = make_config(self.config_class, config, overrides)
        config, seeds = resolve_seeds(config, seeds)
        vec_env, env_id = make_population_env(env, config.num_envs, len(seeds), env_kwargs)
        self._setup(config, seeds, vec_env.single_observation_space, vec_env.single_action_space, device, env_id,
                    env_kwargs)
        self._attach(vec_env)

    def _setup(self, config, seeds, observation_space: spaces.Space, action_space: spaces.Space, device, env_id,
               env_kwargs) -> None:
        self.config = config
        self._seeds = tuple(int(s) for s in seeds)
        self.device = get_device(device)
        self.observation_space, self.action_space = observation_space, action_space
        self.encoder = ObservationEncoder(observation_space)
        self.env_id, self.env_kwargs = env_id, dict(env_kwargs or {})
        use_normalizer = getattr(config, "normalize_obs", False)
        if use_normalizer and self.encoder.kind != "vector":
            raise ValueError(f"normalize_obs applies to flat Box observations, not {observation_space!r}")
        self.normalizer = RunningNormalizer(self.encoder.storage_shape, self.num_members) if use_normalizer else None
        self._build()
        self.generators = MemberGenerators(self._seeds, self.device)
        self.num_timesteps = 0
        self._learn_end = 0
        self.env: PopulationEnv | None = None
        self._obs: np.ndarray | None = None
        self._pending_env_state: dict | None = None
        self.last_logs: dict = {}

    @property
    def seeds(self) -> tuple[int, ...]:
        """The members' seeds; member k is the single run with seed seeds[k]."""
        return self._seeds

    @property
    def num_members(self) -> int:
        """K, the number of members (1 for a single run)."""
        return len(self._seeds)

    def _attach(self, vec_env: PopulationEnv) -> None:
        if vec_env.single_observation_space != self.observation_space:
            raise ValueError(f"env observation space {vec_env.single_observation_space} differs from the "
                             f"agent's {self.observation_space}")
        if vec_env.single_action_space != self.action_space:
            raise ValueError(f"env action space {vec_env.single_action_space} differs from the agent's "
                             f"{self.action_space}")
        self.env = vec_env
        self.num_envs = vec_env.num_envs
        self.tracker = EpisodeTracker(self.num_members, self.num_envs)
        self._obs = None
        self._pending_env_state = None
        self._on_env_attached()

    def set_env(self, env, env_kwargs: dict | None = None) -> None:
        """Attach an env (id, Env or VectorEnv) with the agent's spaces; its copies reset at the next `learn`."""
        vec_env, env_id = make_population_env(env, self.config.num_envs, self.num_members, env_kwargs)
        self._attach(vec_env)
        if env_id is not None:
            self.env_id, self.env_kwargs = env_id, dict(env_kwargs or {})

    # Hooks for the algorithms ------------------------------------------------------------------------------
    def _build(self) -> None:
        """Create the nets (one per member, seeded from its seed) and the optimizers."""
        raise NotImplementedError

    def _on_env_attached(self) -> None:
        """Allocate storage that depends on the number of env copies."""

    def _iteration(self) -> dict:
        """Collect experience and update; advance `num_timesteps`; return figures: name -> (K,) array or float."""
        raise NotImplementedError

    def _act(self, x: torch.Tensor, deterministic: bool) -> torch.Tensor:
        """Actions for net inputs (K, B, input): (K, B) ints, or (K, B, D) for Box actions."""
        raise NotImplementedError

    def _values(self, x: torch.Tensor) -> torch.Tensor:
        """(K, B) state values for net inputs (K, B, input) (critic, or max over Q)."""
        raise NotImplementedError

    def _stacks(self) -> dict[str, ParameterStack]:
        raise NotImplementedError

    def _optimizers(self) -> dict[str, StackedOptimizer]:
        raise NotImplementedError

    def _extra_state(self, members: list[int], resume: bool) -> dict:
        return {}

    def _load_extra_state(self, state: dict) -> None:
        pass

    # Learning ---------------------------------------------------------------------------------------------
    def learn(self, total_timesteps: int, callback: Callback | None = None) -> DeepAgent:
        """Train every member for at least `total_timesteps` more env steps (whole iterations); return self.

        Step counts carry on across calls; schedules run from the agent's first step to the end of this call
        (stable-baselines3's `learn(..., reset_num_timesteps=False)`). The env copies are reset once, at the
        first call after an env was attached, and continue across calls and checkpoints. `callback(agent,
        info)` runs after every iteration; returning False stops. info holds num_timesteps (per member),
        seconds, steps_per_second, "members" (one dict of figures per member) and, at the top level, those
        figures themselves for one member or their mean over the members.
        """
        if int(total_timesteps) < 0:
            raise ValueError(f"total_timesteps must be >= 0, got {total_timesteps}")
        if self.env is None:
            if self.env_id is None:
                raise ValueError("this agent has no env; pass env= to load() or call set_env(env) before learn()")
            self._materialize_env()
            if self.env is None:
                self.set_env(self.env_id, self.env_kwargs)
        self._learn_end = self.num_timesteps + int(total_timesteps)
        if self._obs is None:
            self._start_envs()
        started, start_steps = time.perf_counter(), self.num_timesteps
        while self.num_timesteps < self._learn_end:
            self.last_logs = self._iteration()
            if callback is not None:
                seconds = time.perf_counter() - started
                info = self._callback_info(self.last_logs, seconds, self.num_timesteps - start_steps)
                if callback(self, info) is False:
                    break
        return self

    def _start_envs(self) -> None:
        self._obs = self.encoder.to_storage(self.env.reset(self._seeds))
        if self.normalizer is not None:  # stable-baselines3's VecNormalize counts the first observations too
            self.normalizer.update(self._per_member(self._obs))

    def _callback_info(self, figures: dict, seconds: float, steps: int) -> dict:
        recent = self.tracker.mean_returns()
        members = []
        for k in range(self.num_members):
            member = {"recent_return": float(recent[k]), "episodes": int(self.tracker.episodes[k])}
            for name, value in figures.items():
                member[name] = float(value[k]) if isinstance(value, np.ndarray) else value
            members.append(member)
        info = {"num_timesteps": self.num_timesteps, "seconds": seconds,
                "steps_per_second": steps / max(seconds, 1e-9)}
        if self.num_members == 1:
            info.update(members[0])
        else:
            for name in members[0]:
                values = np.array([m[name] for m in members], dtype=np.float64)
                info[name] = float(np.nanmean(values)) if np.isfinite(values).any() else float("nan")
        info["members"] = members
        return info

    def progress_remaining(self) -> float:
        """1 - num_timesteps / end step of this learn call, as stable-baselines3's `_current_progress_remaining`
        (1 before learning; negative once the last rollout overshoots the budget)."""
        return 1.0 - self.num_timesteps / self._learn_end if self._learn_end else 1.0

    def _per_member(self, array: np.ndarray) -> np.ndarray:
        """(K * N, ...) copies -> (K, N, ...)."""
        return array.reshape(self.num_members, -1, *array.shape[1:])

    def _input(self, obs: np.ndarray) -> torch.Tensor:
        """Observations (K, B, *storage) -> float net input (K, B, input) on the device (normalized if on)."""
        if self.normalizer is not None:
            obs = self.normalizer.normalize(obs)
        members, batch = obs.shape[:2]
        x = self.encoder.encode(obs.reshape(members * batch, *obs.shape[2:]), self.device)
        return x.reshape(members, batch, -1)

    def _env_actions(self, actions: torch.Tensor) -> np.ndarray:
        """(K, B) or (K, B, D) actions -> (K * B,) or (K * B, D) numpy, Box actions clipped to the bounds."""
        if isinstance(self.action_space, spaces.Box):
            actions = actions.reshape(-1, actions.shape[-1]).cpu().numpy()
            return np.clip(actions, self.action_space.low, self.action_space.high)
        return actions.reshape(-1).cpu().numpy()

    # Acting -----------------------------------------------------------------------------------------------
    def _member_batch(self, obs) -> tuple[np.ndarray, bool]:
        """(K, B, *storage) observations and whether the caller gave a batch (K = 1: one obs or (B, ...))."""
        obs = self.encoder.to_storage(obs)
        if self.num_members == 1:
            batch = self.encoder.is_batch(obs)
            return (obs if batch else obs[None])[None], batch
        if obs.shape[0] != self.num_members or obs.shape[2:] != self.encoder.storage_shape:
            raise ValueError(f"a population of {self.num_members} takes observations of shape ({self.num_members}, "
                             f"B, *{self.encoder.storage_shape}), got {obs.shape}")
        return obs, True

    @torch.no_grad()
    def predict(self, obs, deterministic: bool = True) -> tuple[np.ndarray, None]:
        """Greedy (or sampled) actions. One member: one observation or a batch (B, *obs_shape), as SB3. K
        members: observations (K, B, *obs_shape) -> actions (K, B), member k acting on obs[k]."""
        obs, batch = self._member_batch(obs)
        actions = self._env_actions(self._act(self._input(obs), deterministic))
        actions = actions.reshape(obs.shape[0], obs.shape[1], *actions.shape[1:])
        if self.num_members == 1:
            return (actions[0] if batch else actions[0, 0]), None
        return actions, None

    @torch.no_grad()
    def state_values(self, obs) -> np.ndarray:
        """The agent's own value estimates: (N,) for one member's batch, (K, B) for a population's."""
        obs, _ = self._member_batch(obs)
        values = self._values(self._input(obs)).cpu().numpy().astype(np.float64)
        return values[0] if self.num_members == 1 else values

    # Members ----------------------------------------------------------------------------------------------
    def member(self, k: int) -> DeepAgent:
        """Member k as an independent agent of one: its weights, optimizer state, generators, config (seed
        seeds[k]) and env copies' state, so `member(k).save(path)` writes an ordinary model file and
        `member(k).learn(n)` continues exactly as member k would have."""
        if not 0 <= int(k) < self.num_members:
            raise ValueError(f"member must be in [0, {self.num_members}), got {k}")
        self._materialize_env()
        state = copy.deepcopy(self._state([int(k)], resume=True))
        return type(self)._from_checkpoint(state, env=None, device=str(self.device))

    # Saving -----------------------------------------------------------------------------------------------
    def save(self, path: str | os.PathLike, resume: bool = False) -> Path:
        """Write the agent (every member) to one file atomically. The env copies' state is always inside;
        `resume=True` adds what else an exact resume needs (DQN's replay buffers). Saving changes nothing in
        training: the copies are not restarted."""
        self._saving_for_resume = resume
        return super().save(path)

    def config_dict(self) -> dict:
        """The config as plain values (JSON and weights_only checkpoints take no tuples)."""
        config = dataclasses.asdict(self.config)
        config["hidden_sizes"] = list(config["hidden_sizes"])
        return config

    def _checkpoint(self) -> dict:
        return self._state(list(range(self.num_members)), resume=getattr(self, "_saving_for_resume", False))

    def _state(self, members: list[int], resume: bool) -> dict:
        config = self.config_dict()
        config["seed"] = self._seeds[members[0]] if len(members) == 1 else None
        return {
            "layout": CHECKPOINT_LAYOUT,
            "config": config,
            "seeds": [self._seeds[k] for k in members],
            "observation_space": describe_space(self.observation_space),
            "action_space": describe_space(self.action_space),
            "env_id": self.env_id,
            "env_kwargs": self.env_kwargs,
            "num_timesteps": self.num_timesteps,
            "learn_end": self._learn_end,
            "parameters": {name: stack.flat[members].detach().clone() for name, stack in self._stacks().items()},
            "optimizers": {name: opt.state_dict(members) for name, opt in self._optimizers().items()},
            "rng": self.generators.state_dict(members),
            "normalizer": None if self.normalizer is None else self.normalizer.state_dict(members),
            "env": self._env_state(members),
            "extra": self._extra_state(members, resume),
        }

    def _env_state(self, members: list[int]) -> dict | None:
        if self._pending_env_state is not None:  # loaded, env not built yet (member() builds it before splitting)
            return self._pending_env_state
        if self.env is None or self._obs is None:
            return None
        copies = self.env.copies_of(members)
        copies_state = self.env.state_dict(members)
        return {"copies": None if copies_state is None else to_plain(copies_state),
                "obs": encode_array(self._obs[copies]), "tracker": self.tracker.state_dict(members),
                **self._env_extra_state(members)}

    def _materialize_env(self) -> None:
        """Build the env of a loaded agent from its id and restore the saved copies into it."""
        if self.env is None and self._pending_env_state is not None and self.env_id is not None:
            pending = self._pending_env_state
            self.set_env(self.env_id, self.env_kwargs)
            self._restore_env(pending)

    def _env_extra_state(self, members: list[int]) -> dict:
        """Per-copy bookkeeping an algorithm keeps beside the env (returns in flight, episodes in progress)."""
        return {}

    def _load_env_extra_state(self, state: dict) -> None:
        pass

    def _restore_env(self, state: dict) -> None:
        if state["copies"] is None:  # the env's state was not saved: restart the copies at the next learn
            return
        self.env.load_state_dict(from_plain(state["copies"]))
        self._obs = decode_array(state["obs"])
        self.tracker.load_state_dict(state["tracker"])
        self._load_env_extra_state(state)

    @classmethod
    def _from_checkpoint(cls, checkpoint: dict, env=None, device: str = "auto") -> DeepAgent:
        if checkpoint.get("layout") != CHECKPOINT_LAYOUT:
            raise CheckpointError(f"this {cls.__name__} file was written by an older mdparcade (checkpoint layout "
                                  f"{checkpoint.get('layout', 1)}, this one reads {CHECKPOINT_LAYOUT}); retrain it")
        agent = cls.__new__(cls)
        saved = checkpoint["config"]
        config = cls.config_class(**{**saved, "hidden_sizes": tuple(saved["hidden_sizes"])})
        agent._setup(config, checkpoint["seeds"], space_from_description(checkpoint["observation_space"]),
                     space_from_description(checkpoint["action_space"]), device, checkpoint["env_id"],
                     checkpoint["env_kwargs"])
        for name, stack in agent._stacks().items():
            stack.load_flat(checkpoint["parameters"][name])
        for name, optimizer in agent._optimizers().items():
            optimizer.load_state_dict(checkpoint["optimizers"][name])
        agent.generators.load_state_dict(checkpoint["rng"])
        if agent.normalizer is not None:
            agent.normalizer.load_state_dict(checkpoint["normalizer"])
        agent.num_timesteps = int(checkpoint["num_timesteps"])
        agent._learn_end = int(checkpoint["learn_end"])
        agent._load_extra_state(checkpoint["extra"])
        if env is not None:
            agent.set_env(env)
        else:
            agent._pending_env_state = checkpoint["env"]
        return agent

    def remaining_timesteps(self) -> int:
        """Steps left of the learn call this agent was saved in (for resuming: `learn(remaining_timesteps())`)."""
        return max(self._learn_end - self.num_timesteps, 0)
