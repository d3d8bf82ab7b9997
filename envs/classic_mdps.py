"""Classic finite MDPs as TabularMDPs (Sutton & Barto's Gambler's problem, random Garnet MDPs) and an env over any.

`TabularMDPEnv(mdp)` samples a TabularMDP with the same counter-based RNG as the gridworlds.
"""

from __future__ import annotations

import operator

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from envs import rng
from envs.gridworld_model import TransitionTable
from envs.tabular_mdp import TabularMDP


def gamblers_problem(p_heads: float = 0.4, goal: int = 100) -> TabularMDP:
    """Sutton & Barto Example 4.3. States: capital 0..goal (0 and goal terminal); action a = stake a.

    Stakes run 0..goal // 2; a stake above min(s, goal - s) is clamped to it. Reward +1 on reaching the goal,
    so R[s, a] = p_heads if s + stake reaches the goal. Start: uniform over capitals 1..goal-1.
    """
    if not 0.0 <= p_heads <= 1.0:
        raise ValueError(f"p_heads must be a probability in [0, 1], got {p_heads}")
    if goal < 2:
        raise ValueError(f"goal must be >= 2, got {goal}")
    num_states, num_actions = goal + 1, goal // 2 + 1
    P = np.zeros((num_states, num_actions, num_states))
    R = np.zeros((num_states, num_actions))
    for capital in range(num_states):
        for action in range(num_actions):
            if capital in (0, goal):
                P[capital, action, capital] = 1.0
                continue
            stake = min(action, capital, goal - capital)
            P[capital, action, capital + stake] += p_heads
            P[capital, action, capital - stake] += 1.0 - p_heads
            R[capital, action] = p_heads if capital + stake == goal else 0.0
    terminal = np.zeros(num_states, dtype=bool)
    terminal[[0, goal]] = True
    start = np.where(terminal, 0.0, 1.0 / (num_states - 2))
    return TabularMDP(P, R, terminal, start, tuple(f"capital {s}" for s in range(num_states)))


def garnet(num_states: int, num_actions: int, branching: int, seed: int = 0) -> TabularMDP:
    """A random Garnet MDP (Archibald et al. 1995): each (s, a) reaches `branching` distinct states.

    Probabilities split [0, 1] at branching - 1 uniform cut points; R[s, a] ~ uniform [0, 1); no terminal
    states; uniform start. The same seed gives the same MDP.
    """
    if num_states < 1 or num_actions < 1:
        raise ValueError(f"need num_states >= 1 and num_actions >= 1, got {num_states}, {num_actions}")
    if not 1 <= branching <= num_states:
        raise ValueError(f"branching must be in [1, num_states={num_states}], got {branching}")
    generator = np.random.default_rng(seed)
    P = np.zeros((num_states, num_actions, num_states))
    for s in range(num_states):
        for a in range(num_actions):
            successors = generator.choice(num_states, size=branching, replace=False)
            cuts = np.sort(generator.random(branching - 1))
            P[s, a, successors] = np.diff(np.concatenate([[0.0], cuts, [1.0]]))
    R = generator.random((num_states, num_actions))
    return TabularMDP(P, R, np.zeros(num_states, dtype=bool), np.full(num_states, 1.0 / num_states))


def transition_table(mdp: TabularMDP, transition_rewards: np.ndarray | None = None) -> TransitionTable:
    """Successor lists of a TabularMDP; a transition earns transition_rewards[s, a, s'] or else R[s, a].

    Terminal states become self-loops with reward 0, like the gridworlds' goals.
    """
    S, A = mdp.num_states, mdp.num_actions
    if transition_rewards is not None and np.shape(transition_rewards) != (S, A, S):
        raise ValueError(f"transition_rewards must have shape {(S, A, S)}, got {np.shape(transition_rewards)}")
    P = mdp.P.copy()
    P[mdp.terminal] = 0.0
    P[mdp.terminal, :, np.flatnonzero(mdp.terminal)] = 1.0
    width = int((P > 0).sum(axis=2).max())
    # The successors of each (s, a) in increasing state order, then the zero-probability states.
    successors = np.argsort(P <= 0, axis=2, kind="stable")[:, :, :width]
    prob = np.take_along_axis(P, successors, axis=2)
    if transition_rewards is None:
        reward = np.broadcast_to(mdp.R[:, :, None], prob.shape)
    else:
        reward = np.take_along_axis(np.asarray(transition_rewards, dtype=np.float64), successors, axis=2)
    reward = np.where(mdp.terminal[:, None, None], 0.0, reward)
    flat = (S * A, width)
    return TransitionTable(prob.reshape(flat), successors.reshape(flat), reward.reshape(flat),
                           mdp.terminal[successors].reshape(flat), A, mdp.terminal, mdp.start)


class TabularMDPEnv(gym.Env):
    """A Gymnasium env sampling any TabularMDP: Discrete(S) observations, Discrete(A) actions.

    Rewards are R[s, a] (the expected reward) unless `transition_rewards` (S, A, S') is given.
    Episodes end on entering a terminal state, or are truncated after `max_episode_steps`.
    """

    metadata = {"render_modes": []}

    def __init__(self, mdp: TabularMDP, transition_rewards=None, max_episode_steps: int | None = None):
        self.mdp = mdp
        self.transitions = transition_table(mdp, transition_rewards)
        self.max_episode_steps = max_episode_steps
        self.observation_space = spaces.Discrete(mdp.num_states)
        self.action_space = spaces.Discrete(mdp.num_actions)
        self.state: int | None = None
        self.key: int | None = None
        self.counter = 0
        self.elapsed_steps = 0

    @property
    def P(self) -> dict:
        return self.transitions.p_dict()

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self.key, self.counter = rng.stream_after_reset(seed, self.key, self.counter, self.np_random)
        self.state = self.transitions.sample_start(rng.uniform_scalar(self.key, self.counter))
        self.counter += 1
        self.elapsed_steps = 0
        return self.state, {}

    def step(self, action):
        if self.state is None:
            raise RuntimeError("call reset() before step()")
        action = operator.index(action)
        if not 0 <= action < self.mdp.num_actions:
            raise ValueError(f"action must be in [0, {self.mdp.num_actions}), got {action}")
        u = rng.uniform_scalar(self.key, self.counter)
        self.counter += 1
        self.state, reward, terminated = self.transitions.sample_step(self.state, action, u)
        self.elapsed_steps += 1
        truncated = self.max_episode_steps is not None and self.elapsed_steps >= self.max_episode_steps
        return self.state, reward, terminated, truncated, {}
