"""Value iteration as a learner: it takes no env steps, and its greedy policy (the exact optimum) is written
as JSON, the only model file that is plain data through and through."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from agents.env_models import model_info, optimal_solution
from experiments.learners.base import LearnCallback, Learner
from experiments.learners.overrides import check_keys
from nets.checkpoint import write_atomic

DEFAULTS = {"gamma": 0.99, "tol": 1e-8}


class PlannerLearner(Learner):
    """Value iteration on the env's exact model (shared with the run's exact scoring: solved once)."""

    @classmethod
    def check_overrides(cls, name: str, overrides: dict, env_id: str | None = None) -> dict:
        check_keys(overrides, DEFAULTS, name)
        typed = {}
        for key, value in overrides.items():
            try:
                typed[key] = float(value)
            except (TypeError, ValueError):
                raise ValueError(f"{name}: {key}={value!r}: expected a number") from None
        if not 0.0 <= typed.get("gamma", 0.99) <= 1.0:
            raise ValueError(f"{name}: gamma must be in [0, 1], got {typed['gamma']}")
        if not typed.get("tol", 1e-8) > 0:
            raise ValueError(f"{name}: tol must be > 0, got {typed['tol']}")
        return typed

    def start(self) -> None:
        """Solve the model now: the policy is final before the first evaluation."""
        self._config = {**DEFAULTS, **self.overrides}
        if not model_info(self.env_id, self.env_kwargs).has_model:
            raise ValueError(f"ValueIteration needs an env with an exact model; {self.env_id} has none")
        self.policy = optimal_solution(self.env_id, self.env_kwargs, self.gamma, self._config["tol"]).policy

    def resume(self, checkpoint: Path) -> None:
        self.start()

    @property
    def num_timesteps(self) -> int:
        return 0

    def remaining(self, steps: int) -> int:
        return 0

    @property
    def gamma(self) -> float:
        return float(self._config["gamma"])

    def config(self) -> dict:
        return dict(self._config)

    def learn(self, steps: int, callback: LearnCallback) -> None:
        """Nothing to learn: value iteration takes no env steps."""

    def predict(self, obs: np.ndarray) -> np.ndarray:
        return self.policy[np.asarray(obs, dtype=np.int64)]

    def save(self, path: Path) -> None:
        text = json.dumps({"policy": self.policy.tolist()}) + "\n"
        write_atomic(path, lambda handle: handle.write(text.encode("utf-8")))

    def save_checkpoint(self, path: Path) -> None:
        """No resume point: solving again is as fast as reading one."""

    @classmethod
    def load_predictor(cls, model: Path, run_config: dict, device: str = "cpu"):
        policy = read_policy(model)
        info = model_info(run_config["env_id"], run_config.get("env_kwargs") or {})
        if not info.has_model or policy.size != info.model.num_states or policy.max() >= info.model.num_actions:
            raise ValueError(f"{model} does not fit {run_config['env_id']}: expected one action in "
                             f"0..{info.model.num_actions - 1} for each of its {info.model.num_states} states"
                             if info.has_model else f"{model}: {run_config['env_id']} has no exact model")
        return lambda obs: policy[np.asarray(obs, dtype=np.int64)]


def read_policy(path: Path) -> np.ndarray:
    """The (S,) int64 policy of a policy.json; anything else there is a ValueError naming the file."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        policy = np.asarray(data["policy"])
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ValueError(f"{path} is not a value-iteration policy file ({type(err).__name__}: {err})") from None
    if policy.ndim != 1 or policy.size == 0 or policy.dtype.kind not in "iu" or policy.min() < 0:
        raise ValueError(f"{path} is not a value-iteration policy file (expected a list of action indices)")
    return policy.astype(np.int64)
