"""A run's spec: what defines one training run, resolved and checked when it is made (the env id and the
algorithm's canonical names, the overrides typed, the env kwargs tried), so nothing bad reaches a run folder."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from envs import resolve_env_id
from experiments.learners.registry import canonical_name, learner_class

#: More env steps than any run here takes (a guard against typos such as 1e21, not a limit of the code).
MAX_STEPS = 10**12


@dataclass(frozen=True)
class RunSpec:
    """Everything that defines a run; config.json holds it beside the resolved config.

    algo: an algorithm name in any case (PPO, sb3:dqn, QLearning); env_id: an env id (mdparcade ids may drop
    their prefix); steps: env steps to train; overrides: config values to set (strings are typed); env_kwargs:
    keyword arguments for gym.make; eval_every / eval_episodes: evaluation cadence and size.
    """

    algo: str
    env_id: str
    steps: int
    seed: int = 0
    device: str = "auto"
    overrides: dict = field(default_factory=dict)
    env_kwargs: dict = field(default_factory=dict)
    eval_every: int = 10_000
    eval_episodes: int = 10

    def __post_init__(self):
        algo, env_id = canonical_name(self.algo), resolve_env_id(self.env_id)
        _check_int("steps", self.steps, 0, MAX_STEPS)
        _check_int("seed", self.seed, 0, 2**63 - 1)
        _check_int("eval_every", self.eval_every, 1, MAX_STEPS)
        _check_int("eval_episodes", self.eval_episodes, 1, 100_000)
        if not isinstance(self.device, str) or not self.device:
            raise ValueError(f"device must be a name such as auto, cpu, cuda, got {self.device!r}")
        if not isinstance(self.overrides, dict) or not isinstance(self.env_kwargs, dict):
            raise ValueError("overrides and env_kwargs must be dicts of key -> value")
        overrides = learner_class(algo).check_overrides(algo, dict(self.overrides), env_id)
        check_env_kwargs(env_id, self.env_kwargs)
        object.__setattr__(self, "algo", algo)
        object.__setattr__(self, "env_id", env_id)
        object.__setattr__(self, "overrides", overrides)
        object.__setattr__(self, "env_kwargs", dict(self.env_kwargs))

    def as_dict(self) -> dict:
        """The spec as JSON values (as config.json holds it)."""
        return json.loads(json.dumps(dataclasses.asdict(self), default=_described))

    @classmethod
    def from_config(cls, config: dict, where: str = "config") -> RunSpec:
        """The spec of a config.json (its other keys ignored); a missing or bad field names the file."""
        names = [f.name for f in dataclasses.fields(cls)]
        missing = [name for name in ("algo", "env_id", "steps") if name not in config]
        if missing:
            raise ValueError(f"{where} lacks {', '.join(map(repr, missing))}")
        try:
            return cls(**{name: config[name] for name in names if name in config})
        except TypeError as err:
            raise ValueError(f"{where}: {err}") from None

    def default_folder(self, population: bool = False) -> Path:
        """runs/<algo>-<env>-s<seed>, e.g. runs/sb3-ppo-CartPole-v1-s0; a population's runs/<algo>-<env>."""
        name = f"{self.algo.lower().replace(':', '-')}-{self.env_id.split('/')[-1]}"
        return Path("runs") / (name if population else f"{name}-s{self.seed}")


def _described(value):
    """JSON for override values that are not JSON themselves (SB3 schedules, tuples)."""
    if isinstance(value, tuple):
        return list(value)
    if callable(value):
        return getattr(value, "__name__", repr(value))
    raise TypeError(f"not JSON serializable: {value!r}")


def _check_int(name: str, value, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name} must be an integer in [{low}, {high:g}], got {value!r}")


def check_env_kwargs(env_id: str, env_kwargs: dict) -> None:
    """Build the env once with `env_kwargs`: a keyword it does not take, or a value it refuses, is a
    ValueError naming the env and the keyword(s) now, before a run starts."""
    import gymnasium as gym

    try:
        env = gym.make(env_id, **env_kwargs)
    except TypeError as err:
        keys = ", ".join(sorted(env_kwargs)) or "(none)"
        raise ValueError(f"{env_id} does not take the env kwargs {keys}: {err}") from None
    except (ValueError, OSError) as err:
        raise ValueError(f"{env_id} with env kwargs {env_kwargs}: {err}") from None
    env.close()


def folder_tag(values: dict) -> str:
    """A short, file-name-safe tag for a dict of settings: 'map=FourRooms', or a digest when it is long."""
    if not values:
        return ""
    text = ",".join(f"{key}={_described_text(value)}" for key, value in sorted(values.items()))
    safe = re.sub(r"[^A-Za-z0-9_.=,+-]", "_", text)
    digest = hashlib.sha1(json.dumps(values, sort_keys=True, default=str).encode()).hexdigest()[:8]
    return safe if len(safe) <= 64 and safe == text else f"{safe[:55]}~{digest}"


def _described_text(value) -> str:
    if isinstance(value, (list, tuple)):
        return "+".join(map(str, value))
    return getattr(value, "__name__", str(value))
