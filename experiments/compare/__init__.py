"""Comparisons: suites (TOML) of envs x algorithms x seeds, their execution on a local process pool or Ray,
statistics (rliable), the report and its plots, all read from the run folders alone."""

from pathlib import Path

#: The built-in suites, named by their file stem (`quick`, `classic`, ...).
BUILTIN_DIR = Path(__file__).with_name("suite_files")


def builtin_names() -> list[str]:
    return sorted(path.stem for path in BUILTIN_DIR.glob("*.toml"))
