"""stable-baselines3 as a learner (``sb3:PPO``, ``sb3:DQN``, ``sb3:A2C``) with rl-zoo's hyperparameters
(experiments/sb3_zoo.py); its SB3 subclasses, the board features extractor and the callback bridge, are in
experiments/sb3_classes.py.

stable_baselines3 is imported only when a model is built (its import takes seconds; `mdparcade --help` must
not pay for it).
"""

from __future__ import annotations

import copy
import functools
import inspect
import json
import pickle
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from experiments.algorithms import literal
from experiments.learners import LearnCallback, Learner
from experiments.sb3_zoo import (  # noqa: F401  (re-exported: the table is part of this module's interface)
    ALGOS,
    ZOO,
    LinearSchedule,
    _check_algo,
    default_settings,
    describe,
    is_board,
    linear,
    zoo_settings,
)
from nets.checkpoint import write_atomic

#: Settings that are not SB3 constructor arguments: copies stepped together, the policy name, VecNormalize.
ENV_KEYS = ("n_envs", "policy", "normalize")
#: Constructor arguments a run fixes itself (`--seed`, `--device`), not settings.
RUN_KEYS = ("self", "env", "seed", "device", "_init_setup_model")
SCHEDULE_KEYS = ("learning_rate", "clip_range", "clip_range_vf")


# Building a model -----------------------------------------------------------------------------------------
def algo_class(algo: str):
    import stable_baselines3

    return getattr(stable_baselines3, _check_algo(algo))


def sb3_defaults(algo: str) -> dict:
    """The SB3 constructor's arguments a setting may give, with their defaults."""
    arguments = inspect.signature(algo_class(algo).__init__).parameters
    return {k: p.default for k, p in arguments.items() if k not in RUN_KEYS and k != "policy"}


def make_env(env_id: str, settings: dict, seed: int, env_kwargs: dict | None = None, vecnormalize: Path | None = None):
    """SB3's vector env of `n_envs` Monitor-wrapped copies seeded `seed`, in VecNormalize (training) when
    `normalize` is on: fresh statistics, or those pickled at `vecnormalize`."""
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import VecNormalize

    import envs  # noqa: F401  (registers the mdparcade ids)

    vec_env = make_vec_env(env_id, n_envs=int(settings["n_envs"]), seed=seed, env_kwargs=dict(env_kwargs or {}))
    normalize = settings.get("normalize", False)
    if not normalize:
        return vec_env
    if vecnormalize is not None:
        vec_env = VecNormalize.load(str(vecnormalize), vec_env)
        vec_env.training = True
        return vec_env
    # rl-zoo: `normalize: true` is VecNormalize's defaults (observations and rewards) with the algorithm's gamma.
    kwargs = dict(normalize) if isinstance(normalize, dict) else {}
    if "gamma" in settings:
        kwargs.setdefault("gamma", settings["gamma"])
    return VecNormalize(vec_env, training=True, **kwargs)


def make_model(algo: str, env_id: str, settings: dict, seed: int, device: str = "auto",
               env_kwargs: dict | None = None):
    """(SB3 model, its VecNormalize or None) built from resolved `settings` (see `zoo_settings`)."""
    from stable_baselines3.common.vec_env import VecNormalize

    vec_env = make_env(env_id, settings, seed, env_kwargs)
    # A copy: SB3 adds to policy_kwargs in place (A2C its optimizer), which would leak into our settings.
    kwargs = {"verbose": 0, **copy.deepcopy({k: v for k, v in settings.items() if k not in ENV_KEYS})}
    model = algo_class(algo)(settings["policy"], vec_env, seed=seed, device=device, **kwargs)
    return model, (vec_env if isinstance(vec_env, VecNormalize) else None)


def greedy(model, vecnormalize=None) -> Callable[[np.ndarray], np.ndarray]:
    """A batch policy: deterministic actions, observations scaled by VecNormalize's statistics (not updated)."""
    def predict(obs: np.ndarray) -> np.ndarray:
        obs = np.asarray(obs)
        if vecnormalize is not None:
            obs = vecnormalize.normalize_obs(obs)
        return np.asarray(model.predict(obs, deterministic=True)[0])
    return predict


def _save_model(model, path: Path) -> None:
    write_atomic(path, model.save)  # SB3 writes into an open file as well as a path


def _save_pickle(obj, path: Path) -> None:
    write_atomic(path, lambda handle: pickle.dump(obj, handle, protocol=pickle.HIGHEST_PROTOCOL))


# The learner ----------------------------------------------------------------------------------------------
class SB3Learner(Learner):
    """stable-baselines3's PPO, DQN and A2C with `zoo_settings`, overridden key by key.

    The resume point is approximate, as SB3's own: the weights, optimizer, step count, schedules and (DQN) the
    replay buffer carry over; an unfinished rollout and the env copies' state do not (they restart from the
    run's seed). The model file records its algorithm and the episode count (`model.mdparcade`).
    """

    family = "sb3"
    model_file = "model.zip"
    #: Every file a resume point may have; `has_checkpoint` asks for those this run writes.
    checkpoint_files = ("checkpoint.zip", "checkpoint_replay.pkl", "checkpoint_vecnormalize.pkl")

    @classmethod
    def names(cls) -> list[str]:
        return [f"sb3:{algo}" for algo in ALGOS]

    @staticmethod
    def base(name: str) -> str:
        return name.partition(":")[2] or name

    @classmethod
    def check_overrides(cls, name: str, overrides: dict) -> dict:
        algo = cls.base(name)
        known = sorted({*sb3_defaults(algo), *ENV_KEYS})
        unknown = sorted(set(overrides) - set(known))
        if unknown:
            raise ValueError(f"unknown {name} key(s) {unknown}; the keys are: {', '.join(known)}")
        typed = {key: _typed(key, value) for key, value in overrides.items()}
        if "n_envs" in typed and not (isinstance(typed["n_envs"], int) and typed["n_envs"] >= 1):
            raise ValueError(f"n_envs must be an int >= 1, got {typed['n_envs']!r}")
        if "normalize" in typed and not isinstance(typed["normalize"], (bool, dict)):
            raise ValueError(f"normalize must be true, false or a dict of VecNormalize arguments, "
                             f"got {typed['normalize']!r}")
        if "policy_kwargs" in typed and not isinstance(typed["policy_kwargs"], dict):
            raise ValueError(f"policy_kwargs must be a dict, got {typed['policy_kwargs']!r}")
        return typed

    @functools.cached_property
    def settings(self) -> dict:
        """zoo_settings overridden: policy_kwargs merge key by key (so a board keeps its extractor)."""
        settings = zoo_settings(self.base(self.algo), self.env_id, self.env_kwargs)
        for key, value in self.overrides.items():
            if key == "policy_kwargs":
                value = {**(settings.get("policy_kwargs") or {}), **value}
            settings[key] = value
        return settings

    def _checkpoint_names(self) -> list[str]:
        names = ["checkpoint.zip"]
        if self.base(self.algo) == "DQN":
            names.append("checkpoint_replay.pkl")
        if self.settings.get("normalize"):
            names.append("checkpoint_vecnormalize.pkl")
        return names

    def has_checkpoint(self, out: Path) -> bool:
        return all((Path(out) / name).is_file() for name in self._checkpoint_names())

    # Lifecycle --------------------------------------------------------------------------------------------
    def start(self) -> None:
        self.model, self.vecnormalize = make_model(self.base(self.algo), self.env_id, self.settings, self.seed,
                                                   self.device, self.env_kwargs)
        self.model.mdparcade = {"algorithm": self.base(self.algo), "episodes": 0}

    def resume(self, out: Path) -> None:
        from stable_baselines3.common.vec_env import VecNormalize

        out = Path(out)
        stats = out / "checkpoint_vecnormalize.pkl"
        vec_env = make_env(self.env_id, self.settings, self.seed, self.env_kwargs,
                           vecnormalize=stats if self.settings.get("normalize") else None)
        cls = algo_class(self.base(self.algo))
        self.model = cls.load(out / "checkpoint.zip", env=vec_env, device=self.device)
        if self.base(self.algo) == "DQN":
            self.model.load_replay_buffer(out / "checkpoint_replay.pkl")
        self.vecnormalize = vec_env if isinstance(vec_env, VecNormalize) else None
        self.model.mdparcade = {"algorithm": self.base(self.algo), "episodes": 0,
                                **(getattr(self.model, "mdparcade", None) or {})}

    @property
    def num_timesteps(self) -> int:
        return int(self.model.num_timesteps)

    @property
    def gamma(self) -> float:
        return float(self.model.gamma)

    def config(self) -> dict:
        """SB3's defaults for every constructor argument, overridden by the settings, as JSON values."""
        defaults = sb3_defaults(self.base(self.algo))
        return describe({**{k: self.settings[k] for k in ENV_KEYS}, **defaults, **self.settings})

    def learn(self, steps: int, callback: LearnCallback) -> None:
        from experiments.sb3_classes import LearnBridge

        bridge = LearnBridge(callback)
        self.model.learn(int(steps), callback=bridge, reset_num_timesteps=False, progress_bar=False)

    def predict(self, obs: np.ndarray) -> np.ndarray:
        return greedy(self.model, self.vecnormalize)(obs)

    def save(self, out: Path) -> None:
        out = Path(out)
        _save_model(self.model, out / self.model_file)
        if self.vecnormalize is not None:
            _save_pickle(self.vecnormalize, out / "vecnormalize.pkl")

    def save_checkpoint(self, out: Path) -> None:
        out = Path(out)
        _save_model(self.model, out / "checkpoint.zip")
        if self.base(self.algo) == "DQN":
            write_atomic(out / "checkpoint_replay.pkl", self.model.save_replay_buffer)
        if self.vecnormalize is not None:
            _save_pickle(self.vecnormalize, out / "checkpoint_vecnormalize.pkl")

    def device_name(self) -> str:
        return str(self.model.device)

    def close(self) -> None:
        model = getattr(self, "model", None)
        if model is not None and model.get_env() is not None:
            model.get_env().close()

    @classmethod
    def load_predictor(cls, out: Path, device: str = "cpu"):
        out = Path(out)
        path = out / cls.model_file
        model = algo_class(_saved_algorithm(path, out)).load(path, device=device)
        stats = out / "vecnormalize.pkl"
        vecnormalize = None
        if stats.is_file():
            with open(stats, "rb") as handle:
                vecnormalize = pickle.load(handle)
        return greedy(model, vecnormalize)


def _saved_algorithm(path: Path, out: Path) -> str:
    """The algorithm of a model.zip: recorded in it by SB3Learner, else the run folder's config.json."""
    if not path.is_file():
        raise FileNotFoundError(f"no stable-baselines3 model at {path}")
    with zipfile.ZipFile(path) as archive:
        data = json.loads(archive.read("data"))
    recorded = (data.get("mdparcade") or {}).get("algorithm")
    if recorded is None and (out / "config.json").is_file():  # a model.zip SB3 saved by itself, in a run folder
        recorded = SB3Learner.base(json.loads((out / "config.json").read_text()).get("algo", ""))
    if recorded not in ALGOS:
        raise ValueError(f"{path} does not say which algorithm saved it; expected one of {', '.join(ALGOS)}")
    return recorded


def _typed(key: str, value):
    """A command-line string as the value it spells: 'lin_0.001' for a schedule, a literal, a dict(...)."""
    if not isinstance(value, str):
        return value
    if key in SCHEDULE_KEYS and value.startswith("lin_"):
        try:
            return linear(float(value[4:]))
        except ValueError:
            raise ValueError(f"{key}={value}: expected lin_<number>, e.g. lin_0.001") from None
    typed = literal(value)
    if isinstance(typed, str) and typed.startswith("dict("):
        typed = _dict_call(key, typed)
    return typed


def _dict_call(key: str, text: str) -> dict:
    """'dict(net_arch=[64, 64])' (rl-zoo's policy_kwargs spelling) with literal values only."""
    import ast

    try:
        call = ast.parse(text, mode="eval").body
        if not (isinstance(call, ast.Call) and getattr(call.func, "id", None) == "dict" and not call.args):
            raise ValueError
        return {kw.arg: ast.literal_eval(kw.value) for kw in call.keywords}
    except (ValueError, SyntaxError):
        raise ValueError(f"{key}={text}: expected dict(name=<literal>, ...) or a dict literal") from None


# The SB3 subclasses live in experiments/sb3_classes.py, which imports stable_baselines3 --------------------
def __getattr__(name: str):
    """`experiments.sb3.MinAtarExtractor` without importing SB3 with this module (models saved before the
    classes moved pickle it under this name)."""
    if name == "MinAtarExtractor":
        from experiments.sb3_classes import MinAtarExtractor

        return MinAtarExtractor
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
