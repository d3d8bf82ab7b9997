"""Tabular TD control, Sutton & Barto chapter 6: Q-learning, SARSA and Expected SARSA on Discrete envs.

One shared base runs epsilon-greedy episodes and keeps the Q-table; each algorithm says how it bootstraps.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import torch
from gymnasium import spaces

from agents.base import Agent, Callback
from agents.schedules import Schedule, as_schedule, schedule_to_dict


@dataclass(frozen=True)
class TabularConfig:
    """Hyperparameters shared by the tabular learners (defaults: S&B's chapter 6 examples, discounted)."""

    learning_rate: float | Schedule = 0.1  # step size alpha, a schedule of env steps
    epsilon: float | Schedule = 0.1  # exploration rate of the epsilon-greedy behaviour policy
    gamma: float = 0.99
    initial_q: float = 0.0
    seed: int | None = None  # seeds exploration and the env's first reset


class TabularAgent(Agent):
    """Shared machinery: a Q-table (S, A), epsilon-greedy episodes, predict, save and load.

    `learn` keeps counting `num_timesteps` across calls (schedules continue), but each call starts a fresh
    episode. Greedy ties are broken at random while learning and by the lowest action in `predict`.
    """

    #: SARSA picks its next action before updating (it bootstraps from it); the others after.
    picks_next_action_before_update = False

    def __init__(self, env, config: TabularConfig | None = None, **hyperparameters):
        num_states, num_actions = _table_shape(env)
        self._setup(_make_config(config, hyperparameters), num_states, num_actions)
        self.env = env

    def _setup(self, config: TabularConfig, num_states: int, num_actions: int) -> None:
        if not 0.0 <= config.gamma <= 1.0:
            raise ValueError(f"gamma must be in [0, 1], got {config.gamma}")
        self.learning_rate = as_schedule(config.learning_rate, "learning_rate", 0.0, 1.0)
        self.epsilon = as_schedule(config.epsilon, "epsilon", 0.0, 1.0)
        self.config = dataclasses.replace(config, learning_rate=self.learning_rate, epsilon=self.epsilon)
        self.q_table = np.full((num_states, num_actions), float(config.initial_q))
        self.num_timesteps = 0
        self.episode_returns: list[float] = []
        self.episode_lengths: list[int] = []
        self._rng = np.random.default_rng(config.seed)
        self._next_reset_seed = config.seed

    def set_env(self, env) -> None:
        """Attach an env with the same Discrete spaces as the Q-table."""
        if _table_shape(env) != self.q_table.shape:
            raise ValueError(f"env has (states, actions) = {_table_shape(env)} but the Q-table is "
                             f"{self.q_table.shape}")
        self.env = env

    # Learning ---------------------------------------------------------------------------------------------
    def learn(self, total_timesteps: int, callback: Callback | None = None) -> TabularAgent:
        if self.env is None:
            raise ValueError("this agent has no env; pass env= to load() or call set_env(env) before learn()")
        if int(total_timesteps) < 0:
            raise ValueError(f"total_timesteps must be >= 0, got {total_timesteps}")
        end = self.num_timesteps + int(total_timesteps)
        while self.num_timesteps < end:
            episode_return, episode_length = self._run_episode(end)
            self.episode_returns.append(episode_return)
            self.episode_lengths.append(episode_length)
            if callback is not None:
                info = {"num_timesteps": self.num_timesteps, "episode_return": episode_return,
                        "episode_length": episode_length}
                if callback(self, info) is False:
                    break
        return self

    def _run_episode(self, end: int) -> tuple[float, int]:
        """Play one episode (or until step `end`), updating the Q-table after every step."""
        obs, _ = self.env.reset(seed=self._next_reset_seed)
        self._next_reset_seed = None  # later resets continue the env's own random stream
        action = self._explore(obs)
        episode_return, length = 0.0, 0
        while True:
            next_obs, reward, terminated, truncated, _ = self.env.step(action)
            self.num_timesteps += 1
            length += 1
            episode_return += float(reward)
            if self.picks_next_action_before_update:
                next_action = self._explore(next_obs)
                self._update(obs, action, float(reward), next_obs, next_action, terminated)
            else:
                self._update(obs, action, float(reward), next_obs, None, terminated)
                next_action = self._explore(next_obs)
            if terminated or truncated or self.num_timesteps >= end:
                return episode_return, length
            obs, action = next_obs, next_action

    def _update(self, obs: int, action: int, reward: float, next_obs: int, next_action: int | None,
                terminated: bool) -> None:
        # A truncated episode still bootstraps: only a real terminal state has value 0.
        bootstrap = 0.0 if terminated else self._next_value(next_obs, next_action)
        alpha = self.learning_rate(self.num_timesteps)
        td_error = reward + self.config.gamma * bootstrap - self.q_table[obs, action]
        self.q_table[obs, action] += alpha * td_error

    def _next_value(self, next_obs: int, next_action: int | None) -> float:
        """The estimate of the next state's value that the TD target bootstraps from."""
        raise NotImplementedError

    def _explore(self, obs: int) -> int:
        """Epsilon-greedy action at the current epsilon, greedy ties broken at random."""
        if self._rng.random() < self.epsilon(self.num_timesteps):
            return int(self._rng.integers(self.q_table.shape[1]))
        q = self.q_table[obs]
        best = np.flatnonzero(q == q.max())
        return int(best[0]) if len(best) == 1 else int(self._rng.choice(best))

    # Acting -----------------------------------------------------------------------------------------------
    def predict(self, obs, deterministic: bool = True) -> tuple[np.ndarray | np.int64, None]:
        """Greedy action(s) for a state index or an int array of them (epsilon-greedy if not deterministic).

        A scalar obs gives a numpy int, an array of shape (N,) gives actions of shape (N,).
        """
        states = np.asarray(obs)
        if not np.issubdtype(states.dtype, np.integer):
            raise ValueError(f"obs must be state indices (ints), got dtype {states.dtype}")
        bad = (states < 0) | (states >= self.q_table.shape[0])
        if bad.any():
            raise ValueError(f"obs {states[bad].ravel()[0]} is not a state in [0, {self.q_table.shape[0]})")
        actions = np.argmax(self.q_table[states], axis=-1)
        if not deterministic:
            explore = self._rng.random(states.shape) < self.epsilon(self.num_timesteps)
            random_actions = self._rng.integers(self.q_table.shape[1], size=states.shape)
            actions = np.where(explore, random_actions, actions)
        return (actions if actions.ndim else actions[()]), None

    def greedy_policy(self) -> np.ndarray:
        """(S,) int64: the greedy action of every state (lowest index on ties)."""
        return np.argmax(self.q_table, axis=1)

    # Saving -----------------------------------------------------------------------------------------------
    def _checkpoint(self) -> dict:
        config = dataclasses.asdict(self.config)
        config["learning_rate"] = schedule_to_dict(self.learning_rate)
        config["epsilon"] = schedule_to_dict(self.epsilon)
        return {"config": config, "q_table": torch.from_numpy(self.q_table.copy()),
                "num_timesteps": self.num_timesteps}

    @classmethod
    def _from_checkpoint(cls, checkpoint: dict, env=None, device: str = "auto") -> TabularAgent:
        q_table = checkpoint["q_table"].numpy().astype(np.float64)
        if q_table.ndim != 2:
            raise ValueError(f"the saved Q-table has shape {tuple(q_table.shape)}, expected (S, A)")
        agent = cls.__new__(cls)
        agent._setup(TabularConfig(**checkpoint["config"]), *q_table.shape)  # _setup rebuilds the schedules
        agent.q_table[:] = q_table
        agent.num_timesteps = int(checkpoint["num_timesteps"])
        agent.env = None
        if env is not None:
            agent.set_env(env)
        return agent


class QLearning(TabularAgent):
    """Off-policy TD control: bootstraps from max_a Q(s', a) (S&B section 6.5)."""

    def _next_value(self, next_obs: int, next_action: int | None) -> float:
        return float(self.q_table[next_obs].max())


class SARSA(TabularAgent):
    """On-policy TD control: bootstraps from Q(s', a') for the action a' it will take next (S&B 6.4)."""

    picks_next_action_before_update = True

    def _next_value(self, next_obs: int, next_action: int | None) -> float:
        return float(self.q_table[next_obs, next_action])


class ExpectedSARSA(TabularAgent):
    """Bootstraps from the expectation of Q(s', .) under the epsilon-greedy policy (S&B 6.6)."""

    def _next_value(self, next_obs: int, next_action: int | None) -> float:
        q = self.q_table[next_obs]
        best = q == q.max()
        epsilon = self.epsilon(self.num_timesteps)
        probabilities = epsilon / len(q) + (1.0 - epsilon) * best / best.sum()
        return float(probabilities @ q)


def _table_shape(env) -> tuple[int, int]:
    """(num_states, num_actions) of an env with Discrete observation and action spaces starting at 0."""
    for name in ("observation_space", "action_space"):
        space = getattr(env, name, None)
        if not isinstance(space, spaces.Discrete) or int(space.start) != 0:
            raise ValueError(f"tabular agents need a Discrete {name} starting at 0, got {space!r}")
    return int(env.observation_space.n), int(env.action_space.n)


def _make_config(config: TabularConfig | None, hyperparameters: dict) -> TabularConfig:
    config = config or TabularConfig()
    known = {field.name for field in dataclasses.fields(TabularConfig)}
    unknown = sorted(set(hyperparameters) - known)
    if unknown:
        raise ValueError(f"unknown hyperparameter(s) {unknown}; known: {sorted(known)}")
    return dataclasses.replace(config, **hyperparameters)
