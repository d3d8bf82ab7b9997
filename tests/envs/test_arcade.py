"""The game wrappers (envs/arcade.py): Gymnasium API, seeding, pickling, errors, rendering, vector == singles."""

from __future__ import annotations

import importlib
import pickle
import subprocess
import sys
import warnings

import gymnasium as gym
import numpy as np
import pygame
import pytest
from equivalence import assert_vector_matches_singles
from gymnasium.utils.env_checker import check_env
from gymnasium.vector import AutoresetMode
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import envs  # noqa: F401  (registers the ids)
from envs import rng
from envs.arcade import GameEnv, GameVectorEnv, resolve_game
from envs.arcade_render import BACKGROUND, BOARD_GAP_PX, CELL_PX, SCORE_BAR_PX
from envs.catch import CatchGame
from envs.game_ids import REGISTRY

GAME_IDS = [spec["id"] for spec in REGISTRY]
# SB3 calls any uint8 (C, H, W) Box an image and warns that ours is 0/1 and small: true, and intended.
SB3_IMAGE_WARNINGS = ("upper and lower bounds are not in [0, 255]", "minimal resolution for an image")


def _rollout(env: gym.Env, seed: int, actions: list[int]) -> list[tuple]:
    obs, _ = env.reset(seed=seed)
    trajectory = [(obs.tobytes(),)]
    for action in actions:
        obs, reward, terminated, truncated, info = env.step(action)
        trajectory.append((obs.tobytes(), reward, terminated, truncated, info["score"]))
        if terminated or truncated:
            obs, _ = env.reset()
            trajectory.append((obs.tobytes(),))
    return trajectory


@pytest.mark.parametrize("env_id", GAME_IDS)
@pytest.mark.parametrize("render_mode", [None, "rgb_array", "human"])
def test_gymnasium_and_sb3_checkers_pass(env_id, render_mode):
    env = gym.make(env_id, render_mode=render_mode)
    check_env(env.unwrapped)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sb3_check_env(env.unwrapped, warn=True)
    unexpected = [str(w.message) for w in caught if not any(s in str(w.message) for s in SB3_IMAGE_WARNINGS)]
    assert unexpected == []
    env.close()


@pytest.mark.parametrize("env_id", GAME_IDS)
def test_same_seed_same_trajectory_and_seeds_differ(env_id):
    actions = np.random.default_rng(0).integers(0, gym.make(env_id).action_space.n, size=200).tolist()
    first = _rollout(gym.make(env_id), 11, actions)
    assert _rollout(gym.make(env_id), 11, actions) == first
    others = [_rollout(gym.make(env_id), seed, actions) for seed in range(12, 20)]
    assert any(other != first for other in others)


def test_reset_without_seed_continues_the_stream_and_first_one_is_random():
    seeded = gym.make("mdparcade/Catch-v0")
    seeded.reset(seed=3)
    starts = [seeded.reset()[0].tobytes() for _ in range(20)]
    replay = gym.make("mdparcade/Catch-v0")
    replay.reset(seed=3)
    assert [replay.reset()[0].tobytes() for _ in range(20)] == starts
    assert len(set(starts)) > 1  # the ball starts in different columns: the stream moved on
    unseeded_keys = set()
    for _ in range(4):
        env = gym.make("mdparcade/Catch-v0")
        env.reset()
        unseeded_keys.add(int(env.unwrapped.game.keys[0]))
    assert len(unseeded_keys) == 4


@pytest.mark.parametrize("env_id", GAME_IDS)
def test_pickled_env_continues_identically(env_id):
    env = gym.make(env_id, render_mode="rgb_array")
    env.reset(seed=5)
    for action in [0, 2, 2, 1]:
        env.step(action)
    env.render()
    clone = pickle.loads(pickle.dumps(env))
    for action in np.random.default_rng(1).integers(0, env.action_space.n, size=300):  # FIRE included
        expected = env.step(int(action))
        got = clone.step(int(action))
        assert np.array_equal(expected[0], got[0]) and expected[1:] == got[1:]
        assert np.array_equal(env.render(), clone.render())
        if expected[2] or expected[3]:
            assert np.array_equal(env.reset()[0], clone.reset()[0])


@pytest.mark.parametrize("bad_action", [3, -1, 100])
def test_single_env_rejects_out_of_range_action(bad_action):
    env = GameEnv(CatchGame)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=rf"action {bad_action} is out of range: valid actions are 0\.\.2"):
        env.step(bad_action)


@pytest.mark.parametrize("bad_action", [1.5, "left", None])
def test_single_env_rejects_non_integer_action(bad_action):
    env = GameEnv(CatchGame)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="action must be an integer"):
        env.step(bad_action)


def test_single_env_accepts_numpy_integer_actions():
    numpy_env, python_env = GameEnv(CatchGame), GameEnv(CatchGame)
    numpy_env.reset(seed=0)
    python_env.reset(seed=0)
    # The paddle starts in column 2 of 5: RIGHT, RIGHT, LEFT, STAY, LEFT visit columns 3, 4, 3, 3, 2.
    actions = [np.int64(2), np.uint8(2), np.array(0), np.int32(1), np.array([0])[0]]
    columns = []
    for action in actions:
        obs, *rest = numpy_env.step(action)
        expected_obs, *expected_rest = python_env.step(int(action))
        assert np.array_equal(obs, expected_obs) and rest == expected_rest
        columns.append(int(numpy_env.unwrapped.game.paddle_col[0]))
    assert columns == [3, 4, 3, 3, 2]


@pytest.mark.parametrize(
    ("actions", "message"),
    [
        (np.array([0, 1, 3, 1]), r"action 3 of copy 2 is out of range: valid actions are 0\.\.2"),
        (np.array([0, -1, 1, 1]), r"action -1 of copy 1 is out of range"),
        (np.array([0, 1, 2]), r"actions must have shape \(4,\), got shape \(3,\)"),
        (np.zeros((4, 1), dtype=np.int64), r"actions must have shape \(4,\)"),
        (np.array([0.0, 1.0, 2.0, 1.0]), "actions must be integers, got dtype float64"),
    ],
)
def test_vector_env_rejects_bad_actions(actions, message):
    env = GameVectorEnv(CatchGame, num_envs=4)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=message):
        env.step(actions)


def test_bad_constructor_arguments_raise_value_errors():
    with pytest.raises(ValueError, match="cannot load game 'envs.catch:NoSuchGame'"):
        resolve_game("envs.catch:NoSuchGame")
    with pytest.raises(ValueError, match="BatchedGame subclass"):
        resolve_game(dict)
    with pytest.raises(ValueError, match="render_mode must be None or one of"):
        GameEnv(CatchGame, render_mode="ansi")
    with pytest.raises(ValueError, match="max_episode_steps must be >= 1"):
        GameVectorEnv(CatchGame, num_envs=2, max_episode_steps=0)
    with pytest.raises(ValueError, match="num_envs must be >= 1"):
        GameVectorEnv(CatchGame, num_envs=0)


def test_make_vec_builds_the_native_vector_env_with_gymnasium_kwargs():
    env = gym.make_vec(
        "mdparcade/Breakout-v0",
        num_envs=3,
        vectorization_mode="vector_entry_point",
        max_episode_steps=17,
        render_mode="rgb_array",
    )
    assert isinstance(env.unwrapped, GameVectorEnv)
    assert env.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP
    assert env.unwrapped.max_episode_steps == 17
    assert env.single_observation_space == gym.spaces.Box(0, 1, (4, 10, 10), np.uint8)
    assert env.observation_space.shape == (3, 4, 10, 10)
    assert env.single_action_space == gym.spaces.Discrete(3)
    obs, info = env.reset(seed=0)
    assert obs.shape == (3, 4, 10, 10) and obs.dtype == np.uint8 and info == {}
    assert gym.make_vec("mdparcade/Catch-v0", num_envs=2).unwrapped.max_episode_steps == 100


def test_vector_env_returns_fresh_arrays_the_caller_can_keep():
    env = gym.make_vec("mdparcade/Catch-v0", num_envs=2, vectorization_mode="vector_entry_point")
    first, _ = env.reset(seed=0)
    kept = first.copy()
    second = env.step(np.array([0, 2]))[0]
    assert np.array_equal(first, kept) and not np.array_equal(first, second)


def test_vector_reset_mask_resets_only_chosen_copies():
    env = GameVectorEnv(CatchGame, num_envs=3)
    env.reset(seed=0)
    for _ in range(4):
        obs, *_ = env.step(np.array([1, 1, 1]))
    mask = np.array([False, True, False])
    new_obs, _ = env.reset(options={"reset_mask": mask})
    assert np.array_equal(new_obs[[0, 2]], obs[[0, 2]])
    assert new_obs[1, 1, 0].sum() == 1  # copy 1's ball is back on the top row
    with pytest.raises(ValueError, match=r"reset_mask'\] must be a bool array of shape \(3,\)"):
        env.reset(options={"reset_mask": np.array([1, 0, 1])})


def test_vector_env_truncates_and_autoresets_on_the_next_step():
    env = GameVectorEnv("envs.breakout:BreakoutGame", num_envs=2, max_episode_steps=3)
    env.reset(seed=0)
    truncations = [env.step(np.array([1, 1]))[3].tolist() for _ in range(4)]
    assert truncations == [[False, False], [False, False], [True, True], [False, False]]
    assert env.episode_steps.tolist() == [0, 0]  # step 4 was the autoreset


@given(
    seed=st.integers(0, 2**31 - 1),
    action_seed=st.integers(0, 2**31 - 1),
    env_id=st.sampled_from(GAME_IDS),
    max_episode_steps=st.sampled_from([None, 5, 23]),
)
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_vector_env_matches_single_envs(seed, action_seed, env_id, max_episode_steps):
    counts = assert_vector_matches_singles(env_id, 64, 40, seed, action_seed, max_episode_steps)
    if max_episode_steps is not None or gym.spec(env_id).max_episode_steps is not None:  # not Freeway's clock
        assert counts["terminations"] + counts["truncations"] > 0


@pytest.mark.parametrize("steps", [2_000, pytest.param(10_000, marks=pytest.mark.slow)])
@pytest.mark.parametrize("env_id", GAME_IDS)
def test_vector_env_matches_single_envs_over_thousands_of_steps(env_id, steps):
    # Vector steps against single envs stepped through gym.make's wrappers; 2 copies keep it to seconds.
    counts = assert_vector_matches_singles(env_id, 2, steps, seed=2024, action_seed=7, max_episode_steps=60)
    assert counts["terminations"] + counts["truncations"] > steps // 100  # Freeway only ends on its 2501-step clock


@pytest.mark.parametrize("env_id", GAME_IDS)
def test_rgb_array_frame_is_the_window_content(env_id):
    shown = gym.make(env_id, render_mode="human")
    drawn = gym.make(env_id, render_mode="rgb_array")
    shown.reset(seed=8)
    drawn.reset(seed=8)
    for action in [0, 0, 2, 1, 2]:
        shown.step(action)
        drawn.step(action)
        window = pygame.surfarray.array3d(pygame.display.get_surface()).swapaxes(0, 1)
        assert np.array_equal(drawn.render(), window)
    assert shown.render() is None  # "human" draws into the window and returns nothing, as Gymnasium's envs do
    shown.close()
    assert not pygame.display.get_init()


@pytest.mark.parametrize("env_id", GAME_IDS)
def test_rgb_array_shows_each_channel_in_its_colour(env_id):
    env = gym.make(env_id, render_mode="rgb_array")
    obs, _ = env.reset(seed=1)
    frame = env.render()
    game = env.unwrapped.game
    assert frame.shape == (game.height * CELL_PX + SCORE_BAR_PX, game.width * CELL_PX, 3)
    assert frame.dtype == np.uint8
    centre = CELL_PX // 2
    for channel in range(obs.shape[0]):
        for row, col in zip(*np.nonzero(obs[channel])):
            if not obs[channel + 1 :, row, col].any():  # later channels paint over earlier ones
                pixel = frame[row * CELL_PX + centre, col * CELL_PX + centre]
                assert tuple(pixel) == game.channel_colors[channel]


def test_vector_render_tiles_the_first_copies():
    env = GameVectorEnv(CatchGame, num_envs=6, render_mode="rgb_array", render_copies=4)
    env.reset(seed=0)
    actions = np.array([0, 2, 1, 0, 2, 1])
    env.step(actions)
    frame = env.render()
    board_height, board_width = 10 * CELL_PX + SCORE_BAR_PX, 5 * CELL_PX
    # Four boards in a 2 x 2 grid with BOARD_GAP_PX between them, and nothing else.
    assert frame.shape == (2 * board_height + BOARD_GAP_PX, 2 * board_width + BOARD_GAP_PX, 3)
    tiles = []
    for copy in range(4):
        single = GameEnv(CatchGame, render_mode="rgb_array")
        single.reset(seed=copy)  # copy i of a vector reset with seed 0 is seeded i
        single.step(int(actions[copy]))
        top = (copy // 2) * (board_height + BOARD_GAP_PX)
        left = (copy % 2) * (board_width + BOARD_GAP_PX)
        tile = frame[top:top + board_height, left:left + board_width]
        assert np.array_equal(tile, single.render()), f"tile {copy}"
        tiles.append(tile.tobytes())
    assert len(set(tiles)) > 1  # the copies differ, so each tile shows its own copy
    gap = frame[board_height:board_height + BOARD_GAP_PX]
    assert (gap == BACKGROUND).all()


def test_keys_to_action_maps_arrow_keys_and_noop():
    env = gym.make("mdparcade/Breakout-v0")
    assert env.get_wrapper_attr("get_keys_to_action")() == {(pygame.K_LEFT,): 0, (pygame.K_RIGHT,): 2}
    assert env.unwrapped.noop_action == 1
    assert env.metadata["render_fps"] == env.unwrapped.game.render_fps


@pytest.mark.parametrize("env_id", GAME_IDS)
def test_the_frame_shows_the_score_under_the_board(env_id):
    env = gym.make(env_id, render_mode="rgb_array")
    env.reset(seed=0)
    game = env.unwrapped.game
    board_px = game.height * CELL_PX
    before = env.render()
    game.score[0] = 37
    after = env.render()
    assert np.array_equal(after[:board_px], before[:board_px])  # the board is unchanged
    assert not np.array_equal(after[board_px:], before[board_px:])  # the score bar now reads 37
    assert env.step(0)[4]["score"] == int(game.score[0])


def test_compile_games_plays_each_compiled_game_and_reports_it(capsys):
    from envs import compile_games

    assert compile_games.main(["mdparcade/Freeway-v0"]) == 0
    assert capsys.readouterr().out.startswith("mdparcade/Freeway-v0: ready in ")
    # The default list is every game whose core module defines numba kernels (a game compiled later joins it).
    from numba.core.dispatcher import Dispatcher

    from envs.game_ids import REGISTRY

    def compiled(core: str) -> bool:
        module = importlib.import_module(core.partition(":")[0])
        return any(isinstance(value, Dispatcher) for value in vars(module).values())

    expected = {entry["id"] for entry in REGISTRY if compiled(entry["kwargs"]["game"])}
    assert set(compile_games.COMPILED_IDS) == expected and len(expected) == 4


def test_compiled_and_numpy_bookkeeping_agree():
    from envs import autoreset, autoreset_jit

    gen = np.random.default_rng(0)
    for n in (1, 7, 300):
        for limit in (0, 3):
            keys, counters = rng.seed_to_keys(n, n), gen.integers(0, 2**40, n).astype(np.uint64)
            actions, last = gen.integers(0, 4, n), gen.integers(0, 4, n)
            step_state = (gen.random(n) < 0.3, gen.random(n).astype(np.float32), gen.random(n) < 0.2,
                          np.zeros(n, dtype=bool), gen.integers(0, 5, n))
            results = []
            for module in (autoreset, autoreset_jit):
                state = [array.copy() for array in step_state]
                lasts, my_counters = [last.copy() for _ in range(3)], counters.copy()
                played = [module.sticky_actions(actions, my_last, keys, counters, 1000, np.uint64(below), always)
                          for my_last, (below, always) in zip(lasts, ((2**62, False), (2**63, False), (0, True)))]
                module.rewind_counters(state[0], my_counters)
                module.finish_step(*state, limit)
                results.append(state + played + lasts + [my_counters])
            for numpy_array, compiled_array in zip(*results):
                np.testing.assert_array_equal(numpy_array, compiled_array)
    assert not np.array_equal(results[0][5], results[0][6])  # the two probabilities repeat different copies


def test_a_numpy_game_does_not_load_numba():
    code = ("import sys, gymnasium as gym, numpy as np, envs\n"
            "env = gym.make_vec('mdparcade/SpaceInvaders-v0', num_envs=3, vectorization_mode='vector_entry_point')\n"
            "env.reset(seed=0)\n"
            "for _ in range(50): env.step(np.zeros(3, dtype=np.int64))\n"
            "print('numba' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


@pytest.mark.parametrize("env_id", ["mdparcade/Breakout-v0", "mdparcade/Asterix-v0", "mdparcade/Freeway-v0",
                                    "mdparcade/Seaquest-v0"])
def test_a_compiled_core_refuses_inputs_of_another_length(env_id):
    # Its kernels index the state by the inputs' copies without bounds checks: a longer array must not reach them.
    game = resolve_game(gym.spec(env_id).kwargs["game"])(3)
    with pytest.raises(ValueError, match=r"actions must have shape \(3,\), got \(4,\)"):
        game.step(np.zeros(4, dtype=np.int64))
    with pytest.raises(ValueError, match=r"mask must have shape \(3,\), got \(2,\)"):
        game.reset(np.ones(2, dtype=bool))
