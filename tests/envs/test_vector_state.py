"""Our numpy vector envs take one seed per copy and save and restore every copy's state (for checkpoints that
continue episodes in flight)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import envs  # noqa: F401  (registers the mdparcade ids)
from envs import seaquest_movers

GAME_IDS = ["mdparcade/Catch-v0", "mdparcade/Breakout-v0", "mdparcade/Snake-v0", "mdparcade/Asterix-v0",
            "mdparcade/Freeway-v0", "mdparcade/Seaquest-v0", "mdparcade/SpaceInvaders-v0"]
IDS = GAME_IDS + ["mdparcade/FrozenLake8x8-v0"]


def vector(env_id: str, n: int):
    return gym.make_vec(env_id, num_envs=n, vectorization_mode="vector_entry_point")


@pytest.mark.parametrize("env_id", IDS)
def test_a_seed_per_copy_equals_single_envs_seeded_alike(env_id):
    seeds = [7, 100, 3]
    vec = vector(env_id, 3)
    obs, _ = vec.reset(seed=seeds)
    for i, seed in enumerate(seeds):
        np.testing.assert_array_equal(obs[i], gym.make(env_id).reset(seed=seed)[0])
    with pytest.raises(ValueError, match="a list of 3 ints"):
        vec.reset(seed=[1, 2])


@pytest.mark.parametrize("env_id", IDS)
def test_state_dict_continues_every_copy_and_picks_copies(env_id):
    first, second, pair = vector(env_id, 4), vector(env_id, 4), vector(env_id, 2)
    first.reset(seed=0)
    second.reset(seed=50)
    pair.reset(seed=70)
    rng = np.random.default_rng(0)
    n_actions = first.single_action_space.n
    for _ in range(25):
        first.step(rng.integers(n_actions, size=4))
    second.load_state_dict(first.state_dict())
    pair.load_state_dict(first.state_dict([1, 3]))
    for _ in range(150):
        actions = rng.integers(n_actions, size=4)
        a, b, c = first.step(actions), second.step(actions), pair.step(actions[[1, 3]])
        for x, y, z in zip(a[:4], b[:4], c[:4]):
            np.testing.assert_array_equal(x, y)
            np.testing.assert_array_equal(x[[1, 3]], z)


def test_game_state_holds_the_public_per_copy_arrays_only():
    vec = vector("mdparcade/Snake-v0", 3)
    vec.reset(seed=0)
    names = vec.unwrapped.game.state_arrays()
    assert {"keys", "counters", "score", "body_cells", "head"} <= set(names)
    assert not any(name.startswith("_") for name in names)
    with pytest.raises(ValueError, match="game state holds"):
        vec.unwrapped.game.load_state_dict({"keys": np.zeros(3, dtype=np.uint64)})


@pytest.mark.parametrize("env_id", GAME_IDS)
def test_every_public_array_of_a_game_is_per_copy_state(env_id):
    # An array with the copies on another axis (say (cars, N)) would silently miss from checkpoints.
    game = vector(env_id, 3).unwrapped.game
    owners = [("", game)] + [(holder + ".", getattr(game, holder)) for holder in game.state_holders]
    public = {prefix + name for prefix, owner in owners for name, value in vars(owner).items()
              if isinstance(value, np.ndarray) and not name.startswith("_")}
    assert public == set(game.state_arrays())


def test_a_seaquest_checkpoint_holds_its_movers_and_restores_their_slot_count():
    from envs.seaquest import SeaquestGame

    game, other = SeaquestGame(2), SeaquestGame(2)
    game.movers.grow()
    game.movers.col[1, 9] = 4
    state = game.state_dict()
    assert state["movers.col"].shape == (2, 16) and "bullets.cell" in state
    other.load_state_dict(state)
    assert other.movers.num_slots == 16 and other.movers.col[1, 9] == 4


def test_a_seaquest_checkpoint_from_before_planes_were_channels_loads_the_same_state():
    # movers.plane held 100 * the channel as int16 until 2026-12-05: such a checkpoint must restore each mover.
    from envs.seaquest import SeaquestGame

    env = vector("mdparcade/Seaquest-v0", 4)
    env.reset(seed=2)
    for _ in range(60):
        env.step(np.full(4, 5))
    state = env.unwrapped.game.state_dict()
    assert (state["movers.plane"] != seaquest_movers.EMPTY_PLANE).any()
    old = {**state, "movers.plane": state["movers.plane"].astype(np.int16) * 100}
    restored = SeaquestGame(4)
    restored.load_state_dict(old)
    np.testing.assert_array_equal(restored.movers.plane, state["movers.plane"])
    np.testing.assert_array_equal(restored.observe(), env.unwrapped.game.observe())
