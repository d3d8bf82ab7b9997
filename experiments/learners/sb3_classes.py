"""The stable-baselines3 subclasses `sb3:*` runs use: `MinAtarExtractor`, a features extractor that lets SB3's
CnnPolicy play our small (C, H, W) boards with our agents' conv trunk, and `LearnBridge`, which calls a run's
callback from SB3's learn loop. This module imports stable_baselines3 (seconds); experiments/learners/sb3.py
imports it only when a model is built."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor

from agents.encoding import ObservationEncoder
from agents.networks import feature_trunk
from experiments.learners.base import LearnCallback

#: How often (env steps) `SB3Learner.learn` reports to its callback, besides once at the end.
REPORT_EVERY = 1000


class MinAtarExtractor(BaseFeaturesExtractor):
    """Our agents' MinAtar conv trunk (agents.networks.feature_trunk on nets.cnn: one 3x3 conv of 16
    channels, zero-padded for boards under 3 wide) then Linear + ReLU to `features_dim`.

    SB3's NatureCNN refuses our (C, H, W) 0/1 uint8 boards (it wants 0-255 images of 36x36 or more).
    The boards reach this extractor as 0/1 floats: SB3 divides by 255 only for 0-255 image spaces, and
    `normalize_images=False` says so outright. For SB3 users of our envs::

        import envs  # registers mdparcade/Catch-v0, ...
        from stable_baselines3 import PPO
        from experiments.learners.sb3_classes import MinAtarExtractor
        kwargs = dict(features_extractor_class=MinAtarExtractor, normalize_images=False, net_arch=[])
        PPO("CnnPolicy", "mdparcade/Catch-v0", policy_kwargs=kwargs).learn(100_000)
    """

    def __init__(self, observation_space: gym.Space, features_dim: int = 128, activation: str = "relu"):
        if ObservationEncoder(observation_space).kind != "image":
            raise ValueError(f"MinAtarExtractor takes (C, H, W) board observations, got {observation_space}")
        super().__init__(observation_space, int(features_dim))
        self.trunk, _ = feature_trunk(ObservationEncoder(observation_space), (int(features_dim),), activation)

    def forward(self, observations):
        """(N, C, H, W) floats -> (N, features_dim)."""
        return self.trunk(observations)


class LearnBridge(BaseCallback):
    """Calls our LearnCallback from SB3's learn loop: at most once per REPORT_EVERY env steps and once at
    the end; our callback returning False stops learning. It counts finished episodes on the way."""

    def __init__(self, callback: LearnCallback, episodes: int = 0):
        super().__init__()
        self.callback = callback
        self.next_report, self.reported, self.stopped = 0, -1, False
        self.episodes = int(episodes)

    def _on_training_start(self) -> None:
        self.next_report = (self.model.num_timesteps // REPORT_EVERY + 1) * REPORT_EVERY

    def _on_step(self) -> bool:
        dones = self.locals.get("dones")
        if dones is not None:
            self.episodes += int(np.sum(dones))
        if self.model.num_timesteps < self.next_report:
            return True
        self.next_report = (self.model.num_timesteps // REPORT_EVERY + 1) * REPORT_EVERY
        self.stopped = not self._report()
        return not self.stopped

    def _on_training_end(self) -> None:
        if not self.stopped and self.reported != self.model.num_timesteps:
            self._report()

    def _report(self) -> bool:
        self.reported = self.model.num_timesteps
        returns = [info["r"] for info in self.model.ep_info_buffer or []]
        info = {"num_timesteps": int(self.model.num_timesteps), "episodes": self.episodes,
                "recent_return": float(np.mean(returns)) if returns else math.nan}
        return self.callback(info) is not False
