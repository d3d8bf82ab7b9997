"""Every bad input is one line on stderr naming the problem, exit status 2, and nothing written; and what a user
runs twice, resumes or interrupts leaves their files as they were. Also the command line's fast start."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from experiments.cli import main
from experiments.runs import RunFolder

ROOT = Path(__file__).resolve().parents[3]
TINY_PPO = ["--set", "num_envs=4", "--set", "num_steps=64", "--set", "batch_size=128", "--set", "n_epochs=1"]


def one_error_line(capsys, command: str = "train") -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"mdparcade {command}: error: "), err
    return err


def files_under(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("argv, message", [
    (["sb3:PPO", "CartPole-v1", "--set", "n_epochs=abc"], "n_epochs='abc': expected a int"),
    (["sb3:PPO", "CartPole-v1", "--set", "learning_rate=fast"], "learning_rate='fast': expected a number or lin_"),
    (["PPO", "Catch", "--env-kwargs", "nosuch=1"], "mdparcade/Catch-v0 does not take the env kwargs nosuch"),
    (["PPO", "CartPole-v1", "--steps", "1000000000000000000000"], "steps must be an integer in [0, 1e+12]"),
    (["PPO", "CartPole-v1", "--set", "batch_size=100000"], "PPOConfig.batch_size (100000) is larger than a rollout"),
    (["PPO", "CartPole-v1", "--set", "seed=3"], "the seed is the run's own (--seed)"),
    (["NoSuchAlgo", "CartPole-v1"], "unknown algorithm 'NoSuchAlgo'"),
    (["PPO", "Pong"], "unknown env id 'Pong'"),
])
def test_bad_training_input_is_refused_before_anything_is_written(tmp_path, capsys, argv, message):
    out = tmp_path / "run"
    assert main(["train", *argv, "--out", str(out), "--quiet"]) == 2
    assert message in one_error_line(capsys)
    assert not out.exists()


def test_a_corrected_command_runs_where_the_refused_one_left_nothing(tmp_path, capsys):
    out = tmp_path / "run"
    base = ["train", "sb3:PPO", "CartPole-v1", "--steps", "128", "--eval-every", "128", "--eval-episodes", "1",
            "--set", "n_envs=2", "--set", "n_steps=64", "--set", "batch_size=64", "--out", str(out), "--quiet"]
    assert main([*base, "--set", "n_epochs=abc"]) == 2
    assert main([*base, "--set", "n_epochs=1"]) == 0
    assert json.loads((out / "config.json").read_text())["overrides"]["n_epochs"] == 1


def test_a_map_that_is_not_text_names_the_file(tmp_path, capsys):
    binary = tmp_path / "map.bin"
    binary.write_bytes(bytes(range(256)))
    assert main(["train", "DQN", "GridWorld", "--env-kwargs", f"map={binary}", "--out", str(tmp_path / "r")]) == 2
    assert f"map file {binary} is not a UTF-8 text map" in one_error_line(capsys)


def test_out_must_be_a_writable_folder(tmp_path, capsys):
    a_file = tmp_path / "taken"
    a_file.write_text("mine")
    assert main(["train", "PPO", "CartPole-v1", "--out", str(a_file)]) == 2
    assert "is a file; give a folder" in one_error_line(capsys)
    assert a_file.read_text() == "mine"
    assert main(["train", "PPO", "CartPole-v1", "--out", "/proc/mdparcade-run"]) == 2
    assert "--out /proc/mdparcade-run: cannot write in /proc" in one_error_line(capsys)


def test_a_training_run_that_fails_to_start_leaves_no_folder(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "DQN", "Pendulum-v1", "--out", str(out), "--quiet"]) == 2  # DQN needs Discrete actions
    assert "DQN needs a Discrete action space" in one_error_line(capsys)
    assert not out.exists()


def test_from_reproduces_exactly_into_a_folder_of_its_own(tmp_path, capsys):
    config = tmp_path / "cfg.json"
    config.write_text(json.dumps({"algo": "QLearning", "env_id": "CliffWalking", "steps": 100}))
    assert main(["train", "--from", str(config)]) == 2
    assert "--from needs --out" in one_error_line(capsys)
    assert main(["train", "--from", str(config), "--steps", "5", "--out", str(tmp_path / "r")]) == 2
    assert "--from reproduces a run exactly; --steps cannot change it" in one_error_line(capsys)
    config.write_text("{ not json")
    assert main(["train", "--from", str(config), "--out", str(tmp_path / "r")]) == 2
    assert f"{config} is not a valid run config" in one_error_line(capsys)
    assert not (tmp_path / "r").exists()


def test_a_finished_run_says_nothing_was_trained(tmp_path, capsys):
    argv = ["train", "QLearning", "CliffWalking", "--steps", "300", "--eval-every", "300", "--out",
            str(tmp_path / "r"), "--quiet"]
    assert main(argv) == 0
    assert "wrote" in capsys.readouterr().out
    before = files_under(tmp_path / "r")
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "already holds this finished run: nothing was trained" in out and "wrote" not in out
    assert files_under(tmp_path / "r") == before


def test_help_after_algo_and_env_shows_the_config_the_run_would_use(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["train", "PPO", "Catch", "--set", "n_epochs=7", "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert ("config of PPO on mdparcade/Catch-v0 (default / preset / --set); "
            "preset: the entry for mdparcade/Catch-v0:") in out
    assert re.search(r"n_epochs\s+7\s+\(--set\)", out)
    assert re.search(r"num_envs\s+16\s+\(preset\)", out)  # the Catch entry of the settings table
    assert re.search(r"log_std_init\s+0.0\s+\(default\)", out)


def test_config_json_says_where_each_value_comes_from(tmp_path):
    assert main(["train", "PPO", "Catch", "--steps", "256", "--eval-every", "256", "--eval-episodes", "1",
                 *TINY_PPO, "--out", str(tmp_path / "r"), "--quiet"]) == 0
    config = json.loads((tmp_path / "r" / "config.json").read_text())
    assert config["config_sources"]["n_epochs"] == "--set" and config["config_sources"]["gamma"] == "preset"
    assert config["config_sources"]["log_std_init"] == "default" and config["config"]["n_epochs"] == 1


def test_files_respect_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        assert main(["train", "ValueIteration", "CliffWalking", "--out", str(tmp_path / "r"), "--quiet"]) == 0
    finally:
        os.umask(old)
    modes = {p.name: p.stat().st_mode & 0o777 for p in (tmp_path / "r").iterdir()}
    assert set(modes.values()) == {0o644}, modes


def test_the_progress_bar_reaches_its_total_when_rollouts_overshoot(tmp_path, capsys):
    from experiments.runs import Run, RunSpec

    spec = RunSpec("PPO", "Catch", steps=300, eval_every=1000, eval_episodes=1,  # 2 rollouts of 256: 512 steps
                   overrides=dict(num_envs=4, num_steps=64, batch_size=128, n_epochs=1))
    Run(spec, tmp_path / "r", progress=True).run()
    last = capsys.readouterr().err.replace("\r", "\n").strip().splitlines()[-1]
    assert "100%" in last and "512/512" in last


# report --------------------------------------------------------------------------------------------------------
@pytest.fixture
def two_runs(tmp_path):
    for seed_folder in ("a", "b"):  # the same seed twice
        assert main(["train", "QLearning", "CliffWalking", "--steps", "300", "--eval-every", "300", "--out",
                     str(tmp_path / "runs" / seed_folder), "--quiet"]) == 0
    return tmp_path / "runs"


def test_report_refuses_a_single_run_folder_and_writes_nothing_into_it(two_runs, capsys):
    before = files_under(two_runs / "a")
    assert main(["report", str(two_runs / "a")]) == 2
    assert "is a single run's folder" in one_error_line(capsys, "report")
    assert files_under(two_runs / "a") == before


def test_report_counts_a_repeated_seed_once_and_says_so(two_runs, capsys):
    assert main(["report", str(two_runs), "--reps", "50"]) == 0
    summary = json.loads((two_runs / "report.json").read_text())
    (cell,) = summary["cells"]
    assert cell["runs"] == 1
    assert summary["repeated_seeds"] == [{"env": "mdparcade/CliffWalking-v0", "algo": "QLearning", "seeds": [0]}]
    assert "several runs used seed(s) [0]" in (two_runs / "report.md").read_text()


def test_report_names_a_damaged_run_and_reports_the_rest(two_runs, capsys):
    (two_runs / "b" / "summary.json").write_text('{"algo": "QLearning"')  # truncated
    assert main(["report", str(two_runs), "--reps", "50"]) == 0
    report = (two_runs / "report.md").read_text()
    assert "`b` (unreadable): RunFolderError:" in report and "summary.json is not a valid run summary" in report
    (two_runs / "b" / "summary.json").write_text(json.dumps({"algo": "QLearning", "env_id": "x"}))  # keys missing
    assert main(["report", str(two_runs), "--reps", "50"]) == 0
    assert "summary.json lacks a valid 'seed'" in (two_runs / "report.md").read_text()


def test_success_means_one_thing_in_train_and_in_report(tmp_path, capsys):
    out = tmp_path / "runs" / "sarsa"
    assert main(["train", "SARSA", "CliffWalking", "--steps", "20000", "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    summary = RunFolder(out).read_summary()
    assert summary["success"] is False and "success: no (greedy policy's exact value >= 0.95 x optimal)" in printed
    assert main(["report", str(tmp_path / "runs"), "--reps", "50"]) == 0
    report = json.loads((tmp_path / "runs" / "report.json").read_text())
    assert report["cells"][0]["success_rate"] == 0.0
    assert report["references"]["mdparcade/CliffWalking-v0"]["success"] == summary["success_rule"]


# suites ----------------------------------------------------------------------------------------------------------
def test_suite_entries_that_differ_in_env_kwargs_get_their_own_folders_and_rows(tmp_path):
    suite = tmp_path / "maps.toml"
    suite.write_text('seeds = 1\neval_every = 200\neval_episodes = 1\n'
                     '[[runs]]\nenv = "GridWorld"\nsteps = 200\nalgos = ["QLearning"]\n'
                     'env_kwargs = { map = "FourRooms" }\n'
                     '[[runs]]\nenv = "GridWorld"\nsteps = 200\nalgos = ["QLearning"]\n'
                     'env_kwargs = { map = "Corridor" }\n')
    assert main(["compare", str(suite), "--out", str(tmp_path / "out"), "--workers", "1", "--reps", "50"]) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir() if p.is_dir()) == [
        "GridWorld-v0[map=Corridor]", "GridWorld-v0[map=FourRooms]"]
    envs = {cell["env_id"] for cell in json.loads((tmp_path / "out" / "report.json").read_text())["cells"]}
    assert envs == {"mdparcade/GridWorld-v0 [map=FourRooms]", "mdparcade/GridWorld-v0 [map=Corridor]"}


# interrupting, and starting fast ------------------------------------------------------------------------------
def test_ctrl_c_during_train_is_a_line_not_a_traceback(tmp_path):
    command = [sys.executable, "-m", "experiments.cli", "train", "DQN", "CartPole-v1", "--steps", "1000000",
               "--eval-every", "1000", "--out", str(tmp_path / "r"), "--quiet"]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    while not (tmp_path / "r" / "checkpoint.pt").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130 and "Traceback" not in err
    assert err.strip().splitlines()[-1] == "mdparcade train: interrupted"


@pytest.mark.parametrize("argv", [["--version"], ["--help"], ["train", "--help"], ["watch", "--help"],
                                  ["compare", "--help"]])
def test_version_and_help_import_nothing_heavy(argv):
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "experiments.cli", *argv], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    imported = {line.split("|")[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert not imported & {"torch", "stable_baselines3", "ray", "matplotlib", "gymnasium", "numpy", "pygame"}
