"""`mdparcade play`: keyboard play through gymnasium.utils.play, driven headless by scripted pygame events."""

from __future__ import annotations

import numpy as np
import pygame
import pytest

from envs.arcade import GameEnv
from envs.snake import HEAD
from experiments.cli import main
from experiments.cli import play as play_command
from experiments.cli.keyboard import RepeatLastAction
from experiments.cli.play import play_env


def _key(event_type: int, key: int) -> pygame.event.Event:
    return pygame.event.Event(event_type, key=key, mod=0, unicode="", scancode=0)


def test_keys_posted_to_the_window_drive_the_paddle_and_quit_returns_cleanly():
    matplotlib = pytest.importorskip("matplotlib")
    backend = matplotlib.get_backend()
    played = []

    def post_events_after_each_step(obs, next_obs, action, reward, terminated, truncated, info):
        played.append(action)
        script = {1: _key(pygame.KEYDOWN, pygame.K_LEFT), 3: _key(pygame.KEYUP, pygame.K_LEFT),
                  5: pygame.event.Event(pygame.QUIT)}
        if len(played) in script:
            pygame.event.post(script[len(played)])

    play_env("mdparcade/Breakout-v0", fps=1000, zoom=0.5, seed=0, callback=post_events_after_each_step)
    assert played == [1, 0, 0, 1, 1]  # NOOP until LEFT is held, LEFT while held, NOOP after release
    assert not pygame.display.get_init()
    assert matplotlib.get_backend() == backend  # gymnasium.utils.play's switch to TkAgg was undone


def test_escape_quits():
    played = []

    def press_escape(*transition):
        played.append(transition[2])
        pygame.event.post(_key(pygame.KEYDOWN, pygame.K_ESCAPE))

    play_env("mdparcade/Catch-v0", fps=1000, callback=press_escape)
    assert played == [1]


class _ScriptedEvents:
    """Replaces pygame.event.get: one scripted list of events per call, then QUIT."""

    def __init__(self, script):
        self.script = list(script)

    def __call__(self, *args, **kwargs):
        return self.script.pop(0) if self.script else [pygame.event.Event(pygame.QUIT)]


@pytest.mark.parametrize(("turn_based", "expected_actions"), [(False, [2, 1, 1, 1]), (True, [2])])
def test_turn_based_envs_step_only_on_a_key_press(monkeypatch, turn_based, expected_actions):
    monkeypatch.setattr(GameEnv, "metadata", {**GameEnv.metadata, "play_wait_on_player": turn_based})
    script = [[_key(pygame.KEYDOWN, pygame.K_RIGHT)], [_key(pygame.KEYUP, pygame.K_RIGHT)], [], []]
    monkeypatch.setattr(pygame.event, "get", _ScriptedEvents(script))
    played = []
    play_env("mdparcade/Catch-v0", fps=1000, callback=lambda *transition: played.append(transition[2]))
    assert played == expected_actions


def test_unknown_env_id_lists_the_mdparcade_ids(capsys):
    with pytest.raises(ValueError, match=r"unknown env id 'mdparcade/Pong-v0'.*mdparcade/Breakout-v0"):
        play_env("mdparcade/Pong-v0")
    assert main(["play", "CartPole-v1"]) == 2
    assert "play takes an mdparcade game or gridworld (they have keyboard controls), not CartPole-v1" in \
        capsys.readouterr().err


def test_bad_fps_and_zoom_are_rejected():
    with pytest.raises(ValueError, match="--fps must be >= 1, got 0"):
        play_env("mdparcade/Catch-v0", fps=0)
    with pytest.raises(ValueError, match="--zoom must be > 0"):
        play_env("mdparcade/Catch-v0", zoom=-1.0)


def test_repeat_last_action_replays_the_last_key_for_games_without_a_noop():
    import gymnasium as gym

    env = RepeatLastAction(gym.make("mdparcade/Catch-v0"))
    assert [env.action(a) for a in (-1, 2, -1, -1, 0, -1)] == [0, 2, 2, 2, 0, 0]


def test_snake_is_steered_by_the_arrow_keys_and_keeps_the_last_direction_without_one(monkeypatch):
    # Snake starts with its head at (5, 5) heading right; it has no do-nothing action, so play repeats the
    # last key: DOWN, RIGHT, then (no key) RIGHT, RIGHT. Playing UP instead would turn it upwards.
    script = [[_key(pygame.KEYDOWN, pygame.K_DOWN)],
              [_key(pygame.KEYUP, pygame.K_DOWN), _key(pygame.KEYDOWN, pygame.K_RIGHT)],
              [_key(pygame.KEYUP, pygame.K_RIGHT)], []]
    monkeypatch.setattr(pygame.event, "get", _ScriptedEvents(script))
    heads = []

    def record_head(obs, next_obs, action, *rest):
        heads.append(tuple(int(v) for v in np.argwhere(next_obs[HEAD])[0]))

    play_env("mdparcade/Snake-v0", fps=1000, seed=0, callback=record_head)
    assert heads == [(6, 5), (6, 6), (6, 7), (6, 8)]


def test_the_same_seed_replays_the_same_game(monkeypatch):
    def observations(seed):
        monkeypatch.setattr(pygame.event, "get", _ScriptedEvents([[]] * 12))
        seen = []
        play_env("mdparcade/Catch-v0", fps=1000, seed=seed, callback=lambda *t: seen.append(t[1].tobytes()))
        return seen

    first = observations(0)
    assert len(first) > 9 and observations(0) == first  # the first episode (9 steps) and the next one
    assert any(observations(seed) != first for seed in range(1, 6))  # the ball starts in another column


def test_command_line_options_reach_play_env(monkeypatch):
    calls = []
    monkeypatch.setattr(play_command, "play_env", lambda *args, **kwargs: calls.append((args, kwargs)))
    assert main(["play", "mdparcade/Catch-v0", "--fps", "3", "--zoom", "2", "--seed", "0"]) == 0
    assert main(["play", "Breakout-v0"]) == 0
    assert calls == [(("mdparcade/Catch-v0",), {"fps": 3, "zoom": 2.0, "seed": 0}),
                     (("Breakout-v0",), {"fps": None, "zoom": None, "seed": None})]


@pytest.mark.parametrize(("argv", "message"), [
    (["--fps", "fast"], "argument --fps: invalid int value: 'fast'"),
    (["--zoom", "big"], "argument --zoom: invalid float value: 'big'"),
    (["--seed", "1.5"], "argument --seed: invalid int value: '1.5'"),
])
def test_command_line_rejects_bad_option_values(monkeypatch, capsys, argv, message):
    monkeypatch.setattr(play_command, "play_env", lambda *args, **kwargs: pytest.fail("play_env was called"))
    with pytest.raises(SystemExit) as exit_info:
        main(["play", "mdparcade/Catch-v0", *argv])
    assert exit_info.value.code == 2 and message in capsys.readouterr().err


@pytest.mark.parametrize(("env_id", "key", "action", "noop"), [
    ("mdparcade/Asterix-v0", pygame.K_UP, 2, 0),
    ("mdparcade/Asterix-v0", pygame.K_LEFT, 1, 0),
    ("mdparcade/Freeway-v0", pygame.K_UP, 1, 0),
    ("mdparcade/Freeway-v0", pygame.K_DOWN, 2, 0),
    ("mdparcade/Seaquest-v0", pygame.K_DOWN, 4, 0),
    ("mdparcade/Seaquest-v0", pygame.K_SPACE, 5, 0),
    ("mdparcade/SpaceInvaders-v0", pygame.K_RIGHT, 2, 0),
    ("mdparcade/SpaceInvaders-v0", pygame.K_SPACE, 3, 0),
])
def test_minatar_games_play_their_key_while_held_and_noop_otherwise(monkeypatch, env_id, key, action, noop):
    script = [[], [_key(pygame.KEYDOWN, key)], [], [_key(pygame.KEYUP, key)], []]
    monkeypatch.setattr(pygame.event, "get", _ScriptedEvents(script))
    played, frames = [], []

    def record(obs, next_obs, action, reward, terminated, truncated, info):
        played.append(action)
        frames.append(next_obs.shape)

    play_env(env_id, fps=1000, seed=0, callback=record)
    channels = {"Asterix": 4, "Freeway": 7, "Seaquest": 10, "SpaceInvaders": 6}[env_id.split("/")[1][:-3]]
    assert played == [noop, action, action, noop, noop] and set(frames) == {(channels, 10, 10)}
    assert not pygame.display.get_init()
