"""Deep agents: truncation vs termination in the replay buffer, learning on fixed seeds (fast ones here, rl-zoo's
CartPole settings behind the slow mark), save/load, bad files and bad configs. Populations, checkpoints, SB3's
semantics and the losses have their own files."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import envs  # noqa: F401  (registers the mdparcade ids)
from agents.a2c import A2C
from agents.base import Agent
from agents.dqn import DQN
from agents.evaluation import evaluate
from agents.ppo import PPO
from agents.reinforce import REINFORCE
from nets.checkpoint import CheckpointError

CORRIDOR_GOAL = 9  # "S........G": state 9 is the goal


def eval_mean(agent, env_id: str, episodes: int = 10) -> float:
    return evaluate(lambda obs: agent.predict(obs)[0], env_id, episodes).mean


def weights(agent) -> list[torch.Tensor]:
    return [stack.flat.clone() for stack in agent._stacks().values()]


# Truncation and termination -----------------------------------------------------------------------------------
def test_dqn_replay_keeps_truncation_apart_and_stores_the_last_observation_of_an_episode():
    # Corridor cut at 60 steps: random play ends most episodes by truncation; some reach the goal.
    agent = DQN("Corridor", seed=0, num_envs=4, learning_starts=10**9, env_kwargs={"max_episode_steps": 60})
    agent.learn(8000)
    replay = agent.replay
    n = replay.size
    obs, next_obs, terminated = replay.obs[0, :n], replay.next_obs[0, :n], replay.terminated[0, :n]
    assert n == agent.num_timesteps == 8192  # rounds of 256 vector steps of 4 copies; every step stored
    # The goal is terminal: a stored transition never starts there (that would be a reset step).
    assert not (obs == CORRIDOR_GOAL).any()
    # Termination exactly when the goal is entered (the next obs is the goal, not the next episode's start).
    np.testing.assert_array_equal(terminated, next_obs == CORRIDOR_GOAL)
    assert terminated.any() and (~terminated).any()


# Learning on fixed seeds --------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls, settings", [
    (PPO, dict(num_steps=64, batch_size=128, n_epochs=4, gamma=0.99, gae_lambda=0.95, learning_rate=3e-3)),
    (A2C, dict(learning_rate=1e-3, num_steps=16)),
    (DQN, dict(learning_starts=1000, train_freq=4, gradient_steps=1, target_update_interval=250, hidden_sizes=(32,),
               learning_rate=1e-3, exploration_fraction=0.3)),
    (REINFORCE, dict(learning_rate=3e-3)),
])
def test_every_algorithm_learns_the_corridor(cls, settings):
    agent = cls("Corridor", seed=0, **settings).learn(15_000)
    assert eval_mean(agent, "mdparcade/Corridor-v0", episodes=3) == 1.0


def test_a_population_learns_the_corridor_in_every_member():
    agent = PPO("Corridor", seeds=range(4), num_steps=64, batch_size=128, n_epochs=4, gamma=0.99, gae_lambda=0.95,
                learning_rate=3e-3).learn(10_000)
    for k in range(4):
        assert eval_mean(agent.member(k), "mdparcade/Corridor-v0", episodes=3) == 1.0


@pytest.mark.slow
def test_ppo_learns_cartpole_at_rl_zoo_settings():
    agent = PPO("CartPole-v1", seed=0).learn(100_000)
    assert eval_mean(agent, "CartPole-v1") >= 475


@pytest.mark.slow
def test_a2c_learns_cartpole():
    agent = A2C("CartPole-v1", seed=0).learn(200_000)
    assert eval_mean(agent, "CartPole-v1") >= 300


@pytest.mark.slow
def test_dqn_learns_cartpole_at_rl_zoo_settings():
    agent = DQN("CartPole-v1", seed=0).learn(50_000)
    assert eval_mean(agent, "CartPole-v1") >= 300


@pytest.mark.slow
def test_ppo_cnn_learns_catch():
    agent = PPO("Catch", seed=0, num_envs=16, num_steps=64, batch_size=256, n_epochs=4, gamma=0.99, gae_lambda=0.95,
                ent_coef=0.01, hidden_sizes=(128,), activation="relu", anneal_clip_range=False)
    assert agent.encoder.kind == "image" and "trunk.conv0.weight" in agent.policy.params
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


def test_wrong_algorithm_old_and_corrupt_files_are_clear_errors(tmp_path):
    path = DQN("Corridor", seed=0).save(tmp_path / "dqn.pt")
    record = torch.load(path, weights_only=True)
    del record["agent"]["layout"]
    old = tmp_path / "old.pt"
    torch.save(record, old)
    from agents.deep import CHECKPOINT_LAYOUT

    with pytest.raises(CheckpointError, match=rf"written by an older mdparcade \(checkpoint layout 1, this one reads "
                                              rf"{CHECKPOINT_LAYOUT}\); retrain it"):
        Agent.load(old)
    record["agent"]["layout"] = CHECKPOINT_LAYOUT + 7  # a layout of some other version is named as it is
    torch.save(record, old)
    with pytest.raises(CheckpointError, match=rf"\(checkpoint layout {CHECKPOINT_LAYOUT + 7}, this one reads "
                                              rf"{CHECKPOINT_LAYOUT}\)"):
        Agent.load(old)
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
    assert agent.encoder.kind == "image"
    assert isinstance(agent.policy.member_nets(0)["trunk"][0][0], torch.nn.Conv2d)
    agent.learn(12_000)
    assert evaluate(lambda obs: agent.predict(obs)[0], "mdparcade/Corridor-v0", 5,
                    env_kwargs={"obs_mode": "image"}).mean == 1.0


@pytest.mark.parametrize("settings", [dict(), dict(batch_size=24, activation="tanh", double_q=True, num_envs=2)])
def test_dqns_hand_written_backward_trains_exactly_as_autograd_does(settings):
    """DQN's update on a dense Q-net backpropagates by hand (nets.stacked.StackedMLP); with it switched off the
    same run goes through autograd, and every weight, target weight and Adam moment must come out equal."""
    runs = []
    for by_hand in (True, False):
        agent = DQN("CartPole-v1", seeds=[0, 1], learning_starts=64, train_freq=32, gradient_steps=6,
                    hidden_sizes=(32, 32), **settings)
        assert agent._mlp is not None
        # the dense hand-written backward (skipping dead relu units reorders a sum: test_population.py)
        agent._mlp = agent.q_net.stacked_mlp(skip_dead_units=False) if by_hand else None
        agent.learn(400)
        adam = agent.optimizer.optimizer.state
        runs.append(weights(agent) + [adam[row][key] for row in agent.q_net.params.rows()
                                      for key in ("exp_avg", "exp_avg_sq")])
    assert all(torch.equal(a, b) for a, b in zip(*runs))
    assert not torch.equal(runs[0][0], DQN("CartPole-v1", seeds=[0, 1], hidden_sizes=(32, 32)).q_net.params.flat)


def test_dqn_backpropagates_by_hand_only_where_the_net_is_a_plain_mlp():
    assert DQN("CartPole-v1", seed=0)._mlp.skip_dead_units  # relu on CPU: dead units' rows skipped
    assert not DQN("CartPole-v1", seed=0, activation="tanh")._mlp.skip_dead_units
    assert DQN("CartPole-v1", seed=0, dueling=True)._mlp is None
    assert DQN("CartPole-v1", seed=0, activation="elu")._mlp is None
    assert DQN("mdparcade/Catch-v0", seed=0)._mlp is None  # a CNN trunk


def test_a2c_reports_its_losses_entropy_and_explained_variance_each_iteration():
    infos = []
    A2C("CartPole-v1", seed=0, num_steps=8).learn(64, callback=lambda agent, info: infos.append(info))
    for key in ("policy_loss", "value_loss", "entropy", "explained_variance", "learning_rate"):
        assert all(isinstance(info[key], float) for info in infos), key
    assert all(0.6 < info["entropy"] <= np.log(2) for info in infos)  # two actions, near uniform early on
    assert all(info["value_loss"] > 0 and info["explained_variance"] <= 1 for info in infos)


#: Per algorithm: the config fields that must be > 0, and those that must lie in [0, 1].
CONFIG_CHECKS = {
    DQN: (["num_envs", "learning_rate", "batch_size", "buffer_size", "train_freq", "target_update_interval",
           "max_grad_norm"], ["gamma", "tau", "exploration_fraction", "exploration_initial_eps",
                              "exploration_final_eps"]),
    PPO: (["num_envs", "num_steps", "batch_size", "n_epochs", "learning_rate", "max_grad_norm"],
          ["gamma", "gae_lambda", "clip_range"]),
    A2C: (["num_envs", "num_steps", "learning_rate", "max_grad_norm"], ["gamma", "gae_lambda", "rms_alpha"]),
    REINFORCE: (["num_envs", "batch_episodes", "learning_rate", "max_grad_norm"], ["gamma"]),
}


@pytest.mark.parametrize("cls, field", [(cls, field) for cls, (counts, _) in CONFIG_CHECKS.items()
                                        for field in counts])
def test_configs_refuse_a_non_positive_count_or_rate_by_name(cls, field):
    with pytest.raises(ValueError, match=f"{cls.__name__}Config.{field} must be > 0, got 0"):
        cls("CartPole-v1", **{field: 0})


@pytest.mark.parametrize("cls, field", [(cls, field) for cls, (_, fractions) in CONFIG_CHECKS.items()
                                        for field in fractions])
def test_configs_refuse_a_fraction_outside_0_1_by_name(cls, field):
    with pytest.raises(ValueError, match=rf"{cls.__name__}Config.{field} must be in \[0, 1\], got 1.5"):
        cls("CartPole-v1", **{field: 1.5})


def test_dqn_config_refuses_negative_learning_starts_and_gradient_steps_below_minus_one_by_name():
    with pytest.raises(ValueError, match="DQNConfig.learning_starts must be >= 0, got -1"):
        DQN("CartPole-v1", learning_starts=-1)
    with pytest.raises(ValueError, match="DQNConfig.gradient_steps must be >= 0 or -1, got -2"):
        DQN("CartPole-v1", gradient_steps=-2)


def test_reinforce_reports_per_member_which_updated_on_how_many_episodes():
    """Members of a REINFORCE population update when their own batch of ended episodes is complete; the others
    report no loss (NaN), no episodes used and no mean return for that iteration."""
    infos = []
    agent = REINFORCE("CartPole-v1", seeds=[0, 1, 2], batch_episodes=3, num_envs=1).learn(
        600, callback=lambda agent, info: infos.append(info))
    assert agent.num_timesteps == 600  # the call ends on its step count, between two updates
    members = [m for info in infos for m in info["members"] if "updated" in m]  # iterations that updated some
    updated = [m for m in members if m["updated"] == 1.0]
    idle = [m for m in members if m["updated"] == 0.0]
    assert updated and idle and len(updated) + len(idle) == len(members)
    for m in updated:
        assert m["episodes_used"] == 3.0  # one copy each: episodes end one at a time
        assert 8 <= m["mean_episode_return"] <= 500 and np.isfinite(m["policy_loss"]) and m["value_loss"] > 0
        assert 0.5 < m["entropy"] <= np.log(2)
    for m in idle:
        assert m["episodes_used"] == 0.0
        assert all(np.isnan(m[key]) for key in ("mean_episode_return", "policy_loss", "value_loss", "entropy"))


@pytest.mark.parametrize("cls", [PPO, A2C, REINFORCE])
def test_a_gaussian_policy_starts_at_the_configured_log_std(cls):
    agent = cls("Pendulum-v1", seeds=[0, 1], log_std_init=-1.5)
    assert agent.policy.log_std.shape == (2, 1, 1) and bool((agent.policy.log_std == -1.5).all())
    assert bool((cls("Pendulum-v1", seed=0).policy.log_std == 0.0).all())  # SB3's default: std 1


def test_dqn_computes_the_target_nets_values_once_per_distinct_sampled_row(monkeypatch):
    """A round samples with replacement and the target net is fixed during it: its values are computed for the
    distinct rows only, and each equals bit for bit what the net gives that row inside its own minibatch."""
    agent = DQN("CartPole-v1", seeds=[0, 1], learning_starts=64, train_freq=32, gradient_steps=4,
                batch_size=32, hidden_sizes=(32, 32)).learn(300)
    index = agent.replay.sample_indices(agent.generators.numpy, 20 * 32)  # 640 rows from a buffer of 300
    next_x = agent._input(agent.replay.gather(index)[3])
    calls = []
    q_values = agent.q_net.q_values
    monkeypatch.setattr(agent.q_net, "q_values", lambda params, x: calls.append(x.shape[1]) or q_values(params, x))
    q = agent._target_q_of_round(index, next_x, 32)
    distinct = max(len(np.unique(row)) for row in index)
    assert distinct < 300 and calls == [32] * -(-distinct // 32)  # chunks of a minibatch's shape
    monkeypatch.undo()
    for step in range(20):
        rows = slice(step * 32, (step + 1) * 32)
        assert torch.equal(q[:, rows], agent.q_net.q_values(agent.target, next_x[:, rows]))


def test_reinforce_updates_a_gaussian_policy_on_box_actions():
    infos = []
    agent = REINFORCE("Pendulum-v1", seeds=[0, 1], batch_episodes=2, num_envs=2)
    start = agent.policy.params.flat.clone()
    agent.learn(400, callback=lambda agent, info: infos.append(info))  # Pendulum's episodes last 200 steps
    assert [m["updated"] for m in infos[0]["members"]] == [1.0, 1.0]
    assert all(m["episodes_used"] == 2.0 and m["mean_episode_return"] < 0 for m in infos[0]["members"])
    moved = (agent.policy.params.flat - start).abs().amax(1)
    assert bool((moved > 0).all())


def test_ppo_refuses_a_minibatch_larger_than_the_rollout_and_a_target_kl_that_is_not_positive():
    with pytest.raises(ValueError, match=r"PPOConfig.batch_size \(256\) is larger than a rollout \(num_steps \* "
                                         r"num_envs = 16\); lower it or collect more"):
        PPO("CartPole-v1", num_steps=8, num_envs=2, batch_size=256)
    with pytest.raises(ValueError, match="PPOConfig.target_kl must be > 0 or None, got 0"):
        PPO("CartPole-v1", target_kl=0)
    assert PPO("CartPole-v1", target_kl=0.01).config.target_kl == 0.01


def test_env_kwargs_make_the_env_and_come_back_with_a_checkpoint(tmp_path):
    agent = PPO("mdparcade/Corridor-v0", seed=0, env_kwargs={"obs_mode": "image"}, num_envs=2, num_steps=8,
                batch_size=16, n_epochs=1)
    assert agent.env_kwargs == {"obs_mode": "image"} and agent.encoder.kind == "image"
    agent.learn(16)
    assert agent.remaining_timesteps() == 0
    loaded = Agent.load(agent.save(tmp_path / "a.pt", resume=True))
    assert loaded.env_kwargs == {"obs_mode": "image"}
    loaded.learn(16)  # the env is made again from its id and kwargs
    assert loaded._obs.shape == agent._obs.shape and loaded.encoder.kind == "image"
