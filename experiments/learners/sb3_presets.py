"""The one table of published settings, in stable-baselines3's names, by (algorithm, env id): rl-zoo's where it
has them, ours where it has none. `sb3:PPO`, `sb3:DQN` and `sb3:A2C` train with them (experiments/learners/sb3.py
builds the models), and our agents with the same values in their own names (experiments/learners/presets.py)."""

from __future__ import annotations

import copy
from dataclasses import dataclass

import gymnasium as gym
import numpy as np

ALGOS = ("PPO", "DQN", "A2C")
#: SB3 2.x constructor defaults of the arguments our agents share (a test checks them against the installed
#: SB3): what an entry leaves out means these, for both sides.
SB3_DEFAULTS = {
    "PPO": dict(learning_rate=3e-4, n_steps=2048, batch_size=64, n_epochs=10, gamma=0.99, gae_lambda=0.95,
                clip_range=0.2, clip_range_vf=None, normalize_advantage=True, ent_coef=0.0, vf_coef=0.5,
                max_grad_norm=0.5, target_kl=None),
    "A2C": dict(learning_rate=7e-4, n_steps=5, gamma=0.99, gae_lambda=1.0, ent_coef=0.0, vf_coef=0.5,
                max_grad_norm=0.5, rms_prop_eps=1e-5, use_rms_prop=True, normalize_advantage=False),
    "DQN": dict(learning_rate=1e-4, buffer_size=1_000_000, learning_starts=100, batch_size=32, tau=1.0, gamma=0.99,
                train_freq=4, gradient_steps=1, n_steps=1, target_update_interval=10_000, exploration_fraction=0.1,
                exploration_initial_eps=1.0, exploration_final_eps=0.05, max_grad_norm=10),
}

@dataclass(frozen=True)
class LinearSchedule:
    """rl-zoo's ``lin_<start>``: falls linearly to 0 over training (SB3 passes progress remaining, 1 -> 0).

    A dataclass rather than a closure so that it pickles (SB3 saves schedules inside model.zip) and compares
    equal to another of the same start.
    """

    start: float

    def __call__(self, progress_remaining: float) -> float:
        return progress_remaining * self.start

    @property
    def __name__(self) -> str:  # SB3's logs and the bench print schedules by name
        return f"lin_{self.start:g}"

    def __str__(self) -> str:
        return self.__name__


def linear(start: float) -> LinearSchedule:
    return LinearSchedule(float(start))


# rl-zoo's table and ours ------------------------------------------------------------------------------------
#: The extractor is named here, not referenced: the class needs stable_baselines3, imported only when a
#: model is built. Heads sit straight on its 128 features (net_arch []), as in our agents' ActorCritic/QNetwork.
BOARD_POLICY_KWARGS = dict(features_extractor_class="MinAtarExtractor",
                           features_extractor_kwargs=dict(features_dim=128), normalize_images=False, net_arch=[])
_CARTPOLE, _ACROBOT = "CartPole-v1", "Acrobot-v1"
_LAKE, _CLIFF = "mdparcade/FrozenLake8x8-v0", "mdparcade/CliffWalking-v0"
_CATCH, _BREAKOUT, _SNAKE = "mdparcade/Catch-v0", "mdparcade/Breakout-v0", "mdparcade/Snake-v0"
#: Entries by env family (see `env_family`): an id's own entry wins over its family's.
GRIDWORLD, BOARD = "family:gridworld", "family:board"
FAMILY_MEANING = {GRIDWORLD: "an env with an exact tabular model and Discrete observations (any gridworld map, slip "
                             "or step cost, a random maze, a Garnet MDP)",
                  BOARD: "(C, H, W) boards of the arcade games"}

#: (algo, env id) -> preset: n_envs, policy, normalize and the SB3 constructor arguments. rl-zoo's entries
#: (hyperparams/{ppo,dqn,a2c}.yml, DLR-RM/rl-baselines3-zoo) are copied as published, without n_timesteps
#: (a run's step budget decides); `normalize: true` is VecNormalize on observations and rewards.
PRESETS: dict[tuple[str, str], dict] = {
    ("PPO", _CARTPOLE): dict(n_envs=8, policy="MlpPolicy", normalize=False, n_steps=32, batch_size=256,
                             gae_lambda=0.8, gamma=0.98, n_epochs=20, ent_coef=0.0, learning_rate=linear(1e-3),
                             clip_range=linear(0.2)),
    ("PPO", _ACROBOT): dict(n_envs=16, policy="MlpPolicy", normalize=True, n_steps=256, gae_lambda=0.94, gamma=0.99,
                            n_epochs=4, ent_coef=0.0),
    ("DQN", _CARTPOLE): dict(n_envs=1, policy="MlpPolicy", normalize=False, learning_rate=2.3e-3, batch_size=64,
                             buffer_size=100_000, learning_starts=1000, gamma=0.99, target_update_interval=10,
                             train_freq=256, gradient_steps=128, exploration_fraction=0.16,
                             exploration_final_eps=0.04, policy_kwargs=dict(net_arch=[256, 256])),
    ("DQN", _ACROBOT): dict(n_envs=1, policy="MlpPolicy", normalize=False, learning_rate=6.3e-4, batch_size=128,
                            buffer_size=50_000, learning_starts=0, gamma=0.99, target_update_interval=250,
                            train_freq=4, gradient_steps=-1, exploration_fraction=0.12, exploration_final_eps=0.1,
                            policy_kwargs=dict(net_arch=[256, 256])),
    ("A2C", _CARTPOLE): dict(n_envs=8, policy="MlpPolicy", normalize=False, ent_coef=0.0),
    ("A2C", _ACROBOT): dict(n_envs=16, policy="MlpPolicy", normalize=True, ent_coef=0.0),
    # Gridworlds (ours; rl-zoo has none): SB3's defaults, changed only where they clearly do not fit.
    # Slippery FrozenLake's reward is sparse: SB3's 2048-step PPO rollout gathered from 8 copies (more
    # distinct episodes per update), an entropy bonus to keep exploring, and gamma 0.999 as in our preset
    # (success within the 200-step limit rewards reaching the goal late but surely).
    ("PPO", _LAKE): dict(n_envs=8, policy="MlpPolicy", normalize=False, n_steps=256, ent_coef=0.01, gamma=0.999),
    ("A2C", _LAKE): dict(n_envs=8, policy="MlpPolicy", normalize=False, ent_coef=0.01, gamma=0.999),
    # CliffWalking is deterministic with a dense -1 per step: only the rollout layout (8 copies) and DQN's
    # step size and target sync change.
    ("PPO", _CLIFF): dict(n_envs=8, policy="MlpPolicy", normalize=False, n_steps=256),
    ("A2C", _CLIFF): dict(n_envs=8, policy="MlpPolicy", normalize=False),
    # MinAtar-style boards: CNN against CNN (our conv trunk, MinAtarExtractor on SB3's side): the step size
    # anneals (lin_), the clip range stays; DQN takes rl-zoo's CartPole values; train_freq counts vector steps.
    ("PPO", _CATCH): dict(n_envs=16, policy="CnnPolicy", normalize=False, n_steps=64, batch_size=256, n_epochs=4,
                          gamma=0.99, gae_lambda=0.95, ent_coef=0.01, learning_rate=linear(1e-3), clip_range=0.2,
                          policy_kwargs=BOARD_POLICY_KWARGS),
    ("PPO", _BREAKOUT): dict(n_envs=64, policy="CnnPolicy", normalize=False, n_steps=64, batch_size=1024,
                             n_epochs=4, gamma=0.99, gae_lambda=0.95, ent_coef=0.01, learning_rate=linear(5e-4),
                             clip_range=0.2, policy_kwargs=BOARD_POLICY_KWARGS),
    ("A2C", _CATCH): dict(n_envs=16, policy="CnnPolicy", normalize=False, ent_coef=0.01,
                          policy_kwargs=BOARD_POLICY_KWARGS),
    ("DQN", _CATCH): dict(n_envs=8, policy="CnnPolicy", normalize=False, learning_rate=2.3e-3, batch_size=64,
                          buffer_size=100_000, learning_starts=1000, gamma=0.99, target_update_interval=10,
                          train_freq=8, gradient_steps=32, exploration_fraction=0.2, exploration_final_eps=0.04,
                          policy_kwargs=BOARD_POLICY_KWARGS),
}
PRESETS[("PPO", _SNAKE)] = dict(PRESETS[("PPO", _BREAKOUT)])  # our Snake preset is the Breakout one
#: MinAtar's other four games: the Breakout entry (long 1M-step runs on 10x10 boards), except Asterix, which takes
#: Catch's (16 x 64-step rollouts, batch 256, step size lin_1e-3: four times the updates per step). Measured with
#: `python -m experiments.bench.minatar`, 1M steps, seeds 0-2, 100 greedy episodes (random play 0.6): Breakout's
#: entry 2.13, 2.73, 3.04 (4.4x random), Catch's 9.47, 7.60, 6.15 (12.9x); Breakout's with step size 1e-3 and
#: 32 copies 3.88, 2.43, 13.45.
MINATAR_GAMES = ("mdparcade/Asterix-v0", "mdparcade/Freeway-v0", "mdparcade/Seaquest-v0", "mdparcade/SpaceInvaders-v0")
PRESETS.update({("PPO", game): dict(PRESETS[("PPO", _BREAKOUT)]) for game in MINATAR_GAMES})
PRESETS[("PPO", "mdparcade/Asterix-v0")] = dict(PRESETS[("PPO", _CATCH)])
PRESETS.update({
    # Gridworlds: one-hot states make the Q-net a table with shared updates. SB3's Atari-tuned DQN defaults (step
    # size 1e-4, a 10k-step target sync, 10% exploration) crawl there; this explores 30% of training from 8
    # copies, trains 8 steps on 128 transitions every 8 vector steps, syncs the target every 1000 env steps and
    # anneals the step size so the final greedy policy settles (measured in docs/deep-agents.md#env-families).
    ("DQN", GRIDWORLD): dict(n_envs=8, policy="MlpPolicy", normalize=False, learning_rate=linear(1e-3),
                             buffer_size=100_000, learning_starts=5000, batch_size=128, train_freq=8,
                             gradient_steps=8, target_update_interval=1000, exploration_fraction=0.3,
                             exploration_final_eps=0.05, policy_kwargs=dict(net_arch=[64])),
    # PPO on gridworlds: many short rollouts from 16 copies (16 x 64 steps: 59 updates in 60k steps, not the 15
    # of 16 x 256), since the clipped objective bounds how far one update moves the policy, and states reached
    # only by slipping need many updates to settle; an entropy bonus to keep exploring; a long horizon (gamma
    # 0.999: reaching the goal late but surely is what counts).
    ("PPO", GRIDWORLD): dict(n_envs=16, policy="MlpPolicy", normalize=False, n_steps=64, batch_size=256,
                             n_epochs=10, gamma=0.999, gae_lambda=0.95, learning_rate=1e-3, ent_coef=0.01),
    # Boards: the Catch entries, CNN against CNN.
    ("PPO", BOARD): dict(PRESETS[("PPO", _CATCH)]),
    ("A2C", BOARD): dict(PRESETS[("A2C", _CATCH)]),
    ("DQN", BOARD): dict(PRESETS[("DQN", _CATCH)]),
})


def check_algorithm(algo: str) -> str:
    if algo not in ALGOS:
        raise ValueError(f"unknown stable-baselines3 algorithm {algo!r}; choose one of {', '.join(ALGOS)}")
    return algo


def is_board(space: gym.Space) -> bool:
    """(C, H, W) observations, which get our conv trunk rather than SB3's flattening MLP."""
    return isinstance(space, gym.spaces.Box) and len(space.shape) == 3


def default_preset(algo: str, env_id: str, env_kwargs: dict | None = None) -> dict:
    """SB3's defaults with one env copy: MlpPolicy, or CnnPolicy with `MinAtarExtractor` on boards."""
    check_algorithm(algo)
    env = gym.make(env_id, **(env_kwargs or {}))
    try:
        board = is_board(env.observation_space)
    finally:
        env.close()
    if board:
        return dict(n_envs=1, policy="CnnPolicy", normalize=False, policy_kwargs=copy.deepcopy(BOARD_POLICY_KWARGS))
    return dict(n_envs=1, policy="MlpPolicy", normalize=False)


def env_family(env_id: str, env_kwargs: dict | None = None) -> str | None:
    """GRIDWORLD for an env with an exact tabular model and Discrete observations and actions, BOARD for (C, H, W)
    observations, else None."""
    env = gym.make(env_id, **(env_kwargs or {}))
    try:
        unwrapped = env.unwrapped
        has_model = getattr(unwrapped, "transitions", None) is not None or getattr(unwrapped, "mdp", None) is not None
        if has_model and isinstance(env.observation_space, gym.spaces.Discrete) \
                and isinstance(env.action_space, gym.spaces.Discrete):
            return GRIDWORLD
        return BOARD if is_board(env.observation_space) else None
    finally:
        env.close()


def preset_entry(algo: str, env_id: str, env_kwargs: dict | None = None) -> tuple[str, dict | None]:
    """(which entry, the entry or None): the env id's own entry, else its family's (the most specific wins),
    else none (SB3's defaults)."""
    entry = PRESETS.get((check_algorithm(algo), env_id))
    if entry is not None:
        return f"the entry for {env_id}", entry
    family = env_family(env_id, env_kwargs)
    if family is not None and (algo, family) in PRESETS:
        return f"the {family.removeprefix('family:')} family's entry: {env_id} is {FAMILY_MEANING[family]}", \
            PRESETS[(algo, family)]
    return "no entry: SB3's defaults", None


def sb3_preset(algo: str, env_id: str, env_kwargs: dict | None = None) -> dict:
    """A deep copy of the preset for (algo, env_id) (see `preset_entry`); `default_preset` where there is none.
    Classes are named, not referenced (see BOARD_POLICY_KWARGS)."""
    _, entry = preset_entry(algo, env_id, env_kwargs)
    return copy.deepcopy(entry) if entry is not None else default_preset(algo, env_id, env_kwargs)


def describe(value):
    """Config values as JSON values: schedules as 'lin_0.001', classes and functions by name."""
    if isinstance(value, dict):
        return {str(k): describe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [describe(v) for v in value]
    if callable(value):  # classes, functions and LinearSchedule
        return getattr(value, "__name__", repr(value))
    if isinstance(value, np.generic):
        return value.item()
    return value
