"""Snake's rules on hand-made boards, against a plain-Python reference snake, and batch == singles."""

from __future__ import annotations

import pickle
from collections import deque

import gymnasium as gym
import numpy as np
import pygame
import pytest
from equivalence import assert_vector_matches_singles
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as scipy_stats

import envs  # noqa: F401  (registers mdparcade/Snake-v0)
from envs import rng
from envs.snake import BODY, DOWN, FOOD, HEAD, LEFT, RIGHT, UP, SnakeGame

MOVES = {UP: (-1, 0), RIGHT: (0, 1), DOWN: (1, 0), LEFT: (0, -1)}


def seeded_game(num_envs: int = 1, height: int = 10, width: int = 10, seed: int = 0) -> SnakeGame:
    game = SnakeGame(num_envs, height, width)
    everyone = np.ones(num_envs, dtype=bool)
    game.seed(everyone, rng.seed_to_keys(seed, num_envs))
    game.reset(everyone)
    return game


def step_one(game: SnakeGame, action: int) -> tuple[float, bool]:
    reward, terminated = game.step(np.array([action]))
    return float(reward[0]), bool(terminated[0])


def cells_of(grid: np.ndarray) -> set[tuple[int, int]]:
    return {(int(r), int(c)) for r, c in zip(*np.nonzero(grid))}


class ReferenceSnake:
    """Snake written the obvious way (a deque of (row, col)), drawing from the same counter RNG."""

    def __init__(self, height: int, width: int, key: int):
        self.height, self.width, self.key, self.counter = height, width, key, 0

    def reset(self) -> None:
        row, col = self.height // 2, self.width // 2
        self.body = deque([(row, col - 2), (row, col - 1), (row, col)])
        self.heading = RIGHT
        self.food = self._draw_food()
        self.counter += 1

    def _draw_food(self) -> tuple[int, int]:
        free = [(r, c) for r in range(self.height) for c in range(self.width) if (r, c) not in self.body]
        return free[rng.integers_scalar(self.key, self.counter, len(free), stream=0)]

    def step(self, action: int) -> tuple[float, bool]:
        if MOVES[action] != tuple(-d for d in MOVES[self.heading]):
            self.heading = action
        row, col = self.body[-1]
        target = (row + MOVES[self.heading][0], col + MOVES[self.heading][1])
        grows = target == self.food
        blockers = list(self.body) if grows else list(self.body)[1:]  # the tail moves away unless growing
        on_board = 0 <= target[0] < self.height and 0 <= target[1] < self.width
        reward, done = (-1.0, True) if not on_board or target in blockers else (float(grows), False)
        if not done:
            self.body.append(target)
            if not grows:
                self.body.popleft()
            elif len(self.body) == self.height * self.width:
                self.food, done = None, True
            else:
                self.food = self._draw_food()
        self.counter += 1
        return reward, done

    def observe(self) -> np.ndarray:
        obs = np.zeros((3, self.height, self.width), dtype=np.uint8)
        for r, c in list(self.body)[:-1]:
            obs[BODY, r, c] = 1
        obs[(HEAD, *self.body[-1])] = 1
        if self.food is not None:
            obs[(FOOD, *self.food)] = 1
        return obs

    def greedy_action(self, np_random: np.random.Generator, epsilon: float) -> int:
        """Mostly a safe step towards the food, so snakes grow long and wrap their ring buffer."""
        if np_random.random() < epsilon:
            return int(np_random.integers(4))
        row, col = self.body[-1]
        safe = []
        for action, (dr, dc) in MOVES.items():
            r, c = row + dr, col + dc
            if 0 <= r < self.height and 0 <= c < self.width and (r, c) not in list(self.body)[1:]:
                distance = abs(r - self.food[0]) + abs(c - self.food[1]) if self.food else 0
                safe.append((distance, action))
        return min(safe)[1] if safe else int(np_random.integers(4))


# ---------------------------------------------------------------- rules on hand-made boards
def test_start_layout_and_observation():
    game = seeded_game(height=10, width=10)
    obs = game.observe()
    assert obs.shape == (1, 3, 10, 10) and obs.dtype == np.uint8
    assert cells_of(obs[0, HEAD]) == {(5, 5)}
    assert cells_of(obs[0, BODY]) == {(5, 3), (5, 4)}
    (food,) = cells_of(obs[0, FOOD])
    assert food not in {(5, 3), (5, 4), (5, 5)}


def test_eats_food_and_grows():
    game = seeded_game()
    game.set_state(0, [(5, 3), (5, 4), (5, 5)], RIGHT, food=(5, 6))
    assert step_one(game, RIGHT) == (1.0, False)
    obs = game.observe()[0]
    assert cells_of(obs[HEAD]) == {(5, 6)}
    assert cells_of(obs[BODY]) == {(5, 3), (5, 4), (5, 5)}  # the tail stayed: length 4
    assert game.length[0] == 4 and game.score[0] == 1
    (food,) = cells_of(obs[FOOD])
    assert food not in {(5, 3), (5, 4), (5, 5), (5, 6)}
    assert step_one(game, UP) == (0.0, False)
    assert cells_of(game.observe()[0, BODY]) == {(5, 4), (5, 5), (5, 6)}


@pytest.mark.parametrize("action, head", [(UP, (0, 2)), (LEFT, (2, 0)), (DOWN, (3, 1)), (RIGHT, (1, 3))])
def test_dies_on_wall(action, head):
    game = seeded_game(height=4, width=4)
    neighbour = {UP: (1, 2), LEFT: (2, 1), DOWN: (2, 1), RIGHT: (1, 2)}[action]
    game.set_state(0, [neighbour, head], action, food=(1, 1))
    assert step_one(game, action) == (-1.0, True)
    assert cells_of(game.observe()[0, HEAD]) == {head}  # the head stays on the board


def test_dies_on_own_body():
    game = seeded_game()
    # A hook: moving down from (1, 2) hits (2, 2), which is not the tail.
    game.set_state(0, [(2, 1), (2, 2), (2, 3), (1, 3), (1, 2)], LEFT, food=(8, 8))
    assert step_one(game, DOWN) == (-1.0, True)


def test_tail_chasing_is_allowed():
    game = seeded_game()
    # A 2x2 loop: the head moves into the cell the tail leaves in the same step.
    game.set_state(0, [(3, 3), (3, 4), (4, 4), (4, 3)], LEFT, food=(8, 8))
    for action in (UP, RIGHT, DOWN, LEFT, UP):
        assert step_one(game, action) == (0.0, False)
    assert game.occupied[0].sum() == 4


def test_reversing_into_the_neck_is_ignored():
    game = seeded_game()
    game.set_state(0, [(5, 3), (5, 4), (5, 5)], RIGHT, food=(0, 0))
    assert step_one(game, LEFT) == (0.0, False)
    assert cells_of(game.observe()[0, HEAD]) == {(5, 6)}
    assert game.heading[0] == RIGHT


def test_filling_the_board_is_a_win():
    game = seeded_game(height=4, width=4)
    # A snake covering 15 of 16 cells in a serpentine, about to eat the last free cell (3, 0).
    serpentine = [(r, c) for r in range(4) for c in (range(4) if r % 2 == 0 else range(3, -1, -1))]
    body = serpentine[:15]  # tail (0, 0), head (3, 1) heading left
    game.set_state(0, body, LEFT, food=(3, 0))
    assert step_one(game, LEFT) == (1.0, True)
    assert game.length[0] == 16 and game.food[0] == -1
    obs = game.observe()[0]
    assert obs[FOOD].sum() == 0 and obs[HEAD].sum() + obs[BODY].sum() == 16
    step_one(game, UP)  # stepping a finished copy must stay well defined


def test_counters_advance_by_one_per_call():
    game = seeded_game(num_envs=3)
    assert list(game.counters) == [1, 1, 1]
    game.step(np.array([UP, UP, UP]))
    game.reset(np.array([True, False, True]))
    assert list(game.counters) == [3, 2, 3]


def test_bad_input_raises_value_error():
    with pytest.raises(ValueError, match="at least 4x4"):
        SnakeGame(1, height=3, width=10)
    game = seeded_game()
    with pytest.raises(ValueError, match="off the"):
        game.set_state(0, [(0, 0), (0, 10)], RIGHT, food=(5, 5))
    with pytest.raises(ValueError, match="not neighbours"):
        game.set_state(0, [(0, 0), (0, 2)], RIGHT, food=(5, 5))
    with pytest.raises(ValueError, match="lies on the snake"):
        game.set_state(0, [(0, 0), (0, 1)], RIGHT, food=(0, 1))


# ---------------------------------------------------------------- against the reference, and batch == singles
@pytest.mark.parametrize("height, width", [(10, 10), (4, 5), (6, 4)])
def test_matches_reference_snake(height, width):
    num_envs, num_steps = 6, 600
    game = seeded_game(num_envs, height, width, seed=height * 100 + width)
    refs = [ReferenceSnake(height, width, int(key)) for key in game.keys]
    for ref in refs:
        ref.reset()
    np_random = np.random.default_rng(height + width)
    longest_snake, longest_episode, episode_steps = 0, 0, np.zeros(num_envs, dtype=int)
    for _ in range(num_steps):
        actions = np.array([ref.greedy_action(np_random, epsilon=0.05) for ref in refs])
        rewards, terminated = game.step(actions)
        expected = [ref.step(int(a)) for ref, a in zip(refs, actions)]
        assert rewards.tolist() == [r for r, _ in expected]
        assert terminated.tolist() == [d for _, d in expected]
        assert np.array_equal(game.observe(), np.stack([ref.observe() for ref in refs]))
        longest_snake = max(longest_snake, int(game.length.max()))
        episode_steps = (episode_steps + 1) * ~terminated
        longest_episode = max(longest_episode, int(episode_steps.max()))
        game.reset(terminated)
        for ref, done in zip(refs, terminated):
            if done:
                ref.reset()
    # The greedy policy grows long snakes and plays episodes long enough to wrap the ring buffer.
    assert longest_snake > height * width // 5 and longest_episode > height * width


def test_batch_equals_single_cores():
    num_envs, num_steps = 16, 200
    batch = seeded_game(num_envs, seed=7)
    singles = [seeded_game(1, seed=7 + i) for i in range(num_envs)]
    actions = np.random.default_rng(1).integers(0, 4, size=(num_steps, num_envs))
    for step_actions in actions:
        rewards, terminated = batch.step(step_actions)
        for i, single in enumerate(singles):
            single_reward, single_terminated = single.step(step_actions[i : i + 1])
            assert single_reward[0] == rewards[i] and single_terminated[0] == terminated[i]
            if terminated[i]:
                single.reset(np.array([True]))
        batch.reset(terminated)
        assert np.array_equal(batch.observe(), np.concatenate([s.observe() for s in singles]))
        assert np.array_equal(batch.counters, np.concatenate([s.counters for s in singles]))


def test_food_is_uniform_over_free_cells():
    num_envs = 20_000
    game = seeded_game(num_envs, height=6, width=6, seed=11)
    # After eating, the free cells are the 36 - 4 cells off the snake; each should get food equally often.
    for i in range(num_envs):
        game.set_state(i, [(3, 1), (3, 2), (3, 3)], RIGHT, food=(3, 4))
    rewards, _ = game.step(np.full(num_envs, RIGHT))
    assert (rewards == 1).all()
    counts = np.bincount(game.food, minlength=36)
    snake = [3 * 6 + c for c in (1, 2, 3, 4)]
    assert counts[snake].sum() == 0
    free_counts = np.delete(counts, snake)
    assert scipy_stats.chisquare(free_counts).pvalue > 1e-3


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**31), height=st.integers(4, 7), width=st.integers(4, 7),
       actions=st.lists(st.integers(0, 3), min_size=1, max_size=200))
def test_food_never_on_the_snake_and_state_consistent(seed, height, width, actions):
    game = seeded_game(1, height, width, seed=seed)
    for action in actions:
        _, terminated = step_one(game, action)
        obs = game.observe()[0]
        snake = cells_of(obs[HEAD]) | cells_of(obs[BODY])
        ring = {divmod(int(game.body_cells[0, (game.head_slot[0] - j) % game.num_cells]), width)
                for j in range(game.length[0])}
        assert snake == ring == cells_of(game.occupied[0].reshape(height, width))
        assert obs[HEAD].sum() == 1 and len(snake) == game.length[0]
        assert obs[FOOD].sum() == (1 if game.length[0] < height * width else 0)
        assert not (obs[FOOD] & (obs[HEAD] | obs[BODY])).any()
        if terminated:
            game.reset(np.array([True]))


def test_step_is_total_without_resets():
    game = seeded_game(32, height=4, width=4, seed=3)
    for actions in np.random.default_rng(0).integers(0, 4, size=(300, 32)):
        game.step(actions)  # terminated copies keep being stepped: must never raise or corrupt state
        assert (game.occupied.sum(axis=1) == game.length).all()


# ---------------------------------------------------------------- the registered env
# SB3 warns that 0/1 planes are not 0..255 images and that 10x10 is below its CNN's minimum: expected here.
@pytest.mark.filterwarnings("ignore:It seems that your observation space", "ignore:The minimal resolution")
def test_env_passes_gymnasium_and_sb3_checks():
    from gymnasium.utils.env_checker import check_env
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    env = gym.make("mdparcade/Snake-v0")
    check_env(env.unwrapped, skip_render_check=True)
    sb3_check_env(env.unwrapped)
    assert env.spec.max_episode_steps == 1000
    assert env.observation_space.shape == (3, 10, 10) and env.action_space.n == 4


def test_env_board_size_and_rgb_render():
    env = gym.make("mdparcade/Snake-v0", height=6, width=8, render_mode="rgb_array")
    obs, _ = env.reset(seed=0)
    assert obs.shape == (3, 6, 8)
    frame = env.render()
    assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3
    env.close()


def test_single_env_follows_the_core():
    env = gym.make("mdparcade/Snake-v0")
    obs, _ = env.reset(seed=5)
    core = seeded_game(1, seed=5)
    for action in np.random.default_rng(5).integers(0, 4, size=200):
        assert np.array_equal(obs, core.observe()[0])
        obs, reward, terminated, truncated, info = env.step(int(action))
        core_reward, core_terminated = step_one(core, int(action))
        assert (reward, terminated, info["score"]) == (core_reward, core_terminated, core.score[0])
        if terminated:
            obs, _ = env.reset()
            core.reset(np.array([True]))


def test_vector_env_matches_single_envs():
    # 64 copies x 156 steps ~ 1e4 transitions; a short time limit makes truncations happen too.
    counts = assert_vector_matches_singles("mdparcade/Snake-v0", num_envs=64, num_steps=156, seed=3,
                                           action_seed=4, max_episode_steps=40)
    assert counts["terminations"] > 64 and counts["truncations"] > 0


def test_pickled_env_continues_identically():
    env = gym.make("mdparcade/Snake-v0")
    env.reset(seed=9)
    for action in (UP, UP, LEFT):
        env.step(action)
    clone = pickle.loads(pickle.dumps(env))
    for action in (LEFT, DOWN, DOWN, RIGHT):
        original, copied = env.step(action), clone.step(action)
        assert np.array_equal(original[0], copied[0]) and original[1:4] == copied[1:4]


def test_human_render_shows_the_rgb_array_frame_in_the_window():
    shown = gym.make("mdparcade/Snake-v0", render_mode="human")
    drawn = gym.make("mdparcade/Snake-v0", render_mode="rgb_array")
    shown.reset(seed=0)
    drawn.reset(seed=0)
    frames = []
    for action in (UP, UP, LEFT, DOWN):  # reset and every step draw into the window by themselves
        shown.step(action)
        drawn.step(action)
        window = pygame.surfarray.array3d(pygame.display.get_surface()).swapaxes(0, 1)
        assert np.array_equal(window, drawn.render())
        frames.append(window.tobytes())
    assert len(set(frames)) == 4  # the snake moved: each frame is new
    shown.close()
    assert not pygame.display.get_init()


def test_arrow_keys_map_to_the_absolute_directions():
    env = gym.make("mdparcade/Snake-v0")
    keys = env.get_wrapper_attr("get_keys_to_action")()
    assert keys == {(pygame.K_UP,): UP, (pygame.K_RIGHT,): RIGHT, (pygame.K_DOWN,): DOWN, (pygame.K_LEFT,): LEFT}
    assert env.unwrapped.noop_action is None  # no do-nothing action: `mdparcade play` repeats the last key
