"""`make demo`: the Makefile runs `mdparcade demo` (experiments/cli/demo.py), which solves a gridworld, compares
agents on a suite and films the best one; here on a tiny suite (the real one, `quick`, is the slow test)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from experiments.cli import main

ROOT = Path(__file__).resolve().parents[3]

TINY = """
description = "demo test"
eval_every = 512
eval_episodes = 3
[[runs]]
env = "Catch"
steps = 1024
algos = ["PPO", "sb3:PPO"]
[[runs]]
env = "CliffWalking"
steps = 2000
algos = ["QLearning", "ValueIteration"]
"""


def test_make_demo_runs_the_demo_command_on_the_runtime_install_alone():
    makefile = (ROOT / "Makefile").read_text()
    rule = re.search(r"^demo:(.*)\n((?:\t.*\n)+)", makefile, flags=re.MULTILINE)
    assert "mdparcade demo" in rule.group(2)
    # the main job needs the package and its runtime dependencies, not the dev extra (pytest, Ray, MkDocs)
    assert rule.group(1).split() == ["$(STAMP)"]
    install = re.search(r"^\$\(STAMP\):.*\n((?:\t.*\n)+)", makefile, flags=re.MULTILINE).group(1)
    assert "-e ." in install and "[dev]" not in install


def check_demo_folder(out: Path, printed: str) -> None:
    assert "P(reach goal)" in printed  # the exact solution's summary
    assert "| env | algorithm |" in printed  # the headline table
    for name in ("report.md", "curves.png", "profiles.png", "results.csv", "report.json", "best.gif"):
        assert (out / name).is_file(), name
    assert (out / "best.gif").read_bytes()[:6] == b"GIF89a"
    assert any((out / "solve").rglob("*.png"))
    assert "The best agent on mdparcade/Catch-v0" in printed


def test_demo_solves_compares_and_films_the_best_agent(tmp_path, capsys):
    suite = tmp_path / "tiny.toml"
    suite.write_text(TINY)
    assert main(["demo", "--out", str(tmp_path / "demo"), "--suite", str(suite), "--seeds", "1"]) == 0
    check_demo_folder(tmp_path / "demo", capsys.readouterr().out)


@pytest.mark.slow
def test_the_real_demo_on_the_quick_suite(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path / "demo")]) == 0
    check_demo_folder(tmp_path / "demo", capsys.readouterr().out)
