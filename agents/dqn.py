"""Deep Q-Network (Mnih et al. 2015) with double Q-learning (van Hasselt et al. 2016) and an optional dueling
head (Wang et al. 2016), on `nets` Q-networks.

Act epsilon-greedily in `num_envs` copies and store every real transition in a replay buffer; every
`train_freq` env steps take `gradient_steps` Adam steps on the Huber loss between Q(s, a) and

    y = r + gamma * (1 - terminated) * Q_target(s', argmax_a' Q(s', a'))     (double DQN)
    y = r + gamma * (1 - terminated) * max_a' Q_target(s', a')               (plain DQN)

A truncated episode's last transition bootstraps (only `terminated` zeroes the target), and the reset step
of next-step autoreset never enters the buffer. The target net follows the online net every
`target_update_interval` env steps, by a Polyak average with weight `tau` (tau = 1 is a hard copy).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from gymnasium import spaces

from agents.buffers import ReplayBuffer
from agents.deep import DeepAgent, check_fraction, check_positive, fused_if_cpu
from agents.networks import QNetwork
from agents.schedules import LinearDecay


@dataclass(frozen=True)
class DQNConfig:
    """Defaults: rl-zoo's tuned DQN for CartPole-v1 (hyperparams/dqn.yml) on SB3's DQN defaults; double Q on
    and dueling off are ours (SB3's DQN has neither)."""

    num_envs: int = 1  # env copies stepped together (rl-zoo n_envs 1)
    learning_rate: float = 2.3e-3  # Adam step size (rl-zoo)
    anneal_lr: bool = False  # step size falls linearly to 0 over training, settling the final policy (ours)
    batch_size: int = 64  # transitions per gradient step (rl-zoo)
    buffer_size: int = 100_000  # replay capacity in transitions (rl-zoo)
    learning_starts: int = 1000  # env steps before the first update (rl-zoo)
    gamma: float = 0.99  # discount (rl-zoo)
    train_freq: int = 256  # env steps between training rounds (rl-zoo)
    gradient_steps: int = 128  # gradient steps per round (rl-zoo)
    target_update_interval: int = 10  # env steps between target updates (rl-zoo)
    tau: float = 1.0  # Polyak weight of a target update; 1 = hard copy (SB3 default)
    exploration_fraction: float = 0.16  # fraction of training over which epsilon falls (rl-zoo)
    exploration_initial_eps: float = 1.0  # (SB3 default)
    exploration_final_eps: float = 0.04  # (rl-zoo)
    max_grad_norm: float = 10.0  # gradient norm clip (SB3 default)
    double_q: bool = True  # the online net picks the next action, the target net values it
    dueling: bool = False  # Q = V + A - mean(A) heads over one trunk
    hidden_sizes: tuple[int, ...] = (256, 256)  # (rl-zoo net_arch)
    activation: str = "relu"  # (SB3 default)
    seed: int | None = None  # seeds the nets, exploration, replay sampling and the env copies

    def __post_init__(self):
        check_positive(self, "num_envs", "learning_rate", "batch_size", "buffer_size", "train_freq",
                       "gradient_steps", "target_update_interval", "max_grad_norm")
        check_fraction(self, "gamma", "tau", "exploration_fraction", "exploration_initial_eps",
                       "exploration_final_eps")
        if self.learning_starts < 0:
            raise ValueError(f"DQNConfig.learning_starts must be >= 0, got {self.learning_starts}")


class DQN(DeepAgent):
    """DQN with double Q-learning and an optional dueling head; see the module docstring."""

    config_class = DQNConfig

    def _build(self) -> None:
        if not isinstance(self.action_space, spaces.Discrete):
            raise ValueError(f"DQN needs a Discrete action space, got {self.action_space!r}")
        config = self.config
        num_actions = int(self.action_space.n)
        self.q_net = QNetwork(self.encoder, num_actions, config.hidden_sizes, config.activation,
                              config.dueling).to(self.device)
        self.target_net = QNetwork(self.encoder, num_actions, config.hidden_sizes, config.activation,
                                   config.dueling).to(self.device)
        self.target_net.load_state_dict(self.q_net.state_dict())
        self.target_net.requires_grad_(False)
        self.parameters = list(self.q_net.parameters())  # listed once: walking the modules every step costs
        self.optimizer = torch.optim.Adam(self.parameters, lr=config.learning_rate,
                                          **fused_if_cpu(self.device))
        self.replay = ReplayBuffer(config.buffer_size, self.encoder.storage_shape, self.encoder.storage_dtype)
        self._steps_since_target_update = 0

    def _modules(self) -> dict[str, torch.nn.Module]:
        return {"q_net": self.q_net, "target_net": self.target_net}

    def _optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"optimizer": self.optimizer}

    def _act(self, x: torch.Tensor, deterministic: bool) -> torch.Tensor:
        greedy = self.q_net(x).argmax(dim=-1)
        if deterministic:
            return greedy
        explore = torch.from_numpy(self.rng.random(x.shape[0]) < self.epsilon()).to(self.device)
        random_actions = torch.from_numpy(self.rng.integers(self.action_space.n, size=x.shape[0])).to(self.device)
        return torch.where(explore, random_actions, greedy)

    def _values(self, x: torch.Tensor) -> torch.Tensor:
        return self.q_net(x).max(dim=-1).values

    def epsilon(self) -> float:
        """Exploration rate now: linear from initial to final over `exploration_fraction` of training."""
        config = self.config
        steps = max(int(config.exploration_fraction * self._learn_end), 1)
        return LinearDecay(config.exploration_initial_eps, config.exploration_final_eps, steps)(self.num_timesteps)

    # Collect, then train ------------------------------------------------------------------------------------
    def _iteration(self) -> dict[str, float]:
        config = self.config
        vector_steps = -(-config.train_freq // self.num_envs)  # ceil: at least train_freq env steps
        for _ in range(vector_steps):
            self._collect_step()
        if self.num_timesteps < config.learning_starts or self.replay.size < config.batch_size:
            return {"epsilon": self.epsilon()}
        learning_rate = self.annealed(config.learning_rate, config.anneal_lr)
        self.set_learning_rate(learning_rate)
        return {**self.train(config.gradient_steps), "epsilon": self.epsilon(), "learning_rate": learning_rate}

    @torch.no_grad()
    def _collect_step(self) -> None:
        obs = self._obs
        n = self.num_envs
        explore = self.rng.random(n) < self.epsilon()
        actions = self.rng.integers(self.action_space.n, size=n)
        if not explore.all():
            greedy = self.q_net(self._input(obs)).argmax(dim=-1).cpu().numpy()
            actions = np.where(explore, actions, greedy)
        next_obs, rewards, terminated, truncated, _ = self.env.step(actions)
        next_obs = self.encoder.to_storage(next_obs)
        valid = self.tracker.update(rewards, terminated, truncated)
        # next_obs after an end is the episode's last real observation (next-step autoreset): a truncated
        # transition bootstraps from it; the reset step that follows is not stored (valid is False there).
        self.replay.add(obs, actions, rewards, next_obs, terminated, valid)
        self._obs = next_obs
        self.num_timesteps += n
        self._steps_since_target_update += n
        if self._steps_since_target_update >= self.config.target_update_interval:
            self._steps_since_target_update = 0
            self._update_target()

    @torch.no_grad()
    def _update_target(self) -> None:
        tau = self.config.tau
        for target, online in zip(self.target_net.parameters(), self.q_net.parameters()):
            target.lerp_(online, tau)

    def train(self, gradient_steps: int) -> dict[str, float]:
        """`gradient_steps` updates on minibatches sampled up front (one host-to-device copy per round).

        The target net is fixed during a round (it moves only while collecting), so its values for every
        minibatch are computed in one forward pass.
        """
        config = self.config
        batch = config.batch_size
        obs, actions, rewards, next_obs, terminated = self.replay.sample(gradient_steps * batch, self.rng)
        obs, next_obs = self._input(obs), self._input(next_obs)
        actions = torch.as_tensor(actions, device=self.device).unsqueeze(1)
        rewards = torch.as_tensor(rewards, device=self.device)
        not_done = torch.as_tensor(~terminated, dtype=torch.float32, device=self.device)
        with torch.no_grad():
            next_q_target = self.target_net(next_obs)
        losses = torch.zeros(gradient_steps, device=self.device)
        for step in range(gradient_steps):
            rows = slice(step * batch, (step + 1) * batch)
            with torch.no_grad():
                if config.double_q:  # this step's online net picks a', the target net values it
                    next_actions = self.q_net(next_obs[rows]).argmax(dim=1, keepdim=True)
                    next_values = next_q_target[rows].gather(1, next_actions).squeeze(1)
                else:
                    next_values = next_q_target[rows].max(dim=1).values
            targets = rewards[rows] + config.gamma * not_done[rows] * next_values
            q = self.q_net(obs[rows]).gather(1, actions[rows]).squeeze(1)
            loss = torch.nn.functional.smooth_l1_loss(q, targets)
            self.gradient_step(loss)
            losses[step] = loss.detach()
        return {"loss": float(losses.mean()), "gradient_steps": gradient_steps}

    # Resume state -----------------------------------------------------------------------------------------
    def _extra_state(self, resume: bool) -> dict:
        state = {"steps_since_target_update": self._steps_since_target_update}
        if resume:
            state["replay"] = self.replay.state_dict()
        return state

    def _load_extra_state(self, state: dict) -> None:
        self._steps_since_target_update = int(state["steps_since_target_update"])
        if "replay" in state:
            self.replay.load_state_dict(state["replay"])
