"""The env copies a population trains on, and episode statistics per member.

K members x N copies are stepped together. Copies autoreset in the same step, as stable-baselines3's DummyVecEnv
does: when a copy's episode ends, `step` returns the next episode's first observation for it and the ended
episode's last observation apart (`final_obs`), so every counted env step is a real transition. Copy i of the
member with seed s is seeded s + i, as the member's single run (and SB3's `make_vec_env`) seeds it. Ids with one
of our numpy vector envs (every mdparcade id) run as one vector env of K x N copies, CartPole-v1 as numpy copies
equal to Gymnasium's single env (agents/cartpole_copies.py), any other id (Acrobot-v1, ...) as K x N single
Gymnasium envs, since a vector env drawing all copies from one generator could not be split per member. The
copies' state (and random streams) can be saved and restored, so a checkpoint continues every episode in flight
instead of restarting it.
"""

from __future__ import annotations

import copy
from collections import deque

import gymnasium as gym
import numpy as np
from gymnasium.envs.registration import load_env_creator
from gymnasium.vector import AutoresetMode, VectorEnv

from agents.cartpole_copies import CartPoleCopies, is_default_cartpole
from agents.env_state import env_state, load_env_state
from envs import resolve_env_id


def has_copy_state(env_id: str) -> bool:
    """Whether the id's vector entry point is one of our numpy vector envs (per-copy seeds and state)."""
    entry = gym.spec(env_id).vector_entry_point
    if entry is None:
        return False
    creator = load_env_creator(entry) if isinstance(entry, str) else entry
    return hasattr(creator, "state_dict") and hasattr(creator, "load_state_dict")


class _NativeCopies:
    """Our numpy vector env (next-step autoreset inside) driven in same-step mode through `reset_mask`."""

    def __init__(self, vec: VectorEnv):
        self.vec = vec

    def reset(self, seeds: list[int]) -> np.ndarray:
        return self.vec.reset(seed=seeds)[0]

    def step(self, actions: np.ndarray):
        obs, rewards, terminated, truncated, _ = self.vec.step(actions)
        done = terminated | truncated
        final_obs = obs[done]
        if final_obs.shape[0]:
            obs = self.vec.reset(options={"reset_mask": done})[0]
        return obs, np.asarray(rewards, dtype=np.float64), terminated, truncated, final_obs

    def state_dict(self, copies):
        return self.vec.state_dict(copies)

    def load_state_dict(self, state) -> None:
        self.vec.load_state_dict(state)

    def close(self) -> None:
        self.vec.close()


class _SingleCopies:
    """Single Gymnasium envs stepped in a loop, reset as soon as an episode ends (SB3's DummyVecEnv)."""

    def __init__(self, envs: list[gym.Env]):
        self.envs = envs
        space = envs[0].observation_space
        self._obs = np.zeros((len(envs), *space.shape), dtype=space.dtype)

    def reset(self, seeds: list[int]) -> np.ndarray:
        for i, (env, seed) in enumerate(zip(self.envs, seeds)):
            self._obs[i] = env.reset(seed=int(seed))[0]
        return self._obs.copy()

    def step(self, actions: np.ndarray):
        n = len(self.envs)
        rewards = np.zeros(n)
        terminated = np.zeros(n, dtype=bool)
        truncated = np.zeros(n, dtype=bool)
        final = []
        obs = self._obs
        for i, env in enumerate(self.envs):
            o, r, te, tr, _ = env.step(actions[i])
            rewards[i], terminated[i], truncated[i] = r, te, tr
            if te or tr:
                final.append(np.asarray(o, dtype=obs.dtype))
                o = env.reset()[0]
            obs[i] = o
        final_obs = np.stack(final) if final else np.zeros((0, *obs.shape[1:]), dtype=obs.dtype)
        return obs.copy(), rewards, terminated, truncated, final_obs

    def state_dict(self, copies):
        rows = range(len(self.envs)) if copies is None else copies
        return {"envs": [env_state(self.envs[int(i)]) for i in rows], "obs": self._obs[list(rows)].copy()}

    def load_state_dict(self, state) -> None:
        if len(state["envs"]) != len(self.envs):
            raise ValueError(f"env state holds {len(state['envs'])} copies, this env has {len(self.envs)}")
        for env, saved in zip(self.envs, state["envs"]):
            load_env_state(env, saved)
        self._obs[...] = state["obs"]

    def close(self) -> None:
        for env in self.envs:
            env.close()


class _VectorCopies:
    """A user's VectorEnv (one member): same-step mode read from it, or made with `reset_mask` (next-step)."""

    def __init__(self, vec: VectorEnv):
        self.vec = vec
        self.same_step = vec.metadata.get("autoreset_mode", AutoresetMode.NEXT_STEP) == AutoresetMode.SAME_STEP

    def reset(self, seeds: list[int]) -> np.ndarray:
        return self.vec.reset(seed=[int(s) for s in seeds])[0]

    def step(self, actions: np.ndarray):
        obs, rewards, terminated, truncated, info = self.vec.step(actions)
        done = np.logical_or(terminated, truncated)
        if self.same_step:
            final_obs = np.stack([info["final_obs"][i] for i in np.flatnonzero(done)]) if done.any() \
                else obs[:0]
        else:
            final_obs = obs[done]
            if done.any():
                obs = self.vec.reset(options={"reset_mask": done})[0]
        return obs, np.asarray(rewards, dtype=np.float64), terminated, truncated, final_obs

    def state_dict(self, copies):
        return None  # a user's vector env of unknown kind: its state is not saved (resume restarts it)

    def load_state_dict(self, state) -> None:
        raise ValueError("this vector env cannot restore a saved state")

    def close(self) -> None:
        self.vec.close()


class PopulationEnv:
    """K members x N env copies (copy k * N + i is copy i of member k) with same-step autoreset.

    `reset(seeds)` seeds copy i of member k with seeds[k] + i. `step(actions)` takes (K * N, ...) actions and
    returns (obs, rewards, terminated, truncated, final_obs): obs already holds the first observation of a new
    episode where one ended; final_obs (D, ...) holds the ended episodes' last observations, in copy order.
    """

    def __init__(self, backend, num_members: int, num_envs: int, observation_space: gym.Space,
                 action_space: gym.Space):
        self._backend = backend
        self.num_members, self.num_envs = int(num_members), int(num_envs)
        self.num_copies = self.num_members * self.num_envs
        self.single_observation_space, self.single_action_space = observation_space, action_space

    def copy_seeds(self, seeds) -> list[int]:
        return [int(seed) + i for seed in seeds for i in range(self.num_envs)]

    def reset(self, seeds) -> np.ndarray:
        if len(seeds) != self.num_members:
            raise ValueError(f"reset needs one seed per member ({self.num_members}), got {len(seeds)}")
        return self._backend.reset(self.copy_seeds(seeds))

    def step(self, actions: np.ndarray):
        return self._backend.step(actions)

    def copies_of(self, members) -> list[int]:
        return [k * self.num_envs + i for k in members for i in range(self.num_envs)]

    def state_dict(self, members=None):
        """The copies' state (of the listed members, all by default), or None where the env cannot save it."""
        copies = None if members is None else self.copies_of(members)
        return self._backend.state_dict(copies)

    def load_state_dict(self, state) -> None:
        self._backend.load_state_dict(state)

    def close(self) -> None:
        self._backend.close()


def make_vector_env(env, num_envs: int, env_kwargs: dict | None = None) -> tuple[VectorEnv, str | None]:
    """(Gymnasium vector env, registered id or None) for an id string, a `gymnasium.Env` or a `VectorEnv`, for
    evaluation (agents/evaluation.py): an id uses its native vector entry point when it has one, else
    SyncVectorEnv of `num_envs` copies; a single Env becomes a SyncVectorEnv of itself and deep copies; a
    VectorEnv is taken as it is. Training uses `make_population_env`."""
    if int(num_envs) < 1:
        raise ValueError(f"num_envs must be >= 1, got {num_envs}")
    env_kwargs = dict(env_kwargs or {})
    if isinstance(env, str):
        env_id = resolve_env_id(env)
        native = gym.spec(env_id).vector_entry_point is not None
        mode = "vector_entry_point" if native else "sync"
        return gym.make_vec(env_id, num_envs=int(num_envs), vectorization_mode=mode, **env_kwargs), env_id
    if env_kwargs:
        raise ValueError("env_kwargs apply only when the env is given by id")
    if isinstance(env, VectorEnv):
        return env, (env.spec.id if env.spec is not None else None)
    if isinstance(env, gym.Env):
        copies = [env] + [copy.deepcopy(env) for _ in range(int(num_envs) - 1)]
        vec = gym.vector.SyncVectorEnv([(lambda e=e: e) for e in copies])
        return vec, (env.spec.id if env.spec is not None else None)
    raise ValueError(f"env must be an env id, a gymnasium.Env or a gymnasium VectorEnv, got {type(env).__name__}")


def make_population_env(env, num_envs: int, num_members: int = 1,
                        env_kwargs: dict | None = None) -> tuple[PopulationEnv, str | None]:
    """(PopulationEnv, registered id or None) for an id, a `gymnasium.Env` (deep-copied into every copy) or a
    `VectorEnv` (one member; its own number of copies; next-step autoreset needs `reset_mask` support)."""
    if int(num_envs) < 1:
        raise ValueError(f"num_envs must be >= 1, got {num_envs}")
    env_kwargs = dict(env_kwargs or {})
    copies = int(num_envs) * int(num_members)
    if isinstance(env, str):
        env_id = resolve_env_id(env)
        if is_default_cartpole(env_id, env_kwargs):
            backend = CartPoleCopies(copies)
            spaces = backend.observation_space, backend.action_space
        elif has_copy_state(env_id):
            vec = gym.make_vec(env_id, num_envs=copies, vectorization_mode="vector_entry_point", **env_kwargs)
            backend = _NativeCopies(vec)
            spaces = vec.single_observation_space, vec.single_action_space
        else:
            singles = [gym.make(env_id, disable_env_checker=True, **env_kwargs) for _ in range(copies)]
            backend = _SingleCopies(singles)
            spaces = singles[0].observation_space, singles[0].action_space
        return PopulationEnv(backend, num_members, num_envs, *spaces), env_id
    if env_kwargs:
        raise ValueError("env_kwargs apply only when the env is given by id")
    if isinstance(env, VectorEnv):
        if num_members != 1:
            raise ValueError("a population of several members needs an env id or a gymnasium.Env, not a VectorEnv")
        mode = env.metadata.get("autoreset_mode", AutoresetMode.NEXT_STEP)
        if mode == AutoresetMode.DISABLED:
            raise ValueError("the vector env does not autoreset; deep agents need next-step or same-step autoreset")
        population = PopulationEnv(_VectorCopies(env), 1, env.num_envs, env.single_observation_space,
                                   env.single_action_space)
        return population, (env.spec.id if env.spec is not None else None)
    if isinstance(env, gym.Env):
        singles = [env] + [copy.deepcopy(env) for _ in range(copies - 1)]
        population = PopulationEnv(_SingleCopies(singles), num_members, num_envs, env.observation_space,
                                   env.action_space)
        return population, (env.spec.id if env.spec is not None else None)
    raise ValueError(f"env must be an env id, a gymnasium.Env or a gymnasium VectorEnv, got {type(env).__name__}")


class EpisodeTracker:
    """Returns and lengths of the episodes that end in K members x N copies (same-step autoreset: every step is
    real), with each member's last `window` episodes (stable-baselines3's ep_info_buffer keeps 100)."""

    def __init__(self, num_members: int, num_envs: int, window: int = 100):
        self.num_members, self.num_envs, self.window = num_members, num_envs, window
        self.returns = np.zeros(num_members * num_envs)
        self.lengths = np.zeros(num_members * num_envs, dtype=np.int64)
        self.recent_returns = [deque(maxlen=window) for _ in range(num_members)]
        self.recent_lengths = [deque(maxlen=window) for _ in range(num_members)]
        self.episodes = np.zeros(num_members, dtype=np.int64)

    def update(self, rewards: np.ndarray, terminated: np.ndarray, truncated: np.ndarray) -> np.ndarray:
        """Count one step of every copy; returns the (K * N,) mask of copies whose episode ended."""
        self.returns += rewards
        self.lengths += 1
        done = terminated | truncated
        if done.any():
            for copy_index in np.flatnonzero(done).tolist():
                member = copy_index // self.num_envs
                self.recent_returns[member].append(float(self.returns[copy_index]))
                self.recent_lengths[member].append(int(self.lengths[copy_index]))
                self.episodes[member] += 1
            self.returns[done] = 0.0
            self.lengths[done] = 0
        return done

    def mean_returns(self) -> np.ndarray:
        """(K,) mean return of each member's recent episodes (nan before its first)."""
        return np.array([np.mean(r) if r else np.nan for r in self.recent_returns])

    def state_dict(self, members=None) -> dict:
        members = range(self.num_members) if members is None else members
        rows = [k * self.num_envs + i for k in members for i in range(self.num_envs)]
        return {"returns": self.returns[rows].tolist(), "lengths": self.lengths[rows].tolist(),
                "recent_returns": [list(self.recent_returns[k]) for k in members],
                "recent_lengths": [list(self.recent_lengths[k]) for k in members],
                "episodes": [int(self.episodes[k]) for k in members]}

    def load_state_dict(self, state: dict) -> None:
        self.returns[:] = state["returns"]
        self.lengths[:] = state["lengths"]
        self.recent_returns = [deque(r, maxlen=self.window) for r in state["recent_returns"]]
        self.recent_lengths = [deque(r, maxlen=self.window) for r in state["recent_lengths"]]
        self.episodes[:] = state["episodes"]
