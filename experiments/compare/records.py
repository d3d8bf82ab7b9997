"""A comparison's runs as typed records, read from their folders alone (experiments/runs/folder.py): what each
run is, its status, its final figures and its learning curve. An unreadable file makes an "unreadable" record
naming it, not a crashed report."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from experiments.learners.registry import resolve_algorithm
from experiments.runs.folder import FAILED_STATUS, FINISHED, RunFolder, RunFolderError, run_folders
from experiments.runs.spec import folder_tag

UNREADABLE = "unreadable"
FAMILY_ORDER = {"mdparcade": 0, "sb3": 0, "tabular": 1, "planner": 2}
ALGO_ORDER = {"PPO": 0, "DQN": 1, "A2C": 2, "REINFORCE": 3}


@dataclass
class RunRecord:
    """One run folder of a comparison. `env` and `cell` label its report row: the env id with its env kwargs,
    the algorithm with its overrides."""

    folder: str
    status: str
    env_id: str = ""
    algo: str = ""
    seed: int = -1
    env_kwargs: dict = field(default_factory=dict)
    overrides: dict = field(default_factory=dict)
    machine: str = ""
    versions: dict = field(default_factory=dict)
    steps: int | None = None
    seconds: float | None = None
    score: float | None = None
    value_ratio: float | None = None
    success_probability: float | None = None
    error: str = ""
    curve: tuple[np.ndarray, np.ndarray, np.ndarray] = (np.zeros(0), np.zeros(0), np.zeros(0))
    normalized: float | None = None
    success: bool | None = None

    @property
    def env(self) -> str:
        return self.env_id + (f" [{folder_tag(self.env_kwargs)}]" if self.env_kwargs else "")

    @property
    def cell(self) -> str:
        return self.algo + (f" [{folder_tag(self.overrides)}]" if self.overrides else "")

    def stats_row(self) -> dict:
        """The row `experiments.compare.stats` takes (NaN for what was not measured)."""
        def number(value):
            return math.nan if value is None else value
        return {"env_id": self.env, "algo": self.cell, "seed": self.seed, "status": self.status,
                "score": number(self.score), "normalized": number(self.normalized), "success": self.success,
                "seconds": number(self.seconds), "value_ratio": self.value_ratio}


def collect(out: Path) -> list[RunRecord]:
    """One record per run folder under `out`, sorted by env, algorithm (ours beside SB3's) and seed."""
    records = [read_record(folder, Path(out)) for folder in run_folders(out)]
    return sorted(records, key=lambda r: (r.env, algo_order(r.algo), r.cell, r.seed))


def read_record(folder: RunFolder, out: Path) -> RunRecord:
    name = str(folder.path.relative_to(out))
    try:
        if folder.config_path.is_file():
            config = folder.read_config()
        else:
            config = folder.read_failure().get("spec") or {}
        record = RunRecord(folder=name, status=folder.status(), env_id=str(config["env_id"]),
                           algo=str(config["algo"]), seed=int(config.get("seed", 0)),
                           env_kwargs=config.get("env_kwargs") or {}, overrides=config.get("overrides") or {},
                           machine=str(config.get("machine", "")), versions=config.get("versions") or {})
        if record.status == FINISHED:
            summary = folder.read_summary()
            exact = summary.get("exact") or {}
            record.score, record.steps, record.seconds = float(summary["eval_mean"]), summary["steps"], \
                float(summary["seconds"])
            record.value_ratio = exact.get("value_ratio")
            record.success_probability = exact.get("success_probability")
        elif record.status == FAILED_STATUS:
            record.error = folder.read_failure()["error"]
        rows = folder.read_metrics()
    except (RunFolderError, KeyError, TypeError, ValueError) as err:
        return RunRecord(folder=name, status=UNREADABLE, error=f"{type(err).__name__}: {err}")
    record.curve = (np.array([r["steps"] for r in rows], dtype=float),
                    np.array([r["seconds"] for r in rows], dtype=float),
                    np.array([r["eval_mean"] for r in rows], dtype=float))
    return record


def algo_order(name: str) -> tuple:
    """Ours next to stable-baselines3's (PPO, sb3:PPO, DQN, sb3:DQN, ...), then tabular, then planners."""
    try:
        family, canonical = resolve_algorithm(name)
    except ValueError:
        return (9, False, 9, name)
    base = canonical.removeprefix("sb3:")
    return ALGO_ORDER.get(base, 4), family.name == "sb3", FAMILY_ORDER.get(family.name, 3), canonical


def repeated_seeds(records: list[RunRecord]) -> dict[tuple[str, str], list[int]]:
    """(env, cell) -> the seeds that more than one finished run of that cell used."""
    seen: dict[tuple[str, str], dict[int, int]] = {}
    for record in records:
        if record.status == FINISHED:
            counts = seen.setdefault((record.env, record.cell), {})
            counts[record.seed] = counts.get(record.seed, 0) + 1
    return {key: sorted(s for s, n in counts.items() if n > 1) for key, counts in seen.items()
            if any(n > 1 for n in counts.values())}


def one_run_per_seed(records: list[RunRecord]) -> list[RunRecord]:
    """The records with each (env, cell, seed) counted once (the first folder in path order): statistics over
    seeds must not count a repeated seed as new evidence."""
    kept, seen = [], set()
    for record in sorted(records, key=lambda r: r.folder):
        key = (record.env, record.cell, record.seed)
        if record.status == FINISHED:
            if key in seen:
                continue
            seen.add(key)
        kept.append(record)
    return sorted(kept, key=lambda r: (r.env, algo_order(r.algo), r.cell, r.seed))

