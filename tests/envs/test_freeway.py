"""Freeway's rules: hand-computed moves, and the batched core step for step against the minatar package.

The Gymnasium-level checks (both env checkers, rendering with the score, pickling, determinism, vector == single)
run for every registered game in test_arcade.py and test_vector_equivalence.py.
"""

from __future__ import annotations

import copy

import gymnasium as gym
import numpy as np
import pytest
from minatar_reference import MinAtarComparison, lookahead_policy

import envs  # noqa: F401  (registers the ids)
from envs import freeway
from envs.freeway import FreewayGame

NOOP, UP, DOWN = range(3)
CHICKEN, CAR = 0, 1
FREEWAY_STREAMS = {
    ("_randomize_cars", "speeds = self.random.randint(1,6,8)"): freeway.SPEED_STREAM,
    ("_randomize_cars", "directions = np.sign(self.random.rand(8) - 0.5).astype(int)"): freeway.DIRECTION_STREAM,
}


def freeway_with(chicken_row=9, cars=(), move_timer=0) -> FreewayGame:
    """A one-copy game: cars (row, col, speed) with speed in +-1..5 (timer = |speed|); other rows' cars are
    parked far from the chicken's column (col 9, speed 5)."""
    game = FreewayGame(1)
    game.chicken_row[0], game.move_timer[0] = chicken_row, move_timer
    placed = {row: (col, speed) for row, col, speed in cars}
    for row in range(1, 9):
        col, speed = placed.get(row, (9, 5))
        game.car_x[0, row - 1], game.car_step[0, row - 1] = col, np.sign(speed)
        game.car_period[0, row - 1] = game.car_timer[0, row - 1] = abs(speed)
    return game


def step(game: FreewayGame, action: int = NOOP) -> tuple[float, bool]:
    reward, terminated = game.step(np.array([action]))
    return float(reward[0]), bool(terminated[0])


def cells(game: FreewayGame, channel: int) -> set[tuple[int, int]]:
    return {tuple(cell) for cell in np.argwhere(game.observe()[0, channel]).tolist()}


def test_chicken_moves_at_most_once_every_three_steps_and_scores_at_the_top():
    game = freeway_with(chicken_row=2)
    rows = []
    for _ in range(7):
        step(game, UP)
        rows.append(int(game.chicken_row[0]))
    assert rows == [1, 1, 1, 9, 9, 9, 8]  # reaching row 0 scores and goes back to the bottom at once
    assert int(game.score[0]) == 1 and cells(game, CHICKEN) == {(8, 4)}
    game = freeway_with(chicken_row=9)
    step(game, DOWN)
    assert int(game.chicken_row[0]) == 9 and int(game.move_timer[0]) == 2  # the bottom stops it, timer runs


def test_cars_move_every_speed_steps_wrap_around_and_show_their_speed_in_the_trail_channel():
    game = freeway_with(cars=[(3, 9, 1), (5, 0, -3)])
    game.car_timer[0, 2] = game.car_timer[0, 4] = 0  # both move on the next step
    step(game)
    assert {(3, 0), (5, 9)} <= cells(game, CAR)  # wrapped around
    assert cells(game, 1 + 1) == {(3, 9)} and (5, 0) in cells(game, 1 + 3)  # the cell behind, by speed
    for _ in range(3):
        step(game)
    assert (5, 9) in cells(game, CAR)  # speed -3 waits three steps
    step(game)
    assert (5, 8) in cells(game, CAR)


def test_a_car_on_the_chicken_before_or_after_it_moves_sends_it_back_down():
    game = freeway_with(chicken_row=4, cars=[(4, 4, 2)])
    assert step(game) == (0.0, False) and int(game.chicken_row[0]) == 9  # the car was there already
    game = freeway_with(chicken_row=4, cars=[(4, 3, 1)])
    game.car_timer[0, 3] = 0
    step(game)
    assert int(game.chicken_row[0]) == 9  # the car drove onto the chicken
    game = freeway_with(chicken_row=5, cars=[(4, 3, 1)])
    game.car_timer[0, 3] = 0
    step(game, UP)
    assert int(game.chicken_row[0]) == 9  # the chicken stepped into the car's way


def test_the_episode_terminates_on_step_2501():
    game = freeway_with()
    ends = [step(game)[1] for _ in range(2501)]
    assert not any(ends[:-1]) and ends[-1]


def test_freeway_has_sticky_actions_but_no_difficulty_ramping_as_in_minatar():
    assert gym.make("mdparcade/Freeway-v0").unwrapped.game.sticky_action_prob == 0.1
    with pytest.raises(TypeError, match="difficulty_ramping"):
        gym.make("mdparcade/Freeway-v0", difficulty_ramping=False)


def _clone(reference):
    """A copy of a MinAtar Freeway game for looking ahead (much faster than deepcopy)."""
    future = copy.copy(reference)
    future.cars = [car[:] for car in reference.cars]
    future.random = copy.copy(reference.random)
    return future


@pytest.mark.parametrize("ramping", [True, False])  # MinAtar's Freeway ignores the flag; both must match
def test_matches_minatar_over_ten_thousand_steps_through_the_clock(ramping):
    game = FreewayGame(4)
    comparison = MinAtarComparison(game, "freeway", FREEWAY_STREAMS, seed=3, ramping=ramping)
    # Up when the next steps are safe: the chicken's row after them (crossings first) is the value.
    policy = lookahead_policy(depth=3, noise=0.05, seed=0, clone=_clone, value=lambda future: -future.pos)
    counts = comparison.run(policy, 12_000)
    # Every copy ran out its 2501-step clock and started again; crossings re-randomized the cars often.
    assert counts["steps"] >= 10_000 and counts["terminations"] == 4 and counts["episodes"] == 8, counts
    assert counts["reward"] > 200, counts
