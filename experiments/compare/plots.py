"""Figures for `mdparcade compare` / `mdparcade report`: learning curves with IQM bands and performance profiles,
written atomically as PNG.

Figures are built as bare `matplotlib.figure.Figure` objects on an Agg canvas, never through pyplot, so nothing
here opens a window, switches the caller's backend or leaves a figure registered in pyplot's global list.
Identical input gives identical bytes: PNG metadata is limited to nothing that varies (no Software/version).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from experiments.compare import stats
from experiments.learners.registry import base_algorithm, is_baseline
from nets.checkpoint import write_atomic

DPI = 110
GRID_POINTS = 200
# No "Software" entry (it names the matplotlib version), so a re-render on another install gives the same bytes.
PNG_METADATA = {"Software": None}


def _styles(algos: list[str]) -> dict[str, dict]:
    """Colour per algorithm family ("PPO" and "sb3:PPO" share one), solid for ours, dashed for stable-baselines3."""
    families = list(dict.fromkeys(base_algorithm(algo) for algo in algos))
    palette = [f"C{i % 10}" for i in range(len(families))]
    colour = dict(zip(families, palette))
    return {algo: {"color": colour[base_algorithm(algo)], "linestyle": "--" if is_baseline(algo) else "-"}
            for algo in algos}


def _save(fig: Figure, path: str | os.PathLike) -> Path:
    FigureCanvasAgg(fig)
    try:
        return write_atomic(path, lambda handle: fig.savefig(handle, format="png", dpi=DPI, metadata=PNG_METADATA))
    finally:
        fig.clear()  # drop the artists now rather than waiting for the garbage collector


def _band(ax, x, centre, low, high, style: dict, label: str) -> None:
    ax.plot(x, centre, label=label, linewidth=1.6, **style)
    finite = np.isfinite(low) & np.isfinite(high)
    ax.fill_between(x, np.where(finite, low, 0.0), np.where(finite, high, 0.0), where=finite,
                    color=style["color"], alpha=0.18, linewidth=0)


def _grid(runs: list[tuple[np.ndarray, np.ndarray, np.ndarray]], column: int) -> np.ndarray:
    xs = [np.asarray(run[column], dtype=float) for run in runs if len(run[column])]
    if not xs:
        return np.zeros(0)
    return np.linspace(min(x[0] for x in xs), max(x[-1] for x in xs), GRID_POINTS)


def learning_curves(curves: dict[str, dict[str, list[tuple[np.ndarray, np.ndarray, np.ndarray]]]],
                    path: str | os.PathLike, title: str = "") -> Path:
    """One row per env, evaluation return against env steps (left) and wall-clock seconds (right): per algo the
    IQM over runs and its 95% bootstrap band (stats.curve_band).

    `curves[env_id][algo]` is a list of runs, each (steps, seconds, eval_returns) arrays of the same length.
    """
    if not curves:
        raise ValueError("learning_curves needs at least one env in `curves`")
    algos = list(dict.fromkeys(algo for per_algo in curves.values() for algo in per_algo))
    styles = _styles(algos)
    fig = Figure(figsize=(11, 3.4 * len(curves) + (0.4 if title else 0)), layout="constrained")
    axes = fig.subplots(len(curves), 2, squeeze=False)
    for row, (env_id, per_algo) in enumerate(curves.items()):
        for column, xlabel in ((0, "env steps"), (1, "wall-clock seconds")):
            ax = axes[row, column]
            all_runs = [run for runs in per_algo.values() for run in runs]
            grid = _grid(all_runs, column)
            for algo, runs in per_algo.items():
                if not runs or grid.size == 0:
                    continue
                iqm, low, high = stats.curve_band([run[column] for run in runs], [run[2] for run in runs], grid)
                _band(ax, grid, iqm, low, high, styles[algo], f"{algo} (n={len(runs)})")
            ax.set_title(env_id, fontsize=10)
            ax.set_xlabel(xlabel)
            ax.set_ylabel("eval return (IQM, 95% CI)")
            ax.grid(alpha=0.3)
            if ax.get_legend_handles_labels()[0]:
                ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    return _save(fig, path)


def performance_profiles(profiles: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]], path: str | os.PathLike,
                         title: str = "") -> Path:
    """Score distributions from stats.performance_profile ({algo: (taus, fraction, band (2, len(taus)))}): the
    fraction of runs with normalized score > tau against tau, each with its 95% band."""
    if not profiles:
        raise ValueError("performance_profiles needs at least one algorithm in `profiles`")
    styles = _styles(list(profiles))
    fig = Figure(figsize=(6.4, 4.4), layout="constrained")
    ax = fig.subplots()
    for algo, (taus, fraction, band) in profiles.items():
        band = np.asarray(band, dtype=float)
        _band(ax, np.asarray(taus, dtype=float), np.asarray(fraction, dtype=float), band[0], band[1], styles[algo],
              algo)
    ax.set_xlabel("normalized score τ")
    ax.set_ylabel("fraction of runs with score > τ")
    ax.set_ylim(-0.02, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    return _save(fig, path)
