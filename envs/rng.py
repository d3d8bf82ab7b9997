"""Counter-based random numbers: a vectorized integer hash of (key, counter, stream), like JAX's threefry.

N copies in one array draw exactly what N single envs draw, with no Python loop over copies.
"""

from __future__ import annotations

import functools

import numpy as np

_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_M1 = 0xBF58476D1CE4E5B9
_M2 = 0x94D049BB133111EB
_STREAM = 0xD1B54A32D192ED03
_INV_2_53 = 1.0 / (1 << 53)


def _mix_scalar(z: int) -> int:
    z = ((z ^ (z >> 30)) * _M1) & _MASK
    z = ((z ^ (z >> 27)) * _M2) & _MASK
    return z ^ (z >> 31)


def seed_to_key(seed: int) -> int:
    """Turn a user seed (any int) into a 64-bit key; nearby seeds give unrelated keys."""
    return _mix_scalar((int(seed) * _GOLDEN + _GOLDEN) & _MASK)


def seed_to_keys(seed: int, num: int) -> np.ndarray:
    """Keys of copies seeded seed, seed+1, ..., seed+num-1 (Gymnasium's vector seeding rule)."""
    return np.array([seed_to_key(seed + i) for i in range(num)], dtype=np.uint64)


def keys_for_seed(seed, num: int) -> np.ndarray:
    """Keys of `num` copies from a vector env's reset seed: an int s seeds copies s, s+1, ... (`seed_to_keys`);
    a list gives each copy its own seed (how a population seeds each member's copies as its single run does)."""
    if isinstance(seed, int | np.integer):
        return seed_to_keys(int(seed), num)
    seeds = list(seed)
    if len(seeds) != num:
        raise ValueError(f"seed must be an int or a list of {num} ints, got {len(seeds)} seeds")
    return np.array([seed_to_key(s) for s in seeds], dtype=np.uint64)


def random_key(np_random: np.random.Generator) -> int:
    """A key drawn from a numpy Generator, for resets without a seed."""
    return int(np_random.integers(0, 1 << 63, dtype=np.int64)) * 2 + 1


def stream_after_reset(seed: int | None, key: int | None, counter: int,
                       np_random: np.random.Generator) -> tuple[int, int]:
    """The (key, counter) a single env draws from after `reset(seed=seed)`.

    A seed starts a fresh stream; no seed continues the current one (as a vector env's autoreset does), or
    starts one from `np_random` if there is none yet.
    """
    if seed is not None:
        return seed_to_key(seed), 0
    if key is None:
        return random_key(np_random), 0
    return key, counter


def bits_scalar(key: int, counter: int, stream: int = 0) -> int:
    """64 random bits for one copy; equals `bits(...)` element for element."""
    z = (key ^ ((counter * _GOLDEN) & _MASK) ^ ((stream * _STREAM) & _MASK)) & _MASK
    return _mix_scalar(_mix_scalar(z))


def uniform_scalar(key: int, counter: int, stream: int = 0) -> float:
    """A float in [0, 1) for one copy; equals `uniform(...)` element for element."""
    return (bits_scalar(key, counter, stream) >> 11) * _INV_2_53


_S30, _S27, _S31 = np.uint64(30), np.uint64(27), np.uint64(31)
_U_M1, _U_M2, _U_GOLDEN = np.uint64(_M1), np.uint64(_M2), np.uint64(_GOLDEN)


def _mix_(z: np.ndarray) -> np.ndarray:
    """splitmix64's finalizer, in place on a fresh uint64 array (this is the hot path of every vector step)."""
    z ^= z >> _S30
    z *= _U_M1
    z ^= z >> _S27
    z *= _U_M2
    z ^= z >> _S31
    return z


def bits(keys: np.ndarray, counters: np.ndarray, stream: int = 0) -> np.ndarray:
    """64 random bits per copy (uint64 array), from per-copy keys and counters (uint64 arrays)."""
    if keys.shape == (1,):  # a single env: the scalar hash gives the same bits at a tenth of the cost
        return np.array([bits_scalar(int(keys[0]), int(counters[0]), stream)], dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = counters * _U_GOLDEN
        z ^= keys
        if stream:
            z ^= np.uint64((stream * _STREAM) & _MASK)
        return _mix_(_mix_(z))


def uniform(keys: np.ndarray, counters: np.ndarray, stream: int = 0) -> np.ndarray:
    """Floats in [0, 1) per copy (float64 array)."""
    return (bits(keys, counters, stream) >> np.uint64(11)).astype(np.float64) * _INV_2_53


@functools.cache
def _salts(streams: tuple[int, ...]) -> np.ndarray:
    return np.array([(stream * _STREAM) & _MASK for stream in streams], dtype=np.uint64)[:, None]


def uniforms(keys: np.ndarray, counters: np.ndarray, streams: tuple[int, ...]) -> np.ndarray:
    """Floats in [0, 1), (len(streams), N) float64: row j equals `uniform(keys, counters, streams[j])`.

    One pass over all the streams: a step that needs several draws pays numpy's per-call cost once.
    """
    if keys.shape == (1,):  # a single env: the scalar hash, as in `bits`
        key, counter = int(keys[0]), int(counters[0])
        return np.array([[uniform_scalar(key, counter, stream)] for stream in streams], dtype=np.float64)
    with np.errstate(over="ignore"):
        z = counters * _U_GOLDEN
        z ^= keys
        z = z ^ _salts(tuple(streams))  # a zero salt is stream 0, which `bits` leaves unsalted
        z = _mix_(_mix_(z))
    z >>= np.uint64(11)
    return z.astype(np.float64) * _INV_2_53


def integers(keys: np.ndarray, counters: np.ndarray, high: int | np.ndarray, stream: int = 0) -> np.ndarray:
    """Integers in [0, high) per copy (int64 array); `high` may differ per copy."""
    return (uniform(keys, counters, stream) * high).astype(np.int64)


def integers_scalar(key: int, counter: int, high: int, stream: int = 0) -> int:
    """An integer in [0, high) for one copy; equals `integers(...)` element for element."""
    return int(uniform_scalar(key, counter, stream) * high)
