"""The run folder: the one module that names its files, reads a run's status from them, and reads and writes
them (every write atomic: temp file, then os.replace, so a killed run never leaves half a file).

    config.json    everything that reproduces the run: its spec, the resolved config, versions, machine, command
                   (and, in a comparison, the node it started on)
    metrics.csv    one row per evaluation (steps, seconds, eval_mean, ...)
    model file     model.pt (ours, tabular), model.zip (stable-baselines3), policy.json (value iteration)
    summary.json   the final figures (in a comparison, with the node that finished it); its presence means the
                   run finished
    checkpoint.pt  the resume point while the run is unfinished (tensors and plain values only)
    failed.json    why a run of a comparison failed (error, traceback, and the node it failed on)

Nothing here is unpickled: JSON, CSV, and torch files read with weights_only=True by the learners.
"""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import numpy as np

from nets.checkpoint import write_atomic

CONFIG, METRICS, SUMMARY, CHECKPOINT, FAILED = "config.json", "metrics.csv", "summary.json", "checkpoint.pt", \
    "failed.json"
#: The final model's file, by learner family (experiments.learners.registry).
MODEL_FILES = {"mdparcade": "model.pt", "tabular": "model.pt", "sb3": "model.zip", "planner": "policy.json"}
METRIC_COLUMNS = ("steps", "seconds", "steps_per_second", "eval_mean", "eval_std", "train_return", "episodes",
                  "value_ratio", "success_probability")
#: What a summary.json must hold, with the types its readers rely on.
SUMMARY_FIELDS = {"algo": str, "env_id": str, "seed": int, "steps": int, "eval_mean": float, "eval_std": float,
                  "eval_episodes": int, "seconds": float}
#: A run's status, from the files its folder holds.
FINISHED, FAILED_STATUS, INTERRUPTED, PENDING = "finished", "failed", "interrupted", "pending"


class RunFolderError(ValueError):
    """A run folder's file is missing, unreadable or not what a run writes; the message names the file."""


def write_text_atomic(path: Path, text: str) -> None:
    write_atomic(path, lambda handle: handle.write(text.encode("utf-8")))


def write_json(path: Path, data) -> None:
    write_text_atomic(path, json.dumps(data, indent=2, default=_plain) + "\n")


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"not JSON serializable: {value!r}")


def read_json(path: Path, what: str) -> dict:
    """A JSON object from `path`; a missing, truncated or non-object file is a RunFolderError naming it."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RunFolderError(f"{path} does not exist") from None
    except (OSError, ValueError) as err:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise RunFolderError(f"{path} is not a valid {what} ({type(err).__name__}: {err})") from None
    if not isinstance(data, dict):
        raise RunFolderError(f"{path} is not a valid {what} (a JSON object expected, got {type(data).__name__})")
    return data


class RunFolder:
    """The files of one run's folder. `path` need not exist yet."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.config_path = self.path / CONFIG
        self.metrics_path = self.path / METRICS
        self.summary_path = self.path / SUMMARY
        self.checkpoint_path = self.path / CHECKPOINT
        self.failed_path = self.path / FAILED

    def __repr__(self) -> str:
        return f"RunFolder({str(self.path)!r})"

    def model_path(self, family: str) -> Path:
        return self.path / MODEL_FILES[family]

    # Status -----------------------------------------------------------------------------------------------
    def status(self) -> str:
        """finished (summary.json), failed (failed.json), interrupted (config.json, no summary) or pending."""
        if self.summary_path.is_file():
            return FINISHED
        if self.failed_path.is_file():
            return FAILED_STATUS
        if self.config_path.is_file():
            return INTERRUPTED
        return PENDING

    def has_checkpoint(self) -> bool:
        return self.checkpoint_path.is_file()

    # config.json ------------------------------------------------------------------------------------------
    def read_config(self) -> dict:
        config = read_json(self.config_path, "run config (config.json)")
        missing = [key for key in ("algo", "env_id") if not isinstance(config.get(key), str)]
        if missing:
            raise RunFolderError(f"{self.config_path} lacks {', '.join(map(repr, missing))}; is {self.path} a "
                                 "run folder written by `mdparcade train`?")
        return config

    def write_config(self, config: dict) -> None:
        write_json(self.config_path, config)

    # metrics.csv ------------------------------------------------------------------------------------------
    def read_metrics(self) -> list[dict]:
        """The evaluation rows, numbers typed as written (ints stay ints); [] when there is no file yet."""
        if not self.metrics_path.is_file():
            return []
        try:
            text = self.metrics_path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise RunFolderError(f"{self.metrics_path} is unreadable ({err})") from None
        reader = csv.DictReader(io.StringIO(text))
        if reader.fieldnames is None or not {"steps", "seconds", "eval_mean"} <= set(reader.fieldnames):
            raise RunFolderError(f"{self.metrics_path} is not a metrics file (its header lacks steps, seconds "
                                 "or eval_mean)")
        rows = []
        for line, row in enumerate(reader, start=2):
            if None in row or any(value is None for value in row.values()):
                raise RunFolderError(f"{self.metrics_path}:{line}: the row has a different number of columns")
            try:
                typed = {key: _number(value) for key, value in row.items()}
            except ValueError as err:
                raise RunFolderError(f"{self.metrics_path}:{line}: {err}") from None
            if not isinstance(typed["steps"], int) or not isinstance(typed["eval_mean"], (int, float)):
                raise RunFolderError(f"{self.metrics_path}:{line}: steps must be an integer and eval_mean a number")
            rows.append(typed)
        return rows

    def write_metrics(self, rows: list[dict]) -> None:
        columns = list(METRIC_COLUMNS) + sorted({key for row in rows for key in row} - set(METRIC_COLUMNS))
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=columns, restval="", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        write_text_atomic(self.metrics_path, buffer.getvalue())

    # summary.json -----------------------------------------------------------------------------------------
    def read_summary(self) -> dict:
        summary = read_json(self.summary_path, "run summary (summary.json)")
        for key, kind in SUMMARY_FIELDS.items():
            value = summary.get(key)
            ok = isinstance(value, kind) if kind is not float else isinstance(value, (int, float))
            if not ok or isinstance(value, bool):
                raise RunFolderError(f"{self.summary_path} lacks a valid {key!r} (a {kind.__name__} expected, got "
                                     f"{value!r})")
        return summary

    def write_summary(self, summary: dict) -> None:
        write_json(self.summary_path, summary)

    # failed.json ------------------------------------------------------------------------------------------
    def read_failure(self) -> dict:
        failure = read_json(self.failed_path, "failure record (failed.json)")
        if not isinstance(failure.get("error"), str):
            raise RunFolderError(f"{self.failed_path} lacks its 'error' text")
        return failure

    def write_failure(self, error: str, traceback_text: str, spec: dict, node: dict | None = None) -> None:
        failure = {"error": error, "traceback": traceback_text, "spec": spec}
        write_json(self.failed_path, failure if node is None else {**failure, "node": node})

    def clear_failure(self) -> None:
        self.failed_path.unlink(missing_ok=True)

    def remove_checkpoint(self) -> None:
        self.checkpoint_path.unlink(missing_ok=True)


def _number(text: str):
    """'' stays ''; '12' -> 12; '0.5', 'nan', 'inf' -> floats; anything else is a ValueError."""
    if text == "":
        return ""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None


POPULATION_CHECKPOINT = "population.pt"


def population_checkpoint(group: str | Path) -> Path:
    """The resume point of a population whose members' folders lie in `group`."""
    return Path(group) / POPULATION_CHECKPOINT


def run_folders(root: Path) -> list[RunFolder]:
    """Every run folder under `root` (a folder with a config.json, or a failed.json of a run that failed
    before writing its config), sorted by path."""
    found = {path.parent for name in (CONFIG, FAILED) for path in Path(root).rglob(name)}
    return [RunFolder(path) for path in sorted(found)]


def finite_or_blank(value):
    """A metrics cell: the number if it is finite, else '' (no value yet)."""
    return value if isinstance(value, (int, float)) and math.isfinite(value) else ""
