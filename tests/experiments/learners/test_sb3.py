"""stable-baselines3 as a learner: the MinAtar extractor on our boards, rl-zoo's settings, overrides from the
command line, learn/predict/save/resume, VecNormalize statistics, and same seed -> same policy."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import envs  # noqa: F401  (registers the mdparcade ids for SB3's gym.make)
from experiments.learners import make_learner
from experiments.learners.sb3 import SB3Learner, with_classes
from experiments.learners.sb3_presets import linear, sb3_preset


def zoo_settings(algo: str, env_id: str) -> dict:
    return with_classes(sb3_preset(algo, env_id))

CATCH = "mdparcade/Catch-v0"
TINY_PPO = {"n_envs": 2, "n_steps": 64, "batch_size": 64, "n_epochs": 1}


def cartpole_batch(n: int = 64) -> np.ndarray:
    return np.random.default_rng(0).uniform(-0.2, 0.2, size=(n, 4)).astype(np.float32)


def learner(algo: str, env_id: str = "CartPole-v1", seed: int = 0, **overrides) -> SB3Learner:
    made = make_learner(algo, env_id, seed=seed, overrides=overrides, device="cpu")
    assert isinstance(made, SB3Learner)
    return made


# The extractor --------------------------------------------------------------------------------------------
def layer_shapes(module: nn.Module) -> list[tuple]:
    return [(type(m).__name__, *(tuple(p.shape) for p in m.parameters(recurse=False)))
            for m in module.modules() if not list(m.children())]


def test_ppo_cnn_policy_with_the_minatar_extractor_learns_on_catch_with_our_trunk():
    from stable_baselines3 import PPO

    from agents.encoding import ObservationEncoder
    from agents.networks import ActorCritic
    from experiments.learners.sb3_classes import MinAtarExtractor

    settings = zoo_settings("PPO", CATCH)
    assert settings["policy_kwargs"]["features_extractor_class"] is MinAtarExtractor
    model = PPO("CnnPolicy", CATCH, n_steps=128, batch_size=64, n_epochs=1, seed=0, device="cpu",
                policy_kwargs=settings["policy_kwargs"])
    seen = []
    extractor = model.policy.features_extractor
    assert isinstance(extractor, MinAtarExtractor)
    extractor.register_forward_pre_hook(lambda module, args: seen.append(args[0]))
    model.learn(256)
    assert model.num_timesteps == 256
    # The uint8 0/1 boards arrive as 0/1 floats: not divided by 255, not shifted.
    boards = torch.cat([x.reshape(-1) for x in seen])
    assert boards.dtype == torch.float32 and set(boards.unique().tolist()) == {0.0, 1.0}
    # The same layers as our agents' trunk: conv 3x3 of 16 channels, then Linear(16*8*3 -> 128) + ReLU.
    space = model.observation_space
    ours = ActorCritic(ObservationEncoder(space), model.action_space, hidden_sizes=(128,), activation="relu").trunk
    assert layer_shapes(extractor) == layer_shapes(ours)
    assert ("Conv2d", (16, 2, 3, 3), (16,)) in layer_shapes(extractor)


def test_the_extractor_pads_a_board_under_three_wide_as_our_trunk_does():
    from gymnasium import spaces

    from experiments.learners.sb3_classes import MinAtarExtractor

    corridor = spaces.Box(0, 1, (2, 1, 10), np.uint8)
    extractor = MinAtarExtractor(corridor, features_dim=32)
    assert extractor(torch.zeros(5, 2, 1, 10)).shape == (5, 32)
    with pytest.raises(ValueError, match="board"):
        MinAtarExtractor(spaces.Box(0, 1, (4,), np.float32))


def test_natures_cnn_refuses_catch_which_is_why_the_extractor_exists():
    from stable_baselines3 import PPO

    # NatureCNN asserts an image space (uint8 in 0..255, 36x36 or more); Catch is a 2x10x5 board of 0/1.
    with pytest.raises(AssertionError, match="NatureCNN"):
        PPO("CnnPolicy", CATCH, device="cpu")


# rl-zoo's settings and overrides --------------------------------------------------------------------------
def test_zoo_settings_for_cartpole_ppo_are_rl_zoos_published_values():
    # DLR-RM/rl-baselines3-zoo hyperparams/ppo.yml, CartPole-v1 (n_timesteps left to the run).
    assert zoo_settings("PPO", "CartPole-v1") == dict(
        n_envs=8, policy="MlpPolicy", normalize=False, n_steps=32, batch_size=256, gae_lambda=0.8, gamma=0.98,
        n_epochs=20, ent_coef=0.0, learning_rate=linear(0.001), clip_range=linear(0.2))
    assert zoo_settings("A2C", "Acrobot-v1") == dict(n_envs=16, policy="MlpPolicy", normalize=True, ent_coef=0.0)
    settings = zoo_settings("DQN", "CartPole-v1")
    settings["policy_kwargs"]["net_arch"].append(1)  # a copy: the table is untouched
    assert zoo_settings("DQN", "CartPole-v1")["policy_kwargs"] == {"net_arch": [256, 256]}


def test_pairs_missing_from_the_zoo_get_sb3_defaults_with_one_copy():
    from experiments.learners.sb3_classes import MinAtarExtractor

    assert zoo_settings("A2C", "MountainCar-v0") == dict(n_envs=1, policy="MlpPolicy", normalize=False)
    board = zoo_settings("DQN", "mdparcade/Breakout-v0")  # no entry of its own: the board family's
    assert board["n_envs"] == 8 and board["policy"] == "CnnPolicy"
    assert board["policy_kwargs"]["features_extractor_class"] is MinAtarExtractor
    with pytest.raises(ValueError, match="SAC"):
        zoo_settings("SAC", "CartPole-v1")


def test_overrides_are_typed_and_unknown_keys_named():
    typed = SB3Learner.check_overrides("sb3:PPO", {"learning_rate": "0.001", "clip_range": "lin_0.1",
                                                   "n_envs": "4", "normalize": "true", "n_steps": 64,
                                                   "policy_kwargs": "dict(net_arch=[64, 64])"})
    assert typed == {"learning_rate": 0.001, "clip_range": linear(0.1), "n_envs": 4, "normalize": True,
                     "n_steps": 64, "policy_kwargs": {"net_arch": [64, 64]}}
    with pytest.raises(ValueError, match=r"\['buffer_size'\].*n_epochs"):
        SB3Learner.check_overrides("sb3:PPO", {"buffer_size": "10"})
    with pytest.raises(ValueError, match="n_envs"):
        SB3Learner.check_overrides("sb3:A2C", {"n_envs": "0"})


def test_a_boards_policy_kwargs_override_keeps_the_extractor():
    made = learner("sb3:PPO", CATCH, policy_kwargs="{'net_arch': [32]}")
    kwargs = with_classes(made.resolved)["policy_kwargs"]
    assert kwargs["net_arch"] == [32] and kwargs["features_extractor_class"].__name__ == "MinAtarExtractor"


# The learner ----------------------------------------------------------------------------------------------
def test_learn_reports_predict_acts_and_the_saved_model_acts_the_same(tmp_path):
    made = learner("sb3:PPO", **TINY_PPO)
    made.start()
    infos = []
    made.learn(2500, callback=infos.append)
    steps = [info["num_timesteps"] for info in infos]
    assert steps == sorted(set(steps)) and steps[-1] == made.num_timesteps == 2560
    assert steps[:2] == [1000, 2000]  # at most once per 1000 env steps, then once at the end
    assert infos[-1]["episodes"] > 0 and np.isfinite(infos[-1]["recent_return"])
    batch = cartpole_batch()
    actions = made.predict(batch)
    assert actions.shape == (64,) and np.issubdtype(actions.dtype, np.integer)
    made.save(tmp_path / "model.zip")
    assert [p.name for p in tmp_path.iterdir()] == ["model.zip"]
    run_config = {"algo": "sb3:PPO", "env_id": "CartPole-v1", "overrides": TINY_PPO}
    np.testing.assert_array_equal(SB3Learner.load_predictor(tmp_path / "model.zip", run_config)(batch), actions)
    config = made.config()
    assert config["learning_rate"] == "lin_0.001" and config["n_steps"] == 64 and config["vf_coef"] == 0.5
    assert made.gamma == 0.98 and made.device_name() == "cpu"
    made.close()


def test_a_callback_returning_false_stops_learning():
    made = learner("sb3:A2C")
    made.start()
    made.learn(50_000, callback=lambda info: False)
    assert made.num_timesteps < 1100


def test_ppo_checkpoint_resumes_its_step_count(tmp_path):
    made = learner("sb3:PPO", **TINY_PPO)
    made.start()
    made.learn(256, callback=lambda info: None)
    made.save_checkpoint(tmp_path / "checkpoint.pt")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.pt"]
    resumed = learner("sb3:PPO", **TINY_PPO)
    resumed.resume(tmp_path / "checkpoint.pt")
    for a, b in zip(made.model.policy.parameters(), resumed.model.policy.parameters()):
        assert torch.equal(a, b)
    assert made.model.policy.optimizer.state_dict()["state"].keys() == \
        resumed.model.policy.optimizer.state_dict()["state"].keys()
    assert resumed.num_timesteps == 256 and resumed.remaining(1024) == 768
    resumed.learn(resumed.remaining(1024), callback=lambda info: None)
    assert resumed.num_timesteps == 1024


def test_dqn_checkpoint_restores_the_replay_buffer(tmp_path):
    made = learner("sb3:DQN", learning_starts=100, train_freq=50, gradient_steps=1, buffer_size=10_000)
    made.start()
    made.learn(300, callback=lambda info: None)
    made.save_checkpoint(tmp_path / "checkpoint.pt")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.pt"]
    resumed = learner("sb3:DQN", learning_starts=100, train_freq=50, gradient_steps=1, buffer_size=10_000)
    resumed.resume(tmp_path / "checkpoint.pt")
    assert resumed.num_timesteps == 300 and resumed.model.replay_buffer.size() == 300
    buffers = made.model.replay_buffer, resumed.model.replay_buffer
    np.testing.assert_array_equal(buffers[0].observations[:300], buffers[1].observations[:300])
    np.testing.assert_array_equal(buffers[0].rewards[:300], buffers[1].rewards[:300])
    assert resumed.model._n_calls == made.model._n_calls
    np.testing.assert_array_equal(resumed.predict(cartpole_batch()), made.predict(cartpole_batch()))
    resumed.learn(100, callback=lambda info: None)
    assert resumed.num_timesteps == 400


def test_normalize_saves_the_statistics_and_predict_uses_them(tmp_path):
    made = learner("sb3:PPO", "Acrobot-v1", n_envs=2, n_steps=128, batch_size=64, n_epochs=1)
    assert made.resolved["normalize"] is True  # rl-zoo's Acrobot PPO
    made.start()
    made.learn(256, callback=lambda info: None)
    stats = made.vecnormalize
    assert stats.norm_obs and stats.norm_reward and stats.obs_rms.count > 256
    made.save(tmp_path / "model.zip")
    made.save_checkpoint(tmp_path / "checkpoint.pt")
    assert {"model.zip", "checkpoint.pt"} == {p.name for p in tmp_path.iterdir()}
    observations = np.random.default_rng(1).normal(size=(64, 6)).astype(np.float32)
    actions = made.predict(observations)
    run_config = {"algo": "sb3:PPO", "env_id": "Acrobot-v1", "overrides": dict(n_envs=2, n_steps=128,
                                                                               batch_size=64, n_epochs=1)}
    loaded = SB3Learner.load_predictor(tmp_path / "model.zip", run_config)
    np.testing.assert_array_equal(loaded(observations), actions)
    # predict scales by the training statistics: the raw observations would give other logits.
    raw = made.model.policy.obs_to_tensor(observations)[0]
    scaled = made.model.policy.obs_to_tensor(stats.normalize_obs(observations))[0]
    with torch.no_grad():
        assert not torch.allclose(made.model.policy.get_distribution(raw).distribution.logits,
                                  made.model.policy.get_distribution(scaled).distribution.logits)
    resumed = learner("sb3:PPO", "Acrobot-v1", n_envs=2, n_steps=128, batch_size=64, n_epochs=1)
    resumed.resume(tmp_path / "checkpoint.pt")
    np.testing.assert_array_equal(resumed.vecnormalize.obs_rms.mean, stats.obs_rms.mean)
    np.testing.assert_array_equal(resumed.vecnormalize.ret_rms.var, stats.ret_rms.var)


def test_same_seed_same_policy():
    batch = cartpole_batch(256)
    runs = []
    for _ in range(2):
        made = learner("sb3:PPO", seed=3)
        made.start()
        made.learn(512, callback=lambda info: None)
        runs.append((made.predict(batch), [p.detach().clone() for p in made.model.policy.parameters()]))
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    assert all(torch.equal(a, b) for a, b in zip(runs[0][1], runs[1][1]))


def test_evaluating_inside_the_callback_leaves_training_unchanged():
    # The run loop evaluates the live policy mid-rollout; that must not draw from the RNGs SB3 trains with.
    from agents.evaluation import evaluate

    batch = cartpole_batch(256)
    actions = []
    for evaluate_inside in (False, True):
        made = learner("sb3:PPO", seed=5)
        made.start()
        calls = []

        def callback(info, made=made, evaluate_inside=evaluate_inside, calls=calls):
            calls.append(info["num_timesteps"])
            if evaluate_inside:
                evaluate(made.predict, "CartPole-v1", episodes=2)

        made.learn(1536, callback=callback)
        assert calls == [1000, 1536]
        actions.append(made.predict(batch))
    np.testing.assert_array_equal(*actions)


# One table for both sides -------------------------------------------------------------------------------------
def test_the_recorded_sb3_defaults_are_the_installed_sb3s():
    from experiments.learners.sb3 import sb3_defaults
    from experiments.learners.sb3_presets import SB3_DEFAULTS

    for algo, recorded in SB3_DEFAULTS.items():
        installed = sb3_defaults(algo)
        assert {key: installed[key] for key in recorded} == recorded, algo


def test_our_preset_is_the_tables_entry_in_our_names():
    from agents.dqn import DQNConfig
    from agents.ppo import PPOConfig
    from experiments.learners.presets import preset

    ppo = preset("PPO", "CartPole-v1")  # rl-zoo's: lin_1e-3, lin_0.2, 8 x 32, batch 256, 20 epochs, 0.98, 0.8
    assert PPOConfig(**ppo) == PPOConfig(num_envs=8, num_steps=32, batch_size=256, n_epochs=20, learning_rate=1e-3,
                                         anneal_lr=True, clip_range=0.2, anneal_clip_range=True, gamma=0.98,
                                         gae_lambda=0.8)
    lake = preset("PPO", "mdparcade/FrozenLake8x8-v0")  # SB3's defaults where the entry is silent
    assert (lake["batch_size"], lake["n_epochs"], lake["learning_rate"], lake["anneal_lr"], lake["gae_lambda"]) == \
        (64, 10, 3e-4, False, 0.95)
    assert (lake["num_envs"], lake["num_steps"], lake["ent_coef"], lake["gamma"]) == (8, 256, 0.01, 0.999)
    dqn = DQNConfig(**preset("DQN", "CartPole-v1"))
    assert (dqn.train_freq, dqn.gradient_steps, dqn.target_update_interval, dqn.hidden_sizes, dqn.double_q) == \
        (256, 128, 10, (256, 256), False)
    assert preset("PPO", "mdparcade/Catch-v0")["hidden_sizes"] == (128,)  # MinAtarExtractor's 128 features
    assert preset("REINFORCE", "CartPole-v1") == {} and preset("PPO", "MountainCar-v0") == {}
