"""Tabular learners pinned on small cases: bounds and messages of the config, seeding of the first reset,
the callback protocol, terminal targets, Expected SARSA's tie handling and predict's return types."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch

import envs  # noqa: F401  (registers the mdparcade ids)
from agents.schedules import Constant
from agents.tabular import SARSA, ExpectedSARSA, QLearning, TabularConfig

RIGHT = 2


def test_config_bounds_and_the_stored_schedules():
    env = gym.make("mdparcade/Corridor-v0")
    agent = QLearning(env, gamma=0.0, learning_rate=0.5, epsilon=0.2)  # gamma 0 is allowed
    assert agent.config.learning_rate == Constant(0.5) and agent.config.epsilon == Constant(0.2)
    with pytest.raises(ValueError, match=r"learning_rate must stay within \[0.0, 1.0\], got Constant\(value=1.5\)"):
        QLearning(env, learning_rate=1.5)
    with pytest.raises(ValueError, match=r"tabular agents need a Discrete observation_space starting at 0, "
                                         r"got None"):
        QLearning(object())


def test_learn_zero_steps_and_negative_steps():
    agent = QLearning(gym.make("mdparcade/Corridor-v0"), seed=0)
    assert agent.learn(0) is agent and agent.num_timesteps == 0 and agent.episode_returns == []
    with pytest.raises(ValueError, match="total_timesteps must be >= 0, got -1"):
        agent.learn(-1)


def test_the_config_seed_also_seeds_the_envs_first_reset():
    tables = []
    for _ in range(2):
        env = gym.make("mdparcade/RussellNorvig4x3-v0")  # slippery: the env's own randomness matters
        tables.append(QLearning(env, seed=7, epsilon=0.3).learn(500).q_table)
    assert np.abs(tables[0]).sum() > 0
    np.testing.assert_array_equal(tables[0], tables[1])


def test_callback_gets_the_agent_and_each_episodes_return_and_length_and_can_stop():
    env = gym.make("mdparcade/FrozenLake8x8-v0")
    agent = QLearning(env, seed=1, epsilon=0.5)
    seen = []

    def callback(model, info):
        assert model is agent
        seen.append(info)
        return len(seen) < 5

    assert agent.learn(100_000, callback=callback) is agent
    assert len(seen) == 5 == len(agent.episode_returns)
    assert [info["episode_return"] for info in seen] == agent.episode_returns
    assert [info["episode_length"] for info in seen] == agent.episode_lengths
    assert seen[-1]["num_timesteps"] == agent.num_timesteps == sum(agent.episode_lengths)
    # FrozenLake pays 1 on the goal and nothing else: each return is 0 or 1, and the first ones fail.
    assert set(agent.episode_returns) <= {0.0, 1.0} and 0.0 in agent.episode_returns


@pytest.mark.parametrize("algorithm", [QLearning, SARSA, ExpectedSARSA])
def test_a_terminal_step_does_not_bootstrap_even_from_optimistic_initial_values(algorithm):
    env = gym.make("mdparcade/Corridor-v0")  # 10 cells in a row, +1 for entering the goal at the end
    agent = algorithm(env, seed=0, learning_rate=1.0, epsilon=0.0, initial_q=5.0, gamma=0.9)
    agent.learn(2000)
    assert agent.q_table[8, RIGHT] == 1.0  # the target of the goal step is the reward alone
    assert agent.q_table[7, RIGHT] == pytest.approx(0.9)


def test_expected_sarsa_splits_the_greedy_share_between_tied_actions():
    agent = ExpectedSARSA(gym.make("mdparcade/Corridor-v0"), epsilon=0.2)
    agent.q_table[3] = [1.0, 1.0, 0.0, 0.0]
    # epsilon / 4 on each action, and the greedy 0.8 split over the two tied best actions.
    assert agent._next_value(3, None) == pytest.approx(0.05 * 2 + 0.4 * 2)


def test_predict_types_ranges_and_exploration():
    agent = QLearning(gym.make("mdparcade/FrozenLake8x8-v0"), seed=0, epsilon=1.0)
    action, state = agent.predict(3)
    assert isinstance(action, np.integer) and state is None
    with pytest.raises(ValueError, match="obs must be state indices"):
        agent.predict(np.array([0.5]))
    with pytest.raises(ValueError, match=r"obs 64 is not a state in \[0, 64\)"):
        agent.predict(np.array([1, 64]))
    explored, _ = agent.predict(np.zeros(200, dtype=int), deterministic=False)
    assert explored.dtype.kind == "i" and set(explored.tolist()) == {0, 1, 2, 3}


def test_loading_a_checkpoint_with_a_flat_q_table_names_its_shape():
    checkpoint = {"config": {}, "q_table": torch.zeros(5), "num_timesteps": 0}
    with pytest.raises(ValueError, match=r"the saved Q-table has shape \(5,\), expected \(S, A\)"):
        QLearning._from_checkpoint(checkpoint)
    checkpoint["q_table"] = torch.ones(5, 2)
    loaded = QLearning._from_checkpoint(checkpoint)
    assert loaded.q_table.dtype == np.float64 and loaded.env is None and loaded.config == TabularConfig(
        learning_rate=Constant(0.1), epsilon=Constant(0.1))
