"""Breakout's rules: hand-computed moves, the batched core against a plain-Python MinAtar-rules reference, and
against the minatar package itself (tests/envs/minatar_reference.py)."""

from __future__ import annotations

import copy

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from minatar_reference import MinAtarComparison

import envs  # noqa: F401  (registers the ids)
from envs import rng
from envs.breakout import START_SIDE_STREAM, BreakoutGame

UP_LEFT, UP_RIGHT, DOWN_RIGHT, DOWN_LEFT = 0, 1, 2, 3
LEFT, NOOP, RIGHT = 0, 1, 2
ALL_BRICK_CELLS = {(row, col) for row in (1, 2, 3) for col in range(10)}


def breakout_with(ball, direction, paddle=4, bricks=ALL_BRICK_CELLS, strike=False) -> BreakoutGame:
    """A one-copy game in a chosen state: ball (row, col), bricks a set of (row, col) in rows 1-3."""
    game = BreakoutGame(1)
    game.ball_cell[0] = game.trail_cell[0] = ball[0] * 10 + ball[1]
    game.ball_dir[0] = direction
    game.paddle_col[0] = paddle
    game.strike[0] = strike
    game.bricks[0] = sum(1 << ((row - 1) * 10 + col) for row, col in bricks)
    return game


def step(game: BreakoutGame, action: int = NOOP) -> tuple[float, bool]:
    reward, terminated = game.step(np.array([action]))
    return float(reward[0]), bool(terminated[0])


def ball(game: BreakoutGame) -> tuple[int, int, int]:
    return int(game.ball_row[0]), int(game.ball_col[0]), int(game.ball_dir[0])


def brick_cells(game: BreakoutGame) -> set[tuple[int, int]]:
    rows, cols = np.nonzero(game.observe()[0, 3])
    return set(zip(rows.tolist(), cols.tolist()))


def test_reset_puts_ball_on_row_three_at_a_wall_heading_down_and_both_sides_occur():
    sides = set()
    for seed in range(20):
        env = gym.make("mdparcade/Breakout-v0")
        obs, info = env.reset(seed=seed)
        game = env.unwrapped.game
        assert ball(game) in {(3, 0, DOWN_RIGHT), (3, 9, DOWN_LEFT)}
        sides.add(int(game.ball_col[0]))
        assert obs[0].sum() == 1 and obs[0, 9, 4] == 1  # paddle in column 4 of the bottom row
        assert obs[2, 3, game.ball_col[0]] == 1  # trail starts under the ball
        assert brick_cells(game) == ALL_BRICK_CELLS and info["score"] == 0
    assert sides == {0, 9}


def test_ball_moves_diagonally_and_leaves_a_trail():
    game = breakout_with(ball=(5, 5), direction=DOWN_LEFT)
    assert step(game) == (0.0, False)
    assert ball(game) == (6, 4, DOWN_LEFT)
    obs = game.observe()[0]
    assert obs[1, 6, 4] == 1 and obs[2, 5, 5] == 1 and obs[1].sum() == obs[2].sum() == 1


def test_ball_bounces_off_side_walls_and_ceiling():
    game = breakout_with(ball=(5, 9), direction=UP_RIGHT)
    step(game)
    assert ball(game) == (4, 9, UP_LEFT)  # clamped to the wall, now heading left
    game = breakout_with(ball=(0, 5), direction=UP_LEFT, bricks=set())
    step(game)
    assert ball(game) == (0, 4, DOWN_LEFT)
    game = breakout_with(ball=(0, 0), direction=UP_LEFT, bricks=set())
    step(game)
    assert ball(game) == (0, 0, DOWN_RIGHT)  # corner: both reflections


def test_breaking_a_brick_gives_one_point_and_bounces_back():
    game = breakout_with(ball=(4, 5), direction=UP_LEFT)
    assert step(game) == (1.0, False)
    assert ball(game) == (4, 4, DOWN_LEFT)  # stays on its row, moves sideways into the brick's column
    assert brick_cells(game) == ALL_BRICK_CELLS - {(3, 4)}
    assert int(game.score[0]) == 1


def test_no_second_brick_on_the_next_step():
    game = breakout_with(ball=(4, 5), direction=UP_LEFT, strike=True)
    assert step(game) == (0.0, False)
    assert ball(game) == (3, 4, UP_LEFT)  # passes into the brick's cell without breaking it
    assert brick_cells(game) == ALL_BRICK_CELLS
    assert step(game) == (0.0, False)  # still inside bricks: strike holds
    assert ball(game) == (2, 3, UP_LEFT)
    game = breakout_with(ball=(0, 5), direction=DOWN_LEFT, bricks={(1, 4), (1, 2)})
    assert step(game) == (1.0, False) and ball(game) == (0, 4, UP_LEFT)
    assert step(game) == (0.0, False) and ball(game) == (0, 3, DOWN_LEFT)  # a step off the ceiling ...
    assert step(game) == (1.0, False) and ball(game) == (0, 2, UP_LEFT)  # ... clears the strike


def test_paddle_straight_under_the_ball_sends_it_back_up_mirrored():
    game = breakout_with(ball=(8, 4), direction=DOWN_RIGHT, paddle=4)
    assert step(game) == (0.0, False)
    assert ball(game) == (8, 5, UP_RIGHT)


def test_paddle_hit_diagonally_sends_the_ball_back_the_way_it_came():
    game = breakout_with(ball=(8, 3), direction=DOWN_RIGHT, paddle=5)
    assert step(game, LEFT) == (0.0, False)  # paddle moves to 4, where the ball lands
    assert ball(game) == (8, 4, UP_LEFT)


def test_missing_the_ball_terminates():
    game = breakout_with(ball=(8, 0), direction=DOWN_RIGHT, paddle=9)
    assert step(game, RIGHT) == (0.0, True)
    assert ball(game)[:2] == (9, 1)
    step(game)  # stepping a finished copy stays in range (the core must be total)
    assert 0 <= game.ball_row[0] <= 9 and 0 <= game.ball_col[0] <= 9


def test_bricks_come_back_when_the_ball_reaches_the_bottom_with_none_left():
    game = breakout_with(ball=(8, 4), direction=DOWN_RIGHT, paddle=4, bricks=set())
    step(game)
    assert brick_cells(game) == ALL_BRICK_CELLS
    game = breakout_with(ball=(7, 4), direction=DOWN_RIGHT, paddle=0, bricks=set())
    step(game)
    assert brick_cells(game) == set()  # not yet at the bottom


def test_paddle_stops_at_the_walls():
    game = breakout_with(ball=(5, 5), direction=UP_LEFT, paddle=1)
    for _ in range(3):
        step(game, LEFT)
    assert game.paddle_col[0] == 0
    for _ in range(12):
        step(game, RIGHT)
    assert game.paddle_col[0] == 9


def test_observation_of_every_brick_alone_and_of_neighbouring_copies():
    """Each brick bit shows as its own cell (the compiled observe writes the wall 8 cells at a time), and
    copies' planes do not leak into each other, at copy counts on both sides of a vector width."""
    for num_copies in (1, 5, 33):
        game = BreakoutGame(num_copies)
        copies = np.arange(num_copies)
        game.ball_cell[:] = game.trail_cell[:] = 40 + copies % 60
        game.trail_cell[:] += 1
        game.paddle_col[:] = copies % 10
        for bit in range(30):
            game.bricks[:] = np.uint32(1) << np.uint32((bit + copies) % 30)
            obs = game.observe()
            assert obs.shape == (num_copies, 4, 10, 10) and obs.dtype == np.uint8
            for i in range(num_copies):
                expected = np.zeros((4, 10, 10), dtype=np.uint8)
                expected[0, 9, i % 10] = 1
                expected[1].flat[40 + i % 60] = 1
                expected[2].flat[41 + i % 60] = 1
                brick = (bit + i) % 30
                expected[3, 1 + brick // 10, brick % 10] = 1
                assert np.array_equal(obs[i], expected), (num_copies, i, bit)
    game.bricks[:] = (1 << 30) - 1
    assert (game.observe()[:, 3, 1:4] == 1).all()

class ReferenceBreakout:
    """MinAtar Breakout for one board, written with plain Python and (row step, col step) directions."""

    def __init__(self, ball, row_step, col_step, paddle=4, bricks=ALL_BRICK_CELLS, strike=False):
        self.row, self.col = ball
        self.row_step, self.col_step = row_step, col_step
        self.trail = ball
        self.paddle = paddle
        self.bricks = set(bricks)
        self.strike = strike

    @classmethod
    def start(cls, from_right: bool) -> ReferenceBreakout:
        return cls((3, 9), 1, -1) if from_right else cls((3, 0), 1, 1)

    def step(self, action: int) -> tuple[float, bool]:
        self.paddle = min(9, max(0, self.paddle + action - 1))
        last_row, last_col = self.trail = (self.row, self.col)
        row, col = last_row + self.row_step, last_col + self.col_step
        reward, terminated, in_brick = 0.0, False, False
        if col < 0 or col > 9:
            col = min(9, max(0, col))
            self.col_step = -self.col_step
        if row < 0:
            row, self.row_step = 0, 1
        elif (row, col) in self.bricks:
            in_brick = True
            if not self.strike:
                reward = 1.0
                self.bricks.remove((row, col))
                row, self.row_step = last_row, -self.row_step
        elif row == 9:
            if not self.bricks:
                self.bricks = set(ALL_BRICK_CELLS)
            if last_col == self.paddle:
                row, self.row_step = last_row, -self.row_step
            elif col == self.paddle:
                row, self.row_step, self.col_step = last_row, -self.row_step, -self.col_step
            else:
                terminated = True
        self.strike = in_brick
        self.row, self.col = row, col
        return reward, terminated

    def observe(self) -> np.ndarray:
        obs = np.zeros((4, 10, 10), dtype=np.uint8)
        obs[0, 9, self.paddle] = 1
        obs[1, self.row, self.col] = 1
        obs[2, self.trail[0], self.trail[1]] = 1
        for row, col in self.bricks:
            obs[3, row, col] = 1
        return obs


STEPS_OF_DIRECTION = {UP_LEFT: (-1, -1), UP_RIGHT: (-1, 1), DOWN_RIGHT: (1, 1), DOWN_LEFT: (1, -1)}


def _ball_tracking_actions(game: BreakoutGame, noise: np.ndarray) -> np.ndarray:
    """Follow the ball's column (so episodes last), with the random move in `noise` where it is >= 0."""
    towards_ball = np.sign(game.ball_col - game.paddle_col) + 1
    return np.where(noise >= 0, noise, towards_ball)


def _compare_with_references(game, references, actions_rng, num_steps, noise) -> dict[str, int]:
    """Step the core and the references with the same actions until all end; count rare events seen."""
    seen = {"breaks": 0, "blocked_by_strike": 0, "refills": 0, "terminations": 0}
    alive = np.ones(game.num_envs, dtype=bool)
    for _ in range(num_steps):
        random_moves = actions_rng.integers(0, 3, game.num_envs)
        use_random = actions_rng.random(game.num_envs) < noise
        actions = _ball_tracking_actions(game, np.where(use_random, random_moves, -1))
        reward, terminated = game.step(actions)
        obs = game.observe()
        for i in np.flatnonzero(alive):
            reference = references[i]
            was_striking, had_bricks = reference.strike, bool(reference.bricks)
            assert (float(reward[i]), bool(terminated[i])) == reference.step(int(actions[i]))
            assert np.array_equal(obs[i], reference.observe())
            seen["breaks"] += int(reward[i])
            seen["blocked_by_strike"] += was_striking and reference.strike
            seen["refills"] += not had_bricks and bool(reference.bricks)
        seen["terminations"] += int((terminated & alive).sum())
        alive &= ~terminated
        if not alive.any():
            break
    return seen


def _random_states(seed: int, num_copies: int) -> tuple[BreakoutGame, list[ReferenceBreakout]]:
    """A core and matching references in random mid-game states (ball anywhere, holes in the wall, strike)."""
    state_rng = np.random.default_rng(seed)
    game, references = BreakoutGame(num_copies), []
    for i in range(num_copies):
        ball = (int(state_rng.integers(0, 9)), int(state_rng.integers(0, 10)))
        direction, paddle = int(state_rng.integers(0, 4)), int(state_rng.integers(0, 10))
        density = state_rng.choice([0.0, 0.5, 0.9])
        bricks = {cell for cell in sorted(ALL_BRICK_CELLS) if state_rng.random() < density}
        strike = bool(state_rng.random() < 0.2)
        one = breakout_with(ball, direction, paddle, bricks, strike)
        for name in ("ball_cell", "trail_cell", "ball_dir", "paddle_col", "strike", "bricks"):
            getattr(game, name)[i] = getattr(one, name)[0]
        references.append(ReferenceBreakout(ball, *STEPS_OF_DIRECTION[direction], paddle, bricks, strike))
    return game, references


@given(seed=st.integers(0, 2**31 - 1), noise=st.sampled_from([0.0, 0.3, 1.0]))
@settings(max_examples=5, deadline=None)
def test_core_matches_reference_rules_from_random_states(seed, noise):
    game, references = _random_states(seed, 32)
    _compare_with_references(game, references, np.random.default_rng(seed + 1), 150, noise)


def test_random_states_exercise_every_rule():
    game, references = _random_states(0, 64)
    seen = _compare_with_references(game, references, np.random.default_rng(1), 300, noise=0.3)
    assert min(seen.values()) > 0, seen


def test_core_matches_reference_rules_in_seeded_episodes_with_refills():
    num_copies = 64
    game, everyone = BreakoutGame(num_copies), np.ones(num_copies, dtype=bool)
    keys = rng.seed_to_keys(2025, num_copies)
    game.seed(everyone, keys)
    game.reset(everyone)
    # The reference starts where the counter-based coin (key, counter 0) says, as the core's reset does.
    references = [ReferenceBreakout.start(bool(rng.integers_scalar(int(key), 0, 2))) for key in keys]
    seen = _compare_with_references(game, references, np.random.default_rng(1), 3000, noise=0.02)
    # Two breaks in a row never happen from the start position in practice; the random states cover them.
    assert seen["breaks"] > 30 * seen["refills"] > 0 and seen["terminations"] == 64, seen


@pytest.mark.parametrize("num_copies", [1, 7])
def test_observation_is_binary_and_has_one_paddle_ball_and_trail(num_copies):
    env = gym.make_vec("mdparcade/Breakout-v0", num_envs=num_copies, vectorization_mode="vector_entry_point")
    obs, _ = env.reset(seed=3)
    actions = np.random.default_rng(0).integers(0, 3, (50, num_copies))
    paddle_columns, autoreset = [obs[:, 0, -1].argmax(axis=1)], [np.zeros(num_copies, dtype=bool)]
    for step_actions in actions:
        obs, _, terminated, truncated, _ = env.step(step_actions)
        assert set(np.unique(obs)) <= {0, 1}
        assert (obs[:, :3].sum(axis=(2, 3)) == 1).all()
        paddle_columns.append(obs[:, 0, -1].argmax(axis=1))
        autoreset.append(terminated | truncated)
    # Every paddle went both ways under the random actions (a reset's jump back to the middle not counted).
    moves = np.where(np.array(autoreset[:-1]), 0, np.diff(np.array(paddle_columns), axis=0))
    assert ((moves < 0).any(axis=0) & (moves > 0).any(axis=0)).all()


# ----------------------------------------------------------------------------- against the minatar package

BREAKOUT_STREAMS = {("reset", "ball_start = self.random.randint(2)"): START_SIDE_STREAM}


def _landing_column(reference) -> int:
    """The column the ball is in when it next reaches row 8 going down, bricks and walls included: MinAtar's
    own rules played forward on a copy (the paddle only matters below row 8)."""
    future = copy.deepcopy(reference)
    for _ in range(60):
        if future.ball_y == 8 and future.ball_dir in (2, 3):  # MinAtar's down-right and down-left
            break
        future.act(0)
    return future.ball_x


def _minatar_breakout_policy(noise: float, seed: int, seen: dict[str, int]):
    """Move the paddle towards the ball's landing column, or at random with probability `noise`; count, in
    `seen`, the steps on which a wall was cleared and the steps on which it came back."""
    noise_rng = np.random.default_rng(seed)
    cleared: set[int] = set()

    def policy(references, game) -> np.ndarray:
        actions = []
        for i, reference in enumerate(references):
            has_bricks = bool(reference.brick_map.any())
            if i in cleared and has_bricks:
                cleared.discard(i)
                seen["refills"] += 1
            elif not has_bricks and i not in cleared:
                cleared.add(i)
                seen["cleared"] += 1
            towards = int(np.sign(_landing_column(reference) - reference.pos)) + 1  # LEFT 0, NOOP 1, RIGHT 2
            actions.append(int(noise_rng.integers(0, 3)) if noise_rng.random() < noise else towards)
        return np.array(actions)

    return policy


def test_minatar_action_order_is_mapped_by_name():
    comparison = MinAtarComparison(BreakoutGame(1), "breakout", BREAKOUT_STREAMS, seed=0)
    # Ours: LEFT, NOOP, RIGHT (saved models depend on it); MinAtar's full set: n l u r d f.
    assert comparison.minatar_action == [1, 0, 3]


@pytest.mark.parametrize("ramping", [True, False])  # MinAtar's Breakout ignores the flag; both must match
def test_matches_minatar_over_ten_thousand_steps_with_walls_cleared_and_refilled(ramping):
    seen = {"cleared": 0, "refills": 0}
    comparison = MinAtarComparison(BreakoutGame(16), "breakout", BREAKOUT_STREAMS, seed=7, ramping=ramping)
    counts = comparison.run(_minatar_breakout_policy(0.03, seed=1, seen=seen), 12_000)
    assert counts["steps"] >= 10_000 and counts["episodes"] > 16, counts
    assert seen["refills"] >= 3 and seen["cleared"] >= seen["refills"], seen


def test_the_harness_fails_on_a_draw_from_another_stream_or_an_unmapped_call():
    wrong_stream = {site: START_SIDE_STREAM + 5 for site in BREAKOUT_STREAMS}
    with pytest.raises(AssertionError, match="after reset, copy .*: channels .*ball"):
        MinAtarComparison(BreakoutGame(16), "breakout", wrong_stream, seed=7)
    with pytest.raises(AssertionError, match=r"MinAtar drew at \('reset', 'ball_start = self.random.randint\(2\)'\)"):
        MinAtarComparison(BreakoutGame(1), "breakout", {}, seed=7)
