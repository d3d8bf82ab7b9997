"""`mdparcade watch` end to end through the CLI, headless: GIFs checked frame by frame against a replay of the
same episodes, the window mode under SDL's dummy driver, the gridworld overlay, and the one-line errors."""

from __future__ import annotations

import json
import re
import shutil

import gymnasium as gym
import numpy as np
import pygame
import pytest
from PIL import Image, ImageSequence

import experiments.learners.ours  # noqa: F401  (registers the agent classes)
from agents.base import Agent
from experiments.cli import main
from experiments.recording import CAPTION_PX, GifRecorder, captioned
from experiments.runs import Run, RunSpec

TINY_PPO = dict(num_envs=4, num_steps=64, batch_size=128, n_epochs=1)
ENV_IDS = {"gridworld": "mdparcade/FrozenLake8x8-v0", "arcade": "mdparcade/Catch-v0", "cartpole": "CartPole-v1"}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """One tiny trained run folder per kind of env (256 PPO steps each: what is watched, not how well)."""
    root = tmp_path_factory.mktemp("runs")
    for kind, env_id in ENV_IDS.items():
        spec = RunSpec("PPO", env_id, steps=256, eval_every=256, eval_episodes=2, overrides=TINY_PPO)
        Run(spec, root / kind, progress=False).run()
    return root


@pytest.fixture
def no_window(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a window was opened")

    monkeypatch.setattr(pygame.display, "set_mode", refuse)


def replay(run_dir, episodes: int, seed: int, caption: bool = True):
    """The rgb_array frames (reset frame, then one per step) and returns of the episodes watch plays, made here
    independently of the command: the same agent, env and seeds, the same overlay on gridworlds, each frame
    under the caption "episode i/N: return R" (the return so far)."""
    config = json.loads((run_dir / "config.json").read_text())
    agent = Agent.load(run_dir / "model.pt", device="cpu")
    env = gym.make(config["env_id"], render_mode="rgb_array")
    if hasattr(env.unwrapped, "set_overlay"):
        states = env.unwrapped.observer.batch(np.arange(env.unwrapped.observer.num_states))
        env.unwrapped.set_overlay(values=agent.state_values(states), policy=agent.predict(states)[0])
    frames, returns = [], []
    def shown(frame, index, total):
        return captioned(frame, f"episode {index + 1}/{episodes}: return {total:.4g}") if caption else frame

    for index in range(episodes):
        obs, _ = env.reset(seed=seed + index)
        frames.append(shown(env.render(), index, 0.0))
        total, done = 0.0, False
        while not done:
            obs, reward, terminated, truncated, _ = env.step(agent.predict(obs)[0])
            total += reward
            frames.append(shown(env.render(), index, total))
            done = terminated or truncated
        returns.append(total)
    env.close()
    return frames, returns


def gif_frames(path):
    """(frames as uint8 (H, W, 3), display times in ms) of a GIF."""
    with Image.open(path) as gif:
        shown = [(np.asarray(frame.convert("RGB")), frame.info["duration"]) for frame in ImageSequence.Iterator(gif)]
    return [frame for frame, _ in shown], [ms for _, ms in shown]


def without_repeats(frames):
    return [frame for i, frame in enumerate(frames) if i == 0 or not np.array_equal(frame, frames[i - 1])]


def printed_returns(out: str) -> list[float]:
    return [float(value) for value in re.findall(r"episode \d+/\d+: return (-?[0-9.e+-]+) in", out)]


def printed_steps(out: str) -> list[int]:
    return [int(value) for value in re.findall(r" in (\d+) steps", out)]


def test_record_catch_writes_the_reset_frame_and_one_frame_per_step(runs, tmp_path, capsys, no_window):
    gif = tmp_path / "catch.gif"
    assert main(["watch", str(runs / "arcade"), "--record", str(gif), "--episodes", "2", "--seed", "7",
                 "--fps", "10"]) == 0
    out = capsys.readouterr().out
    expected, returns = replay(runs / "arcade", 2, seed=7)
    frames, durations = gif_frames(gif)
    steps = printed_steps(out)
    assert len(frames) == sum(steps) + 2 == len(expected)  # Catch's picture changes every step: nothing merged
    assert frames[0].shape == expected[0].shape == (348 + CAPTION_PX, 160, 3)
    assert all(np.array_equal(got, want) for got, want in zip(frames, expected))
    # the caption strip is written on: the first frame's text differs from the last's (the return changed or
    # the episode number did)
    assert not np.array_equal(frames[0][:CAPTION_PX], frames[-1][:CAPTION_PX])
    assert durations == [100] * len(frames)
    assert printed_returns(out) == pytest.approx(returns)
    assert f"wrote {gif}: {len(frames)} frames, 160x{348 + CAPTION_PX} px, 10 fps, {len(frames) / 10:.1f} s" in out


def test_record_gridworld_merges_repeated_frames_and_keeps_the_duration(runs, tmp_path, capsys, no_window):
    gif = tmp_path / "lake.gif"
    assert main(["watch", str(runs / "gridworld"), "--record", str(gif), "--episodes", "2", "--seed", "0"]) == 0
    out = capsys.readouterr().out
    expected, returns = replay(runs / "gridworld", 2, seed=0)
    frames, durations = gif_frames(gif)
    assert len(expected) == sum(printed_steps(out)) + 2
    distinct = without_repeats(expected)
    assert len(distinct) < len(expected)  # the agent bumps into the map's edge: repeats to merge
    assert len(frames) == len(distinct)
    assert all(np.array_equal(got, want) for got, want in zip(frames, distinct))  # overlay included
    assert sum(durations) == pytest.approx(len(expected) * 1000 / 8, abs=5)  # the env's render_fps, 8
    assert printed_returns(out) == pytest.approx(returns)
    assert f"{len(frames)} frames ({len(expected)} rendered" in out


def test_record_cartpole_uses_its_own_rgb_array(runs, tmp_path, capsys, no_window):
    gif = tmp_path / "cartpole.gif"
    assert main(["watch", str(runs / "cartpole"), "--record", str(gif), "--episodes", "1", "--fps", "25"]) == 0
    out = capsys.readouterr().out
    expected, returns = replay(runs / "cartpole", 1, seed=1_000_000)
    frames, durations = gif_frames(gif)
    assert len(expected) == printed_steps(out)[0] + 1
    assert frames[0].shape == expected[0].shape == (400 + CAPTION_PX, 600, 3)
    assert len(frames) == len(without_repeats(expected))
    assert sum(durations) == len(expected) * 40
    assert printed_returns(out) == pytest.approx(returns)


@pytest.fixture
def captions(monkeypatch):
    """Every window caption set, and the number of windows opened (SDL's dummy driver draws nowhere)."""
    seen = {"captions": [], "windows": 0}
    set_caption, set_mode = pygame.display.set_caption, pygame.display.set_mode

    def record_caption(text, *args):
        seen["captions"].append(text)
        return set_caption(text, *args)

    def count_window(*args, **kwargs):
        seen["windows"] += 1
        return set_mode(*args, **kwargs)

    monkeypatch.setattr(pygame.display, "set_caption", record_caption)
    monkeypatch.setattr(pygame.display, "set_mode", count_window)
    return seen


@pytest.mark.parametrize("kind", ["arcade", "cartpole"])
def test_window_mode_plays_an_episode_with_the_return_in_the_caption(runs, capsys, captions, kind):
    assert main(["watch", str(runs / kind), "--episodes", "1", "--fps", "1000", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    _, returns = replay(runs / kind, 1, seed=3)
    assert printed_returns(out) == pytest.approx(returns)
    assert captions["windows"] >= 1
    (line,) = [line for line in out.splitlines() if line.startswith("episode 1/1: ")]
    assert captions["captions"][-1] == f"{kind} - {line}"  # the run folder's name, the final return (and score)
    assert not pygame.display.get_init()  # the env closed its window


def test_gridworld_overlay_is_the_agents_values_and_greedy_actions(runs, capsys, captions, monkeypatch):
    made, make = [], gym.make
    monkeypatch.setattr(gym, "make", lambda *args, **kwargs: made.append(make(*args, **kwargs)) or made[-1])
    assert main(["watch", str(runs / "gridworld"), "--episodes", "1", "--fps", "1000"]) == 0
    assert "overlay: the agent's state values and greedy actions" in capsys.readouterr().out
    (env,) = made
    assert env.unwrapped.render_mode == "human" and captions["windows"] >= 1
    agent = Agent.load(runs / "gridworld" / "model.pt", device="cpu")
    states = env.unwrapped.observer.batch(np.arange(64))
    np.testing.assert_allclose(env.unwrapped.overlay_values, agent.state_values(states), rtol=1e-6)
    np.testing.assert_array_equal(env.unwrapped.overlay_policy, agent.predict(states)[0])
    assert len(np.unique(env.unwrapped.overlay_policy)) > 1 or len(np.unique(env.unwrapped.overlay_values)) > 1


def test_closing_the_window_stops_after_the_current_frame(runs, capsys, monkeypatch):
    monkeypatch.setattr(pygame.event, "get", lambda *args, **kwargs: [pygame.event.Event(pygame.QUIT)])
    assert main(["watch", str(runs / "arcade"), "--episodes", "3", "--fps", "1000"]) == 0
    out = capsys.readouterr().out
    assert "episode 1/3: return 0 in 0 steps, score 0 (stopped)" in out
    assert "episode 2/3" not in out


def test_default_seeds_replay_the_runs_evaluation_episodes(runs, tmp_path, capsys):
    summary = json.loads((runs / "arcade" / "summary.json").read_text())
    assert main(["watch", str(runs / "arcade"), "--record", str(tmp_path / "x.gif"), "--episodes", "2"]) == 0
    returns = printed_returns(capsys.readouterr().out)
    assert (np.mean(returns), np.std(returns)) == pytest.approx((summary["eval_mean"], summary["eval_std"]))


def test_gif_durations_stay_in_step_with_the_frame_rate():
    recorder = GifRecorder(fps=8)
    for value in (0, 0, 1, 2, 3, 3, 3):
        recorder.add(np.full((2, 3, 3), value, dtype=np.uint8))
    assert recorder.frames_added == 7 and recorder.repeats == [2, 1, 1, 3]
    assert recorder.durations_ms() == [250, 130, 120, 380]  # whole 1/100 s adding up to 7 / 8 s, rounded
    with pytest.raises(ValueError, match="differs from the first frame's"):
        recorder.add(np.zeros((3, 3, 3), dtype=np.uint8))


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("mdparcade watch: error: ")
    return err


def test_missing_folder_config_and_model_are_one_line_errors(runs, tmp_path, capsys):
    assert main(["watch", str(tmp_path / "nope")]) == 2
    assert f"run folder {tmp_path / 'nope'} does not exist" in one_error_line(capsys)
    folder = tmp_path / "copy"
    shutil.copytree(runs / "arcade", folder)
    (folder / "model.pt").rename(folder / "checkpoint.pt")
    assert main(["watch", str(folder)]) == 2
    assert "has no model.pt (its training has not finished" in one_error_line(capsys)
    (folder / "config.json").unlink()
    assert main(["watch", str(folder)]) == 2
    assert f"{folder} has no config.json" in one_error_line(capsys)


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_corrupt_model_is_a_one_line_error(runs, tmp_path, capsys, damage):
    folder = tmp_path / "copy"
    shutil.copytree(runs / "arcade", folder)
    model = folder / "model.pt"
    model.write_bytes(b"not a model" if damage == "garbage" else model.read_bytes()[:1000])
    assert main(["watch", str(folder), "--record", str(tmp_path / "x.gif")]) == 2
    assert f"checkpoint {model} is corrupt or not a torch checkpoint (" in one_error_line(capsys)
    assert not (tmp_path / "x.gif").exists()


def test_bad_options_are_one_line_errors(runs, tmp_path, capsys):
    assert main(["watch", str(runs / "arcade"), "--record", str(tmp_path / "x.mp4")]) == 2
    assert "--record writes a GIF" in one_error_line(capsys)
    assert main(["watch", str(runs / "cartpole"), "--record", str(tmp_path / "x.gif"), "--fps", "60"]) == 2
    assert "--fps must be <= 50 with --record" in one_error_line(capsys)
    assert main(["watch", str(runs / "arcade"), "--episodes", "0"]) == 2
    assert "--episodes must be >= 1" in one_error_line(capsys)
    assert main(["watch", str(runs / "arcade"), "--seed", "-1"]) == 2
    assert "--seed must be >= 0" in one_error_line(capsys)


def test_no_display_is_a_one_line_error_that_suggests_record(runs, capsys, monkeypatch):
    def no_video(*args, **kwargs):
        raise pygame.error("x11 not available")

    monkeypatch.setattr(pygame.display, "init", no_video)
    assert main(["watch", str(runs / "cartpole"), "--episodes", "1"]) == 2
    assert "cannot open a window (x11 not available); without a display, record a GIF with --record" \
        in one_error_line(capsys)
