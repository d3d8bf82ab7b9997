"""Finds the code examples of the markdown pages (README.md, docs/**/*.md) and runs them; used by
test_docs_examples.py, whose docstring states the conventions a page follows.

Only fences that open at the start of a line count (``` or ~~~, three or more). The HTML comment on the
line right before a fence is its marker; an HTML comment that looks like a marker anywhere else is an error,
so a marker cannot silently drift away from its block.
"""

from __future__ import annotations

import contextlib
import difflib
import io
import os
import re
import shlex
import subprocess
import sys
import types
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SHELL_LANGS = {"bash", "sh", "shell", "console", "shell-session"}
OUTPUT_LANG = "text"
ELLIPSIS = "..."

_FENCE_OPEN = re.compile(r"^(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`]*)$")
_MARKER = re.compile(r"^<!--\s*(?P<kind>skip|slow|illustrative)\s*(?::\s*(?P<reason>.*?))?\s*-->\s*$")
_MARKER_LIKE = re.compile(r"<!--\s*(skip|slow|illustrative)\b")


class PageError(ValueError):
    """A page breaks the conventions (an unlabelled output block, a marker without its fence, ...)."""


@dataclass(frozen=True)
class Marker:
    kind: str  # "skip", "slow" or "illustrative"
    reason: str


@dataclass
class Fence:
    """One fenced block: `line` is the 1-based line of its opening fence, `lang` the first word of its info
    string ("" for none), `output` the ```text fence that shows a python block's printed output."""

    path: Path
    line: int
    lang: str
    body: str
    marker: Marker | None = None
    output: Fence | None = None

    @property
    def where(self) -> str:
        return f"{_name(self.path)}:{self.line}"


def _name(path: Path) -> str:
    """The page's path from the repository root (its file name for a page elsewhere)."""
    try:
        return path.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return path.name


def parse_page(path: Path, text: str | None = None) -> list[Fence]:
    """Every fenced block of a page, in order, with its marker and (for python) its output block."""
    lines = (path.read_text(encoding="utf-8") if text is None else text).splitlines()
    fences: list[Fence] = []
    pending: tuple[Marker, int] | None = None
    i = 0
    while i < len(lines):
        line = lines[i]
        opening = _FENCE_OPEN.match(line)
        if opening is None:
            marker = _MARKER.match(line.strip())
            if pending is not None:
                raise PageError(f"{_name(path)}:{pending[1]}: the marker is not on the line right before a fence")
            if marker is not None:
                kind, reason = marker["kind"], (marker["reason"] or "").strip()
                if kind == "skip" and not reason:
                    raise PageError(f"{_name(path)}:{i + 1}: `<!-- skip: REASON -->` needs its reason")
                pending = (Marker(kind, reason), i + 1)
            elif _MARKER_LIKE.search(re.sub(r"`+[^`]*`+", "", line)):  # not in inline code
                raise PageError(f"{_name(path)}:{i + 1}: a marker must be alone on its line: {line.strip()}")
            i += 1
            continue
        fence, info = opening["fence"], opening["info"].strip()
        end = i + 1
        while end < len(lines) and not re.match(rf"^{re.escape(fence[0])}{{{len(fence)},}}\s*$", lines[end]):
            end += 1
        if end == len(lines):
            raise PageError(f"{_name(path)}:{i + 1}: the fence is never closed")
        lang = info.split()[0].lower() if info else ""
        marker = pending[0] if pending is not None else None
        pending = None
        fences.append(Fence(path, i + 1, lang, "".join(f"{body}\n" for body in lines[i + 1:end]), marker))
        i = end + 1
    if pending is not None:
        raise PageError(f"{_name(path)}:{pending[1]}: the marker is not on the line right before a fence")
    _attach_outputs(fences, lines)
    return fences


def _attach_outputs(fences: list[Fence], lines: list[str]) -> None:
    """A python block's output block is the next fence when only blank lines separate the two."""
    for block, after in zip(fences, fences[1:]):
        if block.lang != "python":
            continue
        closing = block.line + block.body.count("\n")  # 0-based index of the closing fence
        if any(lines[k].strip() for k in range(closing + 1, after.line - 1)):
            continue
        if after.lang == OUTPUT_LANG:
            if after.marker is not None:
                raise PageError(f"{after.where}: mark the python block, not its output")
            block.output = after
        elif after.lang == "":
            raise PageError(f"{after.where}: a fence right after a python block is its output: label it "
                            f"```{OUTPUT_LANG}, or put a sentence between the two blocks")


def pages(root: Path = ROOT) -> list[Path]:
    """README.md and every page under docs/, in a stable order."""
    found = [root / "README.md"] if (root / "README.md").exists() else []
    return found + sorted((root / "docs").rglob("*.md"))


# ---------------------------------------------------------------------------------------------------------
# Comparing printed output with the page


def _line_pattern(expected: str) -> re.Pattern[str]:
    return re.compile(".*?".join(re.escape(part) for part in expected.split(ELLIPSIS)) + r"\Z")


def _clean(text: str) -> list[str]:
    lines = [line.rstrip() for line in text.rstrip("\n").splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def output_matches(expected: str, actual: str) -> bool:
    """Line by line, trailing spaces ignored; `...` in an expected line matches any text within that line."""
    want, got = _clean(expected), _clean(actual)
    return len(want) == len(got) and all(_line_pattern(w).match(g) for w, g in zip(want, got))


def check_output(where: str, expected: str, actual: str) -> None:
    if not output_matches(expected, actual):
        diff = "\n".join(difflib.unified_diff(_clean(expected), _clean(actual), "the page", "printed now",
                                              lineterm=""))
        raise AssertionError(f"{where}: the printed output differs from the page ('...' matches anything "
                             f"within a line):\n{diff}")


# ---------------------------------------------------------------------------------------------------------
# Running python blocks


@dataclass
class PageRun:
    """The shared state of one page's python blocks: one module namespace, run in order."""

    path: Path
    module: types.ModuleType = field(init=False)
    done: set[int] = field(default_factory=set)  # lines of the blocks already run
    failed: dict[int, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        name = "docs_example_" + re.sub(r"\W", "_", self.path.stem)
        self.module = types.ModuleType(name)
        self.module.__file__ = str(self.path)


def run_python(block: Fence, state: PageRun) -> str:
    """Runs one block in the page's namespace; returns what it printed."""
    code = compile(block.body, block.where, "exec")
    buffer = io.StringIO()
    sys.modules[state.module.__name__] = state.module  # dataclasses and pickling look classes up there
    try:
        with contextlib.redirect_stdout(buffer):
            exec(code, state.module.__dict__)
    finally:
        sys.modules.pop(state.module.__name__, None)
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------------------
# Shell blocks


@dataclass(frozen=True)
class Command:
    text: str
    output: str | None  # the lines a console block shows after the command; None where it shows none


def shell_commands(block: Fence) -> list[Command]:
    """Console blocks: `$ ` lines are commands, the lines up to the next `$ ` their output. Other shell
    blocks: every line that is not blank or a comment is a command (a trailing `\\` continues it)."""
    raw = block.body.splitlines()
    commands: list[Command] = []
    if block.lang in {"console", "shell-session"}:
        if not any(line.startswith("$ ") for line in raw):
            raise PageError(f"{block.where}: a console block needs `$ ` before each command")
        if not raw[0].startswith("$ "):
            raise PageError(f"{block.where}: a console block starts with a `$ ` command line")
        current, output = None, []
        for line in raw + ["$ "]:
            if line.startswith("$ "):
                if current is not None:
                    commands.append(Command(current, "\n".join(output)))
                current, output = line[2:].strip(), []
            else:
                output.append(line)
        return [c for c in commands if c.text]
    joined = "\n".join(raw).replace("\\\n", " ")
    for line in joined.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            commands.append(Command(stripped, None))
    return commands


def command_words(command: str) -> list[str]:
    """The command's words, its trailing `# comment` dropped."""
    return shlex.split(command, comments=True)


def run_command(words: list[str]) -> tuple[int, str]:
    """Runs an allowed command in a process of its own, as a user's shell would (stdout and stderr together);
    returns (exit status, output). `mdparcade ARGS` is `python -m experiments.cli ARGS` (what the console
    script runs); `python -m MODULE ARGS` runs with this interpreter. A fresh process per command is the point:
    a command that works only because an earlier one imported something fails here."""
    if words[0] == "mdparcade":
        argv = [sys.executable, "-m", "experiments.cli", *words[1:]]
    elif words[:2] == ["python", "-m"]:
        argv = [sys.executable, *words[1:]]
    else:
        raise ValueError(f"cannot run {words[0]!r}")
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy", "OMP_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, timeout=600)
    return done.returncode, done.stdout
