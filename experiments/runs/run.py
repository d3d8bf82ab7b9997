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
from agents.evaluation import EVAL_SEED, evaluate_members
from agents.exact_gap import greedy_policy
from experiments.learners.base import Learner
from experiments.learners.registry import family_of, make_learner
from experiments.runs.folder import RunFolder, finite_or_blank, population_checkpoint
from experiments.runs.provenance import library_versions, machine_line
from experiments.runs.spec import RunSpec
from experiments.runs.success import is_success, success_rule


@dataclass(frozen=True)
class RunResult:
    """What `Run.run` returns: the run's summary.json, and whether this call trained (False: it was finished)."""

    summary: dict
    trained: bool


class ExactScorer:
    """The exact gap of a learner's greedy policy on an env with a model: `scorer(predict)` -> dict, and
    `scorer.members(predict_members, K)` -> one dict per member from one batched call."""

    def __init__(self, spec: RunSpec, gamma: float):
        self.gap = exact_gap(spec.env_id, spec.env_kwargs, gamma)
        self.observations = model_info(spec.env_id, spec.env_kwargs).observations if self.gap else None

    def __bool__(self) -> bool:
        return self.gap is not None

    def __call__(self, predict) -> dict:
        return self.gap(greedy_policy(predict, self.observations))

    def members(self, predict_members, members: int) -> list[dict]:
        observations = np.repeat(np.asarray(self.observations)[None], members, axis=0)
        policies = np.asarray(predict_members(observations), dtype=np.int64)
        return [self.gap(policies[k].reshape(-1)) for k in range(members)]


class Run:
    """Trains `spec` into the folder `out`, evaluating every `eval_every` steps (the population of one; see
    `PopulationRun`).

    If `out` holds an unfinished run of the same spec, it resumes from its checkpoint; a finished one is left as
    it is (its summary is returned, `trained` False); a different run there is a ValueError. A run that fails
    before its config is written leaves no folder behind. `node` (host, Ray node id) is recorded where given: in
    config.json where the run starts, in summary.json where it finishes.
    """

    def __init__(self, spec: RunSpec, out: str | os.PathLike, progress: bool | None = None,
                 command: str | None = None, tensorboard: bool = False, node: dict | None = None):
        self._setup([spec], [out], RunFolder(out).checkpoint_path, progress, command, tensorboard, node)

    def _setup(self, specs, outs, checkpoint: Path, progress, command, tensorboard, node) -> None:
        self.specs, self.folders = list(specs), [RunFolder(out) for out in outs]
        self.spec, self.folder = self.specs[0], self.folders[0]
        self.checkpoint = Path(checkpoint)
        self.progress, self.tensorboard, self.node = progress, tensorboard, node
        self.command = command if command is not None else shlex.join(["mdparcade", *sys.argv[1:]])

    def run(self) -> RunResult:
        return self.run_members()[0]

    @staticmethod
    def _finished(spec: RunSpec, folder: RunFolder) -> dict | None:
        """The summary if this member's run is already finished; raise if the folder holds another run."""
        if folder.path.exists() and not folder.path.is_dir():
            raise ValueError(f"{folder.path} is a file, not a run folder; choose another --out")
        if not folder.config_path.is_file():
            return None
        saved = folder.read_config()
        mine = spec.as_dict()
        different = {k: (saved.get(k), v) for k, v in mine.items() if k != "device" and saved.get(k) != v}
        if different:
            raise ValueError(f"{folder.path} holds a different run ({different}); choose another --out")
        return folder.read_summary() if folder.summary_path.is_file() else None

    def run_members(self) -> list[RunResult]:
        """Train every member not finished yet, as one learner; a RunResult per member, in order."""
        finished = [self._finished(spec, folder) for spec, folder in zip(self.specs, self.folders)]
        pending = [k for k, summary in enumerate(finished) if summary is None]
        results = [RunResult(summary, trained=False) if summary is not None else None for summary in finished]
        if not pending:
            return results
        specs, folders = [self.specs[k] for k in pending], [self.folders[k] for k in pending]
        spec = specs[0]
        learner = make_learner(spec.algo, spec.env_id, spec.seed, spec.overrides, spec.env_kwargs, spec.device,
                               seeds=[s.seed for s in specs] if len(specs) > 1 else None)
        try:
            if all(f.config_path.is_file() for f in folders) and self.checkpoint.is_file():
                learner.resume(self.checkpoint)
                rows = [[r for r in f.read_metrics() if r["steps"] <= learner.num_timesteps] for f in folders]
            else:
                learner.start()
                rows = [[] for _ in folders]
                for k, (member_spec, folder) in enumerate(zip(specs, folders)):
                    self._write_config(member_spec, folder, learner, k)
            for k, summary in zip(pending, self._train(learner, specs, folders, rows)):
                results[k] = RunResult(summary, trained=True)
            return results
        finally:
            learner.close()

    def _write_config(self, spec: RunSpec, folder: RunFolder, learner: Learner, k: int) -> None:
        try:
            folder.write_config({**spec.as_dict(), "config": learner.member_config(k),
                                 "preset": learner.preset_source(), "config_sources": learner.config_sources(),
                                 "versions": library_versions(),
                                 "machine": machine_line(), "command": self.command, **self._node()})
        except OSError as err:
            raise ValueError(f"cannot write the run folder {folder.path}: {err.strerror or err}") from None

    def _train(self, learner: Learner, specs: list[RunSpec], folders: list[RunFolder],
               rows: list[list[dict]]) -> list[dict]:
        spec = specs[0]
        scorer = ExactScorer(spec, learner.gamma)
        remaining = learner.remaining(spec.steps)
        evaluator = Evaluator(self, learner, folders, rows, scorer, end=learner.num_timesteps + remaining)
        if not rows[0]:
            evaluator.evaluate_now(0.0, {})
        if remaining > 0:
            with _progress_bar(spec.steps, learner.num_timesteps, self.progress) as bar:
                evaluator.bar = bar
                learner.learn(remaining, callback=evaluator)
                evaluator.finish_bar()
        if rows[0][-1]["steps"] != learner.num_timesteps:
            evaluator.evaluate_now(evaluator.seconds(), evaluator.last_info)
        family = family_of(spec.algo).name
        exact = scorer.members(learner.predict_members, len(folders)) if scorer else [None] * len(folders)
        summaries = []
        for k, (member_spec, folder) in enumerate(zip(specs, folders)):
            learner.save_member(k, folder.model_path(family))
            summary = self._summary(member_spec, folder, learner, rows[k], exact[k])
            folder.write_summary(summary)
            folder.remove_checkpoint()
            summaries.append(summary)
        self.checkpoint.unlink(missing_ok=True)
        return summaries

    def _node(self) -> dict:
        return {} if self.node is None else {"node": self.node}

    def _summary(self, spec: RunSpec, folder: RunFolder, learner: Learner, rows: list[dict],
                 exact: dict | None) -> dict:
        last = rows[-1]
        summary = {"algo": spec.algo, "env_id": spec.env_id, "seed": spec.seed,
                   "steps": learner.num_timesteps, "eval_mean": last["eval_mean"], "eval_std": last["eval_std"],
                   "eval_episodes": spec.eval_episodes, "seconds": last["seconds"],
                   "steps_per_second": learner.num_timesteps / max(last["seconds"], 1e-9),
                   "device": learner.device_name(),
                   "model_file": folder.model_path(family_of(spec.algo).name).name}
        if exact is not None:
            summary["exact"] = exact
        if len(self.specs) > 1:
            summary["population"] = [s.seed for s in self.specs]
        summary.update(self._node())
        threshold = gym.spec(spec.env_id).reward_threshold
        summary["success"] = is_success(last["eval_mean"], exact["value_ratio"] if exact else None, threshold)
        summary["success_rule"] = success_rule(exact is not None, threshold)
        return summary


class PopulationRun(Run):
    """Trains specs that differ only in their seed as one population (our deep agents), each member into its
    own ordinary run folder (`outs`, as `Run` writes one), with one resume point for the whole population in
    `group` (experiments/runs/folder.py's `population_checkpoint`). Members already finished are left as they
    are; the others train together (a population of the rest)."""

    def __init__(self, specs: list[RunSpec], outs: list, group: str | os.PathLike, progress: bool | None = None,
                 command: str | None = None, tensorboard: bool = False, node: dict | None = None):
        if not specs or len(specs) != len(outs):
            raise ValueError("a population needs one folder per spec")
        first = specs[0].as_dict()
        for spec in specs[1:]:
            different = sorted(k for k, v in spec.as_dict().items() if k != "seed" and first[k] != v)
            if different:
                raise ValueError(f"a population's runs differ only in their seed, not in {different}")
        if len({spec.seed for spec in specs}) != len(specs):
            raise ValueError(f"a population's seeds must differ, got {[spec.seed for spec in specs]}")
        self._setup(specs, outs, population_checkpoint(group), progress, command, tensorboard, node)


class Evaluator:
    """The learn callback: at every multiple of eval_every, evaluates every member, appends a metrics row to
    each member's folder, writes the resume checkpoint, and moves the progress bar."""

    def __init__(self, run: Run, learner: Learner, folders: list[RunFolder], rows: list[list[dict]],
                 scorer: ExactScorer, end: int):
        self.run, self.learner, self.folders, self.rows, self.scorer, self.end = run, learner, folders, rows, \
            scorer, end
        self.spec = run.spec
        self.offset = rows[0][-1]["seconds"] if rows[0] else 0.0
        self.started = time.perf_counter()
        self.next_eval = (learner.num_timesteps // self.spec.eval_every + 1) * self.spec.eval_every
        self.bar = None
        self.last_info: dict = {}
        self._tensorboard = [_tensorboard_writer(f.path) for f in folders] if run.tensorboard else None

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
            self.next_eval = (learner.num_timesteps // self.spec.eval_every + 1) * self.spec.eval_every
            learner.save_checkpoint(self.run.checkpoint)
        return True

    def _move_bar(self, steps: int) -> None:
        # Whole rollouts can take a run past the steps asked for: the bar's total follows, so it ends at 100%.
        if steps > self.bar.total:
            self.bar.total = steps
        self.bar.update(steps - self.bar.n)

    def finish_bar(self) -> None:
        self._move_bar(self.learner.num_timesteps)

    def evaluate_now(self, seconds: float, info: dict) -> None:
        learner, spec, members = self.learner, self.spec, len(self.folders)
        results = evaluate_members(learner.predict_members, spec.env_id, members, spec.eval_episodes, EVAL_SEED,
                                   spec.env_kwargs)
        exact = self.scorer.members(learner.predict_members, members) if self.scorer else [None] * members
        infos = learner.member_infos(info) if info else [{}] * members
        for k, (folder, rows) in enumerate(zip(self.folders, self.rows)):
            rows.append(self._row(seconds, results[k], exact[k], infos[k], rows))
            folder.write_metrics(rows)
            if self._tensorboard is not None:
                for key, value in rows[-1].items():
                    if key != "steps" and isinstance(value, (int, float)) and math.isfinite(value):
                        self._tensorboard[k].add_scalar(key, value, learner.num_timesteps)
                self._tensorboard[k].flush()

    def _row(self, seconds: float, result, exact: dict | None, info: dict, rows: list[dict]) -> dict:
        steps = self.learner.num_timesteps
        row = {"steps": steps, "seconds": round(seconds, 3),
               "steps_per_second": round(steps / seconds, 1) if seconds > 0 else "",
               "eval_mean": result.mean, "eval_std": result.std,
               "train_return": finite_or_blank(info.get("recent_return", math.nan)),
               "episodes": int(info.get("episodes", rows[-1]["episodes"] if rows else 0))}
        if exact is not None:
            row["value_ratio"] = exact["value_ratio"]
            row["success_probability"] = exact.get("success_probability", "")
        for key, value in info.items():
            if key not in row and key not in ("num_timesteps", "seconds", "recent_return", "episodes") \
                    and isinstance(value, (int, float, np.number)):
                row[key] = value
        return row


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
