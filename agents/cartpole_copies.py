"""Gymnasium's CartPole-v1 for the training copies, stepped as numpy arrays: the same float64 operations in the
same order as `CartPoleEnv.step`, each copy with its own `np_random` seeded as the single env seeds it, and
TimeLimit's 500 steps. So copy i equals a single `gym.make("CartPole-v1")` seeded alike, bit for bit (tests
check it), while a vector step of K x N copies costs a few array operations instead of K x N Python calls.

Gymnasium's own CartPoleVectorEnv draws every copy's resets from one generator, so its copies could not be
split per member; stable-baselines3's DummyVecEnv steps single envs, which these copies match.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from agents.env_state import to_plain


def is_default_cartpole(env_id: str, env_kwargs: dict) -> bool:
    """CartPole-v1 as registered (Gymnasium's CartPoleEnv, 500 steps, no kwargs): the copies below match it."""
    spec = gym.spec(env_id)
    return (env_id == "CartPole-v1" and not env_kwargs and spec.max_episode_steps == 500 and not spec.kwargs
            and spec.entry_point == "gymnasium.envs.classic_control.cartpole:CartPoleEnv")


class CartPoleCopies:
    """M copies of CartPole-v1 in arrays, autoresetting in the same step; the backend of a PopulationEnv."""

    def __init__(self, copies: int):
        template = gym.make("CartPole-v1", disable_env_checker=True)
        self.observation_space, self.action_space = template.observation_space, template.action_space
        env = template.unwrapped
        self._constants = tuple(getattr(env, name) for name in (
            "gravity", "masspole", "total_mass", "length", "polemass_length", "force_mag", "tau",
            "theta_threshold_radians", "x_threshold"))
        self.euler = env.kinematics_integrator == "euler"
        self.max_episode_steps = template.spec.max_episode_steps
        template.close()
        self.state = np.zeros((4, copies))  # x, x_dot, theta, theta_dot rows: one contiguous array each
        self._no_final = np.zeros((0, 4), dtype=np.float32)
        self.elapsed = np.zeros(copies, dtype=np.int64)
        self.rngs: list[np.random.Generator] = [np.random.default_rng() for _ in range(copies)]

    def _reset_copy(self, i: int) -> None:
        self.state[:, i] = self.rngs[i].uniform(low=-0.05, high=0.05, size=(4,))
        self.elapsed[i] = 0

    def reset(self, seeds: list[int]) -> np.ndarray:
        for i, seed in enumerate(seeds):
            self.rngs[i] = gym.utils.seeding.np_random(int(seed))[0]
            self._reset_copy(i)
        return self.state.T.astype(np.float32)

    def step(self, actions: np.ndarray):
        gravity, masspole, total_mass, length, polemass_length, force_mag, tau, theta_limit, x_limit = self._constants
        x, x_dot, theta, theta_dot = self.state
        force = np.where(np.asarray(actions) == 1, force_mag, -force_mag)
        costheta = np.cos(theta)
        sintheta = np.sin(theta)
        temp = (force + polemass_length * np.square(theta_dot) * sintheta) / total_mass
        thetaacc = (gravity * sintheta - costheta * temp) / (
            length * (4.0 / 3.0 - masspole * np.square(costheta) / total_mass))
        xacc = temp - polemass_length * thetaacc * costheta / total_mass
        if self.euler:
            x, x_dot, theta, theta_dot = (x + tau * x_dot, x_dot + tau * xacc, theta + tau * theta_dot,
                                          theta_dot + tau * thetaacc)
        else:
            x_dot = x_dot + tau * xacc
            x = x + tau * x_dot
            theta_dot = theta_dot + tau * thetaacc
            theta = theta + tau * theta_dot
        state = self.state
        state[0], state[1], state[2], state[3] = x, x_dot, theta, theta_dot
        terminated = (x < -x_limit) | (x > x_limit) | (theta < -theta_limit) | (theta > theta_limit)
        self.elapsed += 1
        truncated = self.elapsed >= self.max_episode_steps
        done = terminated | truncated
        if done.any():
            final_obs = state[:, done].T.astype(np.float32)
            for i in np.flatnonzero(done).tolist():
                self._reset_copy(i)
        else:
            final_obs = self._no_final
        return state.T.astype(np.float32), np.ones(len(x)), terminated, truncated, final_obs

    def state_dict(self, copies):
        rows = list(range(len(self.rngs))) if copies is None else list(copies)
        return {"state": self.state[:, rows].copy(), "elapsed": self.elapsed[rows].copy(),
                "rngs": [to_plain(self.rngs[i].bit_generator.state) for i in rows]}

    def load_state_dict(self, state) -> None:
        if len(state["rngs"]) != len(self.rngs):
            raise ValueError(f"env state holds {len(state['rngs'])} copies, this env has {len(self.rngs)}")
        self.state[...] = state["state"]
        self.elapsed[...] = state["elapsed"]
        for rng, saved in zip(self.rngs, state["rngs"]):
            rng.bit_generator.state = saved

    def close(self) -> None:
        pass
