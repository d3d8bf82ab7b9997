"""The concept gallery: one short runnable script per concept of the ML notes, each printing what it shows.

Run `mdparcade gallery` to list the scripts and `mdparcade gallery NAME [--plots DIR]` to run one.

Conventions for adding a script (discovery is automatic, there is no list to edit):

- The script is `experiments/gallery/<name>.py`, `<name>` in snake_case. Modules whose name starts with an
  underscore (`_plotting.py`) are helpers, not scripts.
- Its module docstring's first line is `<Concept>: <one-line claim>`, e.g.
  `Perceptron: the perceptron rule reaches 0 training errors on separable data, never on XOR.`
  The listing shows that line; the rest of the docstring explains.
- It defines `main(plot_dir: str | None = None) -> dict`, which prints a few lines and returns the numbers
  that back the claim (plain floats, ints, bools, lists or nested dicts of them). When `plot_dir` is given it
  also writes a PNG there, using matplotlib's Agg canvas (`_plotting.new_figure` / `_plotting.save_figure`),
  never pyplot's global state or a display.
- It runs headless on CPU in a few seconds; call `torch.set_num_threads(1)` inside `main` if it uses torch,
  and seed everything so the returned numbers are deterministic.
- It ends with `if __name__ == "__main__": main(plot_dir=plot_dir_from_argv())`, so
  `python -m experiments.gallery.<name> [PLOT_DIR]` works too.
- A test runs `main()` and asserts the claim on the returned numbers (not merely that it ran):
  tests/experiments/test_gallery_*.py. Add a row for the script to a table in docs/gallery.md.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

GALLERY_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class GalleryScript:
    """One gallery entry: `name` (module name), `concept` and `claim` (the two halves of the docstring's first
    line) and `path` (the script file)."""

    name: str
    concept: str
    claim: str
    path: Path

    @property
    def module_name(self) -> str:
        return f"{__name__}.{self.name}"


def _first_docstring_line(path: Path) -> str:
    # Read the docstring from the source, so listing the gallery does not import torch for every script.
    docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    return docstring.strip().splitlines()[0] if docstring.strip() else ""


def list_scripts() -> list[GalleryScript]:
    """Every gallery script, sorted by name. A script whose first docstring line lacks ': ' is listed with
    the whole line as its concept and an empty claim."""
    scripts = []
    for info in pkgutil.iter_modules([str(GALLERY_DIR)]):
        if info.name.startswith("_") or info.ispkg:
            continue
        path = GALLERY_DIR / f"{info.name}.py"
        concept, _, claim = _first_docstring_line(path).partition(": ")
        scripts.append(GalleryScript(info.name, concept.strip(), claim.strip(), path))
    return sorted(scripts, key=lambda script: script.name)


def script_names() -> list[str]:
    return [script.name for script in list_scripts()]


def load_script(name: str) -> ModuleType:
    """Import the gallery script `name`; ValueError naming the known scripts if there is none."""
    names = script_names()
    if name not in names:
        raise ValueError(f"no gallery script {name!r}; known scripts: {', '.join(names)}")
    return importlib.import_module(f"{__name__}.{name}")


def run_script(name: str, plot_dir: str | None = None) -> dict:
    """Run the script's `main(plot_dir)` and return its numbers. plot_dir is created if missing."""
    module = load_script(name)
    if plot_dir is not None:
        Path(plot_dir).mkdir(parents=True, exist_ok=True)
    return module.main(plot_dir=plot_dir)


def format_listing(scripts: list[GalleryScript] | None = None) -> str:
    """The listing `mdparcade gallery` prints: one line per script, name, concept and claim."""
    scripts = list_scripts() if scripts is None else scripts
    width = max((len(script.name) for script in scripts), default=0)
    lines = []
    for script in scripts:
        text = f"{script.concept}: {script.claim}" if script.claim else script.concept
        lines.append(f"{script.name:<{width}}  {text}")
    return "\n".join(lines)
