"""The report of a comparison, rebuilt from its run folders alone: results.csv (a row per run), report.json,
report.md (the tables, the suite, seeds, machine and library versions), curves.png and profiles.png.

Scores are the final evaluation's mean return (the same evaluator, episodes and seeds for every side),
normalized per env against a random policy (0) and the best return (1) (experiments/compare/references.py).
Each (env, algorithm) cell counts a seed once; the report warns when runs repeat a seed.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np

from experiments.compare import plots, stats
from experiments.compare.records import UNREADABLE, RunRecord, algo_order, collect, one_run_per_seed, repeated_seeds
from experiments.compare.references import references, score_records
from experiments.compare.suites import suite_description
from experiments.learners.registry import BASELINE_PREFIX, is_baseline
from experiments.runs.folder import CONFIG, FAILED_STATUS, FINISHED, INTERRUPTED, write_json, write_text_atomic

#: The files a report writes into a comparison's folder (never into a run's folder).
REPORT_FILES = ("report.md", "report.json", "results.csv", "curves.png", "profiles.png")
RESULT_COLUMNS = ("env_id", "env_kwargs", "algo", "overrides", "seed", "status", "score", "normalized", "success",
                  "steps", "seconds", "value_ratio", "success_probability", "folder", "error")
HEADLINE = [("env_id", "env"), ("algo", "algorithm"), ("runs", "runs"), ("iqm", "IQM return [95% CI]"),
            ("normalized_iqm", "normalized IQM [95% CI]"), ("success_rate", "success"),
            ("seconds_mean", "wall-clock s"), ("value_ratio_mean", "V/V* (exact)")]
DETAILS = [("env_id", "env"), ("algo", "algorithm"), ("runs", "finished"), ("failed", "failed"),
           ("median", "median return"), ("mean", "mean return [95% CI]"), ("seconds_median", "median wall-clock s")]


def check_comparison_folder(out: Path) -> None:
    """A report is written into a comparison's folder; a single run's folder is refused (its files are the
    run's own)."""
    out = Path(out)
    if not out.is_dir():
        raise FileNotFoundError(f"{out} is not a folder")
    if (out / CONFIG).is_file():
        raise ValueError(f"{out} is a single run's folder (it has {CONFIG}); `mdparcade report` reads the folder "
                         "that holds a comparison's runs, e.g. runs/quick (for one run, see its summary.json and "
                         "metrics.csv)")


def build(out: Path, reps: int = 2000, plots_too: bool = True) -> dict:
    """Collect the runs under `out`, compute the statistics, write every report file; return report.json's
    contents."""
    out = Path(out)
    check_comparison_folder(out)
    records = collect(out)
    if not records:
        raise FileNotFoundError(f"{out} holds no run folders (no {CONFIG} below it)")
    readable = [r for r in records if r.status != UNREADABLE]
    refs = references(readable)
    score_records(readable, refs)
    counted = one_run_per_seed(readable)
    scored = [r.stats_row() for r in counted if r.status in (FINISHED, FAILED_STATUS)]
    cells = stats.per_cell_table(scored, reps=reps) if scored else []
    finished_rows = [row for row in scored if row["status"] == FINISHED]
    improvements = stats.improvement_table(finished_rows, baseline_pairs(finished_rows), reps=reps)
    parity = parity_table(finished_rows, cells, reps=reps)
    normalized = _normalized_by_cell(counted)
    profiles = stats.performance_profile(normalized, reps=reps) if normalized else {}
    repeats = repeated_seeds(readable)
    summary = {"runs": len(records), "finished": sum(r.status == FINISHED for r in records),
               "failed": sum(r.status == FAILED_STATUS for r in records),
               "interrupted": sum(r.status == INTERRUPTED for r in records),
               "unreadable": [{"folder": r.folder, "error": r.error} for r in records if r.status == UNREADABLE],
               "seeds": sorted({r.seed for r in readable}), "machine": _common(readable, "machine"),
               "versions": _common(readable, "versions"),
               "references": {env: ref.as_dict() for env, ref in refs.items()}, "cells": cells,
               "improvements": improvements, "parity": parity,
               "repeated_seeds": [{"env": env, "algo": cell, "seeds": seeds} for (env, cell), seeds in repeats.items()],
               "suite": _suite_text(out)}
    write_results_csv(out / "results.csv", records)
    write_json(out / "report.json", summary)
    curves = _curves(counted)
    if plots_too:
        if curves:
            plots.learning_curves(curves, out / "curves.png", title=f"{out.name}: learning curves")
        if profiles:
            plots.performance_profiles(profiles, out / "profiles.png", title=f"{out.name}: performance profiles")
    write_text_atomic(out / "report.md", markdown(out, summary, records))
    return summary


def baseline_pairs(rows: list[dict]) -> list[tuple[str, str]]:
    """(ours, baseline) for every algorithm "X" with a stable-baselines3 "sb3:X" among the rows."""
    algos = list(dict.fromkeys(row["algo"] for row in rows))
    return [(algo, BASELINE_PREFIX + algo) for algo in algos
            if not is_baseline(algo) and BASELINE_PREFIX + algo in algos]


PARITY = [("env_id", "env"), ("ours", "ours"), ("baseline", "baseline"), ("runs", "runs (ours, SB3)"),
          ("probability", "P(ours > SB3) [95% CI]"), ("verdict", "verdict"),
          ("seconds_ratio", "wall-clock, ours / SB3")]


def parity_table(rows: list[dict], cells: list[dict], reps: int = 2000) -> list[dict]:
    """Env by env, each of ours against its stable-baselines3 twin on the final scores: the probability of
    improvement with its 95% interval, the verdict (indistinguishable when the interval contains 0.5, else
    who is better) and the wall-clock ratio of a run (a population's wall-clock counts for all its seeds)."""
    seconds = {(c["env_id"], c["algo"]): c.get("seconds_mean") for c in cells}
    table = []
    for env in dict.fromkeys(row["env_id"] for row in rows):
        here = [row for row in rows if row["env_id"] == env]
        for ours, baseline in baseline_pairs(here):
            x = np.array([r["score"] for r in here if r["algo"] == ours], dtype=float)
            y = np.array([r["score"] for r in here if r["algo"] == baseline], dtype=float)
            poi = stats.probability_of_improvement(x[:, None], y[:, None], reps=reps)
            verdict = "ours better" if poi["low"] > 0.5 else "SB3 better" if poi["high"] < 0.5 else \
                "indistinguishable"
            ours_s, theirs_s = seconds.get((env, ours)), seconds.get((env, baseline))
            ratio = ours_s / theirs_s if ours_s and theirs_s else None
            table.append({"env_id": env, "ours": ours, "baseline": baseline, "runs": f"{len(x)}, {len(y)}",
                          "probability": poi["probability"], "probability_low": poi["low"],
                          "probability_high": poi["high"], "verdict": verdict, "seconds_ratio": ratio})
    return table


def _normalized_by_cell(records: list[RunRecord]) -> dict[str, np.ndarray]:
    """cell -> (runs, envs) normalized final scores over the envs it finished, the same run count per env."""
    by_cell: dict[str, dict[str, list[float]]] = {}
    for r in records:
        if r.status == FINISHED and r.normalized is not None:
            by_cell.setdefault(r.cell, {}).setdefault(r.env, []).append(r.normalized)
    matrices = {}
    for cell in sorted(by_cell, key=algo_order):
        columns = list(by_cell[cell].values())
        runs = min(len(c) for c in columns)
        matrices[cell] = np.array([c[:runs] for c in columns], dtype=float).T
    return matrices


def _curves(records: list[RunRecord]) -> dict:
    curves: dict = {}
    for r in records:
        if r.status == FINISHED and len(r.curve[0]) > 1:
            curves.setdefault(r.env, {}).setdefault(r.cell, []).append(r.curve)
    return curves


def _common(records: list[RunRecord], key: str):
    """The value of `key` most runs share (the machine, the versions)."""
    values = [json.dumps(getattr(r, key), sort_keys=True) for r in records if getattr(r, key)]
    if not values:
        return None
    return json.loads(max(set(values), key=values.count))


def _suite_text(out: Path) -> str | None:
    path = out / "suite.toml"
    try:
        return path.read_text(encoding="utf-8") if path.is_file() else None
    except (OSError, UnicodeDecodeError):
        return None


def write_results_csv(path: Path, records: list[RunRecord]) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=RESULT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for record in records:
        row = {key: getattr(record, key) for key in RESULT_COLUMNS}
        row["env_kwargs"] = _compact(record.env_kwargs)
        row["overrides"] = _compact(record.overrides)
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    write_text_atomic(path, buffer.getvalue())


def _compact(values: dict) -> str:
    return json.dumps(values, sort_keys=True, default=str) if values else ""


def headline_table(summary: dict) -> str:
    return stats.format_table(summary["cells"], HEADLINE)


def markdown(out: Path, summary: dict, records: list[RunRecord]) -> str:
    seeds = summary["seeds"]
    lines = [f"# Comparison: {out.name}", ""]
    description = suite_description(summary["suite"]) if summary["suite"] else ""
    if description:
        lines += [description, ""]
    counts = (f"{summary['runs']} ({summary['finished']} finished, {summary['failed']} failed, "
              f"{summary['interrupted']} interrupted, {len(summary['unreadable'])} unreadable)")
    lines += [f"- runs: {counts}; seeds {seeds[0]}..{seeds[-1]}" if seeds else f"- runs: {counts}",
              f"- machine: {(summary['machine'] or '').removeprefix('machine: ')}",
              "- libraries: " + ", ".join(f"{k} {v}" for k, v in (summary["versions"] or {}).items()),
              "- score: the final evaluation's mean return (deterministic policy, the same episodes and seeds "
              "for every algorithm); IQM and its 95% stratified bootstrap interval over seeds (rliable); each "
              "seed counted once", "", "## Results", "", headline_table(summary), "",
              "### Median, mean and failures", "", stats.format_table(summary["cells"], DETAILS), ""]
    if summary["repeated_seeds"]:
        lines += ["## Warnings", ""]
        lines += [f"- {item['algo']} on {item['env']}: several runs used seed(s) {item['seeds']}; each seed is "
                  "counted once (the first folder)" for item in summary["repeated_seeds"]] + [""]
    if summary["improvements"]:
        lines += ["## Probability of improvement, ours over stable-baselines3", "",
                  "P(a run of ours scores higher than a run of SB3's), averaged over the envs both ran, "
                  "on normalized scores, with a 95% bootstrap interval.", "",
                  stats.format_table(summary["improvements"], [("ours", "ours"), ("baseline", "baseline"),
                                                               ("envs", "envs"), ("probability", "P(ours > SB3)")]),
                  ""]
    if summary["parity"]:
        lines += ["## Parity: ours against stable-baselines3, env by env", "",
                  "Final scores of ours against SB3's at the same settings: the probability that a run of ours "
                  "scores higher (ties count half) with its 95% bootstrap interval; indistinguishable when the "
                  "interval contains 0.5. Wall-clock: a run's mean; our seeds of a cell train as one population, "
                  "whose wall-clock counts for all of them.", "",
                  stats.format_table(summary["parity"], PARITY), ""]
    lines += ["## Normalization and success", "", "| env | random policy (0) | best (1) | best from | success means |",
              "|---|---|---|---|---|"]
    for env, ref in summary["references"].items():
        best = "–" if ref["best"] is None else f"{ref['best']:.4g}"
        random = "–" if ref["random"] is None else f"{ref['random']:.4g}"
        lines.append(f"| {env} | {random} | {best} | {ref['best_source']} | {ref['success']} |")
    lines.append("")
    failed = [r for r in records if r.status in (FAILED_STATUS, UNREADABLE)]
    if failed:
        lines += ["## Failed and unreadable runs", "", "A failed run's failed.json holds the traceback; re-running "
                  "the suite tries it again. An unreadable run has a damaged file (named below).", ""]
        lines += [f"- `{r.folder}` ({r.status}): {r.error}" for r in failed] + [""]
    lines += ["## Figures", "", "![learning curves](curves.png)", "", "![performance profiles](profiles.png)", "",
              f"Rebuild with `mdparcade report {out}`; one row per run in results.csv.", ""]
    if summary["suite"]:
        lines += ["## Suite", "", "```toml", summary["suite"].rstrip(), "```", ""]
    return "\n".join(lines)
