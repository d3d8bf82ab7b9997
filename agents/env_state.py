"""The state of one Gymnasium env as plain values and tensors, so a checkpoint can continue its episode.

Walks the wrapper chain down to the unwrapped env and keeps, at every layer, the instance attributes that
are plain values (numbers, strings, None, tuples of those) or numpy arrays, plus the env's random generator
state. That is the whole state of Gymnasium's classic-control envs (CartPole's `state` and
`steps_beyond_terminated`, Acrobot's `state`) and of the common wrappers (TimeLimit's elapsed steps,
OrderEnforcing's reset flag). Attributes holding objects (spaces, renderers) are configuration, not state,
and are left alone. Everything loads with `torch.load(weights_only=True)`.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import torch

_SCALARS = (bool, int, float, str, type(None))


def encode_array(array: np.ndarray) -> dict:
    """A numeric numpy array as a tensor and its dtype (unsigned ints travel as the signed type of their size)."""
    array = np.ascontiguousarray(array)
    stored = array.view(f"i{array.dtype.itemsize}") if array.dtype.kind == "u" and array.dtype.itemsize > 1 else array
    return {"array": torch.from_numpy(stored.copy()), "dtype": str(array.dtype)}


def decode_array(encoded: dict) -> np.ndarray:
    array = encoded["array"].numpy()
    dtype = np.dtype(encoded["dtype"])
    return (array.view(dtype) if array.dtype.itemsize == dtype.itemsize and array.dtype != dtype
            else array.astype(dtype)).copy()


def to_plain(value):
    """Nested dicts, lists, tuples, numpy arrays and scalars as tensors and plain values (weights_only-safe)."""
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_plain(v) for v in value]
    if isinstance(value, tuple):
        return {"tuple": [to_plain(v) for v in value]}
    if isinstance(value, np.ndarray):
        return encode_array(value)
    if isinstance(value, np.generic):
        return value.item()
    return value


def from_plain(value):
    """The inverse of `to_plain`."""
    if isinstance(value, dict):
        if "array" in value and "dtype" in value:
            return decode_array(value)
        if set(value) == {"tuple"}:
            return tuple(from_plain(v) for v in value["tuple"])
        return {k: from_plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_plain(v) for v in value]
    return value


def _is_plain(value) -> bool:
    if isinstance(value, _SCALARS + (np.generic,)):
        return True
    if isinstance(value, np.ndarray):
        return value.dtype.kind in "biuf"
    return isinstance(value, tuple) and all(isinstance(v, _SCALARS + (np.generic,)) for v in value)


def _layers(env: gym.Env) -> list:
    layers = [env]
    while isinstance(layers[-1], gym.Wrapper):
        layers.append(layers[-1].env)
    return layers


def env_state(env: gym.Env) -> dict:
    """Plain-valued state of `env` and its wrappers, and its np_random state (None before the first reset)."""
    layers = []
    for layer in _layers(env):
        attributes = {}
        for name, value in vars(layer).items():
            if name in ("_np_random", "spec", "_cached_spec"):
                continue
            if _is_plain(value):
                attributes[name] = to_plain(value)
        layers.append({"class": type(layer).__name__, "attributes": attributes})
    generator = getattr(env.unwrapped, "_np_random", None)
    rng = None if generator is None else generator.bit_generator.state
    return {"layers": layers, "np_random": rng}


def load_env_state(env: gym.Env, state: dict) -> None:
    """Restore what `env_state` saved onto an env built the same way (same wrappers)."""
    layers = _layers(env)
    saved = state["layers"]
    if [type(layer).__name__ for layer in layers] != [layer["class"] for layer in saved]:
        raise ValueError(f"env state was saved from {[layer['class'] for layer in saved]}, this env is "
                         f"{[type(layer).__name__ for layer in layers]}")
    for layer, layer_state in zip(layers, saved):
        for name, value in layer_state["attributes"].items():
            setattr(layer, name, from_plain(value))
    if state["np_random"] is not None:
        rng_state = state["np_random"]
        generator = np.random.Generator(getattr(np.random, rng_state["bit_generator"])())
        generator.bit_generator.state = rng_state
        env.unwrapped._np_random = generator
