"""Our presets, taken from the one table of published settings (experiments/learners/sb3_presets.py, in
stable-baselines3's names), so both sides of a comparison train with the same values and the same meaning.

`ours_from_sb3` is the one place the mapping is written: SB3's constructor argument -> our config field,
schedules (rl-zoo's `lin_<x>`) -> the value and `anneal_<field>=True`, VecNormalize -> normalize_obs and
normalize_reward, policy_kwargs' net_arch / activation / MinAtar extractor -> hidden_sizes and activation.
Arguments the table leaves out take SB3's defaults (`SB3_DEFAULTS`), not our dataclasses' (which are rl-zoo's
CartPole values). A config dataclass's defaults apply to envs without a table entry; overrides (`--set`) come
last.
"""

from __future__ import annotations

from experiments.learners.sb3_presets import SB3_DEFAULTS, LinearSchedule, preset_entry

#: SB3 constructor argument -> our config field, per algorithm.
SB3_NAMES = {
    "PPO": {"n_envs": "num_envs", "n_steps": "num_steps", "batch_size": "batch_size", "n_epochs": "n_epochs",
            "learning_rate": "learning_rate", "clip_range": "clip_range", "gamma": "gamma",
            "gae_lambda": "gae_lambda", "ent_coef": "ent_coef", "vf_coef": "vf_coef", "max_grad_norm": "max_grad_norm",
            "normalize_advantage": "normalize_advantage", "target_kl": "target_kl"},
    "A2C": {"n_envs": "num_envs", "n_steps": "num_steps", "learning_rate": "learning_rate", "gamma": "gamma",
            "gae_lambda": "gae_lambda", "ent_coef": "ent_coef", "vf_coef": "vf_coef", "max_grad_norm": "max_grad_norm",
            "rms_prop_eps": "rms_eps", "normalize_advantage": "normalize_advantage"},
    "DQN": {"n_envs": "num_envs", "learning_rate": "learning_rate", "buffer_size": "buffer_size",
            "learning_starts": "learning_starts", "batch_size": "batch_size", "tau": "tau", "gamma": "gamma",
            "train_freq": "train_freq", "gradient_steps": "gradient_steps",
            "target_update_interval": "target_update_interval", "exploration_fraction": "exploration_fraction",
            "exploration_initial_eps": "exploration_initial_eps", "exploration_final_eps": "exploration_final_eps",
            "max_grad_norm": "max_grad_norm"},
}
#: SB3's default networks and activations (ActorCriticPolicy: 64-64 tanh; DQN's QNetwork: 64-64 ReLU).
SB3_NETS = {"PPO": ((64, 64), "tanh"), "A2C": ((64, 64), "tanh"), "DQN": ((64, 64), "relu")}
ACTIVATIONS = {"Tanh": "tanh", "ReLU": "relu"}
#: SB3 arguments with no counterpart in our agents: a setting other than this value is a ValueError.
UNSUPPORTED = {"clip_range_vf": None, "use_sde": False, "rollout_buffer_class": None, "replay_buffer_class": None}


def ours_from_sb3(algo: str, settings: dict) -> dict:
    """Our config values for SB3 `settings` (a table entry's form), SB3's constructor defaults filled in."""
    names = SB3_NAMES[algo]
    for key, default in UNSUPPORTED.items():
        if settings.get(key, default) != default:
            raise ValueError(f"{algo} {key}={settings[key]!r} has no counterpart in our agents")
    if algo == "DQN" and settings.get("n_steps", 1) != 1:
        raise ValueError("our DQN has one-step targets (SB3's n_steps=1)")
    if algo == "A2C" and settings.get("use_rms_prop", True) is False:
        raise ValueError("our A2C uses RMSprop (SB3's use_rms_prop=True)")
    full = {k: v for k, v in SB3_DEFAULTS[algo].items() if k in names}
    full.update({k: v for k, v in settings.items() if k in names})
    ours = {}
    for key, value in full.items():
        field = names[key]
        anneal = f"anneal_{'lr' if field == 'learning_rate' else field}"
        if isinstance(value, LinearSchedule):
            ours[field], ours[anneal] = value.start, True
        elif callable(value):
            raise ValueError(f"{algo} {key}: only constants and lin_ schedules map to our config, got {value!r}")
        else:
            ours[field] = value
            if field in ("learning_rate", "clip_range") and algo != "DQN":
                ours[anneal] = False
    if algo == "DQN" and isinstance(full.get("train_freq"), tuple):
        frequency, unit = full["train_freq"]
        if unit != "step":
            raise ValueError("DQN train_freq in episodes has no counterpart in our DQN")
        ours["train_freq"] = frequency
    normalize = settings.get("normalize", False)
    if normalize:
        options = normalize if isinstance(normalize, dict) else {}
        ours["normalize_obs"] = options.get("norm_obs", True)
        ours["normalize_reward"] = options.get("norm_reward", True)
    ours.update(zip(("hidden_sizes", "activation"), _net(algo, settings.get("policy_kwargs") or {})))
    return ours


def _net(algo: str, kwargs: dict) -> tuple[tuple[int, ...], str]:
    hidden, activation = SB3_NETS[algo]
    arch = kwargs.get("net_arch")
    if isinstance(arch, dict):
        if list(arch.get("pi", [])) != list(arch.get("vf", [])):
            raise ValueError("our actor-critic has the same hidden sizes for the policy and the value net")
        arch = arch["pi"]
    if arch is not None:
        hidden = tuple(int(v) for v in arch)
    if "activation_fn" in kwargs:
        activation = ACTIVATIONS[getattr(kwargs["activation_fn"], "__name__", str(kwargs["activation_fn"]))]
    extractor = kwargs.get("features_extractor_class")
    if extractor is not None:  # boards: MinAtarExtractor is our conv trunk with one hidden layer of features_dim
        if getattr(extractor, "__name__", extractor) != "MinAtarExtractor":
            raise ValueError(f"{algo}: only the MinAtarExtractor trunk maps to our nets, got {extractor!r}")
        options = kwargs.get("features_extractor_kwargs") or {}
        hidden = (int(options.get("features_dim", 128)), *hidden)
        activation = options.get("activation", "relu")
    return hidden, activation


def preset(algo: str, env_id: str, env_kwargs: dict | None = None) -> dict:
    """Our config values for (algo, env_id): the table's entry (the id's own, else its family's) in our names;
    empty where the table has none (REINFORCE, which SB3 lacks, always)."""
    if algo not in SB3_NAMES:
        return {}
    _, entry = preset_entry(algo, env_id, env_kwargs)
    return ours_from_sb3(algo, entry) if entry is not None else {}


def preset_source(algo: str, env_id: str, env_kwargs: dict | None = None) -> str:
    """Which entry of the table a run of (algo, env_id) takes, and why."""
    return preset_entry(algo, env_id, env_kwargs)[0] if algo in SB3_NAMES else "no entry (SB3 has no " + algo + ")"
