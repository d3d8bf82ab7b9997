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
    set = { "sb3:DQN" = { learning_starts = 500 } }   # optional --set overrides per algorithm

Built-in suites live in experiments/suite_files/ and are named by their file stem (`quick`, `classic`, `arcade`).
Deterministic algorithms (value iteration) run once, whatever the seed count.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from agents.vector_env import registered_id
from experiments.learners import learner_class, split_name
from experiments.runs import RunSpec

BUILTIN_DIR = Path(__file__).with_name("suite_files")
SUITE_KEYS = {"description", "seeds", "eval_every", "eval_episodes", "runs"}
ENTRY_KEYS = {"env", "steps", "algos", "env_kwargs", "eval_every", "eval_episodes", "set"}
DETERMINISTIC = {"ValueIteration"}


class SuiteError(ValueError):
    """An invalid suite; the message names the file, the entry and the field."""


@dataclass(frozen=True)
class SuiteRun:
    """One run of a suite: its spec and its folder, relative to the suite's output folder."""

    spec: RunSpec
    folder: str


@dataclass
class Suite:
    name: str
    path: Path
    text: str
    description: str
    seeds: int
    entries: list[dict]

    def runs(self, seeds: int | None = None) -> list[SuiteRun]:
        """Every run for `seeds` seeds (0..seeds-1; the suite's default when None), seed-major: the first
        seed of every cell comes first, so a suite stopped half-way has whole seeds to report."""
        count = self.seeds if seeds is None else seeds
        if count < 1:
            raise ValueError(f"--seeds must be >= 1, got {count}")
        runs = []
        for seed in range(count):
            for entry in self.entries:
                for algo in entry["algos"]:
                    if seed > 0 and algo in DETERMINISTIC:
                        continue
                    spec = RunSpec(algo=algo, env_id=entry["env"], steps=entry["steps"], seed=seed,
                                   device="cpu", overrides=dict(entry["set"].get(algo, {})),
                                   env_kwargs=dict(entry["env_kwargs"]), eval_every=entry["eval_every"],
                                   eval_episodes=entry["eval_episodes"])
                    runs.append(SuiteRun(spec, run_folder(spec)))
        return runs


def run_folder(spec: RunSpec) -> str:
    """env/algo/seed, e.g. CartPole-v1/sb3-PPO/s3 (mdparcade ids lose their prefix)."""
    return f"{spec.env_id.split('/')[-1]}/{spec.algo.replace(':', '-')}/s{spec.seed}"


def builtin_names() -> list[str]:
    return sorted(path.stem for path in BUILTIN_DIR.glob("*.toml"))


def find_suite(name_or_path: str | Path) -> Path:
    """A built-in suite's file by name, else the path itself; neither is a FileNotFoundError listing both."""
    path = Path(name_or_path)
    if path.suffix == ".toml" or path.exists():
        if not path.is_file():
            raise FileNotFoundError(f"suite file {path} does not exist")
        return path
    builtin = BUILTIN_DIR / f"{name_or_path}.toml"
    if builtin.is_file():
        return builtin
    raise FileNotFoundError(f"no suite {str(name_or_path)!r}: give a .toml path or one of the built-in suites "
                            f"{', '.join(builtin_names())}")


def load_suite(name_or_path: str | Path) -> Suite:
    path = find_suite(name_or_path)
    text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise SuiteError(f"suite {path}: not valid TOML: {err}") from err
    return parse_suite(data, path, text)


def parse_suite(data: dict, path: Path, text: str = "") -> Suite:
    where = f"suite {path}"
    unknown = sorted(set(data) - SUITE_KEYS)
    if unknown:
        raise SuiteError(f"{where}: unknown field(s) {unknown}; the fields are {sorted(SUITE_KEYS)}")
    seeds = _positive_int(data.get("seeds", 5), f"{where}: field 'seeds'")
    defaults = {"eval_every": _positive_int(data.get("eval_every", 10_000), f"{where}: field 'eval_every'"),
                "eval_episodes": _positive_int(data.get("eval_episodes", 10), f"{where}: field 'eval_episodes'")}
    entries = data.get("runs")
    if not isinstance(entries, list) or not entries:
        raise SuiteError(f"{where}: needs at least one [[runs]] entry")
    parsed = [_parse_entry(entry, f"{where}: runs[{index}]", defaults) for index, entry in enumerate(entries)]
    return Suite(path.stem, path, text, str(data.get("description", "")), seeds, parsed)


def _parse_entry(entry, where: str, defaults: dict) -> dict:
    if not isinstance(entry, dict):
        raise SuiteError(f"{where}: must be a table, got {entry!r}")
    unknown = sorted(set(entry) - ENTRY_KEYS)
    if unknown:
        raise SuiteError(f"{where}: unknown field(s) {unknown}; the fields are {sorted(ENTRY_KEYS)}")
    for key in ("env", "steps", "algos"):
        if key not in entry:
            raise SuiteError(f"{where}: missing field {key!r}")
    if not isinstance(entry["env"], str):
        raise SuiteError(f"{where}: field 'env' must be an env id string, got {entry['env']!r}")
    where = f"{where} (env {entry['env']!r})"
    try:
        env_id = registered_id(entry["env"])
    except ValueError as err:
        raise SuiteError(f"{where}: field 'env': {err}") from err
    steps = _positive_int(entry["steps"], f"{where}: field 'steps'")
    algos = entry["algos"]
    if not isinstance(algos, list) or not algos or not all(isinstance(a, str) for a in algos):
        raise SuiteError(f"{where}: field 'algos' must be a non-empty list of names, got {algos!r}")
    names = []
    for algo in algos:
        try:
            names.append(split_name(algo)[1])
        except ValueError as err:
            raise SuiteError(f"{where}: field 'algos': {err}") from err
    env_kwargs = entry.get("env_kwargs", {})
    if not isinstance(env_kwargs, dict):
        raise SuiteError(f"{where}: field 'env_kwargs' must be a table, got {env_kwargs!r}")
    settings = entry.get("set", {})
    if not isinstance(settings, dict):
        raise SuiteError(f"{where}: field 'set' must be a table of algorithm = {{key = value}}, got {settings!r}")
    typed = {}
    for algo, overrides in settings.items():
        try:
            name = split_name(algo)[1]
        except ValueError as err:
            raise SuiteError(f"{where}: field 'set': {err}") from err
        if name not in names:
            raise SuiteError(f"{where}: field 'set' names {algo!r}, which is not in this entry's algos {algos}")
        if not isinstance(overrides, dict):
            raise SuiteError(f"{where}: field 'set.{algo}' must be a table, got {overrides!r}")
        try:
            typed[name] = learner_class(name).check_overrides(name, overrides)
        except ValueError as err:
            raise SuiteError(f"{where}: field 'set.{algo}': {err}") from err
    return {"env": env_id, "steps": steps, "algos": names, "env_kwargs": env_kwargs, "set": typed,
            "eval_every": _positive_int(entry.get("eval_every", defaults["eval_every"]), f"{where}: field "
                                        "'eval_every'"),
            "eval_episodes": _positive_int(entry.get("eval_episodes", defaults["eval_episodes"]),
                                           f"{where}: field 'eval_episodes'")}


def _positive_int(value, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SuiteError(f"{where} must be a positive integer, got {value!r}")
    return value
