"""Freeway with MinAtar's rules (Young & Tian, 2019) as a batched core: N copies of a 10 x 10 road at once.

`mdparcade/Freeway-v0` wraps it (envs/arcade.py). The rules are numba-compiled loops over the copies (`_step`,
`_reset`, `_observe`) that read and write the class's numpy state arrays in place.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from envs import rng_jit
from envs.batched_game import BatchedGame

SIDE = 10
CARS = 8  # car i drives on row i + 1
CHICKEN_COL = 4
START_ROW = SIDE - 1
PLAYER_SPEED = 3  # the chicken moves at most once every 3 steps
TIME_LIMIT = 2500  # MinAtar's clock: the episode terminates on step TIME_LIMIT + 1
CHICKEN, CAR = 0, 1  # then one trail channel per speed: channel 1 + |speed|
# envs.rng streams of a car randomization (reset, and every crossing): car i's speed draw is stream
# SPEED_STREAM + i, its direction draw DIRECTION_STREAM + i (tests/envs/test_freeway.py maps MinAtar's calls).
SPEED_STREAM, DIRECTION_STREAM = 1, 1 + CARS
CHANNELS = 7
_PLANE = SIDE * SIDE
_UP = 1  # NOOP 0, UP 1, DOWN 2


@njit(cache=True, inline="always")
def _randomize_cars(i, keys, counters, car_period, car_timer, car_step):
    """MinAtar's _randomize_cars for copy i: a speed in 1..5 and a direction per car, drawn at the copy's
    current counter; each car's timer restarts at its new period."""
    for car in range(CARS):
        period = np.int8(rng_jit.uniform(keys[i], counters[i], SPEED_STREAM + car) * 5) + np.int8(1)
        car_period[i, car] = period  # MinAtar's randint(1, 6)
        car_timer[i, car] = period
        car_step[i, car] = -1 if rng_jit.uniform(keys[i], counters[i], DIRECTION_STREAM + car) < 0.5 else 1


@njit(cache=True)
def _reset(mask, keys, counters, score, chicken_row, move_timer, time_left, car_x, car_timer, car_step, car_period):
    """`FreewayGame.reset`: the start state in the copies where `mask`, whose counters advance by 1."""
    for i in range(mask.shape[0]):
        if mask[i]:
            _randomize_cars(i, keys, counters, car_period, car_timer, car_step)
            for car in range(CARS):
                car_x[i, car] = 0
            chicken_row[i] = START_ROW
            move_timer[i] = PLAYER_SPEED
            time_left[i] = TIME_LIMIT
            score[i] = 0
            counters[i] += np.uint64(1)


@njit(cache=True)
def _step(actions, keys, counters, score, chicken_row, move_timer, time_left, car_x, car_timer, car_step,
          car_period, reward, terminated):
    """`FreewayGame.step`, in MinAtar's order: the chicken moves (a crossing scores, redraws the cars and sends it
    back down), a car on its cell before or after the cars move sends it back down, then the clocks."""
    for i in range(actions.shape[0]):
        row = chicken_row[i]
        if move_timer[i] == 0 and actions[i] != 0:
            row = max(row - 1, 0) if actions[i] == _UP else min(row + 1, SIDE - 1)
            move_timer[i] = PLAYER_SPEED
        crossed = row == 0
        if crossed:
            _randomize_cars(i, keys, counters, car_period, car_timer, car_step)
            row = START_ROW
        # Only the car on the chicken's row (rows 1-8) can hit it: before it moves, or after.
        hit = row <= CARS and car_x[i, row - 1] == CHICKEN_COL
        for car in range(CARS):  # cars whose timer is 0 move one cell (wrapping at the walls) and restart it
            timer = car_timer[i, car]
            if timer == 0:
                car_timer[i, car] = car_period[i, car]
                x = car_x[i, car] + car_step[i, car]
                car_x[i, car] = SIDE - 1 if x < 0 else (0 if x >= SIDE else x)
            else:
                car_timer[i, car] = timer - 1
        if row <= CARS and car_x[i, row - 1] == CHICKEN_COL:
            hit = True
        chicken_row[i] = START_ROW if hit else row
        if move_timer[i] > 0:
            move_timer[i] -= 1
        time_left[i] -= 1
        terminated[i] = time_left[i] < 0
        reward[i] = 1.0 if crossed else 0.0
        score[i] += crossed
        counters[i] += np.uint64(1)


@njit(cache=True)
def _observe(obs, chicken_row, car_x, car_step, car_period):
    """Fill obs (uint8, flat, N * CHANNELS * SIDE * SIDE): chicken, cars, and each car's trail in the channel
    of its speed, on the cell behind it (wrapped around the walls)."""
    size = CHANNELS * _PLANE
    for i in range(chicken_row.shape[0]):
        base = i * size
        for j in range(size):
            obs[base + j] = 0
        obs[base + chicken_row[i] * SIDE + CHICKEN_COL] = 1
        for car in range(CARS):
            x = car_x[i, car]
            row = base + (car + 1) * SIDE
            obs[row + _PLANE + x] = 1
            back = x - car_step[i, car]
            back += SIDE * ((back < 0) - (back >= SIDE))
            obs[row + (1 + car_period[i, car]) * _PLANE + back] = 1


class FreewayGame(BatchedGame):
    """MinAtar Freeway for N copies.

    Rules: the chicken starts on the bottom row (9) in column 4 and moves up or down one row at most once
    every 3 steps. Reaching the top row gives +1, sends it back to the bottom and gives every car a new
    speed. Eight cars, one per row 1-8, drive sideways and wrap around at the walls: a car with speed s moves
    one cell every |s| steps, right if s > 0, left if s < 0; speeds are redrawn uniformly from 1..5 with a
    fair-coin direction (all cars start in column 0). A car on the chicken's cell, before or after it moves,
    sends the chicken back to the bottom row. The episode terminates after 2501 steps (MinAtar's 2500-frame
    clock); it never ends otherwise, and MinAtar's Freeway has no difficulty ramping. Channels: chicken, car,
    and speed1..speed5: the cell behind each car (its direction), in the channel of its speed. Actions: NOOP,
    UP, DOWN. Score: crossings.

    MinAtar draws a direction as sign(u - 0.5), which is 0 for u == 0.5 exactly (a car that never moves,
    and a crash in its state()); here u == 0.5 drives right. It happens with probability 2**-53 per draw.

    State: chicken_row int64 (N,), move_timer int8 (N,), time_left int16 (N,); per car (N, CARS), car i on
    row i + 1: car_x, car_timer, car_step (+1 or -1) and car_period (|speed|) int8.
    """

    action_meanings = ("NOOP", "UP", "DOWN")
    channel_names = ("chicken", "car", "speed1", "speed2", "speed3", "speed4", "speed5")
    channel_colors = ((250, 220, 60), (230, 60, 60), (170, 120, 120), (150, 110, 120), (130, 100, 125),
                      (110, 90, 130), (90, 80, 135))
    render_fps = 10
    compiled = True

    def __init__(self, num_envs: int = 1, sticky_action_prob: float = 0.0):
        super().__init__(num_envs, SIDE, SIDE, sticky_action_prob)
        n = self.num_envs
        self.chicken_row = np.full(n, START_ROW, dtype=np.int64)
        self.move_timer = np.full(n, PLAYER_SPEED, dtype=np.int8)
        self.time_left = np.full(n, TIME_LIMIT, dtype=np.int16)
        self.car_x = np.zeros((n, CARS), dtype=np.int8)
        self.car_timer = np.ones((n, CARS), dtype=np.int8)
        self.car_step = np.ones((n, CARS), dtype=np.int8)
        self.car_period = np.ones((n, CARS), dtype=np.int8)

    def _state(self) -> tuple[np.ndarray, ...]:
        return (self.keys, self.counters, self.score, self.chicken_row, self.move_timer, self.time_left, self.car_x,
                self.car_timer, self.car_step, self.car_period)

    def reset(self, mask: np.ndarray) -> None:
        _reset(self._per_copy(mask, np.bool_, "mask"), *self._state())

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        actions = self._per_copy(actions, np.int64, "actions")
        reward = np.empty(self.num_envs, dtype=np.float32)
        terminated = np.empty(self.num_envs, dtype=np.bool_)
        _step(actions, *self._state(), reward, terminated)
        return reward, terminated

    def observe(self) -> np.ndarray:
        obs = np.empty((self.num_envs, CHANNELS, SIDE, SIDE), dtype=np.uint8)
        _observe(obs.reshape(-1), self.chicken_row, self.car_x, self.car_step, self.car_period)
        return obs
