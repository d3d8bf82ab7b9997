"""What PPO and A2C share: an actor-critic built from `nets`, rollouts of `num_steps` x `num_envs` collected
from the vector env, and their advantages by GAE. Each algorithm file adds its config and its update.
"""

from __future__ import annotations

import numpy as np
import torch
from gymnasium import spaces

from agents.buffers import RolloutBuffer, compute_gae
from agents.deep import DeepAgent
from agents.networks import ActorCritic


class ActorCriticAgent(DeepAgent):
    """Base of PPO and A2C: `_build` makes `self.policy` (ActorCritic) and calls `_make_optimizer`."""

    supports_obs_normalization = True

    def _build(self) -> None:
        config = self.config
        self.policy = ActorCritic(self.encoder, self.action_space, config.hidden_sizes, config.activation,
                                  getattr(config, "log_std_init", 0.0)).to(self.device)
        self.parameters = list(self.policy.parameters())  # listed once: walking the modules every step costs
        self.optimizer = self._make_optimizer(self.parameters)

    def _make_optimizer(self, parameters) -> torch.optim.Optimizer:
        raise NotImplementedError

    def _modules(self) -> dict[str, torch.nn.Module]:
        return {"policy": self.policy}

    def _optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"optimizer": self.optimizer}

    def _on_env_attached(self) -> None:
        # Boards stay uint8 in the buffer; flat and one-hot inputs are stored as the (normalized) floats the
        # net saw, so the update sees exactly what the rollout saw.
        image = self.encoder.kind == "image"
        obs_shape = self.encoder.shape
        obs_dtype = self.encoder.storage_dtype if image else np.float32
        if isinstance(self.action_space, spaces.Discrete):
            action_shape, action_dtype = (), torch.long
        else:
            action_shape, action_dtype = tuple(self.action_space.shape), torch.float32
        self.buffer = RolloutBuffer(self.config.num_steps, self.num_envs, obs_shape, obs_dtype, action_shape,
                                    action_dtype, self.device)

    def _act(self, x: torch.Tensor, deterministic: bool) -> torch.Tensor:
        return self.policy.act(self.policy.policy_params(x), deterministic, self.generator)

    def _values(self, x: torch.Tensor) -> torch.Tensor:
        return self.policy.value(x)

    @torch.no_grad()
    def collect_rollout(self) -> np.ndarray:
        """Fill the buffer with `num_steps` steps of every copy; return the advantages (T, N) by GAE."""
        buffer, policy = self.buffer, self.policy
        for t in range(buffer.num_steps):
            if self.normalizer is not None:
                self.normalizer.update(self._obs)
            x = self._input(self._obs)
            params, values = policy(x)
            actions = policy.act(params, False, self.generator)
            buffer.obs[t] = x if self.encoder.kind != "image" else torch.as_tensor(self._obs, device=self.device)
            buffer.actions[t] = actions
            buffer.log_probs[t] = policy.log_prob(params, actions)
            buffer.values[t] = values
            obs, rewards, terminated, truncated, _ = self.env.step(self._env_actions(actions))
            buffer.valid[t] = self.tracker.update(rewards, terminated, truncated)
            buffer.rewards[t], buffer.terminated[t], buffer.truncated[t] = rewards, terminated, truncated
            self._obs = self.encoder.to_storage(obs)
        self.num_timesteps += buffer.num_steps * self.num_envs
        last_values = policy.value(self._input(self._obs)).cpu().numpy()
        return compute_gae(buffer.rewards, buffer.values.cpu().numpy(), last_values, buffer.terminated,
                           buffer.truncated, buffer.valid, self.config.gamma, self.config.gae_lambda)

    def training_batch(self, advantages: np.ndarray) -> dict[str, torch.Tensor]:
        """The rollout flattened to (T * N, ...) rows, reset steps dropped: obs, actions, log_probs, values,
        advantages and returns (= advantages + values, the value targets)."""
        buffer = self.buffer
        keep = torch.from_numpy(np.flatnonzero(buffer.valid.reshape(-1))).to(self.device)
        obs = buffer.flat(buffer.obs)[keep]
        values = buffer.flat(buffer.values)[keep]
        adv = torch.as_tensor(advantages.reshape(-1), dtype=torch.float32, device=self.device)[keep]
        return {"obs": obs.float() if self.encoder.kind == "image" else obs,
                "actions": buffer.flat(buffer.actions)[keep], "log_probs": buffer.flat(buffer.log_probs)[keep],
                "values": values, "advantages": adv, "returns": adv + values}


def explained_variance(predicted: torch.Tensor, target: torch.Tensor) -> float:
    """1 - Var[target - predicted] / Var[target]: 1 is a perfect critic, 0 no better than a constant."""
    variance = target.var()
    return float("nan") if variance == 0 else float(1.0 - (target - predicted).var() / variance)


def policy_gradient_step(agent, obs: torch.Tensor, actions: torch.Tensor, value_targets: torch.Tensor,
                         advantages: torch.Tensor | None = None) -> dict[str, float]:
    """One gradient step of A2C and REINFORCE on

        L = -E[log pi(a|s) A] + vf_coef * E[(V(s) - target)^2] - ent_coef * E[entropy],

    clipped to `max_grad_norm`. A defaults to target - V(s), the learned baseline; advantages are normalized
    when the config says so. Returns the three terms (one read-back)."""
    config, policy = agent.config, agent.policy
    params, values = policy(obs)
    if advantages is None:
        advantages = value_targets - values.detach()
    if config.normalize_advantage and advantages.numel() > 1:
        advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
    policy_loss = -(policy.log_prob(params, actions) * advantages).mean()
    value_loss = (values - value_targets).pow(2).mean()
    entropy = policy.entropy(params).mean()
    loss = policy_loss + config.vf_coef * value_loss - config.ent_coef * entropy
    agent.gradient_step(loss)
    figures = torch.stack([policy_loss, value_loss, entropy]).detach().tolist()
    return dict(zip(("policy_loss", "value_loss", "entropy"), figures))
