"""Advantage actor-critic, synchronous (A2C; Mnih et al. 2016), on `nets` actor-critics.

Each iteration collects `num_steps` steps from each of `num_envs` copies and takes one RMSprop step on

    L = -E[log pi(a|s) A] + vf_coef * E[(V - R)^2] - ent_coef * E[entropy],

with n-step advantages A (GAE with lambda = 1 is the plain n-step return minus V), as stable-baselines3's
A2C.train does (one gradient step over the whole rollout).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from agents.deep import check_fraction, check_positive
from agents.on_policy import ActorCriticAgent, TrainingBatch, explained_variance
from agents.population import StackedOptimizer, gradient_step


@dataclass(frozen=True)
class A2CConfig:
    """Defaults: rl-zoo's A2C for CartPole-v1 (n_envs 8, ent_coef 0) on SB3's A2C defaults, whose RMSprop
    settings (alpha 0.99, eps 1e-5) are rl-zoo's."""

    num_envs: int = 8  # env copies (rl-zoo n_envs)
    num_steps: int = 5  # steps per copy per update: the n of n-step returns (SB3 default)
    learning_rate: float = 7e-4  # RMSprop step size (SB3 default)
    anneal_lr: bool = False  # fall linearly to 0 over training (rl-zoo lin_), read after each rollout as SB3
    gamma: float = 0.99  # discount (SB3 default)
    gae_lambda: float = 1.0  # 1 = plain n-step advantages (SB3 default)
    ent_coef: float = 0.0  # entropy bonus weight (rl-zoo)
    vf_coef: float = 0.5  # value loss weight (SB3 default)
    max_grad_norm: float = 0.5  # gradient norm clip (SB3 default)
    rms_alpha: float = 0.99  # RMSprop smoothing constant (SB3/rl-zoo)
    rms_eps: float = 1e-5  # RMSprop epsilon (SB3/rl-zoo; torch's default 1e-8 is unstable here)
    normalize_advantage: bool = False  # (SB3 default)
    normalize_obs: bool = False  # running mean/std of Box observations, saved with the model (rl-zoo normalize)
    normalize_reward: bool = False  # VecNormalize's reward scaling by the return's std (rl-zoo normalize: true)
    hidden_sizes: tuple[int, ...] = (64, 64)  # per net (policy, value) (SB3 default)
    activation: str = "tanh"  # hidden units (SB3 default)
    log_std_init: float = 0.0  # initial log std of a Gaussian policy (SB3 default)
    seed: int | None = None  # seeds the nets, the sampling and the env copies (ours)

    def __post_init__(self):
        check_positive(self, "num_envs", "num_steps", "learning_rate", "max_grad_norm")
        check_fraction(self, "gamma", "gae_lambda", "rms_alpha")


def a2c_loss(policy, batch: TrainingBatch, config) -> tuple[torch.Tensor, ...]:
    """Each member's (loss, policy loss, value loss, entropy), (K,) each, over its whole rollout."""
    x, actions, _, advantages, returns = batch.unpack(batch.packed)
    params, values = policy.forward(x, fm=True)
    log_probs, entropy = policy.log_prob_entropy(params, actions)
    if config.normalize_advantage:
        advantages = (advantages - advantages.mean(1, keepdim=True)) / (advantages.std(1, keepdim=True) + 1e-8)
    policy_loss = -(advantages * log_probs).mean(1)
    value_loss = (returns - values).pow(2).mean(1)
    entropy = entropy.mean(1)
    return policy_loss + config.vf_coef * value_loss - config.ent_coef * entropy, policy_loss, value_loss, entropy


class A2C(ActorCriticAgent):
    """Synchronous advantage actor-critic; see the module docstring."""

    config_class = A2CConfig

    def _make_optimizer(self) -> StackedOptimizer:
        config = self.config
        return StackedOptimizer(self.policy.params, torch.optim.RMSprop, lr=config.learning_rate,
                                alpha=config.rms_alpha, eps=config.rms_eps)

    def _iteration(self) -> dict:
        rollout = self.collect_rollout()
        learning_rate = self.annealed(self.config.learning_rate, self.config.anneal_lr)
        self.optimizer.set_learning_rate(learning_rate)
        batch = self.training_batch(rollout)
        loss, policy_loss, value_loss, entropy = a2c_loss(self.policy, batch, self.config)
        gradient_step(self.policy.params, self.optimizer, loss.sum(), self.config.max_grad_norm)
        figures = torch.stack([policy_loss, value_loss, entropy]).detach().cpu().numpy().astype(float)
        return dict(zip(("policy_loss", "value_loss", "entropy"), figures), learning_rate=learning_rate,
                    explained_variance=explained_variance(batch.values, batch.returns))
