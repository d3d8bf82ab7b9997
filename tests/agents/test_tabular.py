"""Tabular learners: each algorithm's one-step update on a tiny chain, S&B Figure 6.4 on CliffWalking,
convergence to exactly computed fixed points, schedules followed while learning, seeding, the agent protocol
and its save/load round trip."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium import spaces

import envs  # noqa: F401  (registers the mdparcade ids)
from agents.base import Agent
from agents.planning import q_from_v, value_iteration
from agents.schedules import Constant, ExponentialDecay, LinearDecay
from agents.tabular import (
    SARSA,
    ExpectedSARSA,
    QLearning,
    TabularConfig,
)
from nets.checkpoint import CheckpointError

CLIFF_WIDTH = 12
EDGE_ROW = 2  # the row right above the cliff


def greedy_path(agent, env) -> list[tuple[int, int]]:
    """(row, col) cells the greedy policy visits from the start of a deterministic gridworld."""
    mdp = env.unwrapped.mdp
    state, policy = int(np.argmax(mdp.start)), agent.greedy_policy()
    path = [state]
    while not mdp.terminal[state] and len(path) < 100:
        state = int(np.argmax(mdp.P[state, policy[state]]))
        path.append(state)
    return [divmod(s, CLIFF_WIDTH) for s in path]


class Chain(gym.Env):
    """States 0 -> 1 -> ... -> length (terminal), whatever the action; records every action it is given.

    reward(state, t) is the reward of the t-th step since the env was made (t = 1, 2, ...).
    """

    def __init__(self, length: int = 1, num_actions: int = 3, reward=lambda state, t: 0.0):
        self.observation_space = spaces.Discrete(length + 1)
        self.action_space = spaces.Discrete(num_actions)
        self.length, self.reward = length, reward
        self.actions: list[int] = []
        self.states: list[int] = []

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.state = 0
        return self.state, {}

    def step(self, action):
        self.actions.append(int(action))
        self.states.append(self.state)
        reward = float(self.reward(self.state, len(self.actions)))
        self.state += 1
        return self.state, reward, self.state == self.length, False, {}


# Q(1, .) on a 2-step chain: the three algorithms bootstrap the first step's target from it differently.
Q1 = np.array([1.0, 5.0, -2.0])
ALPHA, GAMMA = 0.5, 0.9


def first_update(cls, seed: int, epsilon) -> tuple[float, float, int, int]:
    """Learn 2 steps (one episode) of the chain 0 -> 1 -> 2 from a Q-table with Q(0, .) = 0.3, Q(1, .) = Q1;
    return (Q(0, a0) after learning, Q(0, a0) before, a0, a1) with a0, a1 the actions the env was given."""
    env = Chain(length=2, num_actions=3)
    agent = cls(env, learning_rate=ALPHA, epsilon=epsilon, gamma=GAMMA, seed=seed)
    agent.q_table[0] = 0.3
    agent.q_table[1] = Q1
    agent.learn(2)
    assert env.states == [0, 1]
    a0, a1 = env.actions
    return float(agent.q_table[0, a0]), 0.3, a0, a1


def epsilon_greedy_expectation(q: np.ndarray, epsilon: float) -> float:
    best = q == q.max()
    return float((epsilon / len(q) + (1 - epsilon) * best / best.sum()) @ q)


def test_sarsa_bootstraps_from_the_next_action_it_actually_takes():
    sampled = set()
    for seed in range(12):
        q, q_before, _, a1 = first_update(SARSA, seed, epsilon=0.5)
        # Q(s, a) += alpha (r + gamma Q(s', a') - Q(s, a)), a' the action taken next (here r = 0).
        assert q == pytest.approx(q_before + ALPHA * (GAMMA * Q1[a1] - q_before), abs=1e-12)
        # Expected SARSA's target (the epsilon-greedy mean of Q(s', .)) and Q-learning's (the max) give
        # other values for every a' except, for Q-learning, the greedy one.
        expected_sarsa = q_before + ALPHA * (GAMMA * epsilon_greedy_expectation(Q1, 0.5) - q_before)
        assert abs(q - expected_sarsa) > 0.1
        sampled.add(a1)
    assert {1} < sampled  # the greedy a' and at least one exploratory a' were both taken


def test_q_learning_bootstraps_from_the_max():
    for seed in range(4):
        q, q_before, _, _ = first_update(QLearning, seed, epsilon=0.5)
        assert q == pytest.approx(q_before + ALPHA * (GAMMA * Q1.max() - q_before), abs=1e-12)


def test_expected_sarsa_bootstraps_from_the_epsilon_greedy_mean_at_the_current_epsilon():
    # epsilon is 0.9 for the first action and 0.6 at step 1, when the first update is made.
    epsilon = LinearDecay(0.9, 0.3, steps=2)
    for seed in range(4):
        q, q_before, _, _ = first_update(ExpectedSARSA, seed, epsilon=epsilon)
        target = GAMMA * epsilon_greedy_expectation(Q1, epsilon(1))
        assert q == pytest.approx(q_before + ALPHA * (target - q_before), abs=1e-12)


@pytest.mark.parametrize("cls", [QLearning, SARSA, ExpectedSARSA])
@pytest.mark.parametrize("schedule", [LinearDecay(0.9, 0.1, steps=20), ExponentialDecay(0.9, 0.05, rate=0.8),
                                      Constant(0.3)])
def test_every_update_uses_the_step_size_schedule(cls, schedule):
    # One-step episodes ending in a terminal state, reward t at env step t: each update is
    # Q <- Q + alpha(t) (t - Q), alpha counted in env steps (the update after step t uses alpha(t)).
    env = Chain(length=1, num_actions=1, reward=lambda state, t: float(t))
    agent = cls(env, learning_rate=schedule, epsilon=0.1, gamma=0.9, seed=0).learn(40)
    q = 0.0
    for t in range(1, 41):
        q += schedule(t) * (t - q)
    assert agent.q_table[0, 0] == pytest.approx(q, rel=1e-12)


@pytest.mark.parametrize("cls", [QLearning, SARSA, ExpectedSARSA])
def test_exploration_follows_the_epsilon_schedule(cls):
    # Step size 0 freezes Q, so action 1 stays greedy; the action of env step k (from 0) is exploratory
    # with probability epsilon(k) and then non-greedy with probability 3/4.
    epsilon = LinearDecay(1.0, 0.0, steps=2000)
    env = Chain(length=1, num_actions=4)
    agent = cls(env, learning_rate=0.0, epsilon=epsilon, gamma=0.9, seed=0)
    agent.q_table[0] = [0.0, 1.0, 0.0, 0.0]
    agent.learn(3000)
    non_greedy = np.array(env.actions) != 1
    for first in range(0, 2000, 250):
        expected = 0.75 * np.mean([epsilon(k) for k in range(first, first + 250)])
        assert abs(non_greedy[first:first + 250].mean() - expected) < 0.1, first
    assert not non_greedy[2000:].any()  # epsilon 0 from step 2000 on: greedy only
    assert non_greedy[:250].mean() > 0.6
    # predict(deterministic=False) explores at the epsilon of the current step, now 0.
    assert (agent.predict(np.zeros(500, dtype=np.int64), deterministic=False)[0] == 1).all()


def learn_cliff(cls, seed: int, steps: int = 15_000):
    env = gym.make("mdparcade/CliffWalking-v0")
    # Sutton & Barto Figure 6.4: epsilon 0.1, alpha 0.5, undiscounted.
    return cls(env, learning_rate=0.5, epsilon=0.1, gamma=1.0, seed=seed).learn(steps), env


def check_figure_6_4(seed: int) -> None:
    q_agent, env = learn_cliff(QLearning, seed)
    q_path = greedy_path(q_agent, env)
    # Q-learning learns the optimal path: straight along the cliff edge, 13 moves.
    assert len(q_path) - 1 == 13
    assert [cell for cell in q_path if cell[0] == EDGE_ROW] == [(EDGE_ROW, c) for c in range(CLIFF_WIDTH)]

    sarsa_agent, env = learn_cliff(SARSA, seed)
    sarsa_path = greedy_path(sarsa_agent, env)
    # SARSA learns the safe path: it reaches the goal, a longer way, keeping off the edge above the cliff.
    assert sarsa_path[-1] == (3, CLIFF_WIDTH - 1)
    assert len(sarsa_path) - 1 >= 15
    edge_cells = [cell for cell in sarsa_path if cell[0] == EDGE_ROW and 1 <= cell[1] <= CLIFF_WIDTH - 2]
    assert len(edge_cells) <= 1
    # ...and so, exploring, it earns more per episode online than Q-learning (the figure's curves: about
    # -25 against -50), averaged after the first 100 episodes.
    assert np.mean(sarsa_agent.episode_returns[100:]) > np.mean(q_agent.episode_returns[100:]) + 10


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cliff_walking_q_learning_takes_the_edge_and_sarsa_the_safe_path(seed):
    check_figure_6_4(seed)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(3, 10))
def test_cliff_walking_figure_6_4_on_more_seeds(seed):
    check_figure_6_4(seed)


def epsilon_soft_fixed_point(mdp, gamma: float, epsilon: float, sweeps: int = 2000) -> np.ndarray:
    """Q = R + gamma P E_pi[Q] for the epsilon-greedy pi of Q itself: Expected SARSA's fixed point."""
    Q = np.zeros((mdp.num_states, mdp.num_actions))
    for _ in range(sweeps):
        best = Q == Q.max(axis=1, keepdims=True)
        pi = epsilon / mdp.num_actions + (1 - epsilon) * best / best.sum(axis=1, keepdims=True)
        V = np.where(mdp.terminal, 0.0, (pi * Q).sum(axis=1))
        Q = q_from_v(mdp, V, gamma)
    return Q


def test_q_learning_and_expected_sarsa_converge_to_their_exact_fixed_points():
    env = gym.make("mdparcade/Corridor-v0")  # deterministic, +1 at the far end
    mdp = env.unwrapped.mdp
    live = ~mdp.terminal
    # Off-policy Q-learning from a uniformly random behaviour policy converges to Q*.
    q_star = q_from_v(mdp, value_iteration(mdp, 0.9, tol=1e-12).V, 0.9)
    agent = QLearning(env, learning_rate=0.5, epsilon=1.0, gamma=0.9, seed=0).learn(20_000)
    np.testing.assert_allclose(agent.q_table[live], q_star[live], atol=1e-4)
    # Expected SARSA's target is an expectation, so in a deterministic world it converges exactly too.
    target = epsilon_soft_fixed_point(mdp, 0.9, 0.3)
    agent = ExpectedSARSA(env, learning_rate=0.5, epsilon=0.3, gamma=0.9, seed=0).learn(20_000)
    np.testing.assert_allclose(agent.q_table[live], target[live], atol=1e-4)


def test_sarsa_learns_to_walk_the_corridor():
    env = gym.make("mdparcade/Corridor-v0")
    agent = SARSA(env, learning_rate=0.2, epsilon=0.1, gamma=0.9, seed=0).learn(5_000)
    obs, _ = env.reset(seed=0)
    for _ in range(9):
        obs, reward, terminated, _, _ = env.step(agent.predict(obs)[0])
    assert terminated and reward == 1.0


def test_same_seed_same_q_table_and_different_seed_differs():
    a, _ = learn_cliff(SARSA, seed=5, steps=2000)
    b, _ = learn_cliff(SARSA, seed=5, steps=2000)
    c, _ = learn_cliff(SARSA, seed=6, steps=2000)
    np.testing.assert_array_equal(a.q_table, b.q_table)
    assert not np.array_equal(a.q_table, c.q_table)


def test_schedules():
    assert Constant(0.3)(10**6) == 0.3
    linear = LinearDecay(1.0, 0.1, steps=100)
    assert [linear(t) for t in (0, 50, 100, 1000)] == pytest.approx([1.0, 0.55, 0.1, 0.1])
    exponential = ExponentialDecay(1.0, 0.1, rate=0.5)
    assert [exponential(t) for t in (0, 1, 2)] == pytest.approx([1.0, 0.55, 0.325])
    env = gym.make("mdparcade/CliffWalking-v0")
    agent = QLearning(env, epsilon=LinearDecay(1.0, 0.0, steps=500), seed=0).learn(1000)
    assert agent.num_timesteps == 1000 and agent.epsilon(agent.num_timesteps) == 0.0


def test_learn_counts_steps_and_callback_can_stop_it():
    env = gym.make("mdparcade/CliffWalking-v0")
    agent = QLearning(env, seed=0).learn(250)
    assert agent.num_timesteps == 250 and sum(agent.episode_lengths) == 250
    calls = []
    agent.learn(10_000, callback=lambda a, info: calls.append(info) or len(calls) < 3)
    assert len(calls) == 3 and calls[-1]["num_timesteps"] == agent.num_timesteps < 10_250


def test_predict_is_greedy_and_vectorized():
    env = gym.make("mdparcade/CliffWalking-v0")
    agent = QLearning(env, seed=0).learn(3000)
    states = np.arange(48)
    actions, state = agent.predict(states)
    assert state is None
    np.testing.assert_array_equal(actions, agent.q_table.argmax(axis=1))
    assert agent.predict(36)[0] == agent.q_table[36].argmax()
    explored, _ = agent.predict(np.full(2000, 36), deterministic=False)
    assert 0.02 < np.mean(explored != agent.q_table[36].argmax()) < 0.15  # epsilon 0.1 * 3/4


def test_save_load_round_trip(tmp_path):
    env = gym.make("mdparcade/CliffWalking-v0")
    agent = ExpectedSARSA(env, learning_rate=LinearDecay(0.5, 0.1, 1000), epsilon=0.2, seed=3).learn(1500)
    path = agent.save(tmp_path / "model.pt")
    assert [p.name for p in tmp_path.iterdir()] == ["model.pt"]  # no temp file left behind
    loaded = ExpectedSARSA.load(path)
    np.testing.assert_array_equal(loaded.q_table, agent.q_table)
    assert loaded.config == agent.config and loaded.num_timesteps == 1500
    np.testing.assert_array_equal(loaded.predict(np.arange(48))[0], agent.predict(np.arange(48))[0])
    # Agent.load rebuilds whatever class the file holds; with an env it can learn on.
    again = Agent.load(path, env=env)
    assert type(again) is ExpectedSARSA
    again.learn(100)
    assert again.num_timesteps == 1600
    # The file is plain tensors and values: it loads with weights_only=True.
    assert torch.load(path, weights_only=True)["class"] == "ExpectedSARSA"


def test_load_errors_name_the_file(tmp_path):
    env = gym.make("mdparcade/CliffWalking-v0")
    missing = tmp_path / "nothing.pt"
    with pytest.raises(CheckpointError, match="nothing.pt"):
        QLearning.load(missing)
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(b"not a checkpoint at all")
    with pytest.raises(ValueError, match="corrupt.pt"):
        QLearning.load(corrupt)
    truncated = tmp_path / "truncated.pt"
    QLearning(env, seed=0).save(truncated)
    truncated.write_bytes(truncated.read_bytes()[:100])
    with pytest.raises(ValueError, match="truncated.pt"):
        QLearning.load(truncated)
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(3)}, foreign)
    with pytest.raises(ValueError, match="foreign.pt lacks"):
        QLearning.load(foreign)
    sarsa_file = SARSA(env, seed=0).save(tmp_path / "sarsa.pt")
    with pytest.raises(ValueError, match="holds a SARSA, not a QLearning"):
        QLearning.load(sarsa_file)
    with pytest.raises(ValueError, match=r"\(states, actions\)"):
        SARSA.load(sarsa_file, env=gym.make("mdparcade/Corridor-v0"))


def test_a_failed_save_keeps_the_previous_file(tmp_path, monkeypatch):
    env = gym.make("mdparcade/CliffWalking-v0")
    agent = QLearning(env, seed=0)
    path = agent.save(tmp_path / "model.pt")
    before = path.read_bytes()

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", crash)
    with pytest.raises(OSError, match="disk full"):
        agent.learn(100).save(path)
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["model.pt"]


def test_bad_configuration_raises_value_errors():
    env = gym.make("mdparcade/CliffWalking-v0")
    with pytest.raises(ValueError, match="unknown hyperparameter"):
        QLearning(env, alpha=0.5)
    with pytest.raises(ValueError, match="epsilon must stay within"):
        QLearning(env, epsilon=1.5)
    with pytest.raises(ValueError, match="gamma"):
        SARSA(env, config=TabularConfig(gamma=2.0))
    with pytest.raises(ValueError, match="Discrete observation_space"):
        QLearning(gym.make("CartPole-v1"))
    with pytest.raises(ValueError, match="not a state"):
        QLearning(env).predict(48)
    with pytest.raises(ValueError, match="no env"):
        QLearning._from_checkpoint(QLearning(env)._checkpoint()).learn(10)
