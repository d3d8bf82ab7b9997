"""The statistics behind `mdparcade compare` and `mdparcade report`: IQM with stratified bootstrap intervals,
probability of improvement and performance profiles (rliable), learning-curve bands, and markdown tables.

rliable draws its bootstrap resamples from numpy's *global* RNG (`np.random.choice` inside
`StratifiedBootstrap.update_indices`; its `random_state` argument only reaches arch and is never used for the
indices), so every rliable call here runs inside `_seeded_global_rng(seed)`: the global RNG is seeded for the
call and restored afterwards, which makes the same scores give the same interval without changing the caller's
random stream. (Not thread-safe: two threads bootstrapping at once would share the global RNG.)
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator

import numpy as np
import scipy.stats

try:
    from rliable import library as rly
    from rliable import metrics
except ImportError as err:  # rliable is an optional extra; say how to get it instead of a bare traceback
    raise ImportError("experiments.compare.stats needs rliable: pip install rliable") from err

DEFAULT_TAUS = np.linspace(0.0, 1.1, 56)
CONFIDENCE = 0.95
MISSING = "–"


@contextlib.contextmanager
def _seeded_global_rng(seed: int) -> Iterator[None]:
    """Seed numpy's global RNG for rliable's bootstrap, then put the caller's state back."""
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)


def _check_reps(reps: int) -> None:
    if not isinstance(reps, (int, np.integer)) or reps < 1:
        raise ValueError(f"reps must be an integer >= 1, got {reps!r}")


def _as_run_task_matrix(scores, what: str = "scores") -> np.ndarray:
    """(runs,) or (runs, tasks) -> float (runs, tasks); rliable's layout. Empty or non-finite input is an error
    because a NaN would silently poison every bootstrap resample."""
    matrix = np.asarray(scores, dtype=float)
    if matrix.ndim == 1:
        matrix = matrix[:, None]
    if matrix.ndim != 2:
        raise ValueError(f"{what} must have shape (runs,) or (runs, tasks), got {matrix.shape}")
    if matrix.size == 0:
        raise ValueError(f"{what} is empty (shape {matrix.shape}); need at least one run and one task")
    if not np.all(np.isfinite(matrix)):
        raise ValueError(f"{what} holds NaN or inf; drop failed runs before computing statistics")
    return matrix


def normalize(scores, random_score: float, best_score: float) -> np.ndarray:
    """(score - random) / (best - random): 0 is a random policy, 1 the best known score."""
    if best_score == random_score:
        raise ValueError(f"cannot normalize: best_score ({best_score}) equals random_score ({random_score})")
    return (np.asarray(scores, dtype=float) - random_score) / (best_score - random_score)


def _iqm_and_mean(matrix: np.ndarray) -> np.ndarray:
    return np.array([metrics.aggregate_iqm(matrix), metrics.aggregate_mean(matrix)])


def interval_estimates(scores: np.ndarray, reps: int = 2000, seed: int = 0) -> dict:
    """IQM and mean with 95% stratified bootstrap percentile intervals (runs resampled within each task), and the
    median of all scores.

    scores: (runs,) or (runs, tasks). The IQM is rliable's: the 25% trimmed mean over all runs and tasks
    together. The median is of every score (rliable's aggregate_median would be the median of per-task means,
    which for one task is just the mean). One run: every resample is the data, so the interval is the point.
    """
    _check_reps(reps)
    matrix = _as_run_task_matrix(scores)
    if matrix.shape[0] == 1:
        point = _iqm_and_mean(matrix)
        low = high = point
    else:
        with _seeded_global_rng(seed):
            points, intervals = rly.get_interval_estimates(
                {"scores": matrix}, _iqm_and_mean, reps=reps, confidence_interval_size=CONFIDENCE)
        point = points["scores"]
        low, high = intervals["scores"]
    return {
        "iqm": float(point[0]), "iqm_low": float(low[0]), "iqm_high": float(high[0]),
        "median": float(np.median(matrix)),
        "mean": float(point[1]), "mean_low": float(low[1]), "mean_high": float(high[1]),
    }


# ---------------------------------------------------------------------------------------------------- run rows

def _is_failed(row: dict, index: int) -> bool:
    status = row.get("status", "finished")
    if status not in ("finished", "failed"):
        raise ValueError(f"row {index} has status {status!r}; expected 'finished' or 'failed'")
    return status == "failed"


def _check_rows(rows: list[dict]) -> None:
    for index, row in enumerate(rows):
        for key in ("env_id", "algo", "seed"):
            if key not in row:
                raise ValueError(f"row {index} lacks {key!r}; run rows need env_id, algo, seed and score")
        if not _is_failed(row, index) and _number(row.get("score")) is None:
            raise ValueError(f"row {index} ({row['env_id']}, {row['algo']}, seed {row['seed']}) is finished but "
                             f"has no score (None or NaN); mark it failed")


def _first_appearance(values) -> list:
    return list(dict.fromkeys(values))


def _number(value):
    """A float, or None for None and NaN: collectors write a missing number either way (NaN keeps CSV and
    DataFrame columns numeric), and both mean "not measured", never a score to average."""
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def _present(values) -> list:
    return [number for number in map(_number, values) if number is not None]


def per_cell_table(rows: list[dict], reps: int = 2000, seed: int = 0) -> list[dict]:
    """One summary dict per (env_id, algo), envs then algos in order of first appearance.

    `runs` counts the finished runs (the ones scored), `failed` the failed ones. Scores are raw final
    evaluation returns; `normalized_iqm` uses the rows' "normalized" values. `success_rate` is over the finished
    runs whose success is not None (None when no run has a success notion); `value_ratio_mean` likewise.
    A NaN "normalized", "seconds" or "value_ratio" counts as missing, like None. Statistics of a cell with no
    finished run are None.
    """
    _check_rows(rows)
    envs = _first_appearance(row["env_id"] for row in rows)
    algos = _first_appearance(row["algo"] for row in rows)
    cells = []
    for env_id in envs:
        for algo in algos:
            group = [(i, row) for i, row in enumerate(rows) if row["env_id"] == env_id and row["algo"] == algo]
            if not group:
                continue
            finished = [row for i, row in group if not _is_failed(row, i)]
            cell = {"env_id": env_id, "algo": algo, "runs": len(finished), "failed": len(group) - len(finished)}
            cell.update(_cell_statistics(finished, reps, seed))
            cells.append(cell)
    return cells


def _cell_statistics(finished: list[dict], reps: int, seed: int) -> dict:
    stats = dict.fromkeys(("iqm", "iqm_low", "iqm_high", "median", "mean", "mean_low", "mean_high",
                           "normalized_iqm", "normalized_iqm_low",
                           "normalized_iqm_high", "success_rate", "seconds_mean", "seconds_median",
                           "value_ratio_mean"))
    if not finished:
        return stats
    raw = interval_estimates(np.array([_number(row["score"]) for row in finished]), reps=reps, seed=seed)
    stats.update({key: raw[key] for key in ("iqm", "iqm_low", "iqm_high", "median", "mean", "mean_low",
                                            "mean_high")})
    normalized = _present(row.get("normalized") for row in finished)
    if normalized:
        norm = interval_estimates(np.array(normalized), reps=reps, seed=seed)
        stats.update(normalized_iqm=norm["iqm"], normalized_iqm_low=norm["iqm_low"],
                     normalized_iqm_high=norm["iqm_high"])
    successes = [bool(row["success"]) for row in finished if row.get("success") is not None]
    if successes:
        stats["success_rate"] = float(np.mean(successes))
    seconds = _present(row.get("seconds") for row in finished)
    if seconds:
        stats["seconds_mean"] = float(np.mean(seconds))
        stats["seconds_median"] = float(np.median(seconds))
    ratios = _present(row.get("value_ratio") for row in finished)
    if ratios:
        stats["value_ratio_mean"] = float(np.mean(ratios))
    return stats


# ---------------------------------------------------------------------------------------- algorithm comparisons

def probability_of_improvement(ours: np.ndarray, theirs: np.ndarray, reps: int = 2000, seed: int = 0) -> dict:
    """P(ours > theirs) as rliable defines it: per task the Mann-Whitney U / (n_ours n_theirs), i.e.
    P(X > Y) + 0.5 P(X = Y), averaged over tasks; 95% CI from resampling each algorithm's runs within each task
    independently. ours, theirs: (runs, tasks) normalized scores with the same tasks (run counts may differ)."""
    _check_reps(reps)
    x = _as_run_task_matrix(ours, "ours")
    y = _as_run_task_matrix(theirs, "theirs")
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"ours has {x.shape[1]} tasks but theirs has {y.shape[1]}; both need the same tasks")
    with _seeded_global_rng(seed):
        points, intervals = rly.get_interval_estimates(
            {"pair": (x, y)}, metrics.probability_of_improvement, reps=reps, confidence_interval_size=CONFIDENCE)
    low, high = np.ravel(intervals["pair"])
    return {"probability": float(points["pair"]), "low": float(low), "high": float(high)}


def _seed_key(seed):
    # Seeds are normally ints; fall back to strings so a mix still sorts deterministically.
    return (0, seed, "") if isinstance(seed, (int, np.integer)) else (1, 0, str(seed))


def _score_matrix(by_env: dict[str, list[dict]], envs: list[str]) -> np.ndarray:
    """(runs, envs) of normalized scores: the lowest-seeded `runs` runs of each env, runs = the smallest count, so
    every task has the same number of runs (rliable's matrix layout)."""
    runs = min(len(by_env[env]) for env in envs)
    columns = []
    for env in envs:
        ordered = sorted(by_env[env], key=lambda row: _seed_key(row["seed"]))[:runs]
        columns.append([_number(row["normalized"]) for row in ordered])
    return np.array(columns, dtype=float).T


def improvement_table(rows: list[dict], pairs: list[tuple[str, str]], reps: int = 2000,
                      seed: int = 0) -> list[dict]:
    """Probability of improvement of each (ours, baseline) pair of algorithm names on normalized scores, over
    the envs where both have finished runs with a normalized score.

    Each algorithm's matrix uses, per env, its lowest-seeded runs, as many as its smallest per-env count among
    those envs. A pair with no shared env gets envs [] and None for the numbers. Each dict also carries
    "probability_low"/"probability_high" (copies of low/high) so format_table shows the interval.
    """
    _check_rows(rows)
    scored: dict[str, dict[str, list[dict]]] = {}
    for index, row in enumerate(rows):
        if not _is_failed(row, index) and _number(row.get("normalized")) is not None:
            scored.setdefault(row["algo"], {}).setdefault(row["env_id"], []).append(row)
    algos = _first_appearance(row["algo"] for row in rows)
    envs_in_order = _first_appearance(row["env_id"] for row in rows)
    table = []
    for ours, baseline in pairs:
        for name in (ours, baseline):
            if name not in algos:
                raise ValueError(f"algorithm {name!r} has no runs; known algorithms: {algos}")
        ours_runs, their_runs = scored.get(ours, {}), scored.get(baseline, {})
        envs = [env for env in envs_in_order if env in ours_runs and env in their_runs]
        entry = {"ours": ours, "baseline": baseline, "envs": envs, "probability": None, "low": None, "high": None}
        if envs:
            entry.update(probability_of_improvement(_score_matrix(ours_runs, envs), _score_matrix(their_runs, envs),
                                                    reps=reps, seed=seed))
        entry.update(probability_low=entry["low"], probability_high=entry["high"])
        table.append(entry)
    return table


def performance_profile(normalized: dict[str, np.ndarray], taus: np.ndarray | None = None, reps: int = 2000,
                        seed: int = 0) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Score distributions (rliable's performance profiles): per algo the fraction of all runs x tasks with
    normalized score > tau, with its 95% stratified bootstrap band.

    Returns {algo: (taus, fraction, band)}: fraction has shape (len(taus),), band shape (2, len(taus)) with the
    lower bounds in row 0 and the upper in row 1 (rliable's layout). Each algo is bootstrapped with the same seed
    on its own, so its band does not depend on which other algorithms are in the dict.
    """
    _check_reps(reps)
    taus = DEFAULT_TAUS.copy() if taus is None else np.asarray(taus, dtype=float)
    if taus.ndim != 1 or taus.size == 0:
        raise ValueError(f"taus must be a non-empty 1-D array, got shape {taus.shape}")
    profiles = {}
    for algo, scores in normalized.items():
        matrix = _as_run_task_matrix(scores, f"normalized[{algo!r}]")
        with _seeded_global_rng(seed):
            fractions, bands = rly.create_performance_profile(
                {algo: matrix}, taus, reps=reps, confidence_interval_size=CONFIDENCE)
        profiles[algo] = (taus.copy(), np.asarray(fractions[algo], dtype=float),
                          np.asarray(bands[algo], dtype=float).reshape(2, taus.size))
    return profiles


# ------------------------------------------------------------------------------------------------ curve bands

def _interpolate_runs(xs_per_run, ys_per_run, grid: np.ndarray) -> np.ndarray:
    """(runs, len(grid)) with NaN where a run has no measurement: outside [first x, last x] of that run,
    because holding a value there would invent evaluations that never happened."""
    if len(xs_per_run) != len(ys_per_run):
        raise ValueError(f"{len(xs_per_run)} x arrays but {len(ys_per_run)} y arrays; need one of each per run")
    values = np.full((len(xs_per_run), grid.size), np.nan)
    for run, (xs, ys) in enumerate(zip(xs_per_run, ys_per_run)):
        xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
        if xs.shape != ys.shape or xs.ndim != 1:
            raise ValueError(f"run {run}: x and y must be 1-D arrays of the same length, got {xs.shape}, {ys.shape}")
        if xs.size == 0:
            continue
        if np.any(np.diff(xs) < 0):
            raise ValueError(f"run {run}: x values must be non-decreasing (np.interp needs them sorted)")
        values[run] = np.interp(grid, xs, ys, left=np.nan, right=np.nan)
    return values


def curve_band(xs_per_run: list[np.ndarray], ys_per_run: list[np.ndarray], grid: np.ndarray, reps: int = 500,
               seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """IQM across runs of learning curves measured at different x (env steps or seconds), with a 95% percentile
    bootstrap band over runs, at each point of `grid`.

    Each run is linearly interpolated onto the grid and is NaN outside its own measured x range; a grid point
    uses only the runs that cover it (one run: that value thrice; none: NaN). Grid points covered by the same
    runs share their resamples, so a band is smooth where the set of runs does not change. Uses its own
    np.random.default_rng(seed): curves are bootstrapped point-wise, which rliable's matrix API does not fit.
    """
    _check_reps(reps)
    grid = np.asarray(grid, dtype=float)
    if grid.ndim != 1:
        raise ValueError(f"grid must be 1-D, got shape {grid.shape}")
    values = _interpolate_runs(xs_per_run, ys_per_run, grid)
    iqm, low, high = (np.full(grid.size, np.nan) for _ in range(3))
    if values.size == 0:
        return iqm, low, high
    covered = np.isfinite(values)
    rng = np.random.default_rng(seed)
    patterns, first_column = np.unique(covered.T, axis=0, return_index=True)
    for pattern in patterns[np.argsort(first_column)]:  # a fixed order keeps the draws reproducible
        columns = np.flatnonzero(np.all(covered.T == pattern, axis=1))
        runs = np.flatnonzero(pattern)
        if runs.size == 0:
            continue
        block = values[np.ix_(runs, columns)]
        iqm[columns] = scipy.stats.trim_mean(block, 0.25, axis=0)
        if runs.size == 1:
            low[columns] = high[columns] = block[0]
            continue
        draws = rng.integers(0, runs.size, size=(reps, runs.size))
        # Chunk the columns so reps x runs x columns stays a few million floats.
        chunk = max(1, 4_000_000 // (reps * runs.size))
        for start in range(0, columns.size, chunk):
            part = block[:, start:start + chunk]
            resampled = scipy.stats.trim_mean(part[draws], 0.25, axis=1)
            alpha = 100 * (1 - CONFIDENCE) / 2
            low[columns[start:start + chunk]], high[columns[start:start + chunk]] = np.percentile(
                resampled, [alpha, 100 - alpha], axis=0)
    return iqm, low, high


# ---------------------------------------------------------------------------------------------------- tables

def _format_number(value) -> str:
    if value is None:
        return MISSING
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    value = float(value)
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value == 0:
        return "0"
    if abs(value) >= 1000:
        return f"{value:.0f}"  # returns in the thousands read better whole than as 1.23e+03
    if abs(value) < 0.001:
        return f"{value:.2e}"
    return f"{value:#.3g}".rstrip(".")  # '#' keeps 14.0 from becoming 14; drop a bare trailing point


def _format_cell(cell: dict, key: str) -> str:
    value = cell.get(key)
    if isinstance(value, (list, tuple)):
        text = ", ".join(str(item) for item in value) if value else MISSING
    elif isinstance(value, str):
        text = value
    else:
        text = _format_number(value)
        low, high = cell.get(f"{key}_low"), cell.get(f"{key}_high")
        if value is not None and low is not None and high is not None:
            text = f"{text} [{_format_number(low)}, {_format_number(high)}]"
    return text.replace("|", "\\|")


def format_table(cells: list[dict], columns: list[tuple[str, str]]) -> str:
    """A GitHub markdown table of `cells`, one column per (key, header). A key with "<key>_low" and
    "<key>_high" in the cell is shown with its interval, "12.3 [10.1, 14.0]"; None is shown as "–"."""
    if not columns:
        raise ValueError("format_table needs at least one (key, header) column")
    lines = ["| " + " | ".join(header.replace("|", "\\|") for _, header in columns) + " |",
             "| " + " | ".join("---" for _ in columns) + " |"]
    for cell in cells:
        lines.append("| " + " | ".join(_format_cell(cell, key) for key, _ in columns) + " |")
    return "\n".join(lines) + "\n"
