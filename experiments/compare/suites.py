"""Comparison suites: small TOML files of envs x algorithms x step budgets, checked before anything runs.

A suite file::

    description = "CartPole, ours against stable-baselines3"
    seeds = 3                  # default for --seeds
    eval_every = 5000          # env steps between evaluations (default 10000)
    eval_episodes = 10         # episodes per evaluation (default 10)

    [[runs]]
    env = "CartPole-v1"        # an mdparcade id (Catch, mdparcade/FrozenLake8x8-v0) or a Gymnasium id
    steps = 50000
    algos = ["PPO", "sb3:PPO", "DQN", "sb3:DQN"]
    env_kwargs = {}            # optional, for gym.make
    eval_every = 5000          # optional, overrides the suite's
    set = { "sb3:DQN" = { learning_starts = 500 } }   # optional overrides per algorithm

Built-in suites live in experiments/compare/suite_files/ and are named by their file stem (`quick`, `classic`,
`arcade`). Deterministic algorithms (value iteration) run once, whatever the seed count. Entries that differ in
`env_kwargs` or `set` get distinct folders (and report rows); two entries that would train the same runs are
refused, naming both.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from envs import resolve_env_id
from experiments.compare import BUILTIN_DIR, builtin_names
from experiments.learners.overrides import check_keys
from experiments.learners.registry import DETERMINISTIC, learner_class, resolve_algorithm
from experiments.runs.spec import RunSpec, check_env_kwargs, folder_tag

SUITE_KEYS = ("description", "seeds", "eval_every", "eval_episodes", "runs")
ENTRY_KEYS = ("env", "steps", "algos", "env_kwargs", "eval_every", "eval_episodes", "set")


class SuiteError(ValueError):
    """An invalid suite; the message names the file, the entry and the field."""


@dataclass(frozen=True)
class SuiteEntry:
    """One [[runs]] entry, checked: its algorithms' canonical names and their typed overrides."""

    env: str
    steps: int
    algos: tuple[str, ...]
    env_kwargs: dict
    overrides: dict  # algo -> {key: value}
    eval_every: int
    eval_episodes: int


@dataclass(frozen=True)
class SuiteRun:
    """One run of a suite: its spec and its folder, relative to the suite's output folder."""

    spec: RunSpec
    folder: str


@dataclass(frozen=True)
class Suite:
    name: str
    path: Path
    text: str
    description: str
    seeds: int
    entries: tuple[SuiteEntry, ...]

    def runs(self, seeds: int | None = None) -> list[SuiteRun]:
        """Every run for `seeds` seeds (0..seeds-1; the suite's default when None), seed-major: the first
        seed of every cell comes first, so a suite stopped half-way has whole seeds to report."""
        count = self.seeds if seeds is None else seeds
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ValueError(f"--seeds must be >= 1, got {count}")
        runs = []
        for seed in range(count):
            for entry in self.entries:
                for algo in entry.algos:
                    if seed > 0 and algo in DETERMINISTIC:
                        continue
                    spec = RunSpec(algo=algo, env_id=entry.env, steps=entry.steps, seed=seed, device="cpu",
                                   overrides=dict(entry.overrides.get(algo, {})), env_kwargs=dict(entry.env_kwargs),
                                   eval_every=entry.eval_every, eval_episodes=entry.eval_episodes)
                    runs.append(SuiteRun(spec, run_folder(spec.env_id, spec.env_kwargs, algo, spec.overrides, seed)))
        return runs


def run_folder(env_id: str, env_kwargs: dict, algo: str, overrides: dict, seed: int) -> str:
    """env/algo/seed, e.g. CartPole-v1/sb3-PPO/s3 (mdparcade ids lose their prefix); env kwargs and overrides
    add a tag, e.g. GridWorld-v0[map=FourRooms]/PPO[n_epochs=10]/s0."""
    env = env_id.split("/")[-1] + (f"[{folder_tag(env_kwargs)}]" if env_kwargs else "")
    algo = algo.replace(":", "-") + (f"[{folder_tag(overrides)}]" if overrides else "")
    return f"{env}/{algo}/s{seed}"


def find_suite(name_or_path: str | Path) -> Path:
    """An existing file, else a built-in suite by name (even beside a folder of that name); neither is a
    FileNotFoundError that says what was found instead, or lists the built-in suites."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    builtin = BUILTIN_DIR / f"{name_or_path}.toml"
    if path.suffix != ".toml" and builtin.is_file():  # a built-in name, even beside a folder of that name
        return builtin
    if path.suffix == ".toml" or path.exists():
        kind = "is a folder, not a suite file" if path.is_dir() else "does not exist"
        raise FileNotFoundError(f"suite file {path} {kind}")
    raise FileNotFoundError(f"no suite {str(name_or_path)!r}: give a .toml path or one of the built-in suites "
                            f"{', '.join(builtin_names())}")


def load_suite(name_or_path: str | Path) -> Suite:
    path = find_suite(name_or_path)
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise SuiteError(f"suite {path}: not valid TOML: {err}") from err
    return parse_suite(data, path, text)


def suite_description(text: str) -> str:
    """The description of a suite's TOML text ('' when it has none or the text is not TOML)."""
    try:
        description = tomllib.loads(text).get("description", "")
    except tomllib.TOMLDecodeError:
        return ""
    return description if isinstance(description, str) else ""


def parse_suite(data: dict, path: Path, text: str = "") -> Suite:
    where = f"suite {path}"
    _check_fields(data, SUITE_KEYS, where)
    seeds = _positive_int(data.get("seeds", 5), f"{where}: field 'seeds'")
    defaults = {"eval_every": _positive_int(data.get("eval_every", 10_000), f"{where}: field 'eval_every'"),
                "eval_episodes": _positive_int(data.get("eval_episodes", 10), f"{where}: field 'eval_episodes'")}
    entries = data.get("runs")
    if not isinstance(entries, list) or not entries:
        raise SuiteError(f"{where}: needs at least one [[runs]] entry")
    parsed = tuple(_parse_entry(entry, f"{where}: runs[{index}]", defaults) for index, entry in enumerate(entries))
    _check_collisions(parsed, where)
    description = data.get("description", "")
    if not isinstance(description, str):
        raise SuiteError(f"{where}: field 'description' must be a string, got {description!r}")
    return Suite(path.stem, path, text, description, seeds, parsed)


def _check_fields(table: dict, known: tuple[str, ...], where: str) -> None:
    try:
        check_keys(table, known, "field")
    except ValueError as err:
        raise SuiteError(f"{where}: {err}") from None


def _parse_entry(entry, where: str, defaults: dict) -> SuiteEntry:
    if not isinstance(entry, dict):
        raise SuiteError(f"{where}: must be a table, got {entry!r}")
    _check_fields(entry, ENTRY_KEYS, where)
    for key in ("env", "steps", "algos"):
        if key not in entry:
            raise SuiteError(f"{where}: missing field {key!r}")
    if not isinstance(entry["env"], str):
        raise SuiteError(f"{where}: field 'env' must be an env id string, got {entry['env']!r}")
    where = f"{where} (env {entry['env']!r})"
    algos = entry["algos"]
    if not isinstance(algos, list) or not algos or not all(isinstance(a, str) for a in algos):
        raise SuiteError(f"{where}: field 'algos' must be a non-empty list of names, got {algos!r}")
    names = []
    for algo in algos:
        try:
            names.append(resolve_algorithm(algo)[1])
        except ValueError as err:
            raise SuiteError(f"{where}: field 'algos': {err}") from err
    if len(set(names)) != len(names):
        raise SuiteError(f"{where}: field 'algos' names an algorithm twice: {algos}")
    env_kwargs = entry.get("env_kwargs", {})
    if not isinstance(env_kwargs, dict):
        raise SuiteError(f"{where}: field 'env_kwargs' must be a table, got {env_kwargs!r}")
    settings = entry.get("set", {})
    if not isinstance(settings, dict):
        raise SuiteError(f"{where}: field 'set' must be a table of algorithm = {{key = value}}, got {settings!r}")
    overrides = {}
    for algo, values in settings.items():
        try:
            name = resolve_algorithm(algo)[1]
        except ValueError as err:
            raise SuiteError(f"{where}: field 'set': {err}") from err
        if name not in names:
            raise SuiteError(f"{where}: field 'set' names {algo!r}, which is not in this entry's algos {algos}")
        if not isinstance(values, dict):
            raise SuiteError(f"{where}: field 'set.{algo}' must be a table, got {values!r}")
        overrides[name] = values
    try:
        env_id = resolve_env_id(entry["env"])
    except ValueError as err:
        raise SuiteError(f"{where}: field 'env': {err}") from err
    typed = {}
    for name, values in overrides.items():
        try:
            typed[name] = learner_class(name).check_overrides(name, values, env_id)
        except ValueError as err:
            raise SuiteError(f"{where}: field 'set.{name}': {err}") from err
    try:
        check_env_kwargs(env_id, env_kwargs)
    except ValueError as err:
        raise SuiteError(f"{where}: field 'env_kwargs': {err}") from err
    return SuiteEntry(env_id, _positive_int(entry["steps"], f"{where}: field 'steps'"), tuple(names), dict(env_kwargs),
                      {name: values for name, values in typed.items() if values},
                      _positive_int(entry.get("eval_every", defaults["eval_every"]), f"{where}: field 'eval_every'"),
                      _positive_int(entry.get("eval_episodes", defaults["eval_episodes"]),
                                    f"{where}: field 'eval_episodes'"))


def _check_collisions(entries: tuple[SuiteEntry, ...], where: str) -> None:
    """Two entries that would write the same run folder are refused, naming both."""
    seen: dict[str, int] = {}
    for index, entry in enumerate(entries):
        for algo in entry.algos:
            folder = run_folder(entry.env, entry.env_kwargs, algo, entry.overrides.get(algo, {}), 0)
            if folder in seen:
                raise SuiteError(f"{where}: runs[{seen[folder]}] and runs[{index}] both train {algo} on {entry.env} "
                                 f"with the same env_kwargs and set (folder {folder.rsplit('/', 1)[0]}); merge them "
                                 "or give them different settings")
            seen[folder] = index


def _positive_int(value, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SuiteError(f"{where} must be a positive integer, got {value!r}")
    return value
