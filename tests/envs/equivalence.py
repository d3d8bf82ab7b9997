"""Check that a vector env steps exactly like N single envs: the contract every mdparcade env id meets.

Reusable for any id with a `vector_entry_point`: `assert_vector_matches_singles("mdparcade/Snake-v0", ...)`.
Observation dtypes come from the env's own spaces, so it serves the games (uint8 planes, float32 rewards) and
the gridworlds (int64 indices or float32 encodings, float64 rewards) alike.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

import envs  # noqa: F401  (registers the mdparcade ids)


def _single_step(env: gym.Env, action: int, autoreset: bool):
    """One single-env transition, or the reset() (no seed) the vector env does instead of stepping."""
    if autoreset:
        obs, _ = env.reset()
        return obs, 0.0, False, False
    obs, reward, terminated, truncated, _ = env.step(action)
    return obs, reward, terminated, truncated


def assert_vector_matches_singles(
    env_id: str,
    num_envs: int,
    num_steps: int,
    seed: int,
    action_seed: int,
    max_episode_steps: int | None = None,
    **env_kwargs: Any,
) -> dict[str, int]:
    """Step gym.make_vec(env_id, num_envs) and num_envs gym.make(env_id) with seeds seed, seed + 1, ... and the
    same uniformly random actions; assert bit-identical observations, rewards, terminations and truncations.

    A single env calls reset() (no seed) exactly on the step where its vector copy autoresets (next-step mode).
    max_episode_steps overrides the registered limit in both (None: keep it); env_kwargs (e.g. obs_mode=) go
    to both. Observations must have the dtype of the vector env's observation space on both sides, rewards a
    floating dtype whose values equal the single envs' Python floats exactly. Returns counts of what happened
    ({"terminations": ..., "truncations": ...}) so callers can check the run exercised episode ends.
    """
    kwargs = dict(env_kwargs) | ({} if max_episode_steps is None else {"max_episode_steps": max_episode_steps})
    vector_env = gym.make_vec(env_id, num_envs=num_envs, vectorization_mode="vector_entry_point", **kwargs)
    single_envs = [gym.make(env_id, **kwargs) for _ in range(num_envs)]
    obs_dtype = vector_env.single_observation_space.dtype
    try:
        assert vector_env.observation_space.dtype == obs_dtype, "batched and single observation dtypes differ"
        vector_obs, _ = vector_env.reset(seed=seed)
        single_obs = _stack_observations([env.reset(seed=seed + i)[0] for i, env in enumerate(single_envs)])
        _assert_same("observations after reset", vector_obs, single_obs, step=-1, dtype=obs_dtype)
        num_actions = int(vector_env.single_action_space.n)
        action_rng = np.random.default_rng(action_seed)
        autoreset = np.zeros(num_envs, dtype=bool)
        counts = {"terminations": 0, "truncations": 0}
        for step in range(num_steps):
            actions = action_rng.integers(0, num_actions, size=num_envs)
            vector_obs, vector_reward, vector_terminated, vector_truncated, _ = vector_env.step(actions)
            results = [_single_step(env, int(a), r) for env, a, r in zip(single_envs, actions, autoreset)]
            single_obs, single_reward, single_terminated, single_truncated = zip(*results)
            if not np.issubdtype(vector_reward.dtype, np.floating):
                raise AssertionError(f"step {step}: rewards have dtype {vector_reward.dtype}, not a float dtype")
            _assert_same("observations", vector_obs, _stack_observations(single_obs), step, dtype=obs_dtype)
            # Upcasting float32 to float64 is exact, so equal float64 values mean equal rewards.
            _assert_same("rewards", vector_reward.astype(np.float64), np.array(single_reward, np.float64), step)
            _assert_same("terminations", vector_terminated, np.array(single_terminated), step, dtype=np.bool_)
            _assert_same("truncations", vector_truncated, np.array(single_truncated), step, dtype=np.bool_)
            counts["terminations"] += int(vector_terminated.sum())
            counts["truncations"] += int(vector_truncated.sum())
            autoreset = vector_terminated | vector_truncated
        return counts
    finally:
        vector_env.close()
        for env in single_envs:
            env.close()


def _stack_observations(observations) -> np.ndarray:
    """Single observations (arrays, or Python ints for Discrete spaces) as one (N, ...) array."""
    return np.stack([np.asarray(obs) for obs in observations])


def _assert_same(what: str, vector_value: np.ndarray, single_value: np.ndarray, step: int,
                 dtype: np.dtype | type | None = None) -> None:
    if dtype is not None:
        for side, value in (("vector env", vector_value), ("single envs", single_value)):
            if value.dtype != np.dtype(dtype):
                raise AssertionError(f"step {step}: {what} of the {side} have dtype {value.dtype}, "
                                     f"the space says {np.dtype(dtype)}")
    if vector_value.shape == single_value.shape and np.array_equal(vector_value, single_value):
        return
    if vector_value.shape != single_value.shape:
        raise AssertionError(f"step {step}: {what} shapes differ: {vector_value.shape} vs {single_value.shape}")
    copies = np.flatnonzero((vector_value != single_value).reshape(len(vector_value), -1).any(axis=1))
    raise AssertionError(
        f"step {step}: {what} differ between vector copies and single envs at copies {copies[:10].tolist()}"
    )
