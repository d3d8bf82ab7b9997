"""Proximal Policy Optimization (Schulman et al. 2017), clipped objective, on `nets` actor-critics.

Each iteration: collect `num_steps` steps from each of `num_envs` copies, compute advantages by GAE, then
take `n_epochs` passes over the rollout in minibatches of `batch_size`, minimizing

    L = -E[min(r A, clip(r, 1 - eps, 1 + eps) A)] + vf_coef * E[(V - R)^2] - ent_coef * E[entropy],

with r = pi(a|s) / pi_old(a|s), advantages normalized per minibatch, and the gradient norm clipped. The
learning rate and the clip range eps fall linearly to 0 over training (rl-zoo's `lin_` schedules).
Discrete actions use a categorical policy, Box actions a diagonal Gaussian with a learned log std.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from agents.deep import check_fraction, check_positive, fused_if_cpu
from agents.on_policy import ActorCriticAgent, explained_variance


@dataclass(frozen=True)
class PPOConfig:
    """Defaults: rl-zoo's tuned PPO for CartPole-v1 (hyperparams/ppo.yml); the rest are SB3's defaults."""

    num_envs: int = 8  # env copies stepped together (rl-zoo n_envs)
    num_steps: int = 32  # steps per copy per rollout (rl-zoo n_steps)
    batch_size: int = 256  # minibatch size (rl-zoo)
    n_epochs: int = 20  # passes over each rollout (rl-zoo)
    learning_rate: float = 1e-3  # Adam step size at the start (rl-zoo lin_1e-3)
    anneal_lr: bool = True  # learning rate falls linearly to 0 (rl-zoo lin_)
    clip_range: float = 0.2  # eps of the clipped ratio at the start (rl-zoo lin_0.2)
    anneal_clip_range: bool = True  # clip range falls linearly to 0 (rl-zoo lin_)
    gamma: float = 0.98  # discount (rl-zoo)
    gae_lambda: float = 0.8  # GAE lambda (rl-zoo)
    ent_coef: float = 0.0  # entropy bonus weight (rl-zoo); depends on the reward scale
    vf_coef: float = 0.5  # value loss weight (SB3 default)
    max_grad_norm: float = 0.5  # gradient norm clip (SB3 default)
    normalize_advantage: bool = True  # per-minibatch advantage normalization (SB3 default)
    normalize_obs: bool = False  # running mean/std normalization of Box observations, saved with the model
    target_kl: float | None = None  # stop an iteration's epochs early when approx KL exceeds this (SB3 None)
    hidden_sizes: tuple[int, ...] = (64, 64)  # per net (policy, value); boards add MinAtar's conv first
    activation: str = "tanh"  # hidden units (SB3 default for MlpPolicy)
    log_std_init: float = 0.0  # initial log std of a Gaussian policy (Box actions)
    adam_eps: float = 1e-5  # Adam epsilon (SB3 default)
    seed: int | None = None  # seeds the nets, the sampling and the env copies

    def __post_init__(self):
        check_positive(self, "num_envs", "num_steps", "batch_size", "n_epochs", "learning_rate", "max_grad_norm")
        check_fraction(self, "gamma", "gae_lambda", "clip_range")
        if self.batch_size > self.num_steps * self.num_envs:
            raise ValueError(f"PPOConfig.batch_size ({self.batch_size}) is larger than a rollout "
                             f"(num_steps * num_envs = {self.num_steps * self.num_envs}); lower it or collect more")


class PPO(ActorCriticAgent):
    """PPO with the clipped objective; see the module docstring. `PPO(env, seed=0, n_epochs=10, ...)`."""

    config_class = PPOConfig

    def _make_optimizer(self, parameters) -> torch.optim.Optimizer:
        return torch.optim.Adam(parameters, lr=self.config.learning_rate, eps=self.config.adam_eps,
                                **fused_if_cpu(self.device))

    def _iteration(self) -> dict[str, float]:
        config = self.config
        # Annealed from the step count at the start of the rollout, as SB3 does.
        learning_rate = self.annealed(config.learning_rate, config.anneal_lr)
        clip = self.annealed(config.clip_range, config.anneal_clip_range)
        self.set_learning_rate(learning_rate)
        advantages = self.collect_rollout()
        batch = self.training_batch(advantages)
        logs = self.update(batch, clip)
        logs.update(learning_rate=learning_rate, clip_range=clip,
                    explained_variance=explained_variance(batch["values"], batch["returns"]))
        return logs

    def update(self, batch: dict[str, torch.Tensor], clip: float) -> dict[str, float]:
        """`n_epochs` passes of minibatch gradient steps; figures stay tensors until one read-back at the end."""
        config, policy = self.config, self.policy
        rows = batch["obs"].shape[0]
        sums = torch.zeros(5, device=self.device)  # policy loss, value loss, entropy, approx KL, clip fraction
        steps = 0
        for _ in range(config.n_epochs):
            order = torch.randperm(rows, generator=self.generator, device=self.device)
            kl_sum, epoch_steps = torch.zeros((), device=self.device), 0
            for start in range(0, rows, config.batch_size):
                index = order[start:start + config.batch_size]
                if index.numel() < 2:  # a one-row tail cannot be normalized
                    continue
                params, values = policy(batch["obs"][index])
                log_ratio = policy.log_prob(params, batch["actions"][index]) - batch["log_probs"][index]
                ratio = log_ratio.exp()
                advantages = batch["advantages"][index]
                if config.normalize_advantage:
                    advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
                policy_loss = -torch.min(ratio * advantages, ratio.clamp(1 - clip, 1 + clip) * advantages).mean()
                value_loss = (values - batch["returns"][index]).pow(2).mean()
                entropy = policy.entropy(params).mean()
                loss = policy_loss + config.vf_coef * value_loss - config.ent_coef * entropy
                self.gradient_step(loss)
                with torch.no_grad():
                    approx_kl = ((ratio - 1) - log_ratio).mean()
                    clipped = ((ratio - 1).abs() > clip).float().mean()
                    sums += torch.stack([policy_loss, value_loss, entropy, approx_kl, clipped]).detach()
                    kl_sum += approx_kl
                steps += 1
                epoch_steps += 1
            if config.target_kl is not None and epoch_steps and float(kl_sum / epoch_steps) > config.target_kl:
                break
        means = (sums / max(steps, 1)).tolist()
        return dict(zip(("policy_loss", "value_loss", "entropy", "approx_kl", "clip_fraction"), means),
                    gradient_steps=steps)
