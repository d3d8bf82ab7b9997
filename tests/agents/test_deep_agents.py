"""Deep agents: truncation vs termination, the reset step of next-step autoreset, learning on fixed seeds,
save/load, resume equivalence, schedules followed, bad files and bad configs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import envs  # noqa: F401  (registers the mdparcade ids)
from agents.a2c import A2C
from agents.base import Agent
from agents.buffers import compute_gae
from agents.dqn import DQN
from agents.evaluation import evaluate
from agents.ppo import PPO
from agents.reinforce import REINFORCE
from agents.schedules import LinearDecay
from experiments.learners.presets import preset
from nets.checkpoint import CheckpointError

CORRIDOR_GOAL = 9  # "S........G": state 9 is the goal


def eval_mean(agent, env_id: str, episodes: int = 10) -> float:
    return evaluate(lambda obs: agent.predict(obs)[0], env_id, episodes).mean


def weights(agent) -> list[torch.Tensor]:
    return [p.detach().clone() for module in agent._modules().values() for p in module.state_dict().values()]


# Truncation and termination -----------------------------------------------------------------------------------
def gae_by_hand(rewards, values, last_value, terminated, truncated, gamma, lam):
    """One copy, written out step by step: the reference for compute_gae."""
    T = len(rewards)
    adv = [0.0] * T
    following = 0.0
    for t in reversed(range(T)):
        next_v = last_value if t == T - 1 else values[t + 1]
        delta = rewards[t] + (0.0 if terminated[t] else gamma * next_v) - values[t]
        following = delta + (0.0 if (terminated[t] or truncated[t]) else gamma * lam * following)
        adv[t] = following
    return np.array(adv)


def test_truncation_bootstraps_and_termination_does_not():
    rewards = np.array([[1.0], [1.0], [0.0]])
    values = np.array([[0.5], [0.7], [3.0]])  # row 2 is V of the episode's last real observation
    last = np.array([0.2])
    valid = np.array([[True], [True], [False]])  # row 2 is the reset step of next-step autoreset
    ended = np.array([[False], [True], [False]])
    never = np.zeros_like(ended)
    as_terminated = compute_gae(rewards, values, last, ended, never, valid, gamma=0.9, gae_lambda=0.95)
    as_truncated = compute_gae(rewards, values, last, never, ended, valid, gamma=0.9, gae_lambda=0.95)
    # The step that ends the episode: terminated -> r - V; truncated -> r + gamma V(last real obs) - V.
    assert as_terminated[1, 0] == pytest.approx(1.0 - 0.7)
    assert as_truncated[1, 0] == pytest.approx(1.0 + 0.9 * 3.0 - 0.7)
    assert as_terminated[1, 0] != pytest.approx(as_truncated[1, 0])
    # The reset step is never trained on, and nothing flows back across it.
    assert as_terminated[2, 0] == 0.0 and as_truncated[2, 0] == 0.0
    assert as_truncated[0, 0] == pytest.approx(1.0 + 0.9 * 0.7 - 0.5 + 0.9 * 0.95 * as_truncated[1, 0])


@pytest.mark.parametrize("seed", range(5))
def test_gae_matches_a_step_by_step_computation(seed):
    rng = np.random.default_rng(seed)
    T = 12
    rewards, values = rng.normal(size=(T, 1)), rng.normal(size=(T, 1))
    terminated = rng.random((T, 1)) < 0.15
    truncated = (rng.random((T, 1)) < 0.15) & ~terminated
    valid = np.ones((T, 1), dtype=bool)
    got = compute_gae(rewards, values, np.array([0.3]), terminated, truncated, valid, 0.97, 0.9)
    want = gae_by_hand(rewards[:, 0], values[:, 0], 0.3, terminated[:, 0], truncated[:, 0], 0.97, 0.9)
    np.testing.assert_allclose(got[:, 0], want, rtol=1e-12)


def test_dqn_replay_keeps_truncation_apart_and_never_stores_the_reset_step():
    # Corridor cut at 60 steps: random play ends most episodes by truncation; some reach the goal.
    agent = DQN("Corridor", seed=0, num_envs=4, learning_starts=10**9, exploration_final_eps=1.0,
                env_kwargs={"max_episode_steps": 60})
    agent.learn(8000)
    replay = agent.replay
    obs, next_obs, terminated = replay.obs[:replay.size], replay.next_obs[:replay.size], replay.terminated[:replay.size]
    assert replay.size > 7000
    # The goal is terminal: a stored transition never starts there (that would be the reset step).
    assert not (obs == CORRIDOR_GOAL).any()
    # Termination exactly when the goal is entered; truncated transitions (elsewhere) keep terminated False.
    np.testing.assert_array_equal(terminated, next_obs == CORRIDOR_GOAL)
    assert terminated.any() and (~terminated).any()


def test_dqn_target_differs_between_truncation_and_termination():
    agent = DQN("Corridor", seed=0, learning_starts=0, batch_size=2)
    obs = np.array([7, 7])
    next_obs = np.array([8, 8])
    agent.replay.add(obs, np.array([2, 2]), np.array([0.0, 0.0]), next_obs, np.array([True, False]),
                     np.array([True, True]))
    x_next = agent._input(agent.replay.next_obs[:2])
    with torch.no_grad():
        bootstrap = agent.target_net(x_next).max(dim=1).values
    assert agent.replay.terminated[:2].tolist() == [True, False]
    targets = agent.replay.rewards[:2] + agent.config.gamma * (~agent.replay.terminated[:2]) * bootstrap.numpy()
    assert targets[0] == 0.0 and targets[1] == pytest.approx(agent.config.gamma * float(bootstrap[1]))
    assert targets[1] != 0.0


# Learning on fixed seeds --------------------------------------------------------------------------------------
def test_ppo_learns_cartpole():
    agent = PPO("CartPole-v1", seed=0, **preset("PPO", "CartPole-v1")).learn(30_000)
    assert eval_mean(agent, "CartPole-v1") >= 400


def test_a2c_learns_cartpole():
    agent = A2C("CartPole-v1", seed=0).learn(50_000)
    assert eval_mean(agent, "CartPole-v1") >= 300


def test_dqn_learns_cartpole():
    agent = DQN("CartPole-v1", seed=0, **preset("DQN", "CartPole-v1")).learn(40_000)
    assert eval_mean(agent, "CartPole-v1") >= 300


def test_reinforce_learns_the_corridor():
    agent = REINFORCE("Corridor", seed=0, learning_rate=3e-3).learn(20_000)
    assert eval_mean(agent, "mdparcade/Corridor-v0") == 1.0


def test_ppo_cnn_learns_catch():
    agent = PPO("Catch", seed=0, **preset("PPO", "mdparcade/Catch-v0"))
    assert agent.encoder.kind == "image" and isinstance(agent.policy.trunk[0][0], torch.nn.Conv2d)
    agent.learn(30_000)
    assert eval_mean(agent, "mdparcade/Catch-v0", episodes=20) >= 0.9


# The protocol: predict, save, load ----------------------------------------------------------------------------
@pytest.mark.parametrize("cls", [PPO, A2C, DQN, REINFORCE])
def test_save_load_round_trip_predicts_identically(cls, tmp_path):
    agent = cls("FrozenLake8x8", seed=3)
    agent.learn(600)
    path = agent.save(tmp_path / "agent.pt")
    loaded = Agent.load(path)
    assert type(loaded) is cls and loaded.config == agent.config and loaded.num_timesteps == agent.num_timesteps
    states = np.arange(64)
    np.testing.assert_array_equal(loaded.predict(states)[0], agent.predict(states)[0])
    np.testing.assert_allclose(loaded.state_values(states), agent.state_values(states))
    assert loaded.predict(5)[0] == agent.predict(np.array([5]))[0][0]  # one observation or a batch


def test_wrong_algorithm_and_corrupt_files_are_clear_errors(tmp_path):
    path = DQN("Corridor", seed=0).save(tmp_path / "dqn.pt")
    with pytest.raises(CheckpointError, match="holds a DQN, not a PPO"):
        PPO.load(path)
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(path.read_bytes()[:100])
    with pytest.raises(CheckpointError, match="corrupt"):
        Agent.load(corrupt)


def test_same_seed_same_weights_and_a_different_seed_differs():
    runs = [PPO("CartPole-v1", seed=s, num_steps=16, batch_size=64, n_epochs=2).learn(512) for s in (7, 7, 8)]
    first, second, other = (weights(a) for a in runs)
    assert all(torch.equal(a, b) for a, b in zip(first, second))
    assert not all(torch.equal(a, b) for a, b in zip(first, other))


@pytest.mark.parametrize("cls, settings", [
    (PPO, dict(num_steps=16, batch_size=64, n_epochs=2)),
    (DQN, dict(learning_starts=100, train_freq=64, gradient_steps=8, num_envs=2)),
    (A2C, dict()),
    (REINFORCE, dict(batch_episodes=4)),
])
def test_resumed_run_ends_with_the_same_weights(cls, settings, tmp_path):
    total, cut = 3000, 1200

    def save_once_past_cut(path, stop: bool):
        def callback(agent, info):
            if agent.num_timesteps >= cut and not path.exists():
                agent.save(path, resume=True)
                return False if stop else None
            return None
        return callback

    uninterrupted = cls("CartPole-v1", seed=11, **settings)
    uninterrupted.learn(total, callback=save_once_past_cut(tmp_path / "kept.pt", stop=False))
    interrupted = cls("CartPole-v1", seed=11, **settings)
    interrupted.learn(total, callback=save_once_past_cut(tmp_path / "resume.pt", stop=True))
    assert interrupted.num_timesteps < uninterrupted.num_timesteps
    resumed = cls.load(tmp_path / "resume.pt")
    resumed.learn(resumed.remaining_timesteps())
    assert resumed.num_timesteps == uninterrupted.num_timesteps
    assert all(torch.equal(a, b) for a, b in zip(weights(resumed), weights(uninterrupted)))


# Schedules are followed --------------------------------------------------------------------------------------
def test_ppo_anneals_learning_rate_and_clip_range_linearly():
    agent = PPO("CartPole-v1", seed=0, num_steps=16, batch_size=64, n_epochs=1, learning_rate=1e-3)
    seen = []
    agent.learn(1024, callback=lambda a, info: seen.append((info["learning_rate"], info["clip_range"])))
    starts = range(0, 1024, 16 * 8)  # each rollout is annealed from its first step
    assert seen == [pytest.approx((LinearDecay(1e-3, 0, 1024)(s), LinearDecay(0.2, 0, 1024)(s))) for s in starts]


def test_dqn_epsilon_follows_its_linear_schedule():
    agent = DQN("Corridor", seed=0, learning_starts=10**9, exploration_fraction=0.5, exploration_final_eps=0.1,
                train_freq=100)
    seen = []
    agent.learn(2000, callback=lambda a, info: seen.append((a.num_timesteps, info["epsilon"])))
    assert [eps for _, eps in seen] == pytest.approx([LinearDecay(1.0, 0.1, 1000)(t) for t, _ in seen])
    assert seen[-1][1] == pytest.approx(0.1)


# Bad input --------------------------------------------------------------------------------------------------
def test_unknown_keys_env_ids_and_bad_values_are_named():
    with pytest.raises(ValueError, match="unknown PPOConfig key.*n_epoch"):
        PPO("CartPole-v1", n_epoch=3)
    with pytest.raises(ValueError, match="unknown env id 'NoSuchEnv'.*mdparcade/Catch-v0"):
        PPO("NoSuchEnv")
    with pytest.raises(ValueError, match="batch_size .* larger than a rollout"):
        PPO("CartPole-v1", num_envs=2, num_steps=8, batch_size=64)
    with pytest.raises(ValueError, match="DQNConfig.gamma must be in"):
        DQN("CartPole-v1", gamma=1.5)
    with pytest.raises(ValueError, match="Discrete action space"):
        DQN("Pendulum-v1")


def test_observation_of_the_wrong_shape_is_named():
    agent = PPO("CartPole-v1", seed=0)
    with pytest.raises(ValueError, match=r"observation of shape \(3,\)"):
        agent.predict(np.zeros(3))


def test_box_actions_get_a_gaussian_policy_clipped_to_bounds():
    agent = PPO("Pendulum-v1", seed=0, num_envs=2, num_steps=64, batch_size=64, n_epochs=1, log_std_init=2.0)
    agent.learn(128)
    actions, _ = agent.predict(np.zeros((50, 3), dtype=np.float32), deterministic=False)
    assert actions.shape == (50, 1) and actions.min() >= -2.0 and actions.max() <= 2.0


def test_user_env_instances_and_vector_envs_are_accepted():
    import gymnasium as gym

    single = PPO(gym.make("CartPole-v1"), seed=0, num_envs=2, num_steps=16, batch_size=32, n_epochs=1)
    assert single.env.num_envs == 2 and single.env_id == "CartPole-v1"
    single.learn(64)
    vector = DQN(gym.make_vec("CartPole-v1", 3, vectorization_mode="sync"), seed=0, learning_starts=10)
    assert vector.num_envs == 3
    vector.learn(300)


def test_normalized_observations_statistics_are_saved_and_used(tmp_path):
    agent = PPO("CartPole-v1", seed=0, normalize_obs=True, num_steps=16, batch_size=64, n_epochs=1).learn(512)
    assert agent.normalizer.count > 500
    loaded = PPO.load(agent.save(tmp_path / "n.pt"))
    np.testing.assert_array_equal(loaded.normalizer.mean, agent.normalizer.mean)
    obs = np.random.default_rng(0).normal(size=(20, 4)).astype(np.float32)
    np.testing.assert_array_equal(loaded.predict(obs)[0], agent.predict(obs)[0])


def test_gridworld_image_observations_get_a_cnn_and_learn_the_corridor():
    agent = PPO("Corridor", seed=0, env_kwargs={"obs_mode": "image"}, num_envs=8, num_steps=64, batch_size=256,
                n_epochs=4, hidden_sizes=(32,), activation="relu")
    assert agent.encoder.kind == "image" and isinstance(agent.policy.trunk[0][0], torch.nn.Conv2d)
    agent.learn(20_000)
    assert evaluate(lambda obs: agent.predict(obs)[0], "mdparcade/Corridor-v0", 5,
                    env_kwargs={"obs_mode": "image"}).mean == 1.0
