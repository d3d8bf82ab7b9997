"""What a run trains: one interface over our deep agents, stable-baselines3, the tabular learners and value
iteration, so `mdparcade train`, `compare`, `watch` and `report` treat every side alike.

A learner is built from an algorithm name and a `RunSpec`-like set of fields, learns in steps with a callback,
acts greedily on a batch of observations, and saves two things: its final model (`model_file` in the run
folder) and, while it runs, a resume point (`checkpoint_files`). Names:

- ``PPO``, ``DQN``, ``A2C``, ``REINFORCE``: our deep agents (`agents/`), tuned by `experiments.algorithms`.
- ``sb3:PPO``, ``sb3:DQN``, ``sb3:A2C``: stable-baselines3 with rl-zoo's hyperparameters (`experiments.sb3`).
- ``QLearning``, ``SARSA``, ``ExpectedSARSA``: the tabular learners, on envs with Discrete spaces.
- ``ValueIteration``: the exact planner on an env's model; it takes no env steps.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

import gymnasium as gym
import numpy as np

from agents.base import Agent
from agents.deep import DeepAgent
from agents.vector_env import registered_id
from experiments.algorithms import ALGORITHMS, algorithm, preset

#: callback(info) after every rollout or episode; info holds num_timesteps, recent_return (nan before the
#: first finished episode), episodes, and any numeric training figures. Returning False stops learning.
LearnCallback = Callable[[dict], "bool | None"]


class Learner(ABC):
    """One side of a comparison. Subclasses register themselves under `family` (the part before ':')."""

    family: ClassVar[str]
    model_file: ClassVar[str] = "model.pt"
    checkpoint_files: ClassVar[tuple[str, ...]] = ("checkpoint.pt",)
    families: ClassVar[dict[str, type[Learner]]] = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "family" in cls.__dict__:
            Learner.families[cls.family] = cls

    def __init__(self, algo: str, env_id: str, seed: int, overrides: dict, env_kwargs: dict, device: str):
        self.algo, self.env_id, self.seed = algo, env_id, seed
        self.overrides, self.env_kwargs, self.device = dict(overrides), dict(env_kwargs), device

    # Names ------------------------------------------------------------------------------------------------
    @classmethod
    @abstractmethod
    def names(cls) -> list[str]:
        """The algorithm names this family trains, as written in specs and folders."""

    @classmethod
    def check_overrides(cls, name: str, overrides: dict) -> dict:
        """`overrides` checked (and typed) for `name`; an unknown key is a ValueError naming it."""
        return dict(overrides)

    # Lifecycle --------------------------------------------------------------------------------------------
    @abstractmethod
    def start(self) -> None:
        """Build a fresh learner (nets, env copies) from the fields given to __init__."""

    @abstractmethod
    def resume(self, out: Path) -> None:
        """Rebuild from the resume point written by `save_checkpoint(out)`."""

    def has_checkpoint(self, out: Path) -> bool:
        return all((out / name).is_file() for name in self.checkpoint_files)

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
        """The resolved hyperparameters, as JSON values (config.json's `config`)."""

    @abstractmethod
    def learn(self, steps: int, callback: LearnCallback) -> None:
        """Take `steps` more env steps (whole rollouts or episodes), calling `callback` after each."""

    @abstractmethod
    def predict(self, obs: np.ndarray) -> np.ndarray:
        """Greedy (deterministic) actions for a batch of observations."""

    @abstractmethod
    def save(self, out: Path) -> None:
        """Write the final model to out / model_file, atomically."""

    @abstractmethod
    def save_checkpoint(self, out: Path) -> None:
        """Write a resume point (the files in `checkpoint_files`), each atomically."""

    def device_name(self) -> str:
        return "cpu"

    def close(self) -> None:  # noqa: B027  (optional hook: most learners hold nothing to release)
        """Release env copies and workers."""

    @classmethod
    @abstractmethod
    def load_predictor(cls, out: Path, device: str = "cpu") -> Callable[[np.ndarray], np.ndarray]:
        """A greedy batch policy from a finished run folder's model file."""


def split_name(name: str) -> tuple[str, str]:
    """'sb3:ppo' -> ('sb3', 'PPO'); 'ppo' -> ('mdparcade', 'PPO'); unknown names list the valid ones."""
    family, sep, rest = name.partition(":")
    if sep:
        family = family.lower()
        if family not in Learner.families:
            raise ValueError(f"unknown algorithm family {family!r} in {name!r}; choose one of "
                             f"{', '.join(sorted(Learner.families))}")
        candidates = {family: Learner.families[family]}
    else:
        rest, candidates = name, Learner.families
    for fam, cls in candidates.items():
        for known in cls.names():
            if known.partition(":")[2 if ":" in known else 0].lower() == rest.lower():
                return fam, known
    raise ValueError(f"unknown algorithm {name!r}; choose one of {', '.join(all_names())}")


def all_names() -> list[str]:
    return [name for cls in Learner.families.values() for name in cls.names()]


def canonical_name(name: str) -> str:
    return split_name(name)[1]


def learner_class(name: str) -> type[Learner]:
    return Learner.families[split_name(name)[0]]


def make_learner(algo: str, env_id: str, seed: int = 0, overrides: dict | None = None,
                 env_kwargs: dict | None = None, device: str = "auto") -> Learner:
    family, name = split_name(algo)
    cls = Learner.families[family]
    return cls(name, registered_id(env_id), seed, cls.check_overrides(name, overrides or {}), env_kwargs or {},
               device)


def finite(value) -> float:
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else math.nan


# Our deep agents ------------------------------------------------------------------------------------------
class DeepLearner(Learner):
    """Our PPO, DQN, A2C and REINFORCE; the resume point is exact (bit-identical weights on the CPU)."""

    family = "mdparcade"

    @classmethod
    def names(cls) -> list[str]:
        return list(ALGORITHMS)

    @classmethod
    def check_overrides(cls, name: str, overrides: dict) -> dict:
        from experiments.algorithms import config_overrides

        typed = {k: v for k, v in overrides.items() if not isinstance(v, str)}
        texts = {k: v for k, v in overrides.items() if isinstance(v, str)}
        known = set(algorithm(name).config_class.__dataclass_fields__)
        unknown = sorted(set(typed) - known)
        if unknown:
            raise ValueError(f"unknown {name} key(s) {unknown}; the keys are: {', '.join(sorted(known))}")
        if "hidden_sizes" in typed:
            typed["hidden_sizes"] = tuple(typed["hidden_sizes"])
        return {**typed, **config_overrides(algorithm(name), texts)}

    def start(self) -> None:
        settings = {**preset(self.algo, self.env_id), **self.overrides, "seed": self.seed}
        self.agent: DeepAgent = algorithm(self.algo)(self.env_id, env_kwargs=self.env_kwargs, device=self.device,
                                                     **settings)
        self._resumed = False

    def resume(self, out: Path) -> None:
        self.agent = algorithm(self.algo).load(out / "checkpoint.pt", env=None, device=self.device)
        self.agent.set_env(self.env_id, self.env_kwargs)
        self._resumed = True

    @property
    def num_timesteps(self) -> int:
        return self.agent.num_timesteps

    def remaining(self, steps: int) -> int:
        # Exact resume: finish the learn call the checkpoint was written in (its annealing spans that call).
        return self.agent.remaining_timesteps() if self._resumed else super().remaining(steps)

    @property
    def gamma(self) -> float:
        return self.agent.config.gamma

    def config(self) -> dict:
        return self.agent.config_dict()

    def learn(self, steps: int, callback: LearnCallback) -> None:
        self.agent.learn(steps, callback=lambda agent, info: callback(info))

    def predict(self, obs: np.ndarray) -> np.ndarray:
        return self.agent.predict(obs)[0]

    def save(self, out: Path) -> None:
        self.agent.save(out / self.model_file)

    def save_checkpoint(self, out: Path) -> None:
        self.agent.save(out / "checkpoint.pt", resume=True)

    def device_name(self) -> str:
        return str(self.agent.device)

    def close(self) -> None:
        if getattr(self.agent, "env", None) is not None:
            self.agent.env.close()

    @classmethod
    def load_predictor(cls, out: Path, device: str = "cpu"):
        agent = Agent.load(out / cls.model_file, device=device)
        return lambda obs: agent.predict(obs)[0]


# Tabular learners -----------------------------------------------------------------------------------------
class TabularLearner(Learner):
    """Q-learning, SARSA and Expected SARSA on one env (Discrete observations and actions)."""

    family = "tabular"

    @classmethod
    def names(cls) -> list[str]:
        return ["QLearning", "SARSA", "ExpectedSARSA"]

    @classmethod
    def check_overrides(cls, name: str, overrides: dict) -> dict:
        from agents.tabular import TabularConfig

        known = set(TabularConfig.__dataclass_fields__) - {"seed"}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise ValueError(f"unknown {name} key(s) {unknown}; the keys are: {', '.join(sorted(known))}")
        return dict(overrides)

    def _agent_class(self):
        import agents.tabular as tabular

        return getattr(tabular, self.algo)

    def _env(self):
        return gym.make(self.env_id, **self.env_kwargs)

    def start(self) -> None:
        self.agent = self._agent_class()(self._env(), seed=self.seed, **self.overrides)

    def resume(self, out: Path) -> None:
        self.agent = self._agent_class().load(out / "checkpoint.pt", env=self._env())

    @property
    def num_timesteps(self) -> int:
        return self.agent.num_timesteps

    @property
    def gamma(self) -> float:
        return self.agent.config.gamma

    def config(self) -> dict:
        from agents.schedules import schedule_to_dict

        config = {k: getattr(self.agent.config, k) for k in self.agent.config.__dataclass_fields__}
        for key in ("learning_rate", "epsilon"):
            config[key] = schedule_to_dict(config[key])
        return config

    def learn(self, steps: int, callback: LearnCallback) -> None:
        def on_episode(agent, info):
            recent = agent.episode_returns[-100:]
            return callback({"num_timesteps": agent.num_timesteps, "episodes": len(agent.episode_returns),
                             "recent_return": float(np.mean(recent)) if recent else math.nan})

        self.agent.learn(steps, callback=on_episode)

    def predict(self, obs: np.ndarray) -> np.ndarray:
        return np.asarray(self.agent.predict(np.asarray(obs))[0])

    def save(self, out: Path) -> None:
        self.agent.save(out / self.model_file)

    def save_checkpoint(self, out: Path) -> None:
        self.agent.save(out / "checkpoint.pt")

    def close(self) -> None:
        self.agent.env.close()

    @classmethod
    def load_predictor(cls, out: Path, device: str = "cpu"):
        agent = Agent.load(out / cls.model_file)
        return lambda obs: np.asarray(agent.predict(np.asarray(obs))[0])


# Value iteration ------------------------------------------------------------------------------------------
class PlannerLearner(Learner):
    """Value iteration on the env's exact model: no env steps; its greedy policy is the optimum to beat."""

    family = "planner"

    @classmethod
    def names(cls) -> list[str]:
        return ["ValueIteration"]

    @classmethod
    def check_overrides(cls, name: str, overrides: dict) -> dict:
        unknown = sorted(set(overrides) - {"gamma", "tol"})
        if unknown:
            raise ValueError(f"unknown {name} key(s) {unknown}; the keys are: gamma, tol")
        return dict(overrides)

    def start(self) -> None:
        """Solve the model now: the policy is final before the first evaluation."""
        from agents.planning import value_iteration
        from experiments.env_models import exact_model

        self._settings = {"gamma": 0.99, "tol": 1e-8, **self.overrides}
        env = gym.make(self.env_id, **self.env_kwargs)
        try:
            self.policy = value_iteration(exact_model(env), self.gamma, tol=self._settings["tol"]).policy
        finally:
            env.close()

    def resume(self, out: Path) -> None:
        self.start()

    def has_checkpoint(self, out: Path) -> bool:
        return False

    @property
    def num_timesteps(self) -> int:
        return 0

    def remaining(self, steps: int) -> int:
        return 0

    @property
    def gamma(self) -> float:
        return float(self._settings["gamma"])

    def config(self) -> dict:
        return dict(self._settings)

    def learn(self, steps: int, callback: LearnCallback) -> None:
        """Nothing to learn: value iteration takes no env steps."""

    def predict(self, obs: np.ndarray) -> np.ndarray:
        return self.policy[np.asarray(obs, dtype=np.int64)]

    def save(self, out: Path) -> None:
        from experiments.runs import write_json

        write_json(out / self.model_file, {"policy": self.policy.tolist()})

    def save_checkpoint(self, out: Path) -> None:
        pass

    @classmethod
    def load_predictor(cls, out: Path, device: str = "cpu"):
        import json

        policy = np.asarray(json.loads((out / cls.model_file).read_text())["policy"])
        return lambda obs: policy[np.asarray(obs, dtype=np.int64)]

    model_file = "policy.json"
    checkpoint_files = ()

import experiments.sb3  # noqa: E402,F401  (registers the sb3 family)
