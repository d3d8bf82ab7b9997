"""Every example of README.md and docs/**/*.md runs here. The conventions a page follows:

- Each ```python block is a test (id: page:line). A page's blocks run in order in one namespace (later blocks
  use earlier names), in a temporary working directory of the page's own, headless, with one torch thread.
- A ```text block right after a python block (only blank lines between) is its printed output: stdout must
  equal it line by line, trailing spaces ignored. `...` in an output line matches any text within that line;
  write timings (and other figures that change between runs) that way. A bare ``` right after a python
  block is an error: label output ```text, or put a sentence between the two blocks.
- An HTML comment on the line right before a fence marks the block: `<!-- skip: REASON -->` never runs it
  (it needs a window, a GPU, ...), `<!-- slow -->` runs it only under `pytest -m slow` (it takes more than
  about 10 s), `<!-- illustrative -->` shows shell commands that no test runs.
- Shell blocks (```bash, ```sh, ```console) are either illustrative or made only of ALLOWED_COMMANDS, which
  run here: in ```console blocks `$ ` starts a command and the lines up to the next `$ ` are its output,
  compared as above (a command shown without output must only exit 0; one whose output shows `error:` must
  fail). A new page cannot add an untested command silently: test_page_follows_the_conventions fails.
- Every fence names its language; other languages (```toml, ```json, ...) are shown, not run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from markdown_examples import (
    OUTPUT_LANG,
    ROOT,
    SHELL_LANGS,
    Fence,
    PageError,
    PageRun,
    check_output,
    command_words,
    pages,
    parse_page,
    run_command,
    run_python,
    shell_commands,
)


@dataclass(frozen=True)
class Allowed:
    pattern: str
    why: str  # why running it in the tests is cheap and safe
    max_steps: int | None = None  # for training commands: the most `--steps` a page may ask for
    requires: str | None = None  # an option the command must have


#: Commands a page may show without `<!-- illustrative -->`; the tests run each in a process of its own.
ALLOWED_COMMANDS = (
    Allowed(r"mdparcade( \w+)? --help", "prints the usage"),
    Allowed(r"mdparcade solve \S+( --?\S+( [^-]\S*)?)*", "exact planning on a small gridworld: under a second"),
    Allowed(r"mdparcade gallery( \w+)?( --plots \S+)?", "a gallery script, seconds (mark a longer one slow)"),
    Allowed(r"python -m experiments\.gallery\.\w+( \S+)?", "a gallery script run as a module"),
    Allowed(r"mdparcade train \S+ \S+( --?\S+( [^-]\S*)?)*", "a short training run", max_steps=50_000,
            requires="--steps"),
    Allowed(r"mdparcade watch \S+( --?\S+( [^-]\S*)?)*", "records a GIF headless", requires="--record"),
    Allowed(r"mdparcade play Pong", "an unknown id: the error comes before any window opens"),
)


def allowed(words: list[str]) -> Allowed | None:
    line = " ".join(words)
    for rule in ALLOWED_COMMANDS:
        if re.fullmatch(rule.pattern, line):
            if rule.requires is not None and rule.requires not in words[:-1]:
                continue
            if rule.max_steps is not None:
                steps = words[words.index("--steps") + 1]
                if not steps.isdigit() or int(steps) > rule.max_steps:
                    continue
            return rule
    return None


def page_problems(path: Path, text: str | None = None) -> list[str]:
    """What breaks the conventions on one page (empty when it follows them)."""
    try:
        fences = parse_page(path, text)
    except PageError as err:
        return [str(err)]
    problems = []
    for fence in fences:
        kind = fence.marker.kind if fence.marker else None
        if fence.lang == "":
            problems.append(f"{fence.where}: name the fence's language (```python, ```{OUTPUT_LANG}, ```console, "
                            "```bash, ...), so that no command or output escapes the tests")
        elif fence.lang in SHELL_LANGS:
            if kind == "illustrative":
                continue
            try:
                commands = shell_commands(fence)
            except PageError as err:
                problems.append(str(err))
                continue
            for command in commands:
                if kind != "skip" and allowed(command_words(command.text)) is None:
                    problems.append(f"{fence.where}: `{command.text}` is not in ALLOWED_COMMANDS "
                                    f"(tests/docs/test_docs_examples.py): mark the block <!-- illustrative -->")
        elif kind == "illustrative":
            problems.append(f"{fence.where}: <!-- illustrative --> is for shell blocks; use <!-- skip: REASON -->")
        elif kind is not None and fence.lang != "python":
            problems.append(f"{fence.where}: only python and shell blocks take a marker")
    return problems


# ---------------------------------------------------------------------------------------------------------
# Collection: one test per runnable block


def _runnable(fence: Fence) -> bool:
    if fence.lang == "python":
        return True
    return fence.lang in SHELL_LANGS and (fence.marker is None or fence.marker.kind != "illustrative")


def _collect() -> tuple[dict[Path, list[Fence]], list]:
    per_page, params = {}, []
    for path in pages():
        try:
            fences = [f for f in parse_page(path) if _runnable(f)]
        except PageError:
            continue  # test_page_follows_the_conventions reports it
        per_page[path] = fences
        for fence in fences:
            marks = []
            if fence.marker and fence.marker.kind == "skip":
                marks.append(pytest.mark.skip(reason=fence.marker.reason))
            elif fence.marker and fence.marker.kind == "slow":
                marks.append(pytest.mark.slow)
            params.append(pytest.param(fence, id=fence.where, marks=marks))
    return per_page, params


PAGE_BLOCKS, EXAMPLES = _collect()
_RUNS: dict[Path, PageRun] = {}
_WORKDIRS: dict[Path, Path] = {}


@pytest.mark.parametrize("path", pages(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_page_follows_the_conventions(path):
    problems = page_problems(path)
    assert not problems, "\n".join(problems)


def _run_block(fence: Fence, state: PageRun) -> None:
    if fence.lang == "python":
        printed = run_python(fence, state)
        if fence.output is not None:
            check_output(fence.where, fence.output.body, printed)
        return
    for command in shell_commands(fence):
        words = command_words(command.text)
        if allowed(words) is None:
            raise AssertionError(f"{fence.where}: `{command.text}` is not an allowed command")
        code, printed = run_command(words)
        expects_error = command.output is not None and "error:" in command.output
        if expects_error != (code != 0):
            raise AssertionError(f"{fence.where}: `{command.text}` exited with status {code}:\n{printed}")
        if command.output is not None and command.output.strip():
            check_output(f"{fence.where}: `{command.text}`", command.output, printed)


@pytest.mark.parametrize("fence", EXAMPLES)
def test_example(fence: Fence, tmp_path_factory, monkeypatch):
    """Runs the block after every earlier block of its page that has not run yet (a slow block's
    predecessors include slow ones; skipped blocks never run)."""
    path = fence.path
    if path not in _RUNS:
        _RUNS[path] = PageRun(path)
        _WORKDIRS[path] = tmp_path_factory.mktemp(re.sub(r"\W", "_", path.stem))
    state = _RUNS[path]
    monkeypatch.chdir(_WORKDIRS[path])
    include_slow = fence.marker is not None and fence.marker.kind == "slow"
    for earlier in PAGE_BLOCKS[path]:
        if earlier.line >= fence.line:
            break
        kind = earlier.marker.kind if earlier.marker else None
        if earlier.line in state.done or kind == "skip" or (kind == "slow" and not include_slow):
            continue
        _run_tracked(earlier, state)
        if earlier.line in state.failed:
            pytest.fail(f"an earlier block of the page failed, {earlier.where}: {state.failed[earlier.line]}")
    if fence.line in state.done:
        if fence.line in state.failed:
            pytest.fail(state.failed[fence.line])
        return
    _run_tracked(fence, state, reraise=True)


def _run_tracked(fence: Fence, state: PageRun, reraise: bool = False) -> None:
    state.done.add(fence.line)
    try:
        _run_block(fence, state)
    except BaseException as err:
        state.failed[fence.line] = f"{type(err).__name__}: {err}"
        if reraise:
            raise


# ---------------------------------------------------------------------------------------------------------
# The checks themselves are checked: a changed number fails, and the conventions are enforced.


def _first_example_with_output(path: Path) -> Fence:
    return next(f for f in parse_page(path) if f.lang == "python" and f.output is not None
                and f.marker is None and re.search(r"\d", f.output.body))


def test_a_changed_number_in_a_page_fails(tmp_path):
    """Take a real page's first python example with printed output, change one digit of the output, and
    the comparison fails; the untouched page passes."""
    page = ROOT / "docs" / "environments.md"
    fence = _first_example_with_output(page)
    state = PageRun(page)
    printed = run_python(fence, state)
    check_output(fence.where, fence.output.body, printed)
    digit = re.search(r"\d", fence.output.body)
    changed = str((int(digit.group()) + 1) % 10)
    broken = fence.output.body[:digit.start()] + changed + fence.output.body[digit.end():]
    with pytest.raises(AssertionError, match="differs from the page"):
        check_output(fence.where, broken, printed)


def test_the_collector_checks_printed_output(tmp_path):
    page = tmp_path / "page.md"
    text = ("# A page\n\n```python\nx = 6 * 7\nprint('answer', x)\nprint('took 0.1234 s')\n```\n\n"
            f"```{OUTPUT_LANG}\nanswer 42\ntook ... s\n```\n\nLater blocks see earlier names:\n\n"
            f"```python\nprint(x + 1)\n```\n```{OUTPUT_LANG}\n43\n```\n")
    first, second = (f for f in parse_page(page, text) if f.lang == "python")
    state = PageRun(page)
    check_output(first.where, first.output.body, run_python(first, state))
    check_output(second.where, second.output.body, run_python(second, state))
    wrong = text.replace("answer 42", "answer 43")
    first = next(f for f in parse_page(page, wrong) if f.lang == "python")
    with pytest.raises(AssertionError, match="differs from the page"):
        check_output(first.where, first.output.body, run_python(first, PageRun(page)))
    with pytest.raises(AssertionError):  # `...` stays within its line
        check_output("x", "a ...", "a b\nc")


def test_a_changed_number_in_a_console_block_fails(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    command = "mdparcade solve CliffWalking --method pi --gamma 0.9"
    code, printed = run_command(command_words(command))
    shown = re.sub(r"wall time .*", "wall time           ... s", printed)
    assert code == 0 and "iterations          15\n" in shown
    fence = Fence(tmp_path / "page.md", 1, "console", f"$ {command}\n{shown}")
    _run_block(fence, PageRun(fence.path))
    fence.body = f"$ {command}\n" + shown.replace("iterations          15", "iterations          16")
    with pytest.raises(AssertionError, match="differs from the page"):
        _run_block(fence, PageRun(fence.path))


@pytest.mark.parametrize("text, problem", [
    ("```bash\nrm -rf /\n```\n", "not in ALLOWED_COMMANDS"),
    ("```console\n$ mdparcade train PPO Catch --steps 1000000\n```\n", "not in ALLOWED_COMMANDS"),
    ("```python\nprint(1)\n```\n```\n1\n```\n", "label it ```text"),
    ("<!-- slow -->\n\n```python\nprint(1)\n```\n", "not on the line right before a fence"),
    ("<!-- skip -->\n```python\nprint(1)\n```\n", "needs its reason"),
    ("<!-- illustrative -->\n```python\nprint(1)\n```\n", "for shell blocks"),
    ("```console\nmdparcade --help\n```\n", "`$ `"),
    ("```\n$ mdparcade train PPO Breakout --steps 10000000\n```\n", "name the fence's language"),
])
def test_conventions_are_enforced(tmp_path, text, problem):
    problems = page_problems(tmp_path / "page.md", text)
    assert any(problem in p for p in problems), problems


def test_marked_blocks_are_left_alone(tmp_path):
    text = ("<!-- illustrative -->\n```bash\nmake bench-agents\n```\n\n<!-- skip: needs a window -->\n"
            "```python\nraise SystemExit('never runs')\n```\n\n<!-- slow: a minute -->\n```python\nx = 1\n```\n")
    assert page_problems(tmp_path / "page.md", text) == []
    kinds = [f.marker.kind for f in parse_page(tmp_path / "page.md", text)]
    assert kinds == ["illustrative", "skip", "slow"]
