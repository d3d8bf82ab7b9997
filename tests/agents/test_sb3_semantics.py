"""stable-baselines3's semantics, where ours follow them: when schedules are read, what a DQN step is, when DQN
acts at random and when it starts training, how its target updates and epsilon are counted."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from agents.a2c import A2C
from agents.dqn import DQN, linear_epsilon
from agents.ppo import PPO


def test_ppo_reads_its_schedules_after_each_rollout_as_sb3():
    # SB3's OnPolicyAlgorithm.learn: collect_rollouts, then _update_current_progress_remaining, then train.
    total, rollout = 1000, 16 * 8
    agent = PPO("CartPole-v1", seed=0, num_steps=16, batch_size=64, n_epochs=1, learning_rate=1e-3)
    used = []
    agent.learn(total, callback=lambda a, info: used.append(
        (a.optimizer.optimizer.param_groups[0]["lr"], info["learning_rate"], info["clip_range"])))
    assert len(used) == 8  # whole rollouts until num_timesteps >= total: 8 x 128 = 1024
    for i, (lr_in_optimizer, lr, clip) in enumerate(used):
        remaining = 1 - (i + 1) * rollout / total
        assert lr_in_optimizer == lr == pytest.approx(1e-3 * remaining)
        assert clip == pytest.approx(0.2 * remaining)
    assert used[-1][1] < 0  # SB3's lin_ schedule goes below 0 when the last rollout overshoots; so does ours


def test_a2c_constant_learning_rate_unless_annealed():
    seen = []
    A2C("CartPole-v1", seed=0).learn(400, callback=lambda a, info: seen.append(info["learning_rate"]))
    assert set(seen) == {7e-4}
    seen = []
    A2C("CartPole-v1", seed=0, anneal_lr=True).learn(400, callback=lambda a, info: seen.append(info["learning_rate"]))
    assert seen[0] == pytest.approx(7e-4 * (1 - 40 / 400))


def test_dqn_acts_uniformly_at_random_before_learning_starts_and_trains_only_after_it():
    starts, freq = 50, 10
    agent = DQN("CartPole-v1", seed=4, learning_starts=starts, train_freq=freq, gradient_steps=2, batch_size=8,
                exploration_initial_eps=0.0, exploration_final_eps=0.0)
    initial = agent.q_net.params.flat.clone()
    changes = []
    agent.learn(100, callback=lambda a, info: changes.append(
        (a.num_timesteps, not torch.equal(a.q_net.params.flat, initial))))
    # SB3: train only when num_timesteps > learning_starts, after a whole round of train_freq steps
    assert [t for t, changed in changes if not changed] == [10, 20, 30, 40, 50]
    assert all(changed for t, changed in changes if t > starts)
    # Before learning_starts every action is the member's generator's uniform draw (SB3: action_space.sample()).
    rng = np.random.default_rng(4)
    expected = [int(rng.integers(2, size=1)[0]) for _ in range(starts)]
    assert agent.replay.actions[0, :starts].tolist() == expected


def test_dqn_train_freq_counts_vector_steps_and_gradient_steps_minus_one_matches_them():
    agent = DQN("CartPole-v1", seed=0, num_envs=4, train_freq=3, gradient_steps=-1, learning_starts=0)
    seen = []
    agent.learn(30, callback=lambda a, info: seen.append((a.num_timesteps, info.get("gradient_steps"))))
    assert seen[0] == (12, 12.0)  # 3 env.step calls of 4 copies; as many gradient steps as transitions


def test_dqn_target_updates_every_interval_over_num_envs_vector_steps():
    # SB3's DQN._on_step: update when _n_calls % max(target_update_interval // n_envs, 1) == 0
    agent = DQN("CartPole-v1", seed=0, num_envs=4, target_update_interval=10, train_freq=1, gradient_steps=1,
                learning_starts=0, batch_size=4)
    updates = []
    previous = agent.target.flat.clone()
    for call in range(1, 9):
        agent.learn(4)
        moved = not torch.equal(agent.target.flat, previous)
        previous = agent.target.flat.clone()
        updates.append((call, moved))
    assert [call for call, moved in updates if moved] == [2, 4, 6, 8]  # every 10 // 4 = 2 vector steps


def test_dqn_epsilon_follows_sb3s_linear_schedule_after_every_step():
    agent = DQN("CartPole-v1", seed=0, learning_starts=10**9, exploration_fraction=0.5, exploration_final_eps=0.1,
                train_freq=100)
    seen = []
    agent.learn(2000, callback=lambda a, info: seen.append((a.num_timesteps, info["epsilon"])))
    for steps, epsilon in seen:
        assert epsilon == pytest.approx(linear_epsilon(1.0, 0.1, 0.5, 1 - steps / 2000))
    assert seen[-1][1] == pytest.approx(0.1)
    assert linear_epsilon(1.0, 0.1, 0.5, 0.75) == pytest.approx(0.55)


def test_dqn_is_plain_by_default_and_double_q_is_an_option():
    assert DQN("CartPole-v1", seed=0).config.double_q is False
    assert DQN("CartPole-v1", seed=0, double_q=True).config.double_q is True


def test_dqn_one_exploration_coin_decides_the_whole_vector_step():
    # SB3's DQN.predict draws np.random.rand() once per call and then samples every copy's action.
    agent = DQN("CartPole-v1", seed=0, num_envs=8)
    coins = agent._explore(8, 0.5)
    assert ((coins >= 0).all(axis=1) | (coins < 0).all(axis=1)).all()


def test_dqn_learning_rate_is_constant_unless_annealed_and_zero_gradient_steps_never_train():
    seen = []
    DQN("CartPole-v1", seed=0, learning_starts=0, train_freq=20, gradient_steps=1, batch_size=4).learn(
        100, callback=lambda a, info: seen.append(info["learning_rate"]))
    assert set(seen) == {2.3e-3}
    seen = []
    DQN("CartPole-v1", seed=0, learning_starts=0, train_freq=20, gradient_steps=1, batch_size=4, anneal_lr=True).learn(
        100, callback=lambda a, info: seen.append((a.optimizer.optimizer.param_groups[0]["lr"], info["learning_rate"])))
    # read after each round's collection, as SB3's _update_current_progress_remaining is
    assert seen == [(pytest.approx(2.3e-3 * (1 - t / 100)),) * 2 for t in (20, 40, 60, 80, 100)]
    idle = DQN("CartPole-v1", seed=0, learning_starts=0, train_freq=5, gradient_steps=0, batch_size=4)
    initial = idle.q_net.params.flat.clone()
    idle.learn(50)
    assert torch.equal(idle.q_net.params.flat, initial)  # 0 means none, not "as many as env steps" (that is -1)
