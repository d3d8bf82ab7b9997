"""Asterix's rules: hand-computed moves, and the batched core step for step against the minatar package.

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
from envs import asterix
from envs.asterix import AsterixGame

NOOP, LEFT, UP, RIGHT, DOWN = range(5)
PLAYER, ENEMY, TRAIL, GOLD = range(4)
ASTERIX_STREAMS = {
    ("_spawn_entity", "lr = self.random.rand() < 1/2"): asterix.SPAWN_SIDE_STREAM,
    ("_spawn_entity", "is_gold = self.random.rand() < 1/3"): asterix.SPAWN_GOLD_STREAM,
    ("_spawn_entity", "slot = slot_options[self.random.randint(len(slot_options))]"): asterix.SPAWN_SLOT_STREAM,
}


def asterix_with(player, entities=(), move_timer=5, spawn_timer=10, ramping=False) -> AsterixGame:
    """A one-copy game: player (row, col); entities (row, col, +1 right / -1 left, gold)."""
    game = AsterixGame(1, difficulty_ramping=ramping)
    game.player_cell[0] = player[0] * 10 + player[1]
    for row, col, direction, gold in entities:
        plane = GOLD if gold else ENEMY
        game.ent_x[0, row - 1], game.ent_dir[0, row - 1] = col, direction
        game.ent_obs[0, row - 1] = plane * 100 + row * 10 + col
        game.ent_trail[0, row - 1] = (TRAIL - plane) * 100 - direction
    game.move_timer[0], game.spawn_timer[0] = move_timer, spawn_timer
    return game


def step(game: AsterixGame, action: int = NOOP) -> tuple[float, bool]:
    reward, terminated = game.step(np.array([action]))
    return float(reward[0]), bool(terminated[0])


def cells(game: AsterixGame, channel: int) -> set[tuple[int, int]]:
    return {tuple(cell) for cell in np.argwhere(game.observe()[0, channel]).tolist()}


def test_player_moves_within_rows_one_to_eight():
    game = asterix_with(player=(1, 0))
    step(game, UP)
    step(game, LEFT)
    assert cells(game, PLAYER) == {(1, 0)}
    for _ in range(9):
        step(game, DOWN)
        step(game, RIGHT)
    assert cells(game, PLAYER) == {(8, 9)}


def test_entities_move_every_move_interval_and_leave_a_trail():
    game = asterix_with(player=(8, 0), entities=[(3, 4, 1, False), (5, 6, -1, True)], move_timer=1)
    step(game)  # the timer reaches 0 only at the end of this step
    assert cells(game, ENEMY) == {(3, 4)} and cells(game, GOLD) == {(5, 6)}
    assert cells(game, TRAIL) == {(3, 3), (5, 7)}
    step(game)  # moves now, then waits five steps
    assert cells(game, ENEMY) == {(3, 5)} and cells(game, GOLD) == {(5, 5)}
    assert cells(game, TRAIL) == {(3, 4), (5, 6)}
    for _ in range(4):
        step(game)
    assert cells(game, ENEMY) == {(3, 5)}
    step(game)
    assert cells(game, ENEMY) == {(3, 6)}


def test_gold_is_collected_before_and_after_the_move_and_an_enemy_ends_the_episode():
    game = asterix_with(player=(4, 3), entities=[(4, 5, -1, True)], move_timer=0)
    assert step(game, RIGHT) == (1.0, False)  # the gold moved onto the player, who stepped next to it
    assert cells(game, GOLD) == set() and int(game.score[0]) == 1
    game = asterix_with(player=(4, 4), entities=[(4, 5, -1, True)], move_timer=3)
    assert step(game, RIGHT) == (1.0, False)  # the player stepped onto the gold
    game = asterix_with(player=(6, 2), entities=[(6, 3, -1, False)], move_timer=0)
    assert step(game) == (0.0, True)
    assert cells(game, ENEMY) == {(6, 2)} and cells(game, PLAYER) == {(6, 2)}


def test_entities_vanish_past_the_wall_and_spawn_at_a_wall_in_an_empty_row():
    game = asterix_with(player=(8, 5), entities=[(2, 9, 1, False)], move_timer=0)
    step(game)
    assert cells(game, ENEMY) == cells(game, TRAIL) == set()
    rows, sides = set(), set()
    for key in range(40):
        full = [(row, 5, 1, False) for row in range(1, 9) if row != 6]  # only row 6 is empty
        game = asterix_with(player=(8, 5), entities=full[:key % 2 * 7], move_timer=3, spawn_timer=0)
        game.seed(np.ones(1, dtype=bool), np.array([key], dtype=np.uint64))
        step(game)
        new = (cells(game, ENEMY) | cells(game, GOLD)) - {(row, 5) for row, *_ in full}
        (row, col), = new
        rows.add(row if key % 2 == 0 else -row)
        sides.add(col)
        assert col in (0, 9) and cells(game, TRAIL) == {(r, 4) for r, *_ in full[:key % 2 * 7]}  # none for it yet
    assert sides == {0, 9} and {-6} == {row for row in rows if row < 0} and len(rows) > 5


def test_ramping_speeds_up_spawns_and_moves_every_102_steps():
    game = AsterixGame(1)
    game.spawn_timer[0] = game.move_timer[0] = 10**4  # keep the board empty: only the clock matters here
    speeds = []
    for _ in range(102 * 10):
        step(game)
        speeds.append((int(game.spawn_speed[0]), int(game.move_speed[0])))
    # MinAtar's ramp timer counts 100 down to -1 (101 steps), then the 102nd step ramps and restarts it.
    assert speeds[100] == (10, 5) and speeds[101] == (9, 5) and speeds[203] == (8, 4) and speeds[305] == (7, 4)
    assert speeds[-1] == (1, 1) and int(game.ramp_index[0]) == 9
    flat = AsterixGame(1, difficulty_ramping=False)
    for _ in range(300):
        step(flat, UP)
    assert (int(flat.spawn_speed[0]), int(flat.move_speed[0])) == (10, 5)


def test_difficulty_ramping_must_be_a_bool():
    with pytest.raises(ValueError, match="difficulty_ramping must be True or False, got 'no'"):
        gym.make("mdparcade/Asterix-v0", difficulty_ramping="no")
    assert gym.make("mdparcade/Asterix-v0", difficulty_ramping=False).unwrapped.game.difficulty_ramping is False


def _clone(reference):
    """A copy of a MinAtar Asterix game for looking ahead (much faster than deepcopy)."""
    future = copy.copy(reference)
    future.entities = [entity and entity[:] for entity in reference.entities]
    future.random = copy.copy(reference.random)
    return future


@pytest.mark.parametrize("ramping", [True, False])
def test_matches_minatar_over_ten_thousand_steps(ramping):
    furthest = {"ramp_index": 0}

    def watch(reference):
        furthest["ramp_index"] = max(furthest["ramp_index"], reference.ramp_index)

    game = AsterixGame(8, difficulty_ramping=ramping)
    comparison = MinAtarComparison(game, "asterix", ASTERIX_STREAMS, seed=1, ramping=ramping)
    counts = comparison.run(lookahead_policy(depth=2, noise=0.03, seed=0, clone=_clone, watch=watch), 10_000)
    assert counts["steps"] >= 10_000 and counts["terminations"] >= 5 and counts["reward"] > 100, counts
    # With ramping the games reach full speed (spawn and move every step: ramp index 9).
    assert furthest["ramp_index"] == (9 if ramping else 0)


def test_restart_sets_the_last_action_back_and_reset_does_not():
    game = AsterixGame(3)
    game.last_action[:] = RIGHT
    counters = game.counters.copy()
    game.reset(np.array([True, False, False]))
    game.restart(np.array([False, True, False]))
    assert game.last_action.tolist() == [RIGHT, NOOP, RIGHT]
    assert (game.counters - counters).tolist() == [1, 1, 0]
    with pytest.raises(ValueError, match=r"mask must have shape \(3,\)"):
        game.reset(np.ones(4, dtype=bool))


def test_step_and_observe_are_total_on_any_state():
    """Arbitrary values in every state array (not reachable by play) must not crash or index out of range."""
    rng = np.random.default_rng(0)
    game = AsterixGame(64)
    for name in ("ent_x", "ent_dir", "ent_obs", "ent_trail", "spawn_speed", "spawn_timer", "move_speed",
                 "move_timer", "ramp_timer", "ramp_index", "player_cell"):
        array = getattr(game, name)
        info = np.iinfo(array.dtype)
        array[...] = rng.integers(max(info.min, -(2**20)), min(info.max, 2**20), size=array.shape, endpoint=True)
    for _ in range(50):
        reward, terminated = game.step(rng.integers(0, 5, size=64))
        assert reward.dtype == np.float32 and terminated.dtype == np.bool_
        assert ((game.player_cell >= 10) & (game.player_cell < 90)).all()  # rows 1-8
        obs = game.observe()
        assert obs.shape == (64, 4, 10, 10) and obs.max() <= 1
        assert (obs.reshape(64, -1)[np.arange(64), game.player_cell] == 1).all()
