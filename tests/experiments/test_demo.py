"""`make demo`: the Makefile runs experiments/demo.py, which trains the digits MLP and prints what the README shows."""

from __future__ import annotations

import re
from pathlib import Path

from experiments import demo

ROOT = Path(__file__).resolve().parents[2]


def test_make_demo_runs_the_demo_module():
    makefile = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^demo:.*\n((?:\t.*\n)+)", makefile, flags=re.MULTILINE).group(1)
    assert "-m experiments.demo" in recipe


def test_demo_prints_the_run_and_a_test_accuracy_of_at_least_97_percent(capsys):
    assert demo.main() == 0
    out = capsys.readouterr().out
    first = re.fullmatch(r"digits MLP \(64-256-10, ReLU, dropout 0\.2\) on \w+: (\d+) epochs \(best (\d+)\) in "
                         r"[0-9.]+ s", out.splitlines()[0])
    second = re.fullmatch(r"test accuracy: ([0-9.]+) on 450 held-out digits", out.splitlines()[1])
    assert first and second, out
    epochs, best = int(first.group(1)), int(first.group(2))
    assert best < epochs <= 60
    assert float(second.group(1)) >= 0.97
