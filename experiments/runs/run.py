"""One training run: any learner of `experiments.learners` trains into its run folder (experiments/runs/
folder.py), evaluated every `eval_every` steps on a separate env, with a resume point at each evaluation, so
an interrupted run resumes where its last evaluation was and every side of a comparison writes the same files.
"""

from __future__ import annotations

import math
import os
import shlex
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import gymnasium as gym
import numpy as np

from agents.env_models import exact_gap, model_info
from agents.evaluation import EVAL_SEED, evaluate
from agents.exact_gap import greedy_policy
from experiments.learners.base import Learner
from experiments.learners.registry import family_of, make_learner
from experiments.runs.folder import RunFolder, finite_or_blank
from experiments.runs.provenance import library_versions, machine_line
from experiments.runs.spec import RunSpec
from experiments.runs.success import is_success, success_rule


@dataclass(frozen=True)
class RunResult:
    """What `Run.run` returns: the run's summary.json, and whether this call trained (False: it was finished)."""

    summary: dict
    trained: bool


class ExactScorer:
    """The exact gap of a learner's greedy policy on an env with a model: `scorer(predict)` -> dict."""

    def __init__(self, spec: RunSpec, gamma: float):
        self.gap = exact_gap(spec.env_id, spec.env_kwargs, gamma)
        self.observations = model_info(spec.env_id, spec.env_kwargs).observations if self.gap else None

    def __bool__(self) -> bool:
        return self.gap is not None

    def __call__(self, predict) -> dict:
        return self.gap(greedy_policy(predict, self.observations))


class Run:
    """Trains `spec` into the folder `out`, evaluating every `eval_every` steps.

    If `out` holds an unfinished run of the same spec, it resumes from its checkpoint; a finished one is left as
    it is (its summary is returned, `trained` False); a different run there is a ValueError. A run that fails
    before its config is written leaves no folder behind. `node` (host, Ray node id) is recorded where given: in
    config.json when the run starts, in summary.json when it finishes.
    """

    def __init__(self, spec: RunSpec, out: str | os.PathLike, progress: bool | None = None,
                 command: str | None = None, tensorboard: bool = False, node: dict | None = None):
        self.spec, self.folder = spec, RunFolder(out)
        self.progress, self.tensorboard, self.node = progress, tensorboard, node
        self.command = command if command is not None else shlex.join(["mdparcade", *sys.argv[1:]])

    def _check_folder(self) -> dict | None:
        """The summary if this run is already finished; raise if the folder holds another run."""
        folder = self.folder
        if folder.path.exists() and not folder.path.is_dir():
            raise ValueError(f"{folder.path} is a file, not a run folder; choose another --out")
        if not folder.config_path.is_file():
            return None
        saved = folder.read_config()
        mine = self.spec.as_dict()
        different = {k: (saved.get(k), v) for k, v in mine.items() if k != "device" and saved.get(k) != v}
        if different:
            raise ValueError(f"{folder.path} holds a different run ({different}); choose another --out")
        return folder.read_summary() if folder.summary_path.is_file() else None

    def run(self) -> RunResult:
        finished = self._check_folder()
        if finished is not None:
            return RunResult(finished, trained=False)
        spec, folder = self.spec, self.folder
        learner = make_learner(spec.algo, spec.env_id, spec.seed, spec.overrides, spec.env_kwargs, spec.device)
        try:
            if folder.config_path.is_file() and folder.has_checkpoint():
                learner.resume(folder.checkpoint_path)
                rows = [r for r in folder.read_metrics() if r["steps"] <= learner.num_timesteps]
            else:
                learner.start()
                rows = []
                try:
                    folder.write_config({**spec.as_dict(), "config": learner.config(),
                                         "config_sources": learner.config_sources(),
                                         "versions": library_versions(), "machine": machine_line(),
                                         "command": self.command, **self._node()})
                except OSError as err:
                    raise ValueError(f"cannot write the run folder {folder.path}: {err.strerror or err}") from None
            return RunResult(self._train(learner, rows), trained=True)
        finally:
            learner.close()

    def _train(self, learner: Learner, rows: list[dict]) -> dict:
        spec, folder = self.spec, self.folder
        scorer = ExactScorer(spec, learner.gamma)
        remaining = learner.remaining(spec.steps)
        evaluator = Evaluator(self, learner, rows, scorer, end=learner.num_timesteps + remaining)
        if not rows:
            evaluator.evaluate_now(0.0, {})
        if remaining > 0:
            with _progress_bar(spec.steps, learner.num_timesteps, self.progress) as bar:
                evaluator.bar = bar
                learner.learn(remaining, callback=evaluator)
                evaluator.finish_bar()
        if rows[-1]["steps"] != learner.num_timesteps:
            evaluator.evaluate_now(evaluator.seconds(), evaluator.last_info)
        learner.save(folder.model_path(family_of(spec.algo).name))
        summary = self._summary(learner, rows, scorer)
        folder.write_summary(summary)
        folder.remove_checkpoint()
        return summary

    def _node(self) -> dict:
        return {} if self.node is None else {"node": self.node}

    def _summary(self, learner: Learner, rows: list[dict], scorer: ExactScorer) -> dict:
        last = rows[-1]
        summary = {"algo": self.spec.algo, "env_id": self.spec.env_id, "seed": self.spec.seed,
                   "steps": learner.num_timesteps, "eval_mean": last["eval_mean"], "eval_std": last["eval_std"],
                   "eval_episodes": self.spec.eval_episodes, "seconds": last["seconds"],
                   "steps_per_second": learner.num_timesteps / max(last["seconds"], 1e-9),
                   "device": learner.device_name(),
                   "model_file": self.folder.model_path(family_of(self.spec.algo).name).name}
        if scorer:
            summary["exact"] = scorer(learner.predict)
        summary.update(self._node())
        threshold = gym.spec(self.spec.env_id).reward_threshold
        summary["success"] = is_success(last["eval_mean"], summary["exact"]["value_ratio"] if scorer else None,
                                        threshold)
        summary["success_rule"] = success_rule(bool(scorer), threshold)
        return summary


class Evaluator:
    """The learn callback: evaluates at every multiple of eval_every, appends a metrics row, writes a resume
    checkpoint, and moves the progress bar."""

    def __init__(self, run: Run, learner: Learner, rows: list[dict], scorer: ExactScorer, end: int):
        self.run, self.learner, self.rows, self.scorer, self.end = run, learner, rows, scorer, end
        self.offset = rows[-1]["seconds"] if rows else 0.0
        self.started = time.perf_counter()
        self.next_eval = (learner.num_timesteps // run.spec.eval_every + 1) * run.spec.eval_every
        self.bar = None
        self.last_info: dict = {}
        self._tensorboard = _tensorboard_writer(run.folder.path) if run.tensorboard else None

    def seconds(self) -> float:
        return self.offset + time.perf_counter() - self.started

    def __call__(self, info: dict) -> bool:
        learner = self.learner
        self.last_info = info
        if self.bar is not None:
            self._move_bar(learner.num_timesteps)
            postfix = {"ret": f"{info.get('recent_return', math.nan):.2f}"}
            if "steps_per_second" in info:
                postfix["sps"] = f"{info['steps_per_second']:.0f}"
            self.bar.set_postfix(**postfix)
        if learner.num_timesteps >= self.next_eval and learner.num_timesteps < self.end:
            self.evaluate_now(self.seconds(), info)
            self.next_eval = (learner.num_timesteps // self.run.spec.eval_every + 1) * self.run.spec.eval_every
            learner.save_checkpoint(self.run.folder.checkpoint_path)
        return True

    def _move_bar(self, steps: int) -> None:
        # Whole rollouts can take a run past the steps asked for: the bar's total follows, so it ends at 100%.
        if steps > self.bar.total:
            self.bar.total = steps
        self.bar.update(steps - self.bar.n)

    def finish_bar(self) -> None:
        self._move_bar(self.learner.num_timesteps)

    def evaluate_now(self, seconds: float, info: dict) -> None:
        learner, spec = self.learner, self.run.spec
        result = evaluate(learner.predict, spec.env_id, spec.eval_episodes, EVAL_SEED, spec.env_kwargs)
        row = {"steps": learner.num_timesteps, "seconds": round(seconds, 3),
               "steps_per_second": round(learner.num_timesteps / seconds, 1) if seconds > 0 else "",
               "eval_mean": result.mean, "eval_std": result.std,
               "train_return": finite_or_blank(info.get("recent_return", math.nan)),
               "episodes": int(info.get("episodes", self.rows[-1]["episodes"] if self.rows else 0))}
        if self.scorer:
            exact = self.scorer(learner.predict)
            row["value_ratio"] = exact["value_ratio"]
            row["success_probability"] = exact.get("success_probability", "")
        for key, value in info.items():
            if key not in row and key not in ("num_timesteps", "seconds", "recent_return", "episodes") \
                    and isinstance(value, (int, float, np.number)):
                row[key] = value
        self.rows.append(row)
        self.run.folder.write_metrics(self.rows)
        if self._tensorboard is not None:
            for key, value in row.items():
                if key != "steps" and isinstance(value, (int, float)) and math.isfinite(value):
                    self._tensorboard.add_scalar(key, value, learner.num_timesteps)
            self._tensorboard.flush()


def _tensorboard_writer(out: Path):
    """A TensorBoard SummaryWriter in out/tensorboard (the optional `tensorboard` package)."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise ValueError('--tensorboard needs TensorBoard: pip install -e ".[tensorboard]"') from None
    return SummaryWriter(log_dir=str(out / "tensorboard"))


def _progress_bar(total: int, initial: int, enabled: bool | None):
    from tqdm.auto import tqdm

    # disable=None: tqdm shows the bar on a terminal and stays quiet in logs and CI.
    return tqdm(total=total, initial=initial, unit="step", disable=None if enabled is None else not enabled,
                dynamic_ncols=True)
