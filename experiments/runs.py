"""One training run and its folder: config.json, metrics.csv (one row per evaluation), the model (model.pt;
model.zip for stable-baselines3; policy.json for value iteration), summary.json, and a resume point while it
runs (checkpoint.pt, or SB3's checkpoint files), so an interrupted run resumes where its last evaluation was.
Any learner of `experiments.learners` trains here, so every side of a comparison writes the same folder.

Every file is written atomically (temp file, then os.replace): a killed run never leaves half a file.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import platform
import shlex
import sys
import time
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import gymnasium as gym
import numpy as np

from agents.evaluation import EVAL_SEED, evaluate
from agents.exact_gap import ExactGap, greedy_policy
from agents.vector_env import registered_id
from experiments.bench.common import machine_line
from experiments.env_models import exact_model, goal_mask, has_exact_model, step_limit
from experiments.learners import Learner, canonical_name, make_learner
from nets.checkpoint import write_atomic

METRIC_COLUMNS = ("steps", "seconds", "steps_per_second", "eval_mean", "eval_std", "train_return", "episodes",
                  "value_ratio", "success_probability")
LIBRARIES = ("mdparcade", "gymnasium", "numpy", "torch", "stable-baselines3", "pygame")


@dataclass
class RunSpec:
    """Everything that defines a run; `config.json` holds it with the resolved algorithm config."""

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
        self.algo = canonical_name(self.algo)
        self.env_id = registered_id(self.env_id)
        if self.steps < 0:
            raise ValueError(f"steps must be >= 0, got {self.steps}")
        if self.eval_every < 1 or self.eval_episodes < 1:
            raise ValueError(f"eval_every and eval_episodes must be >= 1, got {self.eval_every}, "
                             f"{self.eval_episodes}")


def write_text_atomic(path: Path, text: str) -> None:
    write_atomic(path, lambda handle: handle.write(text.encode("utf-8")))


def write_json(path: Path, data: dict) -> None:
    write_text_atomic(path, json.dumps(data, indent=2, default=_plain) + "\n")


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"not JSON serializable: {value!r}")


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def write_metrics(path: Path, rows: list[dict]) -> None:
    columns = list(METRIC_COLUMNS) + sorted({key for row in rows for key in row} - set(METRIC_COLUMNS))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_text_atomic(path, buffer.getvalue())


def read_metrics(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    with open(path, newline="", encoding="utf-8") as handle:
        return [{k: _number(v) for k, v in row.items()} for row in csv.DictReader(handle)]


def _number(text: str):
    try:
        return float(text) if text != "" else ""
    except ValueError:
        return text


def exact_scorer(env_id: str, env_kwargs: dict, gamma: float):
    """(ExactGap, observations of every state) for an env with an exact model, else None."""
    env = gym.make(env_id, **env_kwargs)
    try:
        if not has_exact_model(env):
            return None
        observer = getattr(env.unwrapped, "observer", None)
        model = exact_model(env)
        states = np.arange(model.num_states)
        observations = observer.batch(states) if observer is not None else states
        return ExactGap(model, gamma, goal_mask(env), step_limit(env, env_kwargs)), observations
    finally:
        env.close()


class Run:
    """Trains `spec` into `out`, evaluating every `eval_every` steps; `run()` returns the summary dict.

    If `out` holds an unfinished run of the same spec, it resumes from checkpoint.pt; a finished one is
    left as it is (its summary is returned); a different run there is a ValueError.
    """

    def __init__(self, spec: RunSpec, out: str | os.PathLike, progress: bool | None = None,
                 command: str | None = None):
        self.spec, self.out = spec, Path(out)
        self.progress = progress
        self.command = command if command is not None else shlex.join(["mdparcade", *sys.argv[1:]])

    # Files --------------------------------------------------------------------------------------------------
    def _spec_dict(self) -> dict:
        s = self.spec
        return {"algo": s.algo, "env_id": s.env_id, "env_kwargs": s.env_kwargs, "seed": s.seed, "steps": s.steps,
                "device": s.device, "overrides": s.overrides, "eval_every": s.eval_every,
                "eval_episodes": s.eval_episodes}

    def _check_folder(self) -> dict | None:
        """The summary if this run is already finished; raise if the folder holds another run."""
        config_path = self.out / "config.json"
        if not config_path.is_file():
            return None
        saved = json.loads(config_path.read_text())
        mine = json.loads(json.dumps(self._spec_dict(), default=_plain))  # as config.json holds it
        different = {k: (saved.get(k), v) for k, v in mine.items() if k != "device" and saved.get(k) != v}
        if different:
            raise ValueError(f"{self.out} holds a different run ({different}); choose another --out")
        summary = self.out / "summary.json"
        return json.loads(summary.read_text()) if summary.is_file() else None

    # Training ---------------------------------------------------------------------------------------------
    def run(self) -> dict:
        finished = self._check_folder()
        if finished is not None:
            return finished
        spec = self.spec
        learner = make_learner(spec.algo, spec.env_id, spec.seed, spec.overrides, spec.env_kwargs, spec.device)
        self.out.mkdir(parents=True, exist_ok=True)
        if (self.out / "config.json").is_file() and learner.has_checkpoint(self.out):
            learner.resume(self.out)
            rows = [r for r in read_metrics(self.out / "metrics.csv") if r["steps"] <= learner.num_timesteps]
        else:
            learner.start()
            rows = []
            write_json(self.out / "config.json", {**self._spec_dict(), "config": learner.config(),
                                                  "versions": library_versions(), "machine": machine_line(),
                                                  "command": self.command})
        try:
            return self._train(learner, rows)
        finally:
            learner.close()

    def _train(self, learner: Learner, rows: list[dict]) -> dict:
        spec = self.spec
        scorer = exact_scorer(spec.env_id, spec.env_kwargs, learner.gamma)
        remaining = learner.remaining(spec.steps)
        evaluator = _Evaluator(self, learner, rows, scorer, end=learner.num_timesteps + remaining)
        if not rows:
            evaluator.evaluate_now(0.0, {})
        if remaining > 0:
            with _progress_bar(spec.steps, learner.num_timesteps, self.progress) as bar:
                evaluator.bar = bar
                learner.learn(remaining, callback=evaluator)
        if rows[-1]["steps"] != learner.num_timesteps:
            evaluator.evaluate_now(evaluator.seconds(), evaluator.last_info)
        learner.save(self.out)
        summary = self._summary(learner, rows, scorer)
        write_json(self.out / "summary.json", summary)
        for name in learner.checkpoint_files:
            (self.out / name).unlink(missing_ok=True)
        return summary

    def _summary(self, learner: Learner, rows: list[dict], scorer) -> dict:
        last = rows[-1]
        summary = {"algo": self.spec.algo, "env_id": self.spec.env_id, "seed": self.spec.seed,
                   "steps": learner.num_timesteps, "eval_mean": last["eval_mean"], "eval_std": last["eval_std"],
                   "eval_episodes": self.spec.eval_episodes, "seconds": last["seconds"],
                   "steps_per_second": learner.num_timesteps / max(last["seconds"], 1e-9),
                   "device": learner.device_name(), "model_file": learner.model_file}
        if scorer is not None:
            gap, observations = scorer
            summary["exact"] = gap(greedy_policy(learner.predict, observations))
        return summary


class _Evaluator:
    """The learn callback: evaluates at every multiple of eval_every, appends a metrics row, writes a resume
    checkpoint, and moves the progress bar."""

    def __init__(self, run: Run, learner: Learner, rows: list[dict], scorer, end: int):
        self.run, self.learner, self.rows, self.scorer, self.end = run, learner, rows, scorer, end
        self.offset = rows[-1]["seconds"] if rows else 0.0
        self.started = time.perf_counter()
        self.next_eval = (learner.num_timesteps // run.spec.eval_every + 1) * run.spec.eval_every
        self.bar = None
        self.last_info: dict = {}
        self._tensorboard = _tensorboard_writer(run.out)

    def seconds(self) -> float:
        return self.offset + time.perf_counter() - self.started

    def __call__(self, info: dict) -> bool:
        learner = self.learner
        self.last_info = info
        if self.bar is not None:
            self.bar.update(learner.num_timesteps - self.bar.n)
            postfix = {"ret": f"{info.get('recent_return', math.nan):.2f}"}
            if "steps_per_second" in info:
                postfix["sps"] = f"{info['steps_per_second']:.0f}"
            self.bar.set_postfix(**postfix)
        if learner.num_timesteps >= self.next_eval and learner.num_timesteps < self.end:
            self.evaluate_now(self.seconds(), info)
            self.next_eval = (learner.num_timesteps // self.run.spec.eval_every + 1) * self.run.spec.eval_every
            learner.save_checkpoint(self.run.out)
        return True

    def evaluate_now(self, seconds: float, info: dict) -> None:
        learner, spec = self.learner, self.run.spec
        result = evaluate(learner.predict, spec.env_id, spec.eval_episodes, EVAL_SEED, spec.env_kwargs)
        row = {"steps": learner.num_timesteps, "seconds": round(seconds, 3),
               "steps_per_second": round(learner.num_timesteps / seconds, 1) if seconds > 0 else "",
               "eval_mean": result.mean, "eval_std": result.std,
               "train_return": _finite(info.get("recent_return", math.nan)),
               "episodes": info.get("episodes", 0)}
        if self.scorer is not None:
            gap, observations = self.scorer
            exact = gap(greedy_policy(learner.predict, observations))
            row["value_ratio"] = exact["value_ratio"]
            row["success_probability"] = exact.get("success_probability", "")
        for key, value in info.items():
            if key not in row and key not in ("num_timesteps", "seconds", "recent_return", "episodes") \
                    and isinstance(value, (int, float)):
                row[key] = value
        self.rows.append(row)
        write_metrics(self.run.out / "metrics.csv", self.rows)
        if self._tensorboard is not None:
            for key, value in row.items():
                if key != "steps" and isinstance(value, (int, float)) and math.isfinite(value):
                    self._tensorboard.add_scalar(key, value, learner.num_timesteps)
            self._tensorboard.flush()


def _finite(value: float):
    return value if isinstance(value, (int, float)) and math.isfinite(value) else ""


def _tensorboard_writer(out: Path):
    """A TensorBoard SummaryWriter in out/tensorboard when the optional `tensorboard` package is installed."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        return None
    return SummaryWriter(log_dir=str(out / "tensorboard"))


def _progress_bar(total: int, initial: int, enabled: bool | None):
    from tqdm.auto import tqdm

    # disable=None: tqdm shows the bar on a terminal and stays quiet in logs and CI.
    return tqdm(total=total, initial=initial, unit="step", disable=None if enabled is None else not enabled,
                dynamic_ncols=True)
