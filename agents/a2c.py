"""Advantage actor-critic, synchronous (A2C; Mnih et al. 2016), on `nets` actor-critics.

Each iteration collects `num_steps` steps from each of `num_envs` copies and takes one RMSprop step on

    L = -E[log pi(a|s) A] + vf_coef * E[(V - R)^2] - ent_coef * E[entropy],

with n-step advantages A (GAE with lambda = 1 is the plain n-step return minus V).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from agents.deep import check_fraction, check_positive
from agents.on_policy import ActorCriticAgent, explained_variance, policy_gradient_step


@dataclass(frozen=True)
class A2CConfig:
    """Defaults: rl-zoo's A2C for CartPole-v1 (n_envs 8, ent_coef 0) on SB3's A2C defaults, whose RMSprop
    settings (alpha 0.99, eps 1e-5) are rl-zoo's."""

    num_envs: int = 8  # env copies (rl-zoo n_envs)
    num_steps: int = 5  # steps per copy per update: the n of n-step returns (SB3 default)
    learning_rate: float = 7e-4  # RMSprop step size (SB3 default)
    anneal_lr: bool = False  # fall linearly to 0 over training
    gamma: float = 0.99  # discount (SB3 default)
    gae_lambda: float = 1.0  # 1 = plain n-step advantages (SB3 default)
    ent_coef: float = 0.0  # entropy bonus weight (rl-zoo)
    vf_coef: float = 0.5  # value loss weight (SB3 default)
    max_grad_norm: float = 0.5  # gradient norm clip (SB3 default)
    rms_alpha: float = 0.99  # RMSprop smoothing constant (SB3/rl-zoo)
    rms_eps: float = 1e-5  # RMSprop epsilon (SB3/rl-zoo; torch's default 1e-8 is unstable here)
    normalize_advantage: bool = False  # SB3 default
    normalize_obs: bool = False  # running mean/std normalization of Box observations, saved with the model
    hidden_sizes: tuple[int, ...] = (64, 64)  # per net (policy, value)
    activation: str = "tanh"
    log_std_init: float = 0.0
    seed: int | None = None

    def __post_init__(self):
        check_positive(self, "num_envs", "num_steps", "learning_rate", "max_grad_norm")
        check_fraction(self, "gamma", "gae_lambda", "rms_alpha")


class A2C(ActorCriticAgent):
    """Synchronous advantage actor-critic; see the module docstring."""

    config_class = A2CConfig

    def _make_optimizer(self, parameters) -> torch.optim.Optimizer:
        config = self.config
        return torch.optim.RMSprop(parameters, lr=config.learning_rate, alpha=config.rms_alpha, eps=config.rms_eps)

    def _iteration(self) -> dict[str, float]:
        learning_rate = self.annealed(self.config.learning_rate, self.config.anneal_lr)
        self.set_learning_rate(learning_rate)
        batch = self.training_batch(self.collect_rollout())
        figures = policy_gradient_step(self, batch["obs"], batch["actions"], batch["returns"], batch["advantages"])
        return dict(figures, learning_rate=learning_rate,
                    explained_variance=explained_variance(batch["values"], batch["returns"]))
