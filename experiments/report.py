"""The report of a comparison, rebuilt from its run folders alone: results.csv (a row per run), summary.json,
report.md (the tables, the suite, seeds, machine and library versions), curves.png and profiles.png.

Scores are the final evaluation's mean return (the same evaluator, episodes and seeds for every side).
Normalized per env: a uniformly random policy is 0 and the best achievable return is 1: the exact optimum
within the step limit where the env has a model (backward induction), else the env's known maximum.
"""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import gymnasium as gym
import numpy as np

from agents.evaluation import EVAL_SEED, evaluate
from agents.vector_env import registered_id
from experiments import plots, stats
from experiments.learners import split_name
from experiments.runs import read_metrics, write_json, write_text_atomic

RANDOM_EPISODES = 100
#: The best return of envs without a model, and where it comes from.
KNOWN_BEST = {
    "CartPole-v1": (500.0, "the 500-step limit"),
    "Acrobot-v1": (-100.0, "its solved threshold (no known maximum; the best runs exceed 1)"),
    "mdparcade/Catch-v0": (1.0, "every ball caught"),
}
#: A run succeeds when its greedy policy is within this fraction of the exact optimum (envs with a model) ...
EXACT_SUCCESS_RATIO = 0.95
#: ... or, without a model, when its normalized score reaches this (unless the env declares a reward threshold).
NORMALIZED_SUCCESS = 0.9
RESULT_COLUMNS = ("env_id", "algo", "seed", "status", "score", "normalized", "success", "steps", "seconds",
                  "value_ratio", "success_probability", "folder", "error")


# Collecting -----------------------------------------------------------------------------------------------
def run_folders(out: Path) -> list[Path]:
    """Folders with a config.json, or a failed.json (a run that failed before writing its config)."""
    found = {path.parent for name in ("config.json", "failed.json") for path in Path(out).rglob(name)}
    return sorted(found)


def collect(out: Path) -> list[dict]:
    """One record per run folder under `out`: its config, status, final score, exact gap and curve."""
    records = []
    for folder in run_folders(out):
        config_path = folder / "config.json"
        if config_path.is_file():
            config = json.loads(config_path.read_text(encoding="utf-8"))
        else:
            config = json.loads((folder / "failed.json").read_text(encoding="utf-8"))["spec"]
        record = {"env_id": config["env_id"], "algo": config["algo"], "seed": config["seed"],
                  "env_kwargs": config.get("env_kwargs") or {}, "folder": str(folder.relative_to(out)),
                  "machine": config.get("machine", ""), "versions": config.get("versions", {}),
                  "steps": None, "seconds": None, "score": None, "value_ratio": None, "success_probability": None,
                  "error": ""}
        summary, failed = folder / "summary.json", folder / "failed.json"
        if summary.is_file():
            data = json.loads(summary.read_text(encoding="utf-8"))
            exact = data.get("exact") or {}
            record.update(status="finished", score=data["eval_mean"], steps=data["steps"], seconds=data["seconds"],
                          value_ratio=exact.get("value_ratio"), success_probability=exact.get("success_probability"))
        elif failed.is_file():
            record.update(status="failed", error=json.loads(failed.read_text(encoding="utf-8"))["error"])
        else:
            record["status"] = "unfinished"
        rows = read_metrics(folder / "metrics.csv")
        record["curve"] = (np.array([r["steps"] for r in rows], dtype=float),
                           np.array([r["seconds"] for r in rows], dtype=float),
                           np.array([r["eval_mean"] for r in rows], dtype=float))
        records.append(record)
    return sorted(records, key=lambda r: (r["env_id"], algo_order(r["algo"]), r["seed"]))


def algo_order(name: str) -> tuple:
    """Ours next to stable-baselines3's (PPO, sb3:PPO, DQN, sb3:DQN, ...), then tabular, then planners."""
    family, canonical = split_name(name)
    base = canonical.partition(":")[2] or canonical
    rank = {"PPO": 0, "DQN": 1, "A2C": 2, "REINFORCE": 3}.get(base, 4)
    return rank, family == "sb3", {"tabular": 1, "planner": 2}.get(family, 0), canonical


# References -----------------------------------------------------------------------------------------------
def references(records: list[dict]) -> dict[str, dict]:
    """Per env: the random policy's mean return, the best return and its source."""
    refs = {}
    for record in records:
        env_id = record["env_id"]
        if env_id not in refs or (refs[env_id]["random"] is None and record["status"] == "finished"):
            try:
                refs[env_id] = reference(env_id, record["env_kwargs"])
            except Exception as err:  # noqa: BLE001  (an env that cannot be built failed its runs too)
                refs[env_id] = {"random": None, "best": None, "best_source": f"unavailable ({err})",
                                "reward_threshold": None, "has_model": False}
    for env_id, ref in refs.items():
        # no model and no known maximum: the best final score any run reached
        if ref["best"] is None and ref["random"] is not None:
            scores = [r["score"] for r in records if r["env_id"] == env_id and r["score"] is not None]
            ref["best"] = max(scores) if scores else None
            ref["best_source"] = "the best final score in this comparison (no known maximum)"
    return refs


def reference(env_id: str, env_kwargs: dict) -> dict:
    from agents.planning import optimal_return
    from experiments.env_models import exact_model, has_exact_model, step_limit

    env = gym.make(registered_id(env_id), **env_kwargs)
    try:
        space = env.action_space
        threshold = env.spec.reward_threshold if env.spec is not None else None
        has_model = has_exact_model(env)
        if has_model:
            horizon = step_limit(env, env_kwargs)
            best, source = optimal_return(exact_model(env), horizon), f"the exact optimum within {horizon} steps"
        else:
            best, source = KNOWN_BEST.get(env_id, (None, ""))
    finally:
        env.close()
    rng = np.random.default_rng(0)
    random_policy = (lambda obs: rng.integers(space.n, size=len(obs))) if hasattr(space, "n") else \
        (lambda obs: np.stack([space.sample() for _ in range(len(obs))]))
    random = evaluate(random_policy, env_id, RANDOM_EPISODES, EVAL_SEED, env_kwargs).mean
    return {"random": float(random), "best": None if best is None else float(best), "best_source": source,
            "reward_threshold": threshold, "has_model": has_model}


def score_records(records: list[dict], refs: dict[str, dict]) -> None:
    """Add `normalized` and `success` to each finished record."""
    for record in records:
        record["normalized"], record["success"] = None, None
        if record["status"] != "finished":
            continue
        ref = refs[record["env_id"]]
        if ref["best"] is not None and ref["random"] is not None and ref["best"] != ref["random"]:
            record["normalized"] = float(stats.normalize(record["score"], ref["random"], ref["best"]))
        if ref["has_model"] and record["value_ratio"] is not None:
            record["success"] = bool(record["value_ratio"] >= EXACT_SUCCESS_RATIO)
        elif ref["reward_threshold"] is not None:
            record["success"] = bool(record["score"] >= ref["reward_threshold"])
        elif record["normalized"] is not None:
            record["success"] = bool(record["normalized"] >= NORMALIZED_SUCCESS)


def success_rule(ref: dict) -> str:
    if ref["has_model"]:
        return f"greedy policy's exact value >= {EXACT_SUCCESS_RATIO:g} x optimal"
    if ref["reward_threshold"] is not None:
        return f"final return >= {ref['reward_threshold']:g} (the env's reward threshold)"
    return f"normalized score >= {NORMALIZED_SUCCESS:g}"


# Building -------------------------------------------------------------------------------------------------
HEADLINE = [("env_id", "env"), ("algo", "algorithm"), ("runs", "runs"), ("iqm", "IQM return [95% CI]"),
            ("normalized_iqm", "normalized IQM [95% CI]"), ("success_rate", "success"),
            ("seconds_mean", "wall-clock s"), ("value_ratio_mean", "V/V* (exact)")]
DETAILS = [("env_id", "env"), ("algo", "algorithm"), ("runs", "finished"), ("failed", "failed"),
           ("median", "median return"), ("mean", "mean return [95% CI]"), ("seconds_median", "median wall-clock s")]


def build(out: Path, reps: int = 2000, plots_too: bool = True) -> dict:
    """Collect the runs under `out`, compute the statistics, write every report file; return summary.json's
    contents."""
    out = Path(out)
    records = collect(out)
    if not records:
        raise FileNotFoundError(f"{out} holds no run folders (no config.json below it)")
    refs = references(records)
    score_records(records, refs)
    scored = [{**r, "score": r["score"] if r["score"] is not None else math.nan,
               "normalized": r["normalized"] if r["normalized"] is not None else math.nan,
               "seconds": r["seconds"] if r["seconds"] is not None else math.nan}
              for r in records if r["status"] != "unfinished"]
    cells = stats.per_cell_table(scored, reps=reps) if scored else []
    improvements = stats.improvement_table([r for r in scored if r["status"] == "finished"], reps=reps)
    normalized = _normalized_by_algo(records)
    profiles = stats.performance_profile(normalized, reps=reps) if normalized else {}
    summary = {"runs": len(records), "finished": sum(r["status"] == "finished" for r in records),
               "failed": sum(r["status"] == "failed" for r in records),
               "unfinished": sum(r["status"] == "unfinished" for r in records),
               "seeds": sorted({r["seed"] for r in records}), "machine": _common(records, "machine"),
               "versions": _common(records, "versions"), "references": refs, "cells": cells,
               "improvements": improvements, "suite": _suite_text(out)}
    write_results_csv(out / "results.csv", records)
    write_json(out / "summary.json", summary)
    if plots_too:
        plots.learning_curves(_curves(records), out / "curves.png", title=f"{out.name}: learning curves")
        if profiles:
            plots.performance_profiles(profiles, out / "profiles.png", title=f"{out.name}: performance profiles")
    write_text_atomic(out / "report.md", markdown(out, summary, records))
    return summary


def _normalized_by_algo(records: list[dict]) -> dict[str, np.ndarray]:
    """algo -> (runs, envs) normalized final scores over the envs it finished, the same run count per env."""
    by_algo: dict[str, dict[str, list[float]]] = {}
    for r in records:
        if r["status"] == "finished" and r["normalized"] is not None:
            by_algo.setdefault(r["algo"], {}).setdefault(r["env_id"], []).append(r["normalized"])
    matrices = {}
    for algo in sorted(by_algo, key=algo_order):
        columns = list(by_algo[algo].values())
        runs = min(len(c) for c in columns)
        matrices[algo] = np.array([c[:runs] for c in columns], dtype=float).T
    return matrices


def _curves(records: list[dict]) -> dict:
    curves: dict = {}
    for r in records:
        if r["status"] == "finished" and len(r["curve"][0]) > 1:
            curves.setdefault(r["env_id"], {}).setdefault(r["algo"], []).append(r["curve"])
    return curves


def _common(records: list[dict], key: str):
    values = [json.dumps(r[key], sort_keys=True) for r in records if r[key]]
    if not values:
        return None
    most = max(set(values), key=values.count)
    return json.loads(most)


def _suite_text(out: Path) -> str | None:
    path = out / "suite.toml"
    return path.read_text(encoding="utf-8") if path.is_file() else None


def write_results_csv(path: Path, records: list[dict]) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=RESULT_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for record in records:
        writer.writerow({k: ("" if record.get(k) is None else record.get(k)) for k in RESULT_COLUMNS})
    write_text_atomic(path, buffer.getvalue())


def headline_table(summary: dict) -> str:
    return stats.format_table(summary["cells"], HEADLINE)


def markdown(out: Path, summary: dict, records: list[dict]) -> str:
    seeds = summary["seeds"]
    lines = [f"# Comparison: {out.name}", ""]
    if summary["suite"]:
        description = next((line.split("=", 1)[1].strip().strip('"') for line in summary["suite"].splitlines()
                            if line.startswith("description")), "")
        if description:
            lines += [description, ""]
    lines += [f"- runs: {summary['runs']} ({summary['finished']} finished, {summary['failed']} failed, "
              f"{summary['unfinished']} unfinished); seeds {seeds[0]}..{seeds[-1]}" if seeds else "- no runs",
              f"- machine: {(summary['machine'] or '').removeprefix('machine: ')}",
              "- libraries: " + ", ".join(f"{k} {v}" for k, v in (summary["versions"] or {}).items()),
              "- score: the final evaluation's mean return (deterministic policy, the same episodes and seeds "
              "for every algorithm); IQM and its 95% stratified bootstrap interval over seeds (rliable)",
              "", "## Results", "", headline_table(summary), "",
              "### Median, mean and failures", "", stats.format_table(summary["cells"], DETAILS), ""]
    if summary["improvements"]:
        lines += ["## Probability of improvement, ours over stable-baselines3", "",
                  "P(a run of ours scores higher than a run of SB3's), averaged over the envs both ran, "
                  "on normalized scores, with a 95% bootstrap interval.", "",
                  stats.format_table(summary["improvements"], [("ours", "ours"), ("baseline", "baseline"),
                                                               ("envs", "envs"), ("probability", "P(ours > SB3)")]),
                  ""]
    lines += ["## Normalization and success", "", "| env | random policy (0) | best (1) | best from | success means |",
              "|---|---|---|---|---|"]
    for env_id, ref in summary["references"].items():
        best = "–" if ref["best"] is None else f"{ref['best']:.4g}"
        random = "–" if ref["random"] is None else f"{ref['random']:.4g}"
        lines.append(f"| {env_id} | {random} | {best} | {ref['best_source']} | {success_rule(ref)} |")
    lines.append("")
    failed = [r for r in records if r["status"] == "failed"]
    if failed:
        lines += ["## Failed runs", "", "Each folder's failed.json holds the traceback; re-running the suite "
                  "tries them again.", ""]
        lines += [f"- `{r['folder']}`: {r['error']}" for r in failed] + [""]
    lines += ["## Figures", "", "![learning curves](curves.png)", "", "![performance profiles](profiles.png)", "",
              f"Rebuild with `mdparcade report {out}`; one row per run in results.csv.", ""]
    if summary["suite"]:
        lines += ["## Suite", "", "```toml", summary["suite"].rstrip(), "```", ""]
    return "\n".join(lines)
