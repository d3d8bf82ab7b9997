"""Seaquest's rules: hand-computed steps, the batched core against the minatar package from the same states
(tests/envs/minatar_reference.py), and the env's Gymnasium contract."""

from __future__ import annotations

from operator import attrgetter

import gymnasium as gym
import numpy as np
import pytest
from minatar_reference import MinAtarComparison, lookahead, make_reference, reference_observation

import envs  # noqa: F401  (registers the ids)
from envs import seaquest, seaquest_movers
from envs.batched_game import BatchedGame
from envs.seaquest import SeaquestGame
from envs.seaquest_movers import DIVER_PLANE, FISH_PLANE, SUB_PLANE
from envs.seaquest_shots import DEAD_BULLET_CELL

NOOP, LEFT, UP, RIGHT, DOWN, FIRE = range(6)
SEAQUEST_STREAMS = {
    ("_spawn_enemy", "lr = self.random.rand() < 1/2"): seaquest.ENEMY_SIDE_STREAM,
    ("_spawn_enemy", "is_sub = self.random.rand() < 1/3"): seaquest.ENEMY_KIND_STREAM,
    ("_spawn_enemy", "y = self.random.randint(low=1, high=9)"): seaquest.ENEMY_ROW_STREAM,
    ("_spawn_diver", "lr = self.random.rand() < 1/2"): seaquest.DIVER_SIDE_STREAM,
    ("_spawn_diver", "y = self.random.randint(low=1, high=9)"): seaquest.DIVER_ROW_STREAM,
}
NEVER = 10**6  # a spawn timer that does not run out in a test


# ----------------------------------------------------------------------------- states on both sides

def load_reference_state(game: SeaquestGame, i: int, reference) -> None:
    """Put MinAtar's state (its lists, in their order) into copy i of our core."""
    for ours, theirs in (("sub_col", "sub_x"), ("sub_row", "sub_y"), ("sub_right", "sub_or"), ("oxygen", "oxygen"),
                         ("diver_count", "diver_count"), ("shot_timer", "shot_timer"),
                         ("spawn_interval", "e_spawn_speed"), ("spawn_timer", "e_spawn_timer"),
                         ("diver_timer", "d_spawn_timer"), ("move_interval", "move_speed"),
                         ("ramp_index", "ramp_index"), ("surfaced", "surface")):
        getattr(game, ours)[i] = getattr(reference, theirs)
    bullets = game.bullets
    bullets.cell[i] = DEAD_BULLET_CELL
    for j, (x, y, right) in enumerate(reference.f_bullets):  # MinAtar's list holds the older bullet first
        bullets.cell[i, j], bullets.col[i, j], bullets.step[i, j] = y * 10 + x, x, 1 if right else -1
    movers = game.movers
    movers.clear(np.array([i]))
    things = ([(FISH_PLANE, thing, reference.move_speed) for thing in reference.e_fish]
              + [(SUB_PLANE, thing, reference.move_speed) for thing in reference.e_subs]
              + [(DIVER_PLANE, thing, 5) for thing in reference.divers])
    while movers.num_slots < max(len(things), len(reference.e_bullets)):
        movers.grow()
    for slot, (plane, (x, y, right, timer, *shot), move_speed) in enumerate(things):
        for name, value in (("col", x), ("cell", y * 10 + x), ("step", 1 if right else -1), ("timer", timer),
                            ("period", move_speed + 1), ("shot", shot[0] if shot else 0), ("plane", plane)):
            getattr(movers, name)[i, slot] = value
        movers.birth[i, slot] = slot  # list order; only movers of one list are ever compared
    for slot, (x, y, right) in enumerate(reference.e_bullets):
        movers.bullet_col[i, slot], movers.bullet_cell[i, slot] = x, y * 10 + x
        movers.bullet_step[i, slot] = 1 if right else -1


def state_pair(ramping: bool = True, **fields):
    """A one-copy core and a MinAtar game in the same state: MinAtar's reset state with `fields` (its own
    attribute names and list formats) changed; spawns are off unless e_spawn_timer/d_spawn_timer are given."""
    game = SeaquestGame(1, difficulty_ramping=ramping)
    game.reset(np.ones(1, dtype=bool))
    reference = make_reference("seaquest", SEAQUEST_STREAMS, ramping)
    reference.reset()
    reference.e_spawn_timer = reference.d_spawn_timer = NEVER
    for name, value in fields.items():
        setattr(reference, name, [list(thing) for thing in value] if isinstance(value, list) else value)
    load_reference_state(game, 0, reference)
    assert_same(game, reference, "after loading")
    return game, reference


def assert_same(game: SeaquestGame, reference, when: str) -> None:
    ours, theirs = game.observe()[0], reference_observation(reference)
    differ = [name for c, name in enumerate(game.channel_names) if not np.array_equal(ours[c], theirs[c])]
    assert not differ, f"{when}: channels {differ} differ from MinAtar's"


def step_both(game: SeaquestGame, reference, action: int) -> tuple[float, bool]:
    """One step on both sides; asserts equal reward, termination and observation. Returns ours."""
    reference.random.begin(game.keys[0], game.counters[0])
    expected = reference.act(reference.minimal_action_set()[action])
    reward, terminated = game.step(np.array([action]))
    assert (float(reward[0]), bool(terminated[0])) == (float(expected[0]), bool(expected[1]))
    assert_same(game, reference, f"after {game.action_meanings[action]}")
    return float(reward[0]), bool(terminated[0])


def cells(game: SeaquestGame, channel: str) -> set[tuple[int, int]]:
    plane = game.observe()[0, game.channel_names.index(channel)]
    return set(map(tuple, np.argwhere(plane).tolist()))


# ----------------------------------------------------------------------------- hand-computed rules

def test_reset_puts_the_sub_at_the_surface_facing_left_with_full_oxygen():
    game = SeaquestGame(3)
    game.reset(np.ones(3, dtype=bool))
    assert cells(game, "sub_front") == {(0, 5)} and cells(game, "sub_back") == {(0, 6)}
    assert cells(game, "oxygen_guage") == {(9, col) for col in range(10)}
    assert game.observe()[:, [2, 3, 4, 5, 6, 8, 9]].sum() == 0
    assert game.action_meanings == ("NOOP", "LEFT", "UP", "RIGHT", "DOWN", "FIRE")


def test_oxygen_runs_out_two_hundred_steps_below_the_surface():
    game, reference = state_pair(diver_count=1)
    step_both(game, reference, DOWN)
    for t in range(199):
        assert step_both(game, reference, NOOP) == (0.0, False)
        if t == 8:  # oxygen 190: 9 of the 10 cells of the gauge left
            assert cells(game, "oxygen_guage") == {(9, col) for col in range(9)}
    assert game.oxygen[0] == 0 and cells(game, "oxygen_guage") == set()
    assert step_both(game, reference, NOOP) == (0.0, True)


def test_surfacing_with_no_diver_terminates():
    game, reference = state_pair()
    assert step_both(game, reference, DOWN) == (0.0, False)
    assert step_both(game, reference, UP) == (0.0, True)


def test_surfacing_with_some_divers_uses_one_and_refills_oxygen():
    game, reference = state_pair(sub_y=1, surface=False, diver_count=3, oxygen=57)
    assert cells(game, "diver_guage") == {(9, 6), (9, 7), (9, 8)}
    assert step_both(game, reference, UP) == (0.0, False)
    assert game.diver_count[0] == 2 and game.oxygen[0] == 200
    assert (game.ramp_index[0], game.spawn_interval[0], game.move_interval[0]) == (1, 19, 5)
    assert step_both(game, reference, NOOP) == (0.0, False)  # staying up is not surfacing again
    assert game.diver_count[0] == 2


@pytest.mark.parametrize("ramping", [True, False])
def test_surfacing_with_six_divers_pays_for_the_oxygen_left_and_leaves_minus_one(ramping):
    game, reference = state_pair(ramping, sub_y=1, surface=False, diver_count=6, oxygen=150, ramp_index=3)
    assert step_both(game, reference, UP) == (7.0, False)  # 150 * 10 // 200
    assert game.diver_count[0] == -1 and cells(game, "diver_guage") == set()
    expected = (4, 19, 4) if ramping else (3, 20, 5)  # an odd ramp index also speeds the enemies' moves up
    assert (game.ramp_index[0], game.spawn_interval[0], game.move_interval[0]) == expected
    step_both(game, reference, DOWN)
    assert step_both(game, reference, UP) == (0.0, False)  # -1 divers: surfacing is allowed, and counts on down
    assert game.diver_count[0] == -2


def test_a_bullet_kills_a_fish_and_pays_one():
    game, reference = state_pair(sub_x=5, sub_y=3, sub_or=True, e_fish=[[8, 3, False, 4]])
    assert step_both(game, reference, FIRE) == (0.0, False)
    assert cells(game, "friendly_bullet") == {(3, 6)}
    assert step_both(game, reference, FIRE) == (0.0, False)  # cooling down: no second bullet
    assert cells(game, "friendly_bullet") == {(3, 7)}
    assert step_both(game, reference, NOOP) == (1.0, False)
    assert cells(game, "enemy_fish") == cells(game, "friendly_bullet") == set() and game.score[0] == 1


def test_an_enemy_moving_onto_the_sub_terminates_and_trails_show_where_movers_came_from():
    game, reference = state_pair(sub_x=5, sub_y=3, e_fish=[[7, 3, False, 0]], divers=[[2, 6, True, 0]])
    assert step_both(game, reference, NOOP) == (0.0, False)
    assert cells(game, "trail") == {(3, 7), (6, 2)}
    game, reference = state_pair(sub_x=5, sub_y=3, e_fish=[[6, 3, False, 0]])
    assert step_both(game, reference, NOOP) == (0.0, True)


def test_an_enemy_bullet_hits_the_sub():
    game, reference = state_pair(sub_x=5, sub_y=4, e_subs=[[8, 4, False, 3, 0]])
    step_both(game, reference, NOOP)  # the sub fires from (4, 8); its bullet flies to (4, 7)
    assert cells(game, "enemy_bullet") == {(4, 7)}
    assert step_both(game, reference, NOOP) == (0.0, False)
    assert step_both(game, reference, NOOP) == (0.0, True)


def test_picking_up_divers_fills_the_gauge_up_to_six():
    divers = [[4, 2, True, 0], [6, 2, False, 0]]
    game, reference = state_pair(sub_x=5, sub_y=2, diver_count=4, divers=divers)
    step_both(game, reference, NOOP)
    assert game.diver_count[0] == 6 and cells(game, "diver") == set()
    assert cells(game, "diver_guage") == {(9, col) for col in range(3, 9)}


# ----------------------------------------------------------------------------- MinAtar's order decides

def test_a_bullet_hits_the_older_of_two_fish_in_its_cell():
    # Same cell, different timers: the older fish (first in MinAtar's list) dies, the newer moves on a step later.
    game, reference = state_pair(sub_x=5, sub_y=3, sub_or=True, f_bullets=[[6, 3, True]],
                                 e_fish=[[7, 3, False, 4], [7, 3, False, 1]])
    assert step_both(game, reference, NOOP) == (1.0, False)
    step_both(game, reference, NOOP)
    assert cells(game, "enemy_fish") == {(3, 6)}


def test_a_bullet_is_taken_by_the_newer_of_two_subs_moving_in():
    # Both subs move into the bullet's cell; MinAtar goes through its subs newest first, so the newer one dies
    # and the older one, whose shot timer runs out a step later, fires.
    game, reference = state_pair(sub_x=2, sub_y=6, f_bullets=[[4, 3, True]],
                                 e_subs=[[6, 3, False, 0, 1], [6, 3, False, 0, 5]])
    assert step_both(game, reference, NOOP) == (1.0, False)
    step_both(game, reference, NOOP)
    assert cells(game, "enemy_sub") == {(3, 5)} and cells(game, "enemy_bullet") == {(3, 4)}


def test_two_bullets_in_one_cell_are_taken_by_subs_before_fish():
    # Bullets from both sides meet in (3, 5), where two subs and a fish move in: the subs loop comes first.
    game, reference = state_pair(
        sub_x=2, sub_y=6, f_bullets=[[4, 3, True], [6, 3, False]],
        e_subs=[[6, 3, False, 0, 5], [6, 3, False, 0, 2]], e_fish=[[6, 3, False, 0]])
    assert step_both(game, reference, NOOP) == (2.0, False)
    assert cells(game, "enemy_sub") == set() and cells(game, "enemy_fish") == {(3, 5)}


def test_a_sub_shot_while_moving_still_fires():
    game, reference = state_pair(sub_x=2, sub_y=6, f_bullets=[[4, 3, True]], e_subs=[[6, 3, False, 0, 0]])
    assert step_both(game, reference, NOOP) == (1.0, False)
    assert cells(game, "enemy_bullet") == {(3, 4)}


def test_with_room_for_one_diver_the_newest_one_reached_is_picked():
    divers = [[5, 2, True, 3], [4, 2, True, 0], [6, 2, False, 0]]
    game, reference = state_pair(sub_x=5, sub_y=2, diver_count=5, divers=divers)
    step_both(game, reference, NOOP)
    assert game.diver_count[0] == 6 and len(reference.divers) == 2


@pytest.mark.parametrize("size, density", [(8, 0.0), (8, 1.0), (1008, 0.05), (1008, 0.5)])
def test_flagged_lists_the_nonzero_bytes_in_order(size, density):
    """The rare rules' loops run over these copies (seaquest_movers.flagged): any byte value counts as set."""
    rng = np.random.default_rng(size)
    need = np.where(rng.random(size) < density, rng.integers(1, 256, size), 0).astype(np.uint8)
    copies = np.full(size, -1, dtype=np.int64)
    count = seaquest_movers.flagged(need, copies)
    assert count == np.count_nonzero(need)
    np.testing.assert_array_equal(copies[:count], np.flatnonzero(need))


def test_more_movers_than_slots_adds_slots():
    fish = [[col, row, row % 2 == 0, (row + col) % 5] for row in range(1, 9) for col in (0, 9)]
    game, reference = state_pair(sub_x=5, sub_y=0, e_fish=fish, e_spawn_timer=0, d_spawn_timer=0)
    assert game.movers.num_slots >= 16
    for action in (DOWN, FIRE, DOWN, LEFT, NOOP):
        step_both(game, reference, action)


def crowd(game: SeaquestGame, i: int) -> None:
    """Fish in every slot of copy i, and both spawns due: its next step needs more slots."""
    movers = game.movers
    for k in range(movers.num_slots):
        row = 1 + k % 8
        movers.col[i, k], movers.cell[i, k], movers.step[i, k] = 0, row * 10, 1
        movers.timer[i, k], movers.period[i, k], movers.shot[i, k] = k % 3, 6, 5
        movers.plane[i, k], movers.birth[i, k] = FISH_PLANE, k
    game.spawn_timer[i] = game.diver_timer[i] = 0


@pytest.mark.parametrize("crowded", [0, 1, 2])
def test_a_copy_short_of_slots_adds_them_for_all_and_every_copy_steps_as_it_would_alone(crowded):
    # The step kernel stops at the crowded copy, slots are added, and it goes on from there: the copies before
    # and after it must step exactly as single games do (their new slots stay free).
    keys = np.array([3, 5, 7], dtype=np.uint64)
    batch = SeaquestGame(3)
    batch.seed(np.ones(3, dtype=bool), keys)
    batch.reset(np.ones(3, dtype=bool))
    crowd(batch, crowded)
    alone = []
    for i in range(3):
        game = SeaquestGame(1)
        game.seed(np.ones(1, dtype=bool), keys[i:i + 1])
        game.reset(np.ones(1, dtype=bool))
        if i == crowded:
            crowd(game, 0)
        alone.append(game)
    actions = np.random.default_rng(crowded).integers(0, 6, (30, 3))
    for t, step_actions in enumerate(actions):
        reward, terminated = batch.step(step_actions)
        observation = batch.observe()
        assert batch.movers.num_slots == 16
        for i, game in enumerate(alone):
            expected = game.step(step_actions[i:i + 1])
            assert (reward[i], terminated[i]) == (expected[0][0], expected[1][0]), (t, i)
            assert np.array_equal(observation[i], game.observe()[0]), (t, i)
            for name in game.state_arrays():  # the movers' slot counts differ: compared below
                if not name.startswith("movers."):
                    assert np.array_equal(attrgetter(name)(batch)[i], attrgetter(name)(game)[0]), (t, i, name)
            slots = game.movers.num_slots
            for name in seaquest_movers.MoverArrays._fields:
                assert np.array_equal(getattr(batch.movers, name)[i, :slots], getattr(game.movers, name)[0]), name
            assert (batch.movers.plane[i, slots:] == seaquest.movers.EMPTY_PLANE).all()


@pytest.mark.parametrize("sticky_action_prob, max_episode_steps", [(0.0, 0), (0.25, 30)])
def test_the_one_kernel_vector_step_equals_the_step_restart_bookkeeping_and_observe_it_fuses(sticky_action_prob,
                                                                                             max_episode_steps):
    # SeaquestGame.vector_step against BatchedGame's, which calls act, restart, finish_step and observe in turn:
    # same outputs and same state, through restarts, truncations, sticky actions and slots added mid-step.
    n = 24
    fused, composed = (SeaquestGame(n, sticky_action_prob=sticky_action_prob) for _ in range(2))
    books = []
    for game in (fused, composed):
        game.seed(np.ones(n, dtype=bool), np.arange(1, n + 1, dtype=np.uint64))
        game.restart(np.ones(n, dtype=bool))
        books.append((np.zeros(n, dtype=bool), np.zeros(n, dtype=np.int64)))
    actions = np.random.default_rng(1).integers(0, 6, (300, n))
    restarts = 0
    for t, step_actions in enumerate(actions):
        if t in (40, 41, 200):
            for game in (fused, composed):
                crowd(game, (7 * t) % n)
        restarts += books[0][0].sum()
        got = fused.vector_step(step_actions, *books[0], max_episode_steps)
        expected = BatchedGame.vector_step(composed, step_actions, *books[1], max_episode_steps)
        for name, ours, theirs in zip(("obs", "reward", "terminated", "truncated"), got, expected):
            assert ours.dtype == theirs.dtype and np.array_equal(ours, theirs), (t, name)
        for ours, theirs in zip(*books):
            assert np.array_equal(ours, theirs), t
        assert fused.movers.num_slots == composed.movers.num_slots
        theirs = composed.state_dict()
        for name, value in fused.state_dict().items():
            assert np.array_equal(value, theirs[name]), (t, name)
    assert fused.movers.num_slots == 32 and restarts > 50  # each crowding added 8 slots


@pytest.mark.parametrize("sticky_action_prob", [0.0, 0.5])
@pytest.mark.parametrize("bad", [6, -1])
def test_the_vector_env_refuses_an_action_out_of_range_and_changes_nothing(sticky_action_prob, bad):
    env = gym.make_vec("mdparcade/Seaquest-v0", num_envs=5, vectorization_mode="vector_entry_point",
                       sticky_action_prob=sticky_action_prob)
    env.reset(seed=3)
    env.step(np.full(5, FIRE))
    before = env.state_dict()
    with pytest.raises(ValueError, match=rf"action {bad} of copy 3 is out of range: valid actions are 0\.\.5 "
                                         r"\(0=NOOP, 1=LEFT, 2=UP, 3=RIGHT, 4=DOWN, 5=FIRE\)"):
        env.step(np.array([0, 1, 2, bad, 4]))
    after = env.state_dict()
    for name, value in before["game"].items():
        assert np.array_equal(value, after["game"][name]), name


def test_the_one_kernel_vector_step_refuses_bookkeeping_arrays_it_could_not_edit_in_place():
    # Its kernel writes them without bounds checks, and a converted copy would lose the edits.
    game = SeaquestGame(4)
    actions, needs_reset, steps = np.zeros(4, dtype=np.int64), np.zeros(4, dtype=bool), np.zeros(4, dtype=np.int64)
    with pytest.raises(ValueError, match=r"episode_steps must be a contiguous int64 array of shape \(4,\)"):
        game.vector_step(actions, needs_reset, np.zeros(3, dtype=np.int64), 0)
    with pytest.raises(ValueError, match=r"episode_steps must be a contiguous int64 array"):
        game.vector_step(actions, needs_reset, np.zeros(4, dtype=np.int32), 0)
    with pytest.raises(ValueError, match=r"needs_reset must be a contiguous bool array of shape \(4,\)"):
        game.vector_step(actions, np.zeros(8, dtype=bool)[::2], steps, 0)
    game.vector_step(actions, needs_reset, steps, 0)
    assert (steps == 1).all()


# ----------------------------------------------------------------------------- against minatar, long runs

def _goal(reference) -> int:
    """A scripted diver: surface when full or short of oxygen (with a diver to spare), shoot enemies ahead in
    its lane, otherwise swim to the nearest diver."""
    sub_x, sub_y = reference.sub_x, reference.sub_y
    if reference.diver_count == 6 or (reference.oxygen < 40 and reference.diver_count != 0):
        return UP
    enemies = reference.e_fish + reference.e_subs
    if reference.shot_timer == 0 and any(e[1] == sub_y and (e[0] > sub_x) == reference.sub_or for e in enemies):
        return FIRE
    if reference.divers and reference.diver_count < 6:
        x, y = min(((d[0], d[1]) for d in reference.divers), key=lambda d: abs(d[0] - sub_x) + abs(d[1] - sub_y))
        return UP if y < sub_y else DOWN if y > sub_y else LEFT if x < sub_x else RIGHT if x > sub_x else NOOP
    return DOWN if sub_y == 0 else NOOP


def _diver_policy(comparison: MinAtarComparison, never_surface: np.ndarray, noise: float, seed: int):
    """`_goal` made safe by looking two steps ahead in MinAtar's own game (any surviving action instead);
    copies where `never_surface` never come up for air, so that they run out of oxygen."""
    noise_rng = np.random.default_rng(seed)
    minatar = comparison.minatar_action

    def policy(references, game) -> np.ndarray:
        actions = []
        for i, reference in enumerate(references):
            action = _goal(reference)
            if never_surface[i] and action == UP:
                action = NOOP
            if noise_rng.random() < noise:
                action = int(noise_rng.integers(0, 6))
            key, counter = int(game.keys[i]), int(game.counters[i])
            for choice in (action, NOOP, DOWN, LEFT, RIGHT, UP, FIRE):
                if lookahead(reference, key, counter, minatar[choice], 2, lambda future: 0)[0]:
                    action = choice
                    break
            actions.append(action)
        return np.array(actions)

    return policy


class _Events:
    """Counts, over a comparison's steps, the rare phases the long test must reach."""

    def __init__(self, comparison: MinAtarComparison):
        self.seen = {"six_divers": 0, "fewer_divers": 0, "no_diver": 0, "out_of_oxygen": 0, "max_ramp": 0}
        self.comparison = comparison
        step = comparison.step

        def counting_step(actions):
            before = [(r.diver_count, r.oxygen, r.surface) for r in comparison.references]
            reward, terminated = step(actions)
            for (divers, oxygen, surfaced), reference, ended in zip(before, comparison.references, terminated):
                if reference.sub_y == 0 and not surfaced:
                    self.seen["six_divers" if divers == 6 else "no_diver" if divers == 0 else "fewer_divers"] += 1
                self.seen["out_of_oxygen"] += bool(ended and oxygen <= 0)
                self.seen["max_ramp"] = max(self.seen["max_ramp"], reference.ramp_index)
            return reward, terminated

        comparison.step = counting_step


@pytest.mark.parametrize("ramping", [True, False])
def test_matches_minatar_over_long_episodes_with_every_way_to_surface_and_oxygen_running_out(ramping):
    comparison = MinAtarComparison(SeaquestGame(16, difficulty_ramping=ramping), "seaquest", SEAQUEST_STREAMS,
                                   seed=3, ramping=ramping)
    events = _Events(comparison)
    never_surface = np.arange(16) % 4 == 0
    counts = comparison.run(_diver_policy(comparison, never_surface, noise=0.02, seed=5), 16_000)
    seen = events.seen
    assert counts["steps"] >= 10_000 and counts["terminations"] >= 4, counts
    assert seen["six_divers"] >= 10 and seen["fewer_divers"] >= 10 and seen["out_of_oxygen"] >= 2, seen
    assert seen["max_ramp"] >= (8 if ramping else 0) and (ramping or seen["max_ramp"] == 0), seen


@pytest.mark.parametrize("ramping", [True, False])
def test_matches_minatar_under_random_play(ramping):
    comparison = MinAtarComparison(SeaquestGame(32, difficulty_ramping=ramping), "seaquest", SEAQUEST_STREAMS,
                                   seed=11, ramping=ramping)
    events = _Events(comparison)
    action_rng = np.random.default_rng(2)
    counts = comparison.run(lambda references, game: action_rng.integers(0, 6, game.num_envs), 12_000)
    assert counts["episodes"] > 300 and counts["reward"] > 20 and events.seen["no_diver"] > 100, counts


# ----------------------------------------------------------------------------- the env

def test_core_steps_every_copy_safely_after_its_episode_ended():
    game = SeaquestGame(64)
    game.reset(np.ones(64, dtype=bool))
    actions = np.random.default_rng(0).integers(0, 6, (2000, 64))
    for step_actions in actions:
        game.step(step_actions)
        obs = game.observe()
        assert obs.shape == (64, 10, 10, 10) and obs.max() <= 1


def test_options_default_to_minatars_and_are_checked():
    game = gym.make("mdparcade/Seaquest-v0").unwrapped.game
    assert (game.sticky_action_prob, game.difficulty_ramping) == (0.1, True)
    with pytest.raises(ValueError, match="difficulty_ramping must be True or False"):
        gym.make("mdparcade/Seaquest-v0", difficulty_ramping="no")
