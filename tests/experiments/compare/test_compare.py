"""`mdparcade compare` and `report`: suites checked before they run, every run in its own folder, failures
recorded while the suite completes, re-runs that repeat nothing finished, the same artifacts from both
backends, and reports rebuilt identically from the folders alone."""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from experiments.cli import main
from experiments.compare import BUILTIN_DIR, builtin_names
from experiments.compare.records import collect
from experiments.compare.suites import SuiteError, find_suite, load_suite

ROOT = Path(__file__).resolve().parents[3]

TINY = """
description = "tiny: two envs, a failing run"
seeds = 2
eval_every = 512
eval_episodes = 3

[[runs]]
env = "CartPole-v1"
steps = 1024
algos = ["PPO", "A2C"]

[[runs]]
env = "CliffWalking"
steps = 2000
algos = ["QLearning", "ValueIteration"]
set = { QLearning = { learning_rate = 0.5 } }

[[runs]]
env = "Corridor"
steps = 500
algos = ["DQN"]
# a run that fails while it runs (its replay buffer cannot be allocated), not when the suite is read
set = { DQN = { buffer_size = 10_000_000_000_000 } }
"""

#: Columns of results.csv that measure time; everything else must match between backends and re-runs.
TIMING = {"seconds"}


def write_suite(folder: Path, text: str = TINY) -> Path:
    path = folder / "tiny.toml"
    path.write_text(text)
    return path


def read_csv(path: Path, drop: set[str] = frozenset()) -> list[dict]:
    with open(path, newline="") as handle:
        return [{k: v for k, v in row.items() if k not in drop} for row in csv.DictReader(handle)]


def compare(suite: Path, out: Path, *extra: str) -> int:
    return main(["compare", str(suite), "--out", str(out), "--reps", "200", *extra])


HAS_RAY = importlib.util.find_spec("ray") is not None
BACKENDS = ["local", pytest.param("ray", marks=pytest.mark.skipif(not HAS_RAY,
                                                                  reason="the distributed extra is not installed"))]


@pytest.fixture(scope="module")
def suite_runs(tmp_path_factory):
    """The tiny suite, run lazily once per backend; {backend: (suite, out folder, exit code)}."""
    runs = {}

    def run(backend: str):
        if backend not in runs:
            folder = tmp_path_factory.mktemp(f"compare-{backend}")
            suite = write_suite(folder)
            runs[backend] = suite, folder / "out", compare(suite, folder / "out", "--workers", "2",
                                                           "--backend", backend)
        return runs[backend]
    return run


@pytest.fixture(params=BACKENDS)
def local_run(request, suite_runs):
    """The tiny suite's run on each backend; the tests that take it run on both."""
    return suite_runs(request.param)


# Suites ----------------------------------------------------------------------------------------------------
def test_a_builtin_name_beside_a_folder_of_that_name_is_the_builtin(tmp_path, monkeypatch):
    # `compare parity --out parity` leaves ./parity; running the same command again must find the suite.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "parity").mkdir()
    (tmp_path / "mine").mkdir()
    assert find_suite("parity") == BUILTIN_DIR / "parity.toml"
    with pytest.raises(FileNotFoundError, match="suite file mine is a folder, not a suite file"):
        find_suite("mine")
    with pytest.raises(FileNotFoundError, match="suite file nope.toml does not exist"):
        find_suite("nope.toml")


def test_builtin_suites_parse_and_expand():
    assert {"quick", "classic", "arcade"} <= set(builtin_names())
    for name in builtin_names():
        suite = load_suite(name)
        runs = suite.runs(2)
        assert runs and len({run.folder for run in runs}) == len(runs)
        # value iteration is deterministic: one run whatever the seed count
        assert all(run.spec.seed == 0 for run in runs if run.spec.algo == "ValueIteration")


@pytest.mark.parametrize("text, message", [
    ("[[runs]]\nenv = 'CartPole-v1'\nalgos = ['PPO']\n", r"runs\[0\] \(env 'CartPole-v1'\): missing field 'steps'|"
                                                          r"runs\[0\]: missing field 'steps'"),
    ("[[runs]]\nenv = 'CartPole-v1'\nsteps = -5\nalgos = ['PPO']\n", r"runs\[0\] \(env 'CartPole-v1'\): field 'steps' "
                                                                      r"must be a positive integer, got -5"),
    ("[[runs]]\nenv = 'CartPole-v1'\nsteps = 5\nalgos = ['PPOO']\n", r"field 'algos': unknown algorithm 'PPOO'"),
    ("[[runs]]\nenv = 'NoSuchEnv-v9'\nsteps = 5\nalgos = ['PPO']\n", r"field 'env': unknown env id 'NoSuchEnv-v9'"),
    ("[[runs]]\nenv = 'CartPole-v1'\nsteps = 5\nalgos = ['PPO']\nstep = 3\n", r"unknown field key\(s\) \['step'\]"),
    ("[[runs]]\nenv = 'Corridor'\nsteps = 5\nalgos = ['SARSA']\nenv_kwargs = { no_such_argument = 1 }\n",
     r"field 'env_kwargs': mdparcade/Corridor-v0 does not take the env kwargs no_such_argument"),
    ("[[runs]]\nenv = 'CartPole-v1'\nsteps = 5\nalgos = ['sb3:PPO']\nset = { 'sb3:PPO' = { n_epochs = 'abc' } }\n",
     r"field 'set.sb3:PPO': sb3:PPO: n_epochs='abc': expected a int"),
    ("[[runs]]\nenv = 'CartPole-v1'\nsteps = 5\nalgos = ['PPO']\n[[runs]]\nenv = 'CartPole-v1'\nsteps = 9\n"
     "algos = ['PPO']\n", r"runs\[0\] and runs\[1\] both train PPO on CartPole-v1"),
    ("[[runs]]\nenv = 'CartPole-v1'\nsteps = 5\nalgos = ['PPO']\nset = { PPO = { n_epoch = 3 } }\n",
     r"field 'set.PPO': unknown PPO key\(s\) \['n_epoch'\]"),
    ("[[runs]]\nenv = 'CartPole-v1'\nsteps = 5\nalgos = ['PPO']\nset = { DQN = { tau = 0.5 } }\n",
     r"names 'DQN', which is not in this entry's algos"),
    ("seeds = 0\n[[runs]]\nenv = 'CartPole-v1'\nsteps = 5\nalgos = ['PPO']\n", r"field 'seeds' must be a positive"),
    ("description = 'no runs'\n", r"needs at least one \[\[runs\]\] entry"),
    ("[[runs]\n", r"not valid TOML"),
])
def test_an_invalid_suite_names_the_file_the_entry_and_the_field(tmp_path, text, message):
    path = write_suite(tmp_path, text)
    with pytest.raises(SuiteError, match=message) as caught:
        load_suite(path)
    assert str(path) in str(caught.value)


def test_an_unknown_suite_name_lists_the_builtin_ones(capsys):
    assert main(["compare", "no-such-suite"]) == 2
    assert "quick" in capsys.readouterr().err


# Running ---------------------------------------------------------------------------------------------------
def test_a_failing_run_is_recorded_and_the_suite_completes(local_run):
    _, out, code = local_run
    assert code == 1  # some runs failed
    folder = "Corridor-v0/DQN[buffer_size=10000000000000]/s0"
    failed = json.loads((out / folder / "failed.json").read_text())
    assert "MemoryError" in failed["error"] and "Traceback" in failed["traceback"]
    records = collect(out)
    statuses = {(r.env_id, r.algo, r.seed): r.status for r in records}
    assert statuses[("CartPole-v1", "PPO", 1)] == "finished"
    assert statuses[("mdparcade/CliffWalking-v0", "ValueIteration", 0)] == "finished"
    assert ("mdparcade/CliffWalking-v0", "ValueIteration", 1) not in statuses
    assert sorted(s for s in statuses.values()) == ["failed"] * 2 + ["finished"] * 7
    report = (out / "report.md").read_text()
    assert "## Failed and unreadable runs" in report and folder in report
    for name in ("curves.png", "profiles.png"):
        assert (out / name).read_bytes()[:4] == b"\x89PNG"
    rows = read_csv(out / "results.csv")
    assert len(rows) == 9 and {row["status"] for row in rows} == {"finished", "failed"}
    # on either backend, the seeds of one of our deep-agent cells train as one population: one wall-clock
    seconds = {(row["algo"], row["seed"]): row["seconds"] for row in rows if row["env_id"] == "CartPole-v1"}
    assert all(seconds[(algo, "0")] == seconds[(algo, "1")] for algo in ("PPO", "A2C")), seconds
    summary = json.loads((out / "report.json").read_text())
    assert summary["finished"] == 7 and summary["failed"] == 2
    # value iteration is the exact optimum: normalized 1, and a learner that found it scores 1 too
    cells = {(c["env_id"], c["algo"]): c for c in summary["cells"]}
    assert cells[("mdparcade/CliffWalking-v0", "ValueIteration")]["normalized_iqm"] == pytest.approx(1.0)


def test_rerunning_repeats_nothing_finished_and_retries_failures(suite_runs, tmp_path, capsys):
    suite, out, _ = suite_runs("local")
    finished = sorted(out.rglob("summary.json"))
    stamps = {p: p.stat().st_mtime_ns for p in finished}
    capsys.readouterr()
    assert compare(suite, out) == 1
    printed = capsys.readouterr().out
    assert "9 runs: 7 already finished, 2 to run" in printed
    assert all(p.stat().st_mtime_ns == stamps[p] for p in finished)


def test_report_rebuilds_identical_tables_from_the_folders(suite_runs):
    _, out, _ = suite_runs("local")
    before = {name: (out / name).read_bytes() for name in ("report.md", "results.csv", "report.json")}
    assert main(["report", str(out), "--reps", "200"]) == 0
    for name, content in before.items():
        assert (out / name).read_bytes() == content, name


def test_a_suite_folder_refuses_another_suite(suite_runs, tmp_path):
    suite, out, _ = suite_runs("local")
    other = write_suite(tmp_path, TINY.replace("steps = 1024", "steps = 2048"))
    assert compare(other, out) == 2


def test_train_from_a_suite_runs_config_reproduces_it(suite_runs, tmp_path):
    _, out, _ = suite_runs("local")
    run = out / "CartPole-v1/PPO/s1"
    assert main(["train", "--from", str(run / "config.json"), "--out", str(tmp_path / "again"), "--quiet"]) == 0
    drop = {"seconds", "steps_per_second"}
    assert read_csv(tmp_path / "again/metrics.csv", drop) == read_csv(run / "metrics.csv", drop)


@pytest.mark.skipif(not HAS_RAY, reason="the distributed extra is not installed")
def test_both_backends_write_the_same_artifacts(suite_runs):
    (_, local, local_code), (_, ray, ray_code) = suite_runs("local"), suite_runs("ray")
    assert local_code == ray_code == 1
    assert read_csv(ray / "results.csv", TIMING) == read_csv(local / "results.csv", TIMING)
    drop = {"seconds", "steps_per_second"}
    for metrics in local.rglob("metrics.csv"):
        twin = ray / metrics.relative_to(local)
        assert read_csv(twin, drop) == read_csv(metrics, drop), metrics


CTRL_C_SUITE = """
seeds = 3
eval_every = 1000
eval_episodes = 2
[[runs]]
env = "CartPole-v1"
steps = 30000
algos = ["DQN"]
set = { DQN = { learning_starts = 100, train_freq = 4, gradient_steps = 1 } }
"""


def interrupt_compare(tmp_path: Path) -> tuple[list[str], Path, dict]:
    """Start `mdparcade compare` on two workers, press Ctrl-C once a run has a resume point; check the exit
    status and that every folder holds whole files only. Returns (command, out, env)."""
    suite = write_suite(tmp_path, CTRL_C_SUITE)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "experiments.cli", "compare", str(suite), "--out", str(out), "--workers", "2",
               "--reps", "100"]
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy"}
    # SIGINT back to its default in the child: a shell that started this test in the background ignores SIGINT,
    # and Python keeps an inherited "ignore" instead of raising KeyboardInterrupt.
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    # the three seeds train as one population, whose resume point is population.pt in their cell's folder
    while not list(out.rglob("population.pt")) and time.monotonic() < deadline:
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the whole process group
    printed, err = process.communicate(timeout=60)
    assert process.returncode == 130, printed + err
    assert "interrupted" in err and "Traceback" not in err
    (algo_folder,) = (out / "CartPole-v1").iterdir()  # DQN[gradient_steps=1,...]: the overrides name the folder
    assert algo_folder.name == "DQN[gradient_steps=1,learning_starts=100,train_freq=4]"
    assert {p.name for p in algo_folder.iterdir() if p.is_file()} == {"population.pt"}
    torch.load(algo_folder / "population.pt", weights_only=True)  # whole
    for folder in (p for p in algo_folder.iterdir() if p.is_dir()):
        files = {p.name for p in folder.iterdir()}
        # atomic writes: whole files only, no temp files; a started run has its config and a resume point
        assert not [name for name in files if name.startswith(".") or name.endswith(".tmp")], files
        assert "summary.json" in files or "config.json" in files or not files, files
        if "config.json" in files:
            json.loads((folder / "config.json").read_text())
    return command, out, env


def test_ctrl_c_keeps_folders_consistent(tmp_path):
    interrupt_compare(tmp_path)


@pytest.mark.slow
def test_ctrl_c_keeps_folders_consistent_and_a_rerun_finishes_the_rest(tmp_path):
    command, out, env = interrupt_compare(tmp_path)
    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("summary.json")}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert f"{len(stamps)} already finished" in done.stdout
    assert all(p.stat().st_mtime_ns == stamps[p] for p in stamps)
    assert len(list(out.rglob("summary.json"))) == 3 and (out / "report.json").is_file()  # three runs, the report
    assert not list(out.rglob("population.pt"))  # a finished population leaves no resume point
