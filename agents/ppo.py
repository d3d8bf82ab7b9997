"""Proximal Policy Optimization (Schulman et al. 2017), clipped objective, on `nets` actor-critics.

Each iteration: collect `num_steps` steps from each of `num_envs` copies, compute advantages by GAE, then
take `n_epochs` passes over the rollout in minibatches of `batch_size`, minimizing

    L = -E[min(r A, clip(r, 1 - eps, 1 + eps) A)] + vf_coef * E[(V - R)^2] - ent_coef * E[entropy],

with r = pi(a|s) / pi_old(a|s), advantages normalized per minibatch, and the gradient norm clipped. With
`anneal_lr` / `anneal_clip_range` the learning rate and the clip range eps fall linearly to 0 over training
(rl-zoo's `lin_` schedules), read after each rollout as stable-baselines3 reads them. Discrete actions use a
categorical policy, Box actions a diagonal Gaussian with a learned log std. A population (`seeds=`) runs
every member's update in the same batched ops; each member keeps its own minibatch order, advantage
normalization, gradient clipping and (with `target_kl`) early stop.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from agents.deep import check_fraction, check_positive
from agents.on_policy import ActorCriticAgent, TrainingBatch, explained_variance
from agents.population import StackedOptimizer, fused_if_cpu, gradient_step

FIGURES = ("policy_loss", "value_loss", "entropy", "approx_kl", "clip_fraction")


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
    normalize_obs: bool = False  # running mean/std of Box observations, saved with the model (rl-zoo normalize)
    normalize_reward: bool = False  # VecNormalize's reward scaling by the return's std (rl-zoo normalize: true)
    target_kl: float | None = None  # stop a member's updates in a rollout once a minibatch's approx KL > 1.5x (SB3)
    hidden_sizes: tuple[int, ...] = (64, 64)  # per net (policy, value); boards add MinAtar's conv first
    activation: str = "tanh"  # hidden units (SB3 default for MlpPolicy)
    log_std_init: float = 0.0  # initial log std of a Gaussian policy (Box actions) (SB3 default)
    adam_eps: float = 1e-5  # Adam epsilon (SB3 default for its policies)
    seed: int | None = None  # seeds the nets, the sampling and the env copies (ours)

    def __post_init__(self):
        check_positive(self, "num_envs", "num_steps", "batch_size", "n_epochs", "learning_rate", "max_grad_norm")
        check_fraction(self, "gamma", "gae_lambda", "clip_range")
        if self.batch_size > self.num_steps * self.num_envs:
            raise ValueError(f"PPOConfig.batch_size ({self.batch_size}) is larger than a rollout "
                             f"(num_steps * num_envs = {self.num_steps * self.num_envs}); lower it or collect more")
        if self.target_kl is not None and self.target_kl <= 0:
            raise ValueError(f"PPOConfig.target_kl must be > 0 or None, got {self.target_kl}")


class PPO(ActorCriticAgent):
    """PPO with the clipped objective; see the module docstring. `PPO(env, seed=0, n_epochs=10, ...)`, or a
    population `PPO(env, seeds=range(10))`."""

    config_class = PPOConfig

    def _make_optimizer(self) -> StackedOptimizer:
        return StackedOptimizer(self.policy.params, torch.optim.Adam, lr=self.config.learning_rate,
                                eps=self.config.adam_eps, **fused_if_cpu(self.device))

    def _iteration(self) -> dict:
        config = self.config
        rollout = self.collect_rollout()
        learning_rate = self.annealed(config.learning_rate, config.anneal_lr)
        clip = self.annealed(config.clip_range, config.anneal_clip_range)
        self.optimizer.set_learning_rate(learning_rate)
        batch = self.training_batch(rollout)
        figures = self.update(batch, clip)
        figures.update(learning_rate=learning_rate, clip_range=clip,
                       explained_variance=explained_variance(batch.values, batch.returns))
        return figures

    def update(self, batch: TrainingBatch, clip: float) -> dict:
        """`n_epochs` passes of minibatch gradient steps for every member. The figures are computed from detached
        tensors after the last step, with one read-back (with `target_kl`, one per minibatch, as SB3)."""
        config, policy, members = self.config, self.policy, self.num_members
        packed = batch.packed
        rows, width = packed.shape[1:]
        records = []  # per gradient step: (active mask, policy loss, value loss, ratio, log ratio, policy params)
        active = np.ones(members, dtype=bool)
        for _ in range(config.n_epochs):
            order = self._minibatch_order(rows, active)
            for start in range(0, rows, config.batch_size):
                index = order[:, start:start + config.batch_size]
                x, actions, old_log_probs, advantages, returns = batch.unpack(
                    packed.gather(1, index.unsqueeze(-1).expand(-1, -1, width)))
                params, values = policy.forward(x, fm=True)
                log_probs, entropy = policy.log_prob_entropy(params, actions, with_entropy=config.ent_coef != 0)
                log_ratio = log_probs - old_log_probs
                ratio = log_ratio.exp()
                if config.normalize_advantage and advantages.shape[1] > 1:
                    std, mean = torch.std_mean(advantages, dim=1, keepdim=True)
                    advantages = (advantages - mean) / (std + 1e-8)
                policy_loss = -torch.min(ratio * advantages, ratio.clamp(1 - clip, 1 + clip) * advantages).mean(1)
                value_loss = (returns - values).pow(2).mean(1)
                loss = policy_loss + config.vf_coef * value_loss
                if entropy is not None:
                    loss = loss - config.ent_coef * entropy.mean(1)
                if config.target_kl is not None:  # stable_baselines3/ppo/ppo.py PPO.train: KL checked before the step
                    with torch.no_grad():
                        approx_kl = ((ratio - 1) - log_ratio).mean(1).cpu().numpy()
                    active = active & (approx_kl <= 1.5 * config.target_kl)
                    if not active.any():
                        break
                if active.all():
                    gradient_step(policy.params, self.optimizer, loss.sum(), config.max_grad_norm)
                else:
                    weight = torch.as_tensor(active, dtype=loss.dtype, device=self.device)
                    gradient_step(policy.params, self.optimizer, (loss * weight).sum(), config.max_grad_norm, active)
                records.append((active.copy(), policy_loss.detach(), value_loss.detach(), ratio.detach(),
                                log_ratio.detach(), params.detach()))
            if not active.any():
                break
        return self._figures(records, clip)

    @torch.no_grad()
    def _figures(self, records: list, clip: float) -> dict:
        """Each member's mean over its own gradient steps of the losses, entropy, approx KL and clip fraction."""
        members = self.num_members
        if not records:
            return dict(zip(FIGURES, np.full((len(FIGURES), members), np.nan)), gradient_steps=np.zeros(members))
        per_step = []
        for _, policy_loss, value_loss, ratio, log_ratio, params in records:
            _, entropy = self.policy.log_prob_entropy(params, None, with_entropy=True, with_log_prob=False)
            per_step.append(torch.stack([policy_loss, value_loss, entropy.mean(1), ((ratio - 1) - log_ratio).mean(1),
                                         ((ratio - 1).abs() > clip).float().mean(1)]))
        active = np.stack([record[0] for record in records]).astype(np.float64)  # (steps, K)
        values = torch.stack(per_step).cpu().numpy().astype(np.float64)  # (steps, figures, K)
        steps = active.sum(0)
        means = (values * active[:, None, :]).sum(0) / np.maximum(steps, 1)
        return dict(zip(FIGURES, means), gradient_steps=steps)

    def _minibatch_order(self, rows: int, active: np.ndarray) -> torch.Tensor:
        """(K, rows): each active member's permutation from its own generator (a member that stopped draws none,
        as its single run would not)."""
        orders = [torch.randperm(rows, generator=g, device=self.device) if on
                  else torch.arange(rows, device=self.device) for g, on in zip(self.generators.torch, active)]
        return torch.stack(orders)
