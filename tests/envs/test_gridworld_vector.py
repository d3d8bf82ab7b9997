"""GridWorldVectorEnv: N copies give bit-for-bit what N gym.make single envs give (hypothesis runs here; the
64-copy x 10,000-step runs of every id are in test_vector_equivalence.py), autoreset and errors."""

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import envs  # noqa: F401  (registers the ids)
from envs import rng
from envs.gridworld_ids import REGISTRY
from envs.gridworld_vector import GridWorldVectorEnv

GRID_IDS = [spec["id"] for spec in REGISTRY]


def make_vector(env_id, num_envs, **kwargs):
    return gym.make_vec(env_id, num_envs=num_envs, vectorization_mode="vector_entry_point", **kwargs)


def run_vector(env_id, seed, actions, **kwargs):
    """Obs, rewards, terminated, truncated of a vector env fed actions (T, N); obs has the reset first."""
    env = make_vector(env_id, actions.shape[1], **kwargs)
    obs, _ = env.reset(seed=seed)
    observations, rewards, terminated, truncated = [obs], [], [], []
    for step_actions in actions:
        obs, reward, term, trunc, _ = env.step(step_actions)
        observations.append(obs)
        rewards.append(reward)
        terminated.append(term)
        truncated.append(trunc)
    return np.stack(observations), np.stack(rewards), np.stack(terminated), np.stack(truncated)


def run_singles(env_id, seed, actions, max_episode_steps=None, **kwargs):
    """The same from N gym.make envs (TimeLimit included), copy i seeded seed + i, reset() when it ended."""
    num_steps, num_envs = actions.shape
    observations = [[None] * num_envs for _ in range(num_steps + 1)]
    rewards = np.zeros((num_steps, num_envs))
    terminated = np.zeros((num_steps, num_envs), dtype=bool)
    truncated = np.zeros((num_steps, num_envs), dtype=bool)
    for i in range(num_envs):
        env = gym.make(env_id, max_episode_steps=max_episode_steps, **kwargs)
        observations[0][i], _ = env.reset(seed=seed + i)
        ended = False
        for t, action in enumerate(actions[:, i].tolist()):
            if ended:
                observations[t + 1][i], _ = env.reset()
                ended = False
                continue
            obs, rewards[t, i], terminated[t, i], truncated[t, i], _ = env.step(action)
            observations[t + 1][i] = obs
            ended = terminated[t, i] or truncated[t, i]
    return np.array(observations), rewards, terminated, truncated


def assert_bit_identical(vector, singles):
    for name, v, s in zip(("obs", "rewards", "terminated", "truncated"), vector, singles, strict=True):
        assert v.shape == s.shape, name
        assert v.tobytes() == s.astype(v.dtype).tobytes(), name  # bit-for-bit, not approximately


@settings(max_examples=30, deadline=None)
@given(
    env_id=st.sampled_from(GRID_IDS),
    obs_mode=st.sampled_from(["index", "onehot", "coords", "image"]),
    seed=st.integers(0, 2**40),
    max_episode_steps=st.sampled_from([None, 1, 3, 17]),
    data=st.data(),
)
def test_vector_equals_singles(env_id, obs_mode, seed, max_episode_steps, data):
    num_envs = data.draw(st.integers(1, 6), label="num_envs")
    num_steps = data.draw(st.integers(1, 120), label="num_steps")
    actions = data.draw(arrays(np.int64, (num_steps, num_envs), elements=st.integers(0, 3)), label="actions")
    limit = {} if max_episode_steps is None else {"max_episode_steps": max_episode_steps}
    vector = run_vector(env_id, seed, actions, obs_mode=obs_mode, **limit)
    singles = run_singles(env_id, seed, actions, obs_mode=obs_mode, **limit)
    assert_bit_identical(vector, singles)


@pytest.mark.parametrize("env_id", ["mdparcade/CliffWalking-v0", "mdparcade/RussellNorvig4x3-v0"])
def test_medium_runs_equal_singles(env_id):
    actions = np.random.default_rng(1).integers(0, 4, (1500, 8))
    assert_bit_identical(run_vector(env_id, 5, actions), run_singles(env_id, 5, actions))


def test_make_vec_returns_the_native_env_with_kwargs_and_time_limit():
    env = make_vector("mdparcade/FrozenLake8x8-v0", 4, obs_mode="onehot")
    assert isinstance(env.unwrapped, GridWorldVectorEnv)
    assert env.metadata["autoreset_mode"] == gym.vector.AutoresetMode.NEXT_STEP
    assert env.unwrapped.max_episode_steps == 200
    assert env.single_observation_space.shape == (64,)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (4, 64) and env.observation_space.contains(obs)
    assert env.unwrapped.mdp.num_states == 64
    shorter = make_vector("mdparcade/FrozenLake8x8-v0", 2, max_episode_steps=7)
    assert shorter.unwrapped.max_episode_steps == 7


def test_next_step_autoreset_on_the_corridor():
    env = make_vector("mdparcade/Corridor-v0", 2)
    obs, _ = env.reset(seed=0)
    right = np.array([2, 2])
    for _ in range(8):
        obs, reward, terminated, truncated, _ = env.step(right)
    assert obs.tolist() == [8, 8] and not terminated.any()
    obs, reward, terminated, truncated, _ = env.step(right)
    assert obs.tolist() == [9, 9] and reward.tolist() == [1.0, 1.0] and terminated.all()
    obs, reward, terminated, truncated, _ = env.step(np.array([0, 3]))  # actions ignored: copies reset
    assert obs.tolist() == [0, 0] and reward.tolist() == [0.0, 0.0]
    assert not terminated.any() and not truncated.any()
    obs, *_ = env.step(right)
    assert obs.tolist() == [1, 1]


def test_reset_mask_and_seed_list():
    env = GridWorldVectorEnv(3, map=["SSSS", "...G"])
    obs, _ = env.reset(seed=[5, 6, 7])
    single = gym.make("mdparcade/GridWorld-v0", map=["SSSS", "...G"])
    assert obs[1] == single.reset(seed=6)[0]
    env.step(np.array([1, 1, 1]))
    counters = env.counters.copy()
    env.reset(options={"reset_mask": np.array([False, True, False])})
    assert (env.counters - counters).tolist() == [0, 1, 0]
    single.step(1)
    assert env.states[1] == single.reset()[0]


def test_vector_render_gives_one_frame_per_copy():
    env = make_vector("mdparcade/Corridor-v0", 3, render_mode="rgb_array")
    env.reset(seed=0)
    env.step(np.array([2, 0, 2]))
    frames = env.render()
    single = gym.make("mdparcade/Corridor-v0", render_mode="rgb_array")
    single.reset(seed=0)
    single.step(2)
    assert len(frames) == 3
    np.testing.assert_array_equal(frames[0], single.render())
    assert not np.array_equal(frames[0], frames[1])


def test_bad_actions_raise_value_errors():
    env = make_vector("mdparcade/Corridor-v0", 3)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        env.step(np.array([0, 1]))
    with pytest.raises(ValueError, match="copy 2 is 4"):
        env.step(np.array([0, 1, 4]))
    with pytest.raises(ValueError, match="copy 0 is -1"):
        env.step(np.array([-1, 1, 2]))
    with pytest.raises(ValueError, match="integers"):
        env.step(np.array([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match="num_envs"):
        GridWorldVectorEnv(0)


# ---------------------------------------------------------------- the counter-based generator behind both envs
# A pure-Python splitmix64 from its published description (Steele, Lea & Flood 2014; Vigna's splitmix64.c),
# checked against the published first output for seed 0, is the reference for envs.rng.

MASK64 = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15


def splitmix64_finalizer(z):
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


def splitmix64_next(state):
    """The generator's next output from `state` (it adds the golden gamma first)."""
    return splitmix64_finalizer((state + GOLDEN) & MASK64)


def test_seed_to_key_is_splitmix64_of_the_scaled_seed():
    assert splitmix64_next(0) == 0xE220A8397B1DCDAF  # the reference implementation's first output
    for seed in (0, 1, 2, 12345, 2**40 + 7, -3):
        assert rng.seed_to_key(seed) == splitmix64_next((seed * GOLDEN) & MASK64)
    assert rng.seed_to_keys(5, 3).tolist() == [rng.seed_to_key(5), rng.seed_to_key(6), rng.seed_to_key(7)]


def test_bits_are_the_doubly_mixed_key_counter_stream_word():
    keys = rng.seed_to_keys(11, 6)
    counters = np.array([0, 1, 2, 3, 2**40, 2**63 + 5], dtype=np.uint64)
    for stream in (0, 1, 3, 2**61 + 1):
        expected = [splitmix64_finalizer(splitmix64_finalizer(
            (int(k) ^ (int(c) * GOLDEN & MASK64) ^ (stream * 0xD1B54A32D192ED03 & MASK64)) & MASK64))
            for k, c in zip(keys, counters, strict=True)]
        assert rng.bits(keys, counters, stream).tolist() == expected
        assert [rng.bits_scalar(int(k), int(c), stream) for k, c in zip(keys, counters, strict=True)] == expected
    # The default stream is stream 0.
    assert rng.bits(keys, counters).tolist() == rng.bits(keys, counters, 0).tolist()
    assert rng.bits_scalar(int(keys[0]), 4) == rng.bits_scalar(int(keys[0]), 4, 0)


def test_vector_and_scalar_draws_agree_for_every_stream():
    keys = rng.seed_to_keys(3, 50)
    counters = np.arange(50, dtype=np.uint64) * np.uint64(7)
    high = np.arange(1, 51)
    for stream in (0, 2):
        u = rng.uniform(keys, counters, stream)
        assert u.dtype == np.float64 and ((u >= 0) & (u < 1)).all()
        assert u.tolist() == [rng.uniform_scalar(int(k), int(c), stream) for k, c in zip(keys, counters, strict=True)]
        n = rng.integers(keys, counters, high, stream)
        assert n.dtype == np.int64 and ((n >= 0) & (n < high)).all()
        assert n.tolist() == [rng.integers_scalar(int(k), int(c), int(h), stream)
                              for k, c, h in zip(keys, counters, high, strict=True)]
    # Different streams are different numbers; the defaults are stream 0.
    assert (rng.uniform(keys, counters, 2) != rng.uniform(keys, counters)).all()
    assert rng.uniform(keys, counters).tolist() == rng.uniform(keys, counters, 0).tolist()
    assert rng.integers(keys, counters, high).tolist() == rng.integers(keys, counters, high, 0).tolist()
    assert rng.uniform_scalar(int(keys[1]), 9) == rng.uniform_scalar(int(keys[1]), 9, 0)
    assert rng.integers_scalar(int(keys[1]), 9, 1000) == rng.integers_scalar(int(keys[1]), 9, 1000, 0)
    assert rng.integers_scalar(int(keys[1]), 9, 1000, 2) != rng.integers_scalar(int(keys[1]), 9, 1000)


def test_unseeded_reset_draws_a_fresh_64_bit_key_and_starts_at_counter_zero():
    generator = np.random.default_rng(0)
    keys = [rng.stream_after_reset(None, None, 17, generator) for _ in range(64)]
    assert all(counter == 0 for _, counter in keys)
    assert all(0 <= key <= MASK64 for key, _ in keys)  # usable as a uint64 key
    assert len({key for key, _ in keys}) == 64
    np.uint64([key for key, _ in keys])
    # A seed restarts the stream, no seed continues it.
    assert rng.stream_after_reset(5, 123, 17, generator) == (rng.seed_to_key(5), 0)
    assert rng.stream_after_reset(None, 123, 17, generator) == (123, 17)
