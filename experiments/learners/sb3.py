"""stable-baselines3 as a learner (``sb3:PPO``, ``sb3:DQN``, ``sb3:A2C``) with rl-zoo's presets
(experiments/learners/sb3_presets.py); its SB3 subclasses are in experiments/learners/sb3_classes.py.

Nothing a run folder holds is unpickled: a model is rebuilt from the run's config and only its parameters are
read (SB3's `set_parameters`, which reads model.zip's tensors with `weights_only=True` and skips its pickled
`data`); VecNormalize statistics travel as JSON inside model.zip; the resume point is one torch file of
tensors and plain values. stable_baselines3 is imported only when a model is built.
"""

from __future__ import annotations

import copy
import functools
import inspect
import io
import json
import pickle
import zipfile
from collections import deque
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from experiments.learners.base import LearnCallback, Learner
from experiments.learners.overrides import check_keys, literal
from experiments.learners.registry import base_algorithm
from experiments.learners.sb3_presets import ALGOS, check_algorithm, describe, linear, preset_entry, sb3_preset
from nets.checkpoint import CheckpointError, load_checkpoint, load_failure, save_atomic, write_atomic

#: Config keys that are not SB3 constructor arguments: copies stepped together, the policy name, VecNormalize.
ENV_KEYS = ("n_envs", "policy", "normalize")
#: Constructor arguments a run fixes itself (`--seed`, `--device`), not config.
RUN_KEYS = ("self", "env", "seed", "device", "_init_setup_model")
SCHEDULE_KEYS = ("learning_rate", "clip_range", "clip_range_vf")
#: The member of model.zip that holds VecNormalize's statistics (SB3 ignores members it does not know).
VECNORMALIZE_MEMBER = "mdparcade_vecnormalize.json"
CHECKPOINT_FORMAT = "mdparcade-sb3-checkpoint"


# Building a model -----------------------------------------------------------------------------------------
def algo_class(algo: str):
    import stable_baselines3

    return getattr(stable_baselines3, check_algorithm(algo))


def sb3_defaults(algo: str) -> dict:
    """The SB3 constructor's arguments a config may set, with their defaults."""
    arguments = inspect.signature(algo_class(algo).__init__).parameters
    return {k: p.default for k, p in arguments.items() if k not in RUN_KEYS and k != "policy"}


def with_classes(config: dict) -> dict:
    """A deep copy of `config` with the features extractor's name replaced by the class."""
    config = copy.deepcopy(config)
    kwargs = config.get("policy_kwargs")
    if kwargs and kwargs.get("features_extractor_class") == "MinAtarExtractor":
        from experiments.learners.sb3_classes import MinAtarExtractor

        kwargs["features_extractor_class"] = MinAtarExtractor
    return config


def make_env(env_id: str, config: dict, seed: int, env_kwargs: dict | None = None):
    """SB3's vector env of `n_envs` Monitor-wrapped copies seeded `seed`, in VecNormalize (training, fresh
    statistics) when `normalize` is on."""
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import VecNormalize

    import envs  # noqa: F401  (registers the mdparcade ids)

    vec_env = make_vec_env(env_id, n_envs=int(config["n_envs"]), seed=seed, env_kwargs=dict(env_kwargs or {}))
    normalize = config.get("normalize", False)
    if not normalize:
        return vec_env
    # rl-zoo: `normalize: true` is VecNormalize's defaults (observations and rewards) with the algorithm's gamma.
    kwargs = dict(normalize) if isinstance(normalize, dict) else {}
    if "gamma" in config:
        kwargs.setdefault("gamma", config["gamma"])
    return VecNormalize(vec_env, training=True, **kwargs)


def make_model(algo: str, env_id: str, config: dict, seed: int, device: str = "auto",
               env_kwargs: dict | None = None):
    """(SB3 model, its VecNormalize or None) built from a resolved `config` (see `SB3Learner.resolved`)."""
    from stable_baselines3.common.vec_env import VecNormalize

    config = with_classes(config)
    vec_env = make_env(env_id, config, seed, env_kwargs)
    # A copy: SB3 adds to policy_kwargs in place (A2C its optimizer), which would leak into our config.
    kwargs = {"verbose": 0, **copy.deepcopy({k: v for k, v in config.items() if k not in ENV_KEYS})}
    model = algo_class(algo)(config["policy"], vec_env, seed=seed, device=device, **kwargs)
    return model, (vec_env if isinstance(vec_env, VecNormalize) else None)


def greedy(model, vecnormalize=None) -> Callable[[np.ndarray], np.ndarray]:
    """A batch policy: deterministic actions, observations scaled by VecNormalize's statistics (not updated)."""
    def predict(obs: np.ndarray) -> np.ndarray:
        obs = np.asarray(obs)
        if vecnormalize is not None:
            obs = vecnormalize.normalize_obs(obs)
        return np.asarray(model.predict(obs, deterministic=True)[0])
    return predict


# VecNormalize statistics as plain values ------------------------------------------------------------------
def vecnormalize_state(vecnormalize) -> dict:
    def stats(rms):
        return {"mean": np.asarray(rms.mean, dtype=np.float64).tolist(),
                "var": np.asarray(rms.var, dtype=np.float64).tolist(), "count": float(rms.count)}
    return {"obs_rms": stats(vecnormalize.obs_rms), "ret_rms": stats(vecnormalize.ret_rms),
            "returns": np.asarray(vecnormalize.returns, dtype=np.float64).tolist()}


def load_vecnormalize_state(vecnormalize, state: dict, where: str) -> None:
    try:
        for name in ("obs_rms", "ret_rms"):
            rms, saved = getattr(vecnormalize, name), state[name]
            mean, var = np.asarray(saved["mean"], dtype=np.float64), np.asarray(saved["var"], dtype=np.float64)
            if mean.shape != np.shape(rms.mean) or var.shape != np.shape(rms.var):
                raise ValueError(f"{name} has shape {mean.shape}, expected {np.shape(rms.mean)}")
            rms.mean, rms.var, rms.count = mean, var, float(saved["count"])
        returns = np.asarray(state.get("returns", vecnormalize.returns), dtype=np.float64)
        if returns.shape == np.shape(vecnormalize.returns):
            vecnormalize.returns = returns
    except (KeyError, TypeError, ValueError) as err:
        raise ValueError(f"{where}: unreadable VecNormalize statistics ({err})") from None


# The learner ----------------------------------------------------------------------------------------------
class SB3Learner(Learner):
    """stable-baselines3's PPO, DQN and A2C with `sb3_preset`, overridden key by key.

    The resume point is approximate, as SB3's own: the weights, optimizer, step and update counts, schedules,
    (DQN) the replay buffer and (with `normalize`) VecNormalize's statistics carry over; an unfinished rollout
    and the env copies' state do not (they restart from the run's seed).
    """

    @classmethod
    def check_overrides(cls, name: str, overrides: dict, env_id: str | None = None) -> dict:
        algo = base_algorithm(name)
        check_keys(overrides, {*sb3_defaults(algo), *ENV_KEYS}, name)
        typed = {key: _typed(key, value) for key, value in overrides.items()}
        defaults = sb3_defaults(algo)
        for key, value in typed.items():
            _check_type(name, key, value, defaults.get(key))
        if "n_envs" in typed and not (isinstance(typed["n_envs"], int) and typed["n_envs"] >= 1):
            raise ValueError(f"{name}: n_envs must be an int >= 1, got {typed['n_envs']!r}")
        if "normalize" in typed and not isinstance(typed["normalize"], (bool, dict)):
            raise ValueError(f"{name}: normalize must be true, false or a dict of VecNormalize arguments, "
                             f"got {typed['normalize']!r}")
        if "policy_kwargs" in typed and not isinstance(typed["policy_kwargs"], dict):
            raise ValueError(f"{name}: policy_kwargs must be a dict, got {typed['policy_kwargs']!r}")
        return typed

    @functools.cached_property
    def resolved(self) -> dict:
        """The preset overridden key by key; policy_kwargs merge key by key (so a board keeps its extractor)."""
        config = sb3_preset(base_algorithm(self.algo), self.env_id, self.env_kwargs)
        for key, value in self.overrides.items():
            if key == "policy_kwargs":
                value = {**(config.get("policy_kwargs") or {}), **value}
            config[key] = value
        return config

    def preset_values(self) -> dict:
        return sb3_preset(base_algorithm(self.algo), self.env_id, self.env_kwargs)

    def preset_source(self) -> str:
        return preset_entry(base_algorithm(self.algo), self.env_id, self.env_kwargs)[0]

    # Lifecycle --------------------------------------------------------------------------------------------
    def start(self) -> None:
        self.model, self.vecnormalize = make_model(base_algorithm(self.algo), self.env_id, self.resolved,
                                                   self.seed, self.device, self.env_kwargs)
        self.episodes = 0

    def resume(self, checkpoint: Path) -> None:
        state = load_checkpoint(checkpoint, required=("format", "parameters", "num_timesteps"))
        if state["format"] != CHECKPOINT_FORMAT:
            raise CheckpointError(f"{checkpoint} is not a stable-baselines3 resume point of mdparcade")
        self.start()
        model = self.model
        try:
            model.set_parameters(state["parameters"], exact_match=True, device=self.device)
        except (ValueError, RuntimeError, KeyError) as err:
            raise CheckpointError(f"{checkpoint}: its parameters do not fit this run's model ({err})") from None
        model.num_timesteps = int(state["num_timesteps"])
        model._n_updates = int(state.get("n_updates", 0))
        model._episode_num = int(state.get("episode_num", 0))
        self.episodes = int(state.get("episodes", 0))
        if "n_calls" in state:
            model._n_calls = int(state["n_calls"])
        # SB3's learn keeps this deque when it is not None (reset_num_timesteps=False).
        model.ep_info_buffer = deque(({"r": float(ret), "l": int(length), "t": 0.0} for ret, length in zip(
            state.get("recent_returns", []), state.get("recent_lengths", []))), maxlen=model._stats_window_size)
        model.ep_success_buffer = deque(maxlen=model._stats_window_size)
        if "replay" in state:
            _load_replay(model.replay_buffer, state["replay"], checkpoint)
        if self.vecnormalize is not None and "vecnormalize" in state:
            load_vecnormalize_state(self.vecnormalize, state["vecnormalize"], str(checkpoint))

    @property
    def num_timesteps(self) -> int:
        return int(self.model.num_timesteps)

    @property
    def gamma(self) -> float:
        return float(self.model.gamma)

    def config(self) -> dict:
        """SB3's defaults for every constructor argument, overridden by the resolved config, as JSON values."""
        defaults = sb3_defaults(base_algorithm(self.algo))
        return describe({**{k: self.resolved[k] for k in ENV_KEYS}, **defaults, **self.resolved})

    def learn(self, steps: int, callback: LearnCallback) -> None:
        from experiments.learners.sb3_classes import LearnBridge

        bridge = LearnBridge(callback, episodes=self.episodes)
        try:
            self.model.learn(int(steps), callback=bridge, reset_num_timesteps=False, progress_bar=False)
        finally:
            self.episodes = bridge.episodes

    def predict(self, obs: np.ndarray) -> np.ndarray:
        return greedy(self.model, self.vecnormalize)(obs)

    def save(self, path: Path) -> None:
        buffer = io.BytesIO()
        self.model.save(buffer)
        if self.vecnormalize is not None:
            with zipfile.ZipFile(buffer, "a") as archive:
                archive.writestr(VECNORMALIZE_MEMBER, json.dumps(vecnormalize_state(self.vecnormalize)))
        write_atomic(path, lambda handle: handle.write(buffer.getvalue()))

    def save_checkpoint(self, path: Path) -> None:
        model = self.model
        state = {"format": CHECKPOINT_FORMAT, "algorithm": base_algorithm(self.algo),
                 "parameters": model.get_parameters(), "num_timesteps": int(model.num_timesteps),
                 "n_updates": int(model._n_updates), "episode_num": int(model._episode_num),
                 "episodes": int(self.episodes),
                 "recent_returns": [float(info["r"]) for info in model.ep_info_buffer or []],
                 "recent_lengths": [int(info["l"]) for info in model.ep_info_buffer or []]}
        if hasattr(model, "_n_calls"):
            state["n_calls"] = int(model._n_calls)
        if getattr(model, "replay_buffer", None) is not None:
            state["replay"] = _replay_state(model.replay_buffer)
        if self.vecnormalize is not None:
            state["vecnormalize"] = vecnormalize_state(self.vecnormalize)
        save_atomic(state, path)

    def device_name(self) -> str:
        return str(self.model.device)

    def close(self) -> None:
        model = getattr(self, "model", None)
        if model is not None and model.get_env() is not None:
            model.get_env().close()

    @classmethod
    def load_predictor(cls, model: Path, run_config: dict, device: str = "cpu"):
        """The greedy policy of a finished run: the model rebuilt from the run's config.json (algorithm, env,
        overrides), then only its parameters read from model.zip."""
        model_path = Path(model)
        learner = cls(run_config["algo"], run_config["env_id"], int(run_config.get("seed", 0)),
                      cls.check_overrides(run_config["algo"], run_config.get("overrides") or {}),
                      run_config.get("env_kwargs") or {}, device)
        learner.start()
        try:
            learner.model.set_parameters(str(model_path), exact_match=True, device=device)
            vecnormalize_json = _zip_member(model_path, VECNORMALIZE_MEMBER)
        except (zipfile.BadZipFile, KeyError, ValueError, RuntimeError, OSError, EOFError,
                pickle.UnpicklingError) as err:
            learner.close()
            raise ValueError(f"{model_path} is not a stable-baselines3 model of this run: it "
                             f"{load_failure(err)}") from None
        if learner.vecnormalize is not None:
            if vecnormalize_json is None:
                raise ValueError(f"{model_path} lacks the VecNormalize statistics this run's config needs")
            try:
                state = json.loads(vecnormalize_json)
            except ValueError as err:
                raise ValueError(f"{model_path}: unreadable VecNormalize statistics ({err})") from None
            load_vecnormalize_state(learner.vecnormalize, state, str(model_path))
            learner.vecnormalize.training = False
        predict = greedy(learner.model, learner.vecnormalize)
        learner.close()
        return predict


def _zip_member(path: Path, name: str) -> str | None:
    with zipfile.ZipFile(path) as archive:
        return archive.read(name).decode("utf-8") if name in archive.namelist() else None


REPLAY_ARRAYS = ("observations", "next_observations", "actions", "rewards", "dones", "timeouts")


def _replay_state(buffer) -> dict:
    state = {"pos": int(buffer.pos), "full": bool(buffer.full)}
    rows = buffer.buffer_size if buffer.full else buffer.pos
    for name in REPLAY_ARRAYS:
        array = getattr(buffer, name, None)
        if array is not None:
            state[name] = torch.from_numpy(np.ascontiguousarray(array[:rows]))
    return state


def _load_replay(buffer, state: dict, where: Path) -> None:
    try:
        rows = buffer.buffer_size if state["full"] else int(state["pos"])
        for name in REPLAY_ARRAYS:
            array = getattr(buffer, name, None)
            if array is None or name not in state:
                continue
            saved = state[name].numpy()
            if saved.shape != (rows, *array.shape[1:]):
                raise ValueError(f"{name} has shape {saved.shape}, expected {(rows, *array.shape[1:])}")
            array[:rows] = saved
        buffer.pos, buffer.full = int(state["pos"]), bool(state["full"])
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise CheckpointError(f"{where}: its replay buffer does not fit this run ({err})") from None


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


def _check_type(name: str, key: str, value, default) -> None:
    """A value of the wrong kind for SB3's argument (its default says which) is refused now, not after the
    run has started: a word where SB3 takes a number, a schedule or a bool, a fraction where it counts."""
    if key in SCHEDULE_KEYS and isinstance(value, str):
        raise ValueError(f"{name}: {key}={value!r}: expected a number or lin_<number>, e.g. lin_0.001")
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, (int, float)) and key not in SCHEDULE_KEYS:
        ok = not isinstance(value, (str, bool, dict)) and not (
            isinstance(default, int) and isinstance(value, float) and not value.is_integer())
    else:
        ok = True
    if not ok:
        raise ValueError(f"{name}: {key}={value!r}: expected a {type(default).__name__} like the default "
                         f"{default!r}")


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


__all__ = ["ALGOS", "SB3Learner", "greedy", "make_model", "sb3_defaults"]
