"""Property tests of the command line: random argv for every subcommand, and random bytes in every file a run
folder holds, never end in a traceback: every outcome is an exit status (0, 1, 2) with at most one line of error,
or a command that was about to do its real work (training, playing, comparing: stopped here by a sentinel). Bad
bytes in a folder change no file of it."""

from __future__ import annotations

import contextlib
import io
import shutil

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import experiments.cli.demo
import experiments.compare.backends
import experiments.gallery
from experiments.cli import main
from experiments.cli import play as play_command
from experiments.cli import watch as watch_command
from experiments.runs import Run, RunSpec
from experiments.runs import run as run_module


class WouldRun(BaseException):
    """Raised where a command would start its real work (train, play, run a suite or a gallery script)."""


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    """A working folder with a finished run (ours and SB3's), a comparison of them, and odd files."""
    root = tmp_path_factory.mktemp("fuzz")
    Run(RunSpec("PPO", "Catch", steps=256, eval_every=256, eval_episodes=1,
                overrides=dict(num_envs=4, num_steps=64, batch_size=128, n_epochs=1)),
        root / "runs" / "ppo", progress=False).run()
    Run(RunSpec("sb3:PPO", "CartPole-v1", steps=64, eval_every=64, eval_episodes=1,
                overrides=dict(n_envs=1, n_steps=64, batch_size=64, n_epochs=1)),
        root / "runs" / "sb3", progress=False).run()
    (root / "a_file.txt").write_text("not a folder")
    (root / "binary.bin").write_bytes(bytes(range(256)))
    (root / "suite.toml").write_text('[[runs]]\nenv = "Catch"\nsteps = 64\nalgos = ["PPO"]\n')
    return root


@pytest.fixture
def stopped(monkeypatch, sandbox):
    """Real work replaced by WouldRun; the working folder is the sandbox."""
    def would_run(*args, **kwargs):
        raise WouldRun

    monkeypatch.setattr(run_module.Run, "_train", would_run)
    monkeypatch.setattr(watch_command, "play_and_print", would_run)
    monkeypatch.setattr(play_command, "_gymnasium_play", lambda: would_run)
    monkeypatch.setattr(experiments.compare.backends, "run_suite", would_run)
    monkeypatch.setattr(experiments.gallery, "run_script", would_run)
    monkeypatch.setattr(experiments.cli.demo, "run", would_run)
    monkeypatch.chdir(sandbox)
    return sandbox


def outcome(argv: list[str]) -> tuple[object, str]:
    """(exit status or "would run", stderr) of `mdparcade ARGV`; any other exception propagates (a traceback)."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = main(argv)
        except SystemExit as exited:
            code = exited.code if isinstance(exited.code, int) else 0
        except WouldRun:
            code = "would run"
    return code, err.getvalue()


COMMANDS = ["train", "watch", "play", "solve", "compare", "report", "gallery", "demo"]
WORDS = ["PPO", "sb3:PPO", "DQN", "QLearning", "ValueIteration", "ppo", "sb3:SAC", "Catch", "CartPole-v1",
         "FrozenLake8x8", "mdparcade/Breakout-v0", "Pong", "runs/ppo", "runs/sb3", "runs", "a_file.txt",
         "binary.bin", "suite.toml", "quick", "/proc/x", "", "-1", "0", "3", "1e21", "nan", "n_epochs=2",
         "n_epochs=abc", "map=binary.bin", "nosuch=1", "learning_rate=lin_0.1", "hidden_sizes=64,64", "x.gif",
         "ümlaut", "--", "-", "=", "a=b=c"]
OPTIONS = ["--steps", "--seed", "--out", "--set", "--env-kwargs", "--eval-every", "--eval-episodes", "--from",
           "--threads", "--episodes", "--fps", "--record", "--zoom", "--method", "--gamma", "--tol", "--map",
           "--seeds", "--workers", "--backend", "--address", "--reps", "--plots", "--suite", "--quiet", "--device"]
argv_strategy = st.tuples(
    st.sampled_from(COMMANDS),
    st.lists(st.one_of(st.sampled_from(WORDS), st.sampled_from(OPTIONS), st.text(max_size=8),
                       st.integers(-10**25, 10**25).map(str)), max_size=6),
).map(lambda parts: [parts[0], *parts[1]])


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(argv=argv_strategy)
def test_random_argv_never_ends_in_a_traceback(stopped, argv):
    code, err = outcome(argv)
    assert code in (0, 1, 2, "would run"), (argv, code, err)
    assert "Traceback" not in err
    if code == 2:
        lines = err.strip("\n").split("\n")
        assert len(lines) == 1 and lines[0].startswith(("mdparcade: error: ", f"mdparcade {argv[0]}: error: ")), \
            (argv, err)


RUN_FILES = {"ppo": ["config.json", "metrics.csv", "summary.json", "model.pt"],
             "sb3": ["config.json", "summary.json", "model.zip"]}


@pytest.mark.parametrize("run, name", [(run, name) for run, names in RUN_FILES.items() for name in names])
@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=300), keep=st.integers(0, 400))
def test_random_bytes_in_a_run_folder_change_no_file_and_end_in_no_traceback(sandbox, tmp_path_factory, run, name,
                                                                             data, keep):
    folder = tmp_path_factory.mktemp("damaged") / run
    shutil.copytree(sandbox / "runs" / run, folder)
    original = (folder / name).read_bytes()
    # random bytes, or the real file cut short (a truncated download)
    (folder / name).write_bytes(data if keep % 2 else original[: keep * max(len(original) // 400, 1)])
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    config = folder / "config.json"
    for argv in (["watch", str(folder), "--record", str(folder.parent / "w.gif"), "--episodes", "1"],
                 ["report", str(folder.parent), "--reps", "20"],
                 ["train", "--from", str(config), "--out", str(folder), "--quiet"]):
        code, err = outcome(argv)
        assert code in (0, 2), (argv, code, err)
        assert "Traceback" not in err and err.count("\n") <= 1, err
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
