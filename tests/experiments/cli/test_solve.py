"""`mdparcade solve` end to end through the CLI: the printed figures, the PNG, and the errors."""

from __future__ import annotations

import re

import gymnasium as gym
import numpy as np
import pygame
import pytest

import envs  # noqa: F401  (registers the mdparcade ids)
from agents.env_models import goal_mask
from agents.planning import success_probability, value_iteration
from experiments.cli import main
from experiments.cli.solve import policy_arrows


def printed_number(text: str, label: str) -> float:
    return float(re.search(rf"{re.escape(label)}\s+(-?[0-9.]+)", text).group(1))


def test_solve_frozen_lake_prints_the_solution_and_writes_the_png(tmp_path, capsys):
    assert main(["solve", "mdparcade/FrozenLake8x8-v0", "--gamma", "0.99", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out

    env = gym.make("mdparcade/FrozenLake8x8-v0")
    mdp = env.unwrapped.mdp
    expected = value_iteration(mdp, 0.99, tol=1e-8)
    assert printed_number(out, "iterations") == expected.iterations
    assert printed_number(out, "V(start)") == pytest.approx(mdp.start @ expected.V, abs=1e-6)
    assert printed_number(out, "P(reach goal)") == pytest.approx(
        success_probability(mdp, expected.policy, goal_mask(env)), abs=1e-6)
    within = float(re.search(r"([0-9.]+)\s+\(within the env's 200-step limit\)", out).group(1))
    assert within == pytest.approx(success_probability(mdp, expected.policy, goal_mask(env), horizon=200), abs=1e-6)
    assert within < printed_number(out, "P(reach goal)") - 0.01  # the limit costs: 0.863 against 0.894
    arrows = policy_arrows(env.unwrapped.rows, expected.policy)
    assert "\n".join("    " + row for row in arrows) in out
    assert arrows[7].endswith("G") and "H" in arrows[2]

    png = tmp_path / "solution.png"
    assert f"wrote {png}" in out
    image = pygame.surfarray.array3d(pygame.image.load(str(png))).transpose(1, 0, 2)
    env_frame = gym.make("mdparcade/FrozenLake8x8-v0", render_mode="rgb_array")
    env_frame.reset(seed=0)
    assert image.shape == env_frame.render().shape
    assert len(np.unique(image.reshape(-1, 3), axis=0)) > 20  # a heatmap, not the plain map


def test_solve_policy_iteration_defaults_to_runs_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    # Undiscounted policy iteration from "always left" is ill-posed: a clear error, exit status 2.
    assert main(["solve", "CliffWalking-v0", "--method", "pi", "--gamma", "1.0"]) == 2
    assert "never reaches a terminal state" in capsys.readouterr().err
    assert main(["solve", "CliffWalking-v0", "--method", "pi", "--gamma", "0.9"]) == 0
    out = capsys.readouterr().out
    assert "policy iteration" in out
    assert (tmp_path / "runs" / "solve" / "CliffWalking-v0" / "solution.png").is_file()


def test_unknown_env_id_lists_ours_and_exits_2(capsys):
    assert main(["solve", "mdparcade/Nope-v0"]) == 2
    err = capsys.readouterr().err
    assert "unknown env id 'mdparcade/Nope-v0'" in err and "mdparcade/FrozenLake8x8-v0" in err
    assert "Traceback" not in err


def test_env_without_a_model_is_a_clear_error(capsys):
    assert main(["solve", "mdparcade/Catch-v0"]) == 2
    assert "has no exact model" in capsys.readouterr().err


def test_bad_gamma_is_a_clear_error(tmp_path, capsys):
    assert main(["solve", "mdparcade/Corridor-v0", "--gamma", "1.5", "--out", str(tmp_path)]) == 2
    assert "gamma must be in [0, 1]" in capsys.readouterr().err


def test_tol_sets_value_iterations_stopping_tolerance(tmp_path, capsys):
    assert main(["solve", "mdparcade/FrozenLake8x8-v0", "--tol", "1e-3", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    mdp = gym.make("mdparcade/FrozenLake8x8-v0").unwrapped.mdp
    loose, default = value_iteration(mdp, 0.99, tol=1e-3), value_iteration(mdp, 0.99, tol=1e-8)
    assert "gamma 0.99, tol 0.001" in out.splitlines()[0]
    assert printed_number(out, "iterations") == loose.iterations < default.iterations
    assert printed_number(out, "final residual") <= 1e-3
    assert printed_number(out, "V(start)") == pytest.approx(mdp.start @ loose.V, abs=1e-6)


@pytest.mark.parametrize("tol", ["0", "-1e-6"])
def test_tol_must_be_positive(tmp_path, capsys, tol):
    assert main(["solve", "mdparcade/Corridor-v0", f"--tol={tol}", "--out", str(tmp_path)]) == 2
    assert f"--tol must be > 0, got {float(tol)}" in capsys.readouterr().err
    assert not (tmp_path / "solution.png").exists()


def test_map_gives_gridworld_a_built_in_map_or_a_text_file(tmp_path, capsys):
    rows = ["S..#", ".#..", "..#G"]
    map_file = tmp_path / "small.txt"
    map_file.write_text("\n".join(rows) + "\n")
    for map_spec, states in (("FourRooms", 121), (str(map_file), 12)):
        assert main(["solve", "mdparcade/GridWorld-v0", "--map", map_spec, "--gamma", "0.9",
                     "--out", str(tmp_path / "out")]) == 0
        out = capsys.readouterr().out
        env = gym.make("mdparcade/GridWorld-v0", map=map_spec)
        mdp = env.unwrapped.mdp
        expected = value_iteration(mdp, 0.9, tol=1e-8)
        assert f"states {states}, actions 4" in out and mdp.num_states == states
        assert printed_number(out, "V(start)") == pytest.approx(mdp.start @ expected.V, abs=1e-6)
        assert "\n".join("    " + row for row in policy_arrows(env.unwrapped.rows, expected.policy)) in out
    assert env.unwrapped.rows == tuple(rows)
    assert policy_arrows(env.unwrapped.rows, expected.policy)[2].endswith("# G")
    assert main(["solve", "mdparcade/GridWorld-v0", "--map", "NoSuchMap", "--out", str(tmp_path)]) == 2
    assert "is neither a built-in map" in capsys.readouterr().err
