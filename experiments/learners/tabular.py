"""The tabular learners (Q-learning, SARSA, Expected SARSA: agents/tabular.py) as learners, on one env with
Discrete observations and actions."""

from __future__ import annotations

import math
from pathlib import Path

import gymnasium as gym
import numpy as np

import agents.tabular as tabular
from agents.schedules import as_schedule, schedule_to_dict
from experiments.learners.base import LearnCallback, Learner, load_saved_agent
from experiments.learners.overrides import check_keys, typed_overrides


class TabularLearner(Learner):
    """Q-learning, SARSA and Expected SARSA."""

    @classmethod
    def check_overrides(cls, name: str, overrides: dict, env_id: str | None = None) -> dict:
        check_keys(overrides, [k for k in tabular.TabularConfig.__dataclass_fields__ if k != "seed"], name)
        typed = typed_overrides(tabular.TabularConfig, overrides, name)
        config = tabular.TabularConfig(**typed)
        for key in ("learning_rate", "epsilon"):
            as_schedule(getattr(config, key), key, 0.0, 1.0)
        if not 0.0 <= config.gamma <= 1.0:
            raise ValueError(f"{name}: gamma must be in [0, 1], got {config.gamma}")
        return typed

    def _agent_class(self) -> type[tabular.TabularAgent]:
        return getattr(tabular, self.algo)

    def _env(self) -> gym.Env:
        return gym.make(self.env_id, **self.env_kwargs)

    def start(self) -> None:
        self.agent = self._agent_class()(self._env(), seed=self.seed, **self.overrides)

    def resume(self, checkpoint: Path) -> None:
        self.agent = self._agent_class().load(checkpoint, env=self._env())

    @property
    def num_timesteps(self) -> int:
        return self.agent.num_timesteps

    @property
    def gamma(self) -> float:
        return self.agent.config.gamma

    def config(self) -> dict:
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

    def save(self, path: Path) -> None:
        self.agent.save(path)

    def save_checkpoint(self, path: Path) -> None:
        self.agent.save(path)

    @classmethod
    def load_predictor(cls, model: Path, run_config: dict, device: str = "cpu"):
        agent = load_saved_agent(model, run_config["algo"])
        return lambda obs: np.asarray(agent.predict(np.asarray(obs))[0])

    @classmethod
    def load_agent(cls, model: Path, run_config: dict, num_timesteps: int, device: str = "cpu"):
        return load_saved_agent(model, run_config["algo"])
