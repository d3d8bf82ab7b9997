"""`envs.rng`'s hash for one copy, compiled by numba: the draws a compiled game core makes inside its loop.

Each function equals its `envs.rng` counterpart bit for bit (tests/envs/test_rng.py), so a compiled core draws
what the numpy cores and the reference-equality tests (tests/envs/minatar_reference.py) expect.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from envs import rng

_GOLDEN = np.uint64(rng._GOLDEN)
_STREAM = np.uint64(rng._STREAM)
_M1, _M2 = np.uint64(rng._M1), np.uint64(rng._M2)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_INV_2_53 = rng._INV_2_53


@njit(cache=True, inline="always")
def _mix(z):
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(cache=True, inline="always")
def bits(key, counter, stream):
    """64 random bits (uint64) for one copy: `rng.bits_scalar(key, counter, stream)`."""
    return _mix(_mix(key ^ (counter * _GOLDEN) ^ (np.uint64(stream) * _STREAM)))


@njit(cache=True, inline="always")
def uniform(key, counter, stream):
    """A float64 in [0, 1): `rng.uniform_scalar(key, counter, stream)`."""
    return np.float64(bits(key, counter, stream) >> _S11) * _INV_2_53


@njit(cache=True, inline="always")
def integers(key, counter, high, stream):
    """An int64 in [0, high): `rng.integers_scalar(key, counter, high, stream)`."""
    return np.int64(uniform(key, counter, stream) * high)
