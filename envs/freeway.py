"""Freeway with MinAtar's rules (Young & Tian, 2019) as a batched core: N copies of a 10 x 10 road at once.

`mdparcade/Freeway-v0` wraps it (envs/arcade.py). Each rule is an array operation over all copies and cars.
"""

from __future__ import annotations

import numpy as np

from envs import rng
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
_CAR_STREAMS = tuple(range(SPEED_STREAM, SPEED_STREAM + CARS)) + tuple(range(DIRECTION_STREAM, DIRECTION_STREAM + CARS))

_PLANE = SIDE * SIDE
_CAR_ROW = np.arange(1, CARS + 1, dtype=np.int16)[:, None] * SIDE  # (CARS, 1) offset of each car's row
# Chicken row after NOOP, UP, DOWN (MinAtar's minimal action set n, u, d, in order) from each row, at index
# action * SIDE + row, for a chicken allowed to move.
_NEXT_ROW = np.concatenate([np.arange(SIDE), np.maximum(np.arange(SIDE) - 1, 0),
                            np.minimum(np.arange(SIDE) + 1, SIDE - 1)]).astype(np.int64)


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

    State: chicken_row int64 (N,), move_timer int8 (N,), time_left int16 (N,); per car (CARS, N), car-major
    so that per-copy values broadcast along the long axis: car_x, car_timer, car_step (+1 or -1) and
    car_period (|speed|) int8.
    """

    action_meanings = ("NOOP", "UP", "DOWN")
    channel_names = ("chicken", "car", "speed1", "speed2", "speed3", "speed4", "speed5")
    channel_colors = ((250, 220, 60), (230, 60, 60), (170, 120, 120), (150, 110, 120), (130, 100, 125),
                      (110, 90, 130), (90, 80, 135))
    render_fps = 10

    def __init__(self, num_envs: int = 1, sticky_action_prob: float = 0.0):
        super().__init__(num_envs, SIDE, SIDE, sticky_action_prob)
        n = self.num_envs
        self.chicken_row = np.full(n, START_ROW, dtype=np.int64)
        self.move_timer = np.full(n, PLAYER_SPEED, dtype=np.int8)
        self.time_left = np.full(n, TIME_LIMIT, dtype=np.int16)
        self.car_x = np.zeros((CARS, n), dtype=np.int8)
        self.car_timer = np.ones((CARS, n), dtype=np.int8)
        self.car_step = np.ones((CARS, n), dtype=np.int8)
        self.car_period = np.ones((CARS, n), dtype=np.int8)
        self._copy = np.arange(n, dtype=np.int64)
        self._obs_base = self._copy * (len(self.channel_names) * _PLANE)
        self._cells = np.zeros((2, CARS, n), dtype=np.int16)  # observe()'s car and trail indices

    def reset(self, mask: np.ndarray) -> None:
        copies = np.flatnonzero(mask)
        self._randomize_cars(copies)
        self.car_x[:, copies] = 0
        self.chicken_row[copies] = START_ROW
        self.move_timer[copies] = PLAYER_SPEED
        self.time_left[copies] = TIME_LIMIT
        self.score[copies] = 0
        self.counters[copies] += np.uint64(1)

    def _randomize_cars(self, copies: np.ndarray) -> None:
        """MinAtar's _randomize_cars for `copies` (int64 (m,)): a speed in 1..5 and a direction per car; each
        car's timer restarts at its new period. Draws at the copies' current counters."""
        draws = rng.uniforms(self.keys[copies], self.counters[copies], _CAR_STREAMS)
        period = (draws[:CARS] * 5).astype(np.int8) + np.int8(1)  # MinAtar's randint(1, 6)
        self.car_period[:, copies] = period
        self.car_timer[:, copies] = period
        self.car_step[:, copies] = np.where(draws[CARS:] < 0.5, -1, 1)

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        can_move = self.move_timer == 0
        moved_row = _NEXT_ROW.take(actions * SIDE + self.chicken_row)
        moves = can_move & (actions != 0)
        np.copyto(self.chicken_row, moved_row, where=moves)
        np.copyto(self.move_timer, PLAYER_SPEED, where=moves)
        crossed = self.chicken_row == 0
        if crossed.any():
            self._randomize_cars(np.flatnonzero(crossed))
            self.chicken_row[crossed] = START_ROW
        # Only the car on the chicken's row (rows 1-8) can hit it: before it moves, or after.
        on_road = (self.chicken_row >= 1) & (self.chicken_row <= CARS)
        chicken_car = (np.minimum(self.chicken_row, CARS) - 1) * self.num_envs + self._copy  # row is 1..9 here
        hit = self.car_x.reshape(-1)[chicken_car] == CHICKEN_COL
        self._move_cars()
        hit |= self.car_x.reshape(-1)[chicken_car] == CHICKEN_COL  # a car that did not move is checked twice
        hit &= on_road
        self.chicken_row[hit] = START_ROW
        self.move_timer -= self.move_timer > 0
        self.time_left -= 1
        terminated = self.time_left < 0
        self.score += crossed
        self.counters += np.uint64(1)
        return crossed.astype(np.float32), terminated

    def _move_cars(self) -> None:
        """Cars whose timer is 0 move one cell (wrapping at the walls) and restart it; the others count down."""
        moving = self.car_timer == 0
        self.car_timer -= 1
        self.car_timer += moving * (self.car_period + 1)
        self.car_x += moving * self.car_step
        wrapped = self.car_x.view(np.uint8) > SIDE - 1  # -1 reads as 255
        self.car_x -= wrapped * self.car_step * np.int8(SIDE)

    def observe(self) -> np.ndarray:
        obs = np.zeros((self.num_envs, len(self.channel_names), SIDE, SIDE), dtype=np.uint8)
        flat = obs.reshape(-1)
        flat[self._obs_base + (self.chicken_row * SIDE + CHICKEN_COL)] = 1
        car, trail = self._cells
        np.add(self.car_x, _CAR_ROW + CAR * _PLANE, out=car)
        back = self.car_x - self.car_step  # the cell behind the car, wrapped around the walls
        back += (back.view(np.uint8) > SIDE - 1) * self.car_step * np.int8(SIDE)
        np.multiply(self.car_period, np.int16(_PLANE), out=trail)
        trail += back
        trail += _CAR_ROW + CAR * _PLANE
        # Indices in copy-major order: the writes then land close together.
        flat[self._obs_base[:, None] + self._cells.reshape(2 * CARS, -1).T] = 1
        return obs
