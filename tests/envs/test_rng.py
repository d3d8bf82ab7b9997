"""envs.rng: the array and scalar draws agree, and the several-streams draw equals one draw per stream."""

from __future__ import annotations

import numpy as np
from numba import njit

from envs import rng, rng_jit


def test_scalar_and_array_draws_agree():
    keys = rng.seed_to_keys(11, 40)
    counters = np.arange(40, dtype=np.uint64) * 3
    for stream in (0, 1, 17, 1000):
        uniform = rng.uniform(keys, counters, stream)
        integers = rng.integers(keys, counters, 7, stream)
        for i in range(40):
            assert uniform[i] == rng.uniform_scalar(int(keys[i]), int(counters[i]), stream)
            assert integers[i] == rng.integers_scalar(int(keys[i]), int(counters[i]), 7, stream)


def test_uniforms_over_several_streams_equal_one_draw_per_stream():
    keys = rng.seed_to_keys(3, 50)
    counters = np.arange(50, dtype=np.uint64) * 7
    streams = (0, 3, 1000, 2, 3)
    draws = rng.uniforms(keys, counters, streams)
    assert draws.shape == (5, 50) and draws.dtype == np.float64
    for row, stream in zip(draws, streams):
        assert np.array_equal(row, rng.uniform(keys, counters, stream))
    assert ((draws >= 0) & (draws < 1)).all() and not np.array_equal(draws[0], draws[1])


def test_one_copy_takes_the_scalar_path_with_the_same_values():
    keys = rng.seed_to_keys(8, 3)
    counters = np.array([0, 5, 2**40], dtype=np.uint64)
    for i in range(3):
        one_key, one_counter = keys[i:i + 1], counters[i:i + 1]
        for stream in (0, 2, 1000):
            assert rng.bits(one_key, one_counter, stream).dtype == np.uint64
            assert rng.bits(one_key, one_counter, stream)[0] == rng.bits(keys, counters, stream)[i]
            assert rng.uniform(one_key, one_counter, stream)[0] == rng.uniform(keys, counters, stream)[i]
        single = rng.uniforms(one_key, one_counter, (0, 9, 1000))
        assert single.shape == (3, 1) and np.array_equal(single[:, 0], rng.uniforms(keys, counters, (0, 9, 1000))[:, i])


@njit
def _compiled_draws(keys, counters, stream, high):
    bits = np.empty(keys.shape[0], dtype=np.uint64)
    uniform = np.empty(keys.shape[0])
    integers = np.empty(keys.shape[0], dtype=np.int64)
    for i in range(keys.shape[0]):
        bits[i] = rng_jit.bits(keys[i], counters[i], stream)
        uniform[i] = rng_jit.uniform(keys[i], counters[i], stream)
        integers[i] = rng_jit.integers(keys[i], counters[i], high, stream)
    return bits, uniform, integers


def test_the_compiled_draws_equal_the_array_draws():
    keys = rng.seed_to_keys(5, 300)
    counters = np.arange(300, dtype=np.uint64) * np.uint64(977) + np.uint64(2**40)
    for stream in (0, 1, 17, 1000):
        bits, uniform, integers = _compiled_draws(keys, counters, stream, 7)
        assert np.array_equal(bits, rng.bits(keys, counters, stream))
        assert np.array_equal(uniform, rng.uniform(keys, counters, stream))
        assert np.array_equal(integers, rng.integers(keys, counters, 7, stream))
    assert len(np.unique(integers)) == 7
