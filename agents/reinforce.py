"""REINFORCE with a learned baseline (Williams 1992; Sutton & Barto section 13.4), the textbook version.

Play whole episodes in `num_envs` copies; once `batch_episodes` have ended, take one gradient step on

    L = -E[log pi(a_t|s_t) (G_t - V(s_t))] + vf_coef * E[(V(s_t) - G_t)^2] - ent_coef * E[entropy],

over every step of the ended episodes, where G_t = r_t + gamma r_{t+1} + ... is the Monte Carlo return to the
episode's end. No bootstrapping, except where the env cut the episode short (truncation): that tail's return
is the baseline's value of the episode's last observation, since the episode would have gone on.

`learn(n)` takes ceil(n / num_envs) vector steps; episodes not yet used (in flight, or ended but fewer than a
batch) carry over to the next call and into checkpoints. In a population every member steps in lock-step
and updates in the step its own batch completes (the others sit that step out), as its single run would.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from gymnasium import spaces

from agents.deep import DeepAgent, check_fraction, check_positive
from agents.env_state import from_plain, to_plain
from agents.networks import ActorCritic
from agents.population import StackedOptimizer, fused_if_cpu, gradient_step


@dataclass(frozen=True)
class REINFORCEConfig:
    """No rl-zoo entry exists; defaults are Sutton & Barto's setting with Adam and the sizes of our other
    policy nets (all ours)."""

    num_envs: int = 8  # env copies playing episodes side by side
    batch_episodes: int = 16  # finished episodes per gradient step
    learning_rate: float = 1e-3  # Adam step size, policy and baseline
    gamma: float = 0.99  # discount
    vf_coef: float = 0.5  # baseline (value) loss weight
    ent_coef: float = 0.0  # entropy bonus weight
    max_grad_norm: float = 0.5  # gradient norm clip
    normalize_advantage: bool = False  # the textbook uses G - V as it is
    hidden_sizes: tuple[int, ...] = (64, 64)  # per net (policy, baseline)
    activation: str = "tanh"  # hidden units
    log_std_init: float = 0.0  # initial log std of a Gaussian policy (Box actions)
    seed: int | None = None  # seeds the nets, the sampling and the env copies

    def __post_init__(self):
        check_positive(self, "num_envs", "batch_episodes", "learning_rate", "max_grad_norm")
        check_fraction(self, "gamma")


def discounted_returns(rewards: np.ndarray, tail: float, gamma: float) -> np.ndarray:
    """G_t = r_t + gamma G_{t+1} with G_T = tail (0 after termination, V(last obs) after truncation)."""
    returns, following = np.empty(len(rewards)), float(tail)
    for t in range(len(rewards) - 1, -1, -1):
        following = rewards[t] + gamma * following
        returns[t] = following
    return returns


class REINFORCE(DeepAgent):
    """Monte Carlo policy gradient with a learned state-value baseline; see the module docstring."""

    config_class = REINFORCEConfig

    def _build(self) -> None:
        config = self.config
        self.policy = ActorCritic(self.encoder, self.action_space, config.hidden_sizes, config.activation,
                                  config.log_std_init, self.seeds, self.device)
        self.optimizer = StackedOptimizer(self.policy.params, torch.optim.Adam, lr=config.learning_rate,
                                          **fused_if_cpu(self.device))

    def _stacks(self):
        return {"policy": self.policy.params}

    def _optimizers(self):
        return {"optimizer": self.optimizer}

    def _on_env_attached(self) -> None:
        self._in_flight: list[list[tuple]] = [[] for _ in range(self.num_members * self.num_envs)]
        self._finished: list[list[dict]] = [[] for _ in range(self.num_members)]

    def _noise(self, batch: int) -> torch.Tensor:
        return torch.stack([self.policy.distribution.noise(1, batch, g)[0] for g in self.generators.torch])

    def _act(self, x: torch.Tensor, deterministic: bool) -> torch.Tensor:
        noise = None if deterministic else self._noise(x.shape[1])
        return self.policy.act(self.policy.policy_params(x), deterministic, noise)

    def _values(self, x: torch.Tensor) -> torch.Tensor:
        return self.policy.value(x)

    def _iteration(self) -> dict:
        """Step every copy until some member has a batch of ended episodes (or the call's steps are spent);
        update the members whose batch is complete."""
        while True:
            self._play_step()
            ready = np.array([len(f) >= self.config.batch_episodes for f in self._finished])
            if ready.any():
                return self._update(ready)
            if self.num_timesteps >= self._learn_end:
                return {}

    @torch.no_grad()
    def _play_step(self) -> None:
        n = self.num_envs
        x = self._input(self._per_member(self._obs))
        actions = self._act(x, deterministic=False)
        obs, rewards, terminated, truncated, final_obs = self.env.step(self._env_actions(actions))
        obs = self.encoder.to_storage(obs)
        done = self.tracker.update(rewards, terminated, truncated)
        tails = np.zeros(len(done))
        if truncated.any():  # the baseline's value of each truncated episode's last observation
            last = obs.copy()
            last[done] = self.encoder.to_storage(final_obs)
            values = self.policy.value(self._input(self._per_member(last)), fm=True)
            tails = np.where(truncated, values.cpu().numpy().reshape(-1), 0.0)
        for c in range(len(done)):
            k, i = divmod(c, n)
            action = actions[k, i]
            self._in_flight[c].append((x[k, i], action, float(rewards[c])))
            if done[c]:
                steps = self._in_flight[c]
                self._finished[k].append({"x": torch.stack([s[0] for s in steps]),
                                          "actions": torch.stack([s[1] for s in steps]),
                                          "rewards": np.array([s[2] for s in steps]), "tail": float(tails[c])})
                self._in_flight[c] = []
        self._obs = obs
        self.num_timesteps += n

    def _update(self, ready: np.ndarray) -> dict:
        """One gradient step for the ready members on all their ended episodes (rows padded to one length)."""
        config, members = self.config, self.num_members
        batches = [self._finished[k] if ready[k] else [] for k in range(members)]
        lengths = [sum(len(e["rewards"]) for e in b) for b in batches]
        width = max(lengths)
        x = torch.zeros((members, width, self._finished_width()), device=self.device)
        discrete = isinstance(self.action_space, spaces.Discrete)
        actions = torch.zeros((members, width) if discrete else (members, width, self.action_space.shape[0]),
                              device=self.device)
        returns = torch.zeros((members, width), device=self.device)
        weight = torch.zeros((members, width), device=self.device)
        for k, episodes in enumerate(batches):
            if episodes:
                rows = lengths[k]
                x[k, :rows] = torch.cat([e["x"] for e in episodes])
                actions[k, :rows] = torch.cat([e["actions"] for e in episodes]).to(actions.dtype)
                returns[k, :rows] = torch.as_tensor(np.concatenate(
                    [discounted_returns(e["rewards"], e["tail"], config.gamma) for e in episodes]))
                weight[k, :rows] = 1.0
        loss, figures = self._loss(x, actions, returns, weight)
        gradient_step(self.policy.params, self.optimizer, loss.sum(), config.max_grad_norm, ready)
        used = np.array([len(b) for b in batches], dtype=np.float64)
        mean_return = np.array([np.mean([e["rewards"].sum() for e in b]) if b else np.nan for b in batches])
        for k in np.flatnonzero(ready):
            self._finished[k] = []
        figures = {name: np.where(ready, value, np.nan) for name, value in figures.items()}
        return dict(figures, episodes_used=used, mean_episode_return=mean_return, updated=ready.astype(np.float64))

    def _finished_width(self) -> int:
        return next(e["x"].shape[1] for b in self._finished for e in b)

    def _loss(self, x, actions, returns, weight) -> tuple[torch.Tensor, dict]:
        """Each member's REINFORCE loss over its valid rows (weight 1), and the figures (one read-back)."""
        config = self.config
        count = weight.sum(1).clamp(min=1.0)
        params, values = self.policy.forward(x, fm=True)
        log_probs, entropy = self.policy.log_prob_entropy(params, actions)
        advantages = returns - values.detach()
        if config.normalize_advantage:
            mean = (advantages * weight).sum(1, keepdim=True) / count[:, None]
            std = (((advantages - mean) ** 2 * weight).sum(1, keepdim=True) / (count[:, None] - 1).clamp(min=1)).sqrt()
            advantages = (advantages - mean) / (std + 1e-8)
        policy_loss = -(log_probs * advantages * weight).sum(1) / count
        value_loss = ((values - returns) ** 2 * weight).sum(1) / count
        entropy = (entropy * weight).sum(1) / count
        loss = policy_loss + config.vf_coef * value_loss - config.ent_coef * entropy
        figures = torch.stack([policy_loss, value_loss, entropy]).detach().cpu().numpy().astype(np.float64)
        return loss, dict(zip(("policy_loss", "value_loss", "entropy"), figures))

    # Resume state: episodes in flight and ended-but-unused episodes ----------------------------------------
    def _env_extra_state(self, members: list[int]) -> dict:
        def episode(steps):
            return {"x": torch.stack([s[0] for s in steps]).cpu(), "actions": torch.stack([s[1] for s in steps]).cpu(),
                    "rewards": [s[2] for s in steps]} if steps else None

        copies = self.env.copies_of(members)
        return {"in_flight": [episode(self._in_flight[c]) for c in copies],
                "finished": [[{**e, "x": e["x"].cpu(), "actions": e["actions"].cpu(),
                               "rewards": to_plain(e["rewards"])} for e in self._finished[k]] for k in members]}

    def _load_env_extra_state(self, state: dict) -> None:
        self._on_env_attached()
        for c, saved in enumerate(state["in_flight"]):
            if saved is not None:
                x, actions = saved["x"].to(self.device), saved["actions"].to(self.device)
                self._in_flight[c] = [(x[t], actions[t], float(r)) for t, r in enumerate(saved["rewards"])]
        self._finished = [[{**e, "x": e["x"].to(self.device), "actions": e["actions"].to(self.device),
                            "rewards": from_plain(e["rewards"])} for e in episodes] for episodes in state["finished"]]
