"""Our deep agents (PPO, DQN, A2C, REINFORCE) as learners: the config dataclass's defaults, then our preset
for the env (experiments/learners/presets.py), then the run's overrides. The resume point is exact
(bit-identical weights on the CPU)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from agents.a2c import A2C
from agents.deep import DeepAgent
from agents.dqn import DQN
from agents.ppo import PPO
from agents.reinforce import REINFORCE
from experiments.learners.base import LearnCallback, Learner, load_saved_agent
from experiments.learners.overrides import typed_overrides
from experiments.learners.presets import preset, preset_source

AGENTS: dict[str, type[DeepAgent]] = {"PPO": PPO, "DQN": DQN, "A2C": A2C, "REINFORCE": REINFORCE}


class DeepLearner(Learner):
    """Our PPO, DQN, A2C and REINFORCE; several seeds train as one population (agents/population.py)."""

    supports_populations = True

    @classmethod
    def check_overrides(cls, name: str, overrides: dict, env_id: str | None = None) -> dict:
        if "seed" in overrides:
            raise ValueError(f"{name}: the seed is the run's own (--seed), not an override")
        config_class = AGENTS[name].config_class
        typed = typed_overrides(config_class, overrides, name)
        # The dataclass's own checks (ranges, sizes) on what the run will use, before anything is written.
        config_class(**{**(preset(name, env_id) if env_id else {}), **typed})  # (the default env kwargs)
        return typed

    def preset_values(self) -> dict:
        return preset(self.algo, self.env_id, self.env_kwargs)

    def preset_source(self) -> str:
        return preset_source(self.algo, self.env_id, self.env_kwargs)

    def start(self) -> None:
        self.agent: DeepAgent = AGENTS[self.algo](self.env_id, env_kwargs=self.env_kwargs, device=self.device,
                                                  seeds=self.seeds, **{**self.preset_values(), **self.overrides})
        self._resumed = False

    def resume(self, checkpoint: Path) -> None:
        # No env given: the agent rebuilds its copies from its saved id and state, and continues every episode.
        self.agent = AGENTS[self.algo].load(checkpoint, env=None, device=self.device)
        if self.agent.seeds != self.seeds:
            raise ValueError(f"{checkpoint} holds seeds {list(self.agent.seeds)}, not this run's {list(self.seeds)}")
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
        return self.member_config(0)

    def member_config(self, k: int) -> dict:
        return {**self.agent.config_dict(), "seed": self.seeds[k]}

    def learn(self, steps: int, callback: LearnCallback) -> None:
        self.agent.learn(steps, callback=lambda agent, info: callback(info))

    def predict(self, obs: np.ndarray) -> np.ndarray:
        if len(self.seeds) > 1:
            raise ValueError("a population acts through predict_members")
        return self.agent.predict(obs)[0]

    def predict_members(self, obs: np.ndarray) -> np.ndarray:
        return self.agent.predict(obs)[0] if len(self.seeds) > 1 else super().predict_members(obs)

    def member_infos(self, info: dict) -> list[dict]:
        shared = {k: v for k, v in info.items() if k in ("num_timesteps", "seconds", "steps_per_second")}
        return [{**shared, **member} for member in info.get("members", [info])]

    def save_member(self, k: int, path: Path) -> None:
        (self.agent if len(self.seeds) == 1 else self.agent.member(k)).save(path)

    def save(self, path: Path) -> None:
        self.agent.save(path)

    def save_checkpoint(self, path: Path) -> None:
        self.agent.save(path, resume=True)

    def device_name(self) -> str:
        return str(self.agent.device)

    @classmethod
    def load_predictor(cls, model: Path, run_config: dict, device: str = "cpu"):
        agent = load_saved_agent(model, run_config["algo"], device)
        return lambda obs: agent.predict(obs)[0]

    @classmethod
    def load_agent(cls, model: Path, run_config: dict, num_timesteps: int, device: str = "cpu"):
        return load_saved_agent(model, run_config["algo"], device)
