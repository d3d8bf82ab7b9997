"""Shared bits of the benchmark scripts: the machine line (from the runs' provenance) and fixed-width tables."""

from __future__ import annotations

from experiments.runs.provenance import machine_line  # noqa: F401  (every bench prints it)


def table(headers: list[str], rows: list[list]) -> str:
    """A plain text table; floats get 4 significant digits unless already strings."""
    cells = [[h for h in headers]] + [[_fmt(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths)))
             for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)
