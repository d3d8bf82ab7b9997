"""What a run trains: one interface over our deep agents, stable-baselines3, the tabular learners and value
iteration, so `mdparcade train`, `compare`, `watch` and `report` treat every side alike.

A learner is built from an algorithm name and a run's fields, learns in steps with a callback, acts greedily
on a batch of observations, and writes two things at the paths its run folder gives it: its final model and,
while it runs, a resume point. It names no file of the run folder itself (experiments/runs/folder.py does).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: naming an algorithm must not import numpy (the command line's start-up)
    import numpy as np

#: callback(info) after every rollout or episode; info holds num_timesteps, recent_return (nan before the
#: first finished episode), episodes, and any numeric training figures. Returning False stops learning.
LearnCallback = Callable[[dict], "bool | None"]


class Learner(ABC):
    """One side of a comparison; `experiments.learners.registry` says which class trains which name.

    A learner trains one seed, or (families with `supports_populations`: our deep agents) several seeds as one
    batched model: `seeds` lists them, and every per-run figure, policy and model file is per member.
    """

    #: Whether `seeds` may hold more than one seed.
    supports_populations = False

    def __init__(self, algo: str, env_id: str, seed: int, overrides: dict, env_kwargs: dict, device: str,
                 seeds: tuple[int, ...] | None = None):
        self.algo, self.env_id, self.seed = algo, env_id, seed
        self.seeds = tuple(int(s) for s in seeds) if seeds is not None else (int(seed),)
        if len(self.seeds) > 1 and not self.supports_populations:
            raise ValueError(f"{algo} trains one seed at a time; populations are for our deep agents")
        self.overrides, self.env_kwargs, self.device = dict(overrides), dict(env_kwargs), device

    @classmethod
    def check_overrides(cls, name: str, overrides: dict, env_id: str | None = None) -> dict:
        """`overrides` typed and checked for `name`: an unknown key or a bad value is a ValueError naming it."""
        return dict(overrides)

    # Lifecycle --------------------------------------------------------------------------------------------
    @abstractmethod
    def start(self) -> None:
        """Build a fresh learner (nets, env copies) from the fields given to __init__."""

    @abstractmethod
    def resume(self, checkpoint: Path) -> None:
        """Rebuild from the resume point written by `save_checkpoint(checkpoint)`."""

    @property
    @abstractmethod
    def num_timesteps(self) -> int:
        """Env steps taken so far (carried across a resume)."""

    def remaining(self, steps: int) -> int:
        """Env steps still to take for a run of `steps` in all."""
        return max(steps - self.num_timesteps, 0)

    @property
    @abstractmethod
    def gamma(self) -> float:
        """The discount the learner optimizes (the exact gap is measured with it)."""

    @abstractmethod
    def config(self) -> dict:
        """The resolved config (defaults, preset and overrides), as JSON values (config.json's `config`)."""

    def preset_values(self) -> dict:
        """The values this run takes from a preset for its env (none by default)."""
        return {}

    def preset_source(self) -> str:
        """Which preset this run takes, and why (config.json's `preset`)."""
        return "none"

    def config_sources(self) -> dict[str, str]:
        """Where each config value comes from: "--set" (an override), "preset" or "default"."""
        preset = self.preset_values()
        return {key: "--set" if key in self.overrides else "preset" if key in preset else "default"
                for key in self.config()}

    @abstractmethod
    def learn(self, steps: int, callback: LearnCallback) -> None:
        """Take `steps` more env steps (whole rollouts or episodes), calling `callback` after each."""

    @abstractmethod
    def predict(self, obs: np.ndarray) -> np.ndarray:
        """Greedy (deterministic) actions for a batch of observations (one member's)."""

    def predict_members(self, obs: np.ndarray) -> np.ndarray:
        """Greedy actions of every member: obs (K, B, ...) -> (K, B), member k acting on obs[k]."""
        return self.predict(obs[0])[None]

    def member_infos(self, info: dict) -> list[dict]:
        """A learn callback's info split into one dict of figures per member."""
        return [info]

    def save_member(self, k: int, path: Path) -> None:
        """Write member k's final model to `path` (an ordinary model file of one seed)."""
        self.save(path)

    def member_config(self, k: int) -> dict:
        """Member k's resolved config, as its single run's config.json holds it."""
        return self.config()

    @abstractmethod
    def save(self, path: Path) -> None:
        """Write the final model to `path`, atomically."""

    @abstractmethod
    def save_checkpoint(self, path: Path) -> None:
        """Write a resume point to `path`, atomically (tensors and plain values: it loads with weights_only)."""

    def device_name(self) -> str:
        return "cpu"

    def close(self) -> None:
        """Release env copies and workers (the env of `self.agent`, where a learner wraps an agent)."""
        env = getattr(getattr(self, "agent", None), "env", None)
        if env is not None:
            env.close()

    @classmethod
    @abstractmethod
    def load_predictor(cls, model: Path, run_config: dict, device: str = "cpu") -> Callable[[np.ndarray], np.ndarray]:
        """A greedy batch policy from a finished run's model file and its config.json (as a dict)."""

    @classmethod
    def load_agent(cls, model: Path, run_config: dict, num_timesteps: int, device: str = "cpu"):
        """What `watch` plays: an object with the agent protocol's `predict(obs, deterministic=True)` and
        `num_timesteps` (our agents return themselves, with their state values for overlays)."""
        return LoadedPolicy(cls.load_predictor(model, run_config, device), num_timesteps)


class LoadedPolicy:
    """A run's greedy batch policy with the agent methods `watch` uses, for model files that are not our
    agents (stable-baselines3's model.zip, value iteration's policy.json)."""

    def __init__(self, predictor: Callable[[np.ndarray], np.ndarray], num_timesteps: int):
        self.predictor, self.num_timesteps = predictor, num_timesteps

    def predict(self, obs, deterministic: bool = True):
        import numpy as np

        return self.predictor(np.asarray(obs)[None])[0], None


def load_saved_agent(model: Path, expected: str, device: str = "cpu"):
    """`Agent.load(model)`, insisting that the file holds the class the run's config names (`expected`)."""
    from agents.base import Agent

    agent = Agent.load(model, device=device)
    if type(agent).__name__ != expected:
        raise ValueError(f"{model} holds a {type(agent).__name__}, but the run's config.json says {expected}")
    return agent

