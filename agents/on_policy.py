"""What PPO and A2C share: each member's actor-critic built from `nets`, rollouts of `num_steps` x `num_envs`
collected from every member's copies at once, and their advantages by GAE. Each algorithm file adds its
config and its update.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from agents.buffers import compute_gae
from agents.deep import DeepAgent
from agents.encoding import ReturnNormalizer
from agents.networks import ActorCritic
from agents.population import StackedOptimizer


@dataclass
class Rollout:
    """T steps of K members x N copies: net inputs x (T, K, N, input) and actions (T, K, N[, D]) on the device;
    rewards, terminated, truncated (T, K * N) and the truncated episodes' last-observation values in numpy."""

    x: torch.Tensor
    actions: torch.Tensor
    rewards: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray
    final_values: np.ndarray


@dataclass
class TrainingBatch:
    """A rollout as K members' rows (row t * N + i: copy i at step t), packed in one float tensor (K, R, W) so a
    minibatch is one gather: net input, action(s), old log-probability, advantage, return (= advantage +
    value, the value target). `values` (K, R) are the rollout's value estimates."""

    packed: torch.Tensor
    values: torch.Tensor
    input_width: int
    action_width: int
    discrete: bool

    def unpack(self, rows: torch.Tensor):
        """(x (K, b, input), actions (K, b) or (K, b, D), old log-probabilities, advantages, returns (K, b))."""
        i, a = self.input_width, self.action_width
        actions = rows[..., i].long() if self.discrete else rows[..., i:i + a]
        return rows[..., :i], actions, rows[..., i + a], rows[..., i + a + 1], rows[..., i + a + 2]

    @property
    def advantages(self) -> torch.Tensor:
        return self.packed[..., -2]

    @property
    def returns(self) -> torch.Tensor:
        return self.packed[..., -1]


def explained_variance(predicted: torch.Tensor, target: torch.Tensor) -> np.ndarray:
    """(K,) 1 - Var[target - predicted] / Var[target] per member row: 1 is a perfect critic, 0 no better than a
    constant, nan where the target is constant."""
    variance = target.var(dim=-1)
    ratio = (target - predicted).var(dim=-1) / variance
    return torch.where(variance == 0, torch.nan, 1.0 - ratio).cpu().numpy()


class ActorCriticAgent(DeepAgent):
    """Base of PPO and A2C: `_build` makes `self.policy` (ActorCritic of every member) and its optimizer."""

    supports_obs_normalization = True

    def _build(self) -> None:
        config = self.config
        self.policy = ActorCritic(self.encoder, self.action_space, config.hidden_sizes, config.activation,
                                  getattr(config, "log_std_init", 0.0), self.seeds, self.device)
        self.optimizer = self._make_optimizer()
        self.reward_normalizer = None

    def _make_optimizer(self) -> StackedOptimizer:
        raise NotImplementedError

    def _stacks(self):
        return {"policy": self.policy.params}

    def _optimizers(self):
        return {"optimizer": self.optimizer}

    def _on_env_attached(self) -> None:
        if getattr(self.config, "normalize_reward", False):
            self.reward_normalizer = ReturnNormalizer(self.num_members, self.num_envs, self.config.gamma)

    def _noise(self, steps: int, batch: int) -> torch.Tensor:
        """(steps, K, batch, A) sampling noise, member k's drawn from its own generator."""
        draws = [self.policy.distribution.noise(steps, batch, g) for g in self.generators.torch]
        return torch.stack(draws, dim=1)

    def _act(self, x: torch.Tensor, deterministic: bool) -> torch.Tensor:
        noise = None if deterministic else self._noise(1, x.shape[1])[0]
        return self.policy.act(self.policy.policy_params(x), deterministic, noise)

    def _values(self, x: torch.Tensor) -> torch.Tensor:
        return self.policy.value(x)

    # Collecting -------------------------------------------------------------------------------------------
    @torch.no_grad()
    def collect_rollout(self) -> Rollout:
        """`num_steps` steps of every copy with actions sampled from each member's policy."""
        steps, members, n = self.config.num_steps, self.num_members, self.num_envs
        policy = self.policy
        noise = self._noise(steps, n)
        first = self._input(self._per_member(self._obs))
        x = torch.empty((steps, *first.shape), device=self.device)
        actions = []
        rewards = np.zeros((steps, members * n))
        terminated = np.zeros((steps, members * n), dtype=bool)
        truncated = np.zeros_like(terminated)
        final_rows: list[tuple[int, np.ndarray, np.ndarray]] = []
        for t in range(steps):
            x[t] = first if t == 0 else self._input(self._per_member(self._obs))
            action = policy.act(policy.policy_params(x[t]), False, noise[t])
            actions.append(action)
            obs, reward, term, trunc, final_obs = self.env.step(self._env_actions(action))
            obs = self.encoder.to_storage(obs)
            done = self.tracker.update(reward, term, trunc)
            if self.normalizer is not None:
                self.normalizer.update(self._per_member(obs))
            if self.reward_normalizer is not None:
                reward = self.reward_normalizer(reward, done)
            if trunc.any():  # the truncated episodes' last observations, kept for their bootstrap values
                copies = np.flatnonzero(done)
                cut = trunc[copies]
                final_rows.append((t, copies[cut], self.encoder.to_storage(final_obs)[cut]))
            rewards[t], terminated[t], truncated[t] = reward, term, trunc
            self._obs = obs
        self.num_timesteps += steps * n
        final_values = self._final_values(final_rows, rewards.shape)
        return Rollout(x, torch.stack(actions), rewards, terminated, truncated, final_values)

    def _final_values(self, final_rows: list, shape: tuple[int, int]) -> np.ndarray:
        """(T, K * N) values of truncated episodes' last observations (0 elsewhere), one batched forward."""
        final_values = np.zeros(shape)
        if not final_rows:
            return final_values
        steps = np.concatenate([np.full(len(c), t) for t, c, _ in final_rows])
        copies = np.concatenate([c for _, c, _ in final_rows])
        obs = np.concatenate([o for _, _, o in final_rows])
        members = copies // self.num_envs
        if self.normalizer is not None:
            obs = self.normalizer.normalize_rows(obs, members)
        # Every member's rows padded to the most truncations one member can have in a rollout (steps x copies),
        # not to the most this rollout had: the matmul's shape, hence its rounding, then does not depend on the
        # other members, and member k's values equal its single run's bit for bit.
        width = shape[0] * self.num_envs
        padded = np.zeros((self.num_members, width, *obs.shape[1:]), dtype=obs.dtype)
        slot = np.zeros(len(members), dtype=np.int64)
        for k in range(self.num_members):
            mine = np.flatnonzero(members == k)
            slot[mine] = np.arange(len(mine))
            padded[k, :len(mine)] = obs[mine]
        x = self.encoder.encode(padded.reshape(-1, *obs.shape[1:]), self.device).reshape(self.num_members, width, -1)
        values = self.policy.value(x, fm=True).cpu().numpy()
        final_values[steps, copies] = values[members, slot]
        return final_values

    @torch.no_grad()
    def training_batch(self, rollout: Rollout) -> TrainingBatch:
        """The rollout's rows per member with old log-probabilities, values (one batched forward over the
        rollout: the policy has not changed since it acted), GAE advantages and returns."""
        steps, members, n = rollout.x.shape[0], self.num_members, self.num_envs
        x = rollout.x.transpose(0, 1).reshape(members, steps * n, -1)
        discrete = rollout.actions.dim() == 3
        actions = rollout.actions.transpose(0, 1)  # (K, T, N) or (K, T, N, D)
        actions = actions.reshape(members, steps * n, *actions.shape[3:])
        params, values = self.policy.forward(x, fm=True)
        log_probs, _ = self.policy.log_prob_entropy(params, actions, with_entropy=False)
        last_values = self.policy.value(self._input(self._per_member(self._obs)), fm=True).cpu().numpy().reshape(-1)
        values_np = values.cpu().numpy().astype(np.float64)
        by_step = values_np.reshape(members, steps, n).transpose(1, 0, 2).reshape(steps, members * n)
        advantages = compute_gae(rollout.rewards, by_step, last_values, rollout.terminated, rollout.truncated,
                                 rollout.final_values, self.config.gamma, self.config.gae_lambda)
        advantages = advantages.reshape(steps, members, n).transpose(1, 0, 2).reshape(members, steps * n)
        advantages = torch.as_tensor(advantages, dtype=torch.float32, device=self.device)
        stored = actions.unsqueeze(-1).float() if discrete else actions
        packed = torch.cat([x, stored, log_probs.unsqueeze(-1), advantages.unsqueeze(-1),
                            (advantages + values).unsqueeze(-1)], dim=2)
        return TrainingBatch(packed, values, x.shape[-1], stored.shape[-1], discrete)

    def annealed(self, start: float, anneal: bool) -> float:
        """`start`, or rl-zoo's `lin_<start>` read as stable-baselines3 reads it: start * progress remaining,
        with the step count after the rollout (`_update_current_progress_remaining` runs between
        `collect_rollouts` and `train` in OnPolicyAlgorithm.learn), so the last update may see a value < 0."""
        return start * self.progress_remaining() if anneal else start

    # Resume state -----------------------------------------------------------------------------------------
    def _env_extra_state(self, members: list[int]) -> dict:
        if self.reward_normalizer is None:
            return {}
        return {"reward_normalizer": self.reward_normalizer.state_dict(members)}

    def _load_env_extra_state(self, state: dict) -> None:
        if self.reward_normalizer is not None and "reward_normalizer" in state:
            self.reward_normalizer.load_state_dict(state["reward_normalizer"])
