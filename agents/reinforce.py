"""REINFORCE with a learned baseline (Williams 1992; Sutton & Barto section 13.4), the textbook version.

Play whole episodes in `num_envs` copies; once `batch_episodes` have ended, take one gradient step on

    L = -E[log pi(a_t|s_t) (G_t - V(s_t))] + vf_coef * E[(V(s_t) - G_t)^2],

where G_t = r_t + gamma r_{t+1} + ... is the Monte Carlo return to the episode's end. No bootstrapping,
except where the env cut the episode short (truncation): that tail's return is the baseline's value of the
last real observation, since the episode would have gone on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from agents.deep import DeepAgent, check_fraction, check_positive, fused_if_cpu
from agents.networks import ActorCritic
from agents.on_policy import policy_gradient_step


@dataclass(frozen=True)
class REINFORCEConfig:
    """No rl-zoo entry exists; defaults are Sutton & Barto's setting with Adam and the sizes of our other
    policy nets."""

    num_envs: int = 8  # env copies playing episodes side by side
    batch_episodes: int = 16  # finished episodes per gradient step
    learning_rate: float = 1e-3  # Adam step size, policy and baseline
    gamma: float = 0.99  # discount
    vf_coef: float = 0.5  # baseline (value) loss weight
    ent_coef: float = 0.0  # entropy bonus weight
    max_grad_norm: float = 0.5  # gradient norm clip
    normalize_advantage: bool = False  # the textbook uses G - V as it is
    hidden_sizes: tuple[int, ...] = (64, 64)
    activation: str = "tanh"
    log_std_init: float = 0.0
    seed: int | None = None

    def __post_init__(self):
        check_positive(self, "num_envs", "batch_episodes", "learning_rate", "max_grad_norm")
        check_fraction(self, "gamma")


class REINFORCE(DeepAgent):
    """Monte Carlo policy gradient with a learned state-value baseline; see the module docstring."""

    config_class = REINFORCEConfig

    def _build(self) -> None:
        config = self.config
        self.policy = ActorCritic(self.encoder, self.action_space, config.hidden_sizes, config.activation,
                                  config.log_std_init).to(self.device)
        self.parameters = list(self.policy.parameters())
        self.optimizer = torch.optim.Adam(self.parameters, lr=config.learning_rate,
                                          **fused_if_cpu(self.device))

    def _modules(self) -> dict[str, torch.nn.Module]:
        return {"policy": self.policy}

    def _optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"optimizer": self.optimizer}

    def _on_env_attached(self) -> None:
        self._episodes_in_flight: list[list[tuple]] = [[] for _ in range(self.num_envs)]

    def _restart_envs(self) -> None:
        super()._restart_envs()
        self._on_env_attached()  # episodes cut by the restart are dropped

    def _act(self, x: torch.Tensor, deterministic: bool) -> torch.Tensor:
        return self.policy.act(self.policy.policy_params(x), deterministic, self.generator)

    def _values(self, x: torch.Tensor) -> torch.Tensor:
        return self.policy.value(x)

    def _iteration(self) -> dict[str, float]:
        episodes = self._play_episodes()
        return self._update(episodes)

    @torch.no_grad()
    def _play_episodes(self) -> list[dict]:
        """Step all copies until `batch_episodes` episodes have ended; each as obs, actions, rewards and the
        value its tail bootstraps from (0 if terminated, V(last obs) if truncated)."""
        finished: list[dict] = []
        while len(finished) < self.config.batch_episodes:
            x = self._input(self._obs)
            actions = self._act(x, deterministic=False)
            obs, rewards, terminated, truncated, _ = self.env.step(self._env_actions(actions))
            obs = self.encoder.to_storage(obs)
            valid = self.tracker.update(rewards, terminated, truncated)
            self.num_timesteps += self.num_envs
            for i in np.flatnonzero(valid):
                self._episodes_in_flight[i].append((x[i], actions[i], float(rewards[i])))
                if terminated[i] or truncated[i]:
                    tail = 0.0 if terminated[i] else float(self._values(self._input(obs[i:i + 1]))[0])
                    steps = self._episodes_in_flight[i]
                    finished.append({"x": torch.stack([s[0] for s in steps]),
                                     "actions": torch.stack([s[1] for s in steps]),
                                     "rewards": np.array([s[2] for s in steps]), "tail": tail})
                    self._episodes_in_flight[i] = []
            self._obs = obs
        return finished

    def _update(self, episodes: list[dict]) -> dict[str, float]:
        config = self.config
        returns = []
        for episode in episodes:
            g, out = episode["tail"], np.empty(len(episode["rewards"]))
            for t in range(len(out) - 1, -1, -1):
                g = episode["rewards"][t] + config.gamma * g
                out[t] = g
            returns.append(out)
        x = torch.cat([e["x"] for e in episodes])
        actions = torch.cat([e["actions"] for e in episodes])
        target = torch.as_tensor(np.concatenate(returns), dtype=torch.float32, device=self.device)
        figures = policy_gradient_step(self, x, actions, target)
        return dict(figures, episodes=len(episodes),
                    mean_episode_return=float(np.mean([e["rewards"].sum() for e in episodes])))
