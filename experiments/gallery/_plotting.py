"""Headless figure helpers shared by the gallery scripts (matplotlib's Agg canvas, no pyplot, no display).

Scripts call `new_figure`, draw on the axes, then `save_figure(fig, plot_dir, name)`. matplotlib is imported
only when a figure is made, so the scripts run without it when no plot is asked for.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np


def new_figure(ncols: int = 1, nrows: int = 1, panel_size: tuple[float, float] = (4.0, 3.5)):
    """A Figure on an Agg canvas and its axes: a single Axes for 1x1, else an (nrows, ncols) array flattened."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(panel_size[0] * ncols, panel_size[1] * nrows), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, axes[0, 0] if axes.size == 1 else np.ravel(axes)


def save_figure(fig, plot_dir: str | Path, name: str) -> Path:
    """Write `<plot_dir>/<name>.png` (creating plot_dir) and print where it went."""
    path = Path(plot_dir) / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    print(f"plot: {path}")
    return path


def plot_dir_from_argv() -> str | None:
    """`python -m experiments.gallery.<name> [PLOT_DIR]`: the optional first argument."""
    return sys.argv[1] if len(sys.argv) > 1 else None
