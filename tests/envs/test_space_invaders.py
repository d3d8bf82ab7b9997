"""Space Invaders' rules: hand-computed steps, the batched core against the minatar package from the same states
(tests/envs/minatar_reference.py), and the env's Gymnasium contract."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from minatar_reference import MinAtarComparison, make_reference, reference_observation

import envs  # noqa: F401  (registers the ids)
from envs.space_invaders import SpaceInvadersGame, board_of

NOOP, LEFT, RIGHT, FIRE = range(4)
WAVE = {(row, col) for row in range(4) for col in range(2, 8)}


# ----------------------------------------------------------------------------- states on both sides

def load_reference_state(game: SpaceInvadersGame, i: int, reference) -> None:
    """Put MinAtar's state into copy i of our core."""
    for ours, theirs in (("pos", "pos"), ("shot_timer", "shot_timer"), ("alien_dir", "alien_dir"),
                         ("move_interval", "enemy_move_interval"), ("move_timer", "alien_move_timer"),
                         ("alien_shot_timer", "alien_shot_timer"), ("ramp_index", "ramp_index")):
        getattr(game, ours)[i] = getattr(reference, theirs)
    game.aliens[i] = board_of(np.argwhere(reference.alien_map))
    game.friendly_bullets[i] = board_of(np.argwhere(reference.f_bullet_map))
    game.enemy_bullets[i] = board_of(np.argwhere(reference.e_bullet_map))
    game.alien_count[i] = np.count_nonzero(reference.alien_map)


def _board(cells_set) -> np.ndarray:
    board = np.zeros((10, 10))
    for row, col in cells_set:
        board[row, col] = 1
    return board


def state_pair(ramping: bool = True, aliens=None, friendly=(), enemy=(), **fields):
    """A one-copy core and a MinAtar game in the same state: MinAtar's reset state with `fields` (its own
    attribute names) changed and the maps given as sets of (row, col) cells."""
    game = SpaceInvadersGame(1, difficulty_ramping=ramping)
    game.reset(np.ones(1, dtype=bool))
    reference = make_reference("space_invaders", {}, ramping)
    reference.reset()
    if aliens is not None:
        reference.alien_map = _board(aliens)
    reference.f_bullet_map, reference.e_bullet_map = _board(friendly), _board(enemy)
    for name, value in fields.items():
        setattr(reference, name, value)
    load_reference_state(game, 0, reference)
    assert_same(game, reference, "after loading")
    return game, reference


def assert_same(game: SpaceInvadersGame, reference, when: str) -> None:
    ours, theirs = game.observe()[0], reference_observation(reference)
    differ = [name for c, name in enumerate(game.channel_names) if not np.array_equal(ours[c], theirs[c])]
    assert not differ, f"{when}: channels {differ} differ from MinAtar's"


def step_both(game: SpaceInvadersGame, reference, action: int) -> tuple[float, bool]:
    """One step on both sides; asserts equal reward, termination and observation. Returns ours."""
    expected = reference.act(reference.minimal_action_set()[action])
    reward, terminated = game.step(np.array([action]))
    assert (float(reward[0]), bool(terminated[0])) == (float(expected[0]), bool(expected[1]))
    assert_same(game, reference, f"after {game.action_meanings[action]}")
    return float(reward[0]), bool(terminated[0])


def cells(game: SpaceInvadersGame, channel: str) -> set[tuple[int, int]]:
    plane = game.observe()[0, game.channel_names.index(channel)]
    return set(map(tuple, np.argwhere(plane).tolist()))


# ----------------------------------------------------------------------------- hand-computed rules

def test_reset_shows_the_wave_heading_left_over_the_cannon():
    game = SpaceInvadersGame(2)
    game.reset(np.ones(2, dtype=bool))
    assert cells(game, "alien") == cells(game, "alien_left") == WAVE and cells(game, "alien_right") == set()
    assert cells(game, "cannon") == {(9, 5)}
    assert game.action_meanings == ("NOOP", "LEFT", "RIGHT", "FIRE")


def test_a_shot_kills_an_alien_and_the_nearest_alien_shoots_back():
    game, reference = state_pair()
    assert step_both(game, reference, FIRE) == (0.0, False)
    assert cells(game, "friendly_bullet") == {(8, 5)}
    rewards = [step_both(game, reference, NOOP)[0] for _ in range(5)]
    assert rewards == [0, 0, 0, 0, 1] and (3, 5) not in cells(game, "alien") and game.score[0] == 1
    for _ in range(4):
        step_both(game, reference, LEFT)
    assert step_both(game, reference, NOOP) == (0.0, False)  # step 11: the alien nearest column 1 fires
    assert cells(game, "enemy_bullet") == {(3, 2)}


def test_the_wave_steps_sideways_then_drops_and_turns_at_the_wall():
    game, reference = state_pair(aliens={(2, 1), (2, 2), (5, 0)}, alien_move_timer=0, pos=8, alien_shot_timer=5)
    step_both(game, reference, NOOP)  # an alien at the left wall while heading left: down a row, now right
    assert cells(game, "alien_right") == {(3, 1), (3, 2), (6, 0)} and cells(game, "alien_left") == set()
    for _ in range(3):  # moves every min(aliens, interval) = 3 steps now
        step_both(game, reference, NOOP)
    assert cells(game, "alien") == {(3, 2), (3, 3), (6, 1)}


@pytest.mark.parametrize("ramping", [True, False])
def test_a_cleared_wave_comes_back_and_with_ramping_moves_faster(ramping):
    game, reference = state_pair(ramping, aliens={(4, 5)}, friendly={(5, 5)}, alien_move_timer=3)
    assert step_both(game, reference, NOOP) == (1.0, False)
    assert cells(game, "alien") == WAVE
    assert (game.move_interval[0], game.ramp_index[0]) == ((11, 1) if ramping else (12, 0))


def test_an_alien_bullet_or_an_alien_reaching_the_cannon_terminates():
    game, reference = state_pair(enemy={(8, 5)})
    assert step_both(game, reference, NOOP) == (0.0, True)
    game, reference = state_pair(enemy={(8, 5)})
    assert step_both(game, reference, LEFT) == (0.0, False)
    game, reference = state_pair(aliens={(9, 3), (9, 4)}, alien_move_timer=0, alien_dir=1, pos=5)
    assert step_both(game, reference, NOOP) == (0.0, True)  # the wave moved onto the cannon


def test_a_wave_turning_on_the_bottom_row_terminates_and_wraps_to_the_top_as_minatar_rolls_it():
    game, reference = state_pair(aliens={(9, 0), (8, 1)}, alien_move_timer=0, pos=7)
    assert step_both(game, reference, NOOP) == (0.0, True)
    assert cells(game, "alien") == {(0, 0), (9, 1)}


def test_fire_during_the_cool_down_does_nothing_and_the_cannon_stops_at_the_walls():
    game, reference = state_pair(pos=1)
    step_both(game, reference, FIRE)
    step_both(game, reference, FIRE)
    assert cells(game, "friendly_bullet") == {(7, 1)}
    for action in (LEFT, LEFT, RIGHT):
        step_both(game, reference, action)
    assert cells(game, "cannon") == {(9, 1)}


# ----------------------------------------------------------------------------- against minatar, long runs

def _will_hit(reference) -> bool:
    """Whether a bullet fired now meets an alien, the aliens moving as MinAtar will move them (no kills)."""
    aliens, direction, timer = reference.alien_map.copy(), reference.alien_dir, reference.alien_move_timer
    for rows_up in range(9):
        if timer == 0:
            timer = min(np.count_nonzero(aliens), reference.enemy_move_interval)
            at_wall = aliens[:, 0].any() if direction < 0 else aliens[:, 9].any()
            aliens = np.roll(aliens, 1, axis=0) if at_wall else np.roll(aliens, direction, axis=1)
            direction = -direction if at_wall else direction
        if aliens[8 - rows_up, reference.pos]:
            return True
        timer -= 1
    return False


def _safe(reference, col: int) -> bool:
    """No alien bullet about to land in `col`, and no alien about to reach the bottom row there."""
    return not reference.e_bullet_map[7:9, col].any() and not reference.alien_map[8:10, col].any()


def _gunner_policy(noise: float, seed: int):
    """Fire when the shot will hit, else go under the nearest alien; never into a column where an alien bullet
    is about to land. With probability `noise` a random action (still kept safe)."""
    noise_rng = np.random.default_rng(seed)

    def policy(references, game) -> np.ndarray:
        actions = []
        for reference in references:
            pos = reference.pos
            columns = np.flatnonzero(reference.alien_map.any(axis=0))
            target = columns[np.argmin(np.abs(columns - pos))]
            action = NOOP if target == pos else LEFT if target < pos else RIGHT
            if reference.shot_timer == 0 and _will_hit(reference):
                action = FIRE
            if noise_rng.random() < noise:
                action = int(noise_rng.integers(0, 4))
            lands = {NOOP: pos, FIRE: pos, LEFT: max(0, pos - 1), RIGHT: min(9, pos + 1)}
            if not _safe(reference, lands[action]):
                action = next((choice for choice in (NOOP, LEFT, RIGHT) if _safe(reference, lands[choice])), action)
            actions.append(action)
        return np.array(actions)

    return policy


def _count_waves(comparison: MinAtarComparison) -> dict[str, int]:
    """Counts cleared waves and the highest ramp index reached, over the comparison's steps."""
    seen = {"cleared": 0, "max_ramp": 0}
    step = comparison.step

    def counting_step(actions):
        before = [np.count_nonzero(reference.alien_map) for reference in comparison.references]
        reward, terminated = step(actions)
        for aliens_before, reference in zip(before, comparison.references):
            seen["cleared"] += bool(aliens_before < 24 and np.count_nonzero(reference.alien_map) == 24)
            seen["max_ramp"] = max(seen["max_ramp"], reference.ramp_index)
        return reward, terminated

    comparison.step = counting_step
    return seen


@pytest.mark.parametrize("ramping", [True, False])
def test_matches_minatar_over_ten_thousand_steps_clearing_waves_up_to_the_fastest(ramping):
    comparison = MinAtarComparison(SpaceInvadersGame(8, difficulty_ramping=ramping), "space_invaders", {}, seed=3,
                                   ramping=ramping)
    seen = _count_waves(comparison)
    counts = comparison.run(_gunner_policy(noise=0.02, seed=0), 12_000)
    assert counts["steps"] >= 10_000 and counts["terminations"] >= 4, counts
    # With ramping, six cleared waves in one episode bring the interval down to MinAtar's fastest, 6.
    assert seen["cleared"] >= 20 and seen["max_ramp"] == (6 if ramping else 0), seen


def test_matches_minatar_under_random_play():
    comparison = MinAtarComparison(SpaceInvadersGame(32), "space_invaders", {}, seed=8)
    action_rng = np.random.default_rng(1)
    counts = comparison.run(lambda references, game: action_rng.integers(0, 4, game.num_envs), 6_000)
    assert counts["episodes"] > 40 and counts["reward"] > 100, counts


# ----------------------------------------------------------------------------- the env

def test_core_steps_every_copy_safely_after_its_episode_ended():
    game = SpaceInvadersGame(64)
    game.reset(np.ones(64, dtype=bool))
    for step_actions in np.random.default_rng(0).integers(0, 4, (1500, 64)):
        game.step(step_actions)
        obs = game.observe()
        assert obs.shape == (64, 6, 10, 10) and obs.max() <= 1


def test_options_default_to_minatars_and_are_checked():
    game = gym.make("mdparcade/SpaceInvaders-v0").unwrapped.game
    assert (game.sticky_action_prob, game.difficulty_ramping) == (0.1, True)
    with pytest.raises(ValueError, match="difficulty_ramping must be True or False"):
        gym.make("mdparcade/SpaceInvaders-v0", difficulty_ramping=1)
