"""GridWorldEnv: Gymnasium and SB3 env checks, determinism, pickling, rendering, and the model against references."""

import os
import pickle
import warnings

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

import gymnasium as gym
import numpy as np
import pygame
import pytest
from gymnasium.utils.env_checker import check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import envs
from envs.gridworld import OBS_MODES, GridWorldEnv
from envs.gridworld_ids import REGISTRY
from envs.gridworld_render import AGENT_COLOR

GRID_IDS = [spec["id"] for spec in REGISTRY]


@pytest.fixture
def fast_human_render(monkeypatch):
    """Human rendering waits 1/render_fps per frame; tests do not need to watch."""
    monkeypatch.setitem(GridWorldEnv.metadata, "render_fps", 10_000)


def test_registry_ids_are_registered():
    assert set(GRID_IDS) <= set(envs.register_envs())
    assert len(GRID_IDS) == 7
    assert gym.spec("mdparcade/FrozenLake8x8-v0").max_episode_steps == 200


@pytest.mark.parametrize("env_id", GRID_IDS)
@pytest.mark.parametrize("obs_mode", OBS_MODES)
def test_gymnasium_and_sb3_check_env(env_id, obs_mode, fast_human_render):
    env = gym.make(env_id, obs_mode=obs_mode, render_mode="rgb_array")
    check_env(env.unwrapped)  # also makes the env in every render mode of its metadata, "human" included
    with warnings.catch_warnings():
        # SB3 only advises about small float32 images (CnnPolicy prefers uint8 >= 36x36); errors still raise.
        warnings.filterwarnings("ignore", module="stable_baselines3")
        sb3_check_env(gym.make(env_id, obs_mode=obs_mode), warn=True)
    obs, _ = env.reset(seed=0)
    assert env.observation_space.contains(obs)
    frame = env.render()
    assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3


@pytest.mark.parametrize("env_id", GRID_IDS)
def test_human_render_runs_headless(env_id, fast_human_render):
    env = gym.make(env_id, render_mode="human")
    env.reset(seed=0)
    for action in (0, 1, 2, 3):
        env.step(action)
    assert pygame.display.get_surface().get_size() == env.unwrapped._renderer.size
    env.close()


def test_human_window_shows_exactly_the_rgb_array_frame(fast_human_render):
    human = gym.make("mdparcade/FourRooms-v0", render_mode="human")
    pixels = gym.make("mdparcade/FourRooms-v0", render_mode="rgb_array")
    rng = np.random.default_rng(0)
    values, policy = rng.normal(size=121), rng.integers(0, 4, 121)
    for env in (human, pixels):
        env.reset(seed=4)
        env.step(2)
        env.unwrapped.set_overlay(values=values, policy=policy)
    human.render()
    window = pygame.surfarray.array3d(pygame.display.get_surface()).transpose(1, 0, 2)
    frame = pixels.render()
    np.testing.assert_array_equal(window, frame)
    pixels.unwrapped.set_overlay()
    assert not np.array_equal(pixels.render(), frame)  # the overlay really was drawn
    human.close()


def test_frame_draws_the_agent_in_its_cell():
    env = gym.make("mdparcade/CliffWalking-v0", render_mode="rgb_array")
    env.reset(seed=0)
    env.step(3)  # up from the start (3, 0) to (2, 0)
    frame, cell = env.render(), env.unwrapped._renderer.cell
    assert tuple(frame[2 * cell + cell // 2, cell // 2]) == AGENT_COLOR
    assert tuple(frame[3 * cell + cell // 2, cell // 2]) != AGENT_COLOR


def test_set_overlay_rejects_wrong_shapes():
    env = gym.make("mdparcade/FrozenLake8x8-v0").unwrapped
    with pytest.raises(ValueError, match=r"values must have shape \(64,\)"):
        env.set_overlay(values=np.zeros(10))
    with pytest.raises(ValueError, match="action ints"):
        env.set_overlay(policy=np.full(64, 4))


def test_keys_to_action_maps_arrow_keys_through_the_wrappers():
    # gymnasium.utils.play finds the mapping this way. (Importing play itself would switch matplotlib to TkAgg
    # for the whole test session, so it is not imported here.)
    env = gym.make("mdparcade/Corridor-v0", render_mode="rgb_array")
    keys = env.get_wrapper_attr("get_keys_to_action")()
    assert keys == {(pygame.K_LEFT,): 0, (pygame.K_DOWN,): 1, (pygame.K_RIGHT,): 2, (pygame.K_UP,): 3}
    env.reset(seed=0)
    assert env.step(keys[(pygame.K_RIGHT,)])[0] == 1
    assert env.step(keys[(pygame.K_LEFT,)])[0] == 0


@pytest.mark.parametrize("env_id", GRID_IDS)
def test_seeded_runs_repeat_and_seeds_differ(env_id):
    def trajectory(seed):
        env = gym.make(env_id, obs_mode="index")
        obs, _ = env.reset(seed=seed)
        out = [obs]
        actions = np.random.default_rng(1).integers(0, 4, 300).tolist()
        for action in actions:
            obs, reward, terminated, truncated, _ = env.step(action)
            out.append((obs, reward, terminated, truncated))
            if terminated or truncated:
                out.append(env.reset()[0])
        return out

    assert trajectory(7) == trajectory(7)
    if env_id in ("mdparcade/FrozenLake8x8-v0", "mdparcade/RussellNorvig4x3-v0"):  # slippery: seeds matter
        assert trajectory(7) != trajectory(8)


def test_reset_without_seed_continues_the_stream():
    rows = ["SSSS", "...G"]
    env = GridWorldEnv(rows)
    env.reset(seed=3)
    starts = [env.reset()[0] for _ in range(200)]
    env.reset(seed=3)
    assert [env.reset()[0] for _ in range(200)] == starts
    assert set(starts) == {0, 1, 2, 3}
    fresh = GridWorldEnv(rows)  # never seeded: a key from np_random, and it still runs
    assert fresh.reset()[0] in {0, 1, 2, 3}


@pytest.mark.parametrize("render_mode", [None, "rgb_array"])
def test_pickled_env_continues_identically(render_mode):
    env = gym.make("mdparcade/FrozenLake8x8-v0", obs_mode="onehot", render_mode=render_mode)
    env.reset(seed=11)
    for action in (1, 2, 2, 1):
        env.step(action)
    if render_mode:
        env.render()
    clone = pickle.loads(pickle.dumps(env))
    for action in np.random.default_rng(0).integers(0, 4, 100).tolist():
        a, b = env.step(action), clone.step(action)
        np.testing.assert_array_equal(a[0], b[0])
        assert a[1:4] == b[1:4]
        if a[2] or a[3]:
            np.testing.assert_array_equal(env.reset()[0], clone.reset()[0])
    if render_mode:
        np.testing.assert_array_equal(env.render(), clone.render())


def test_max_episode_steps_on_the_bare_env_truncates_like_time_limit():
    env = GridWorldEnv("Corridor", max_episode_steps=3)
    env.reset(seed=0)
    assert [env.step(0)[3] for _ in range(3)] == [False, False, True]
    env.reset()
    assert env.step(0)[3] is False


def test_observation_modes_encode_the_state():
    rows = ["S.#", "H.G"]
    for mode, expected in [
        ("index", 4),
        ("onehot", np.eye(6, dtype=np.float32)[4]),
        ("coords", np.array([1, 1], dtype=np.float32)),
    ]:
        env = GridWorldEnv(rows, obs_mode=mode)
        env.reset(seed=0)
        env.step(2)  # right to (0, 1)
        obs = env.step(1)[0]  # down to (1, 1)
        np.testing.assert_array_equal(obs, expected)
    env = GridWorldEnv(rows, obs_mode="image")
    obs, _ = env.reset(seed=0)
    assert obs.shape == (5, 2, 3) and obs.dtype == np.float32
    np.testing.assert_array_equal(obs[0], [[0, 0, 1], [0, 0, 0]])  # walls
    np.testing.assert_array_equal(obs[1], [[0, 0, 0], [0, 0, 1]])  # goals
    np.testing.assert_array_equal(obs[2], [[0, 0, 0], [1, 0, 0]])  # holes
    np.testing.assert_array_equal(obs[4], [[1, 0, 0], [0, 0, 0]])  # agent


def test_cliff_sends_back_to_start_with_minus_100_and_walls_block():
    env = gym.make("mdparcade/CliffWalking-v0")
    assert env.reset(seed=0)[0] == 36
    assert env.step(2)[:3] == (36, -100.0, False)  # right from the start is the cliff
    assert env.step(0)[:3] == (36, -1.0, False)  # left off the map: stay
    walls = GridWorldEnv(["S#G", "..."])
    walls.reset(seed=0)
    assert walls.step(2)[0] == 0  # into the wall: stay


def test_step_rejects_bad_actions():
    env = GridWorldEnv("Corridor")
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"action must be in \[0, 4\).*got 4"):
        env.step(4)
    with pytest.raises(TypeError):
        env.step(1.5)
