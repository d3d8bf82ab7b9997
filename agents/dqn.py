"""Deep Q-Network (Mnih et al. 2015) as stable-baselines3 runs it, with double Q-learning (van Hasselt et al.
2016) and a dueling head (Wang et al. 2016) as options, on `nets` Q-networks.

Act in `num_envs` copies (uniformly at random while fewer than `learning_starts` steps were taken, then
epsilon-greedily) and store every transition in a replay buffer; after every `train_freq` vector steps, once
more than `learning_starts` steps were taken, take `gradient_steps` Adam steps on the Huber loss between
Q(s, a) and

    y = r + gamma * (1 - terminated) * max_a' Q_target(s', a')                 (plain DQN, SB3's)
    y = r + gamma * (1 - terminated) * Q_target(s', argmax_a' Q(s', a'))       (double_q)

A truncated episode's last transition bootstraps (only `terminated` zeroes the target). The target net follows
the online net by a Polyak average with weight `tau` (tau = 1 is a hard copy) every
max(target_update_interval // num_envs, 1) vector steps, as SB3 counts it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from gymnasium import spaces

from agents.buffers import ReplayBuffer
from agents.deep import DeepAgent, check_fraction, check_positive
from agents.networks import QNetwork
from agents.population import StackedOptimizer, apply_gradient, fused_if_cpu, gradient_step
from nets.stacked import StackedMLP, feature_major


@dataclass(frozen=True)
class DQNConfig:
    """Defaults: rl-zoo's tuned DQN for CartPole-v1 (hyperparams/dqn.yml) on SB3's DQN defaults; the double Q
    and dueling options are ours (off: SB3's DQN has neither)."""

    num_envs: int = 1  # env copies stepped together (rl-zoo n_envs 1)
    learning_rate: float = 2.3e-3  # Adam step size (rl-zoo)
    anneal_lr: bool = False  # step size falls linearly to 0 over training, read at each training round (ours)
    batch_size: int = 64  # transitions per gradient step (rl-zoo)
    buffer_size: int = 100_000  # replay capacity in transitions per member (rl-zoo)
    learning_starts: int = 1000  # random actions before this many steps; training only after it (rl-zoo)
    gamma: float = 0.99  # discount (rl-zoo)
    train_freq: int = 256  # vector steps (env.step calls) between training rounds (rl-zoo; SB3 TrainFreq step)
    gradient_steps: int = 128  # gradient steps per round; -1: as many as env steps the round took (rl-zoo)
    target_update_interval: int = 10  # env steps between target updates, counted as SB3 does (rl-zoo)
    tau: float = 1.0  # Polyak weight of a target update; 1 = hard copy (SB3 default)
    exploration_fraction: float = 0.16  # fraction of training over which epsilon falls (rl-zoo)
    exploration_initial_eps: float = 1.0  # (SB3 default)
    exploration_final_eps: float = 0.04  # (rl-zoo)
    max_grad_norm: float = 10.0  # gradient norm clip (SB3 default)
    double_q: bool = False  # the online net picks the next action, the target net values it (ours; SB3 has none)
    dueling: bool = False  # Q = V + A - mean(A) heads over one trunk (ours; SB3 has none)
    hidden_sizes: tuple[int, ...] = (256, 256)  # (rl-zoo net_arch)
    activation: str = "relu"  # (SB3 default)
    adam_eps: float = 1e-8  # Adam epsilon (SB3's DQN policy: torch's default)
    seed: int | None = None  # seeds the nets, exploration, replay sampling and the env copies (ours)

    def __post_init__(self):
        check_positive(self, "num_envs", "learning_rate", "batch_size", "buffer_size", "train_freq",
                       "target_update_interval", "max_grad_norm")
        check_fraction(self, "gamma", "tau", "exploration_fraction", "exploration_initial_eps",
                       "exploration_final_eps")
        if self.learning_starts < 0:
            raise ValueError(f"DQNConfig.learning_starts must be >= 0, got {self.learning_starts}")
        if self.gradient_steps < -1:
            raise ValueError(f"DQNConfig.gradient_steps must be >= 0 or -1, got {self.gradient_steps}")


def linear_epsilon(initial: float, final: float, fraction: float, progress_remaining: float) -> float:
    """SB3's LinearSchedule(initial, final, fraction) at `progress_remaining` (stable_baselines3/common/utils.py)."""
    done = 1.0 - progress_remaining
    return final if done > fraction else initial + done * (final - initial) / fraction


class DQN(DeepAgent):
    """DQN; see the module docstring. `DQN(env, seed=0)`, or a population `DQN(env, seeds=range(10))`."""

    config_class = DQNConfig

    def _build(self) -> None:
        if not isinstance(self.action_space, spaces.Discrete):
            raise ValueError(f"DQN needs a Discrete action space, got {self.action_space!r}")
        config = self.config
        self.q_net = QNetwork(self.encoder, int(self.action_space.n), config.hidden_sizes, config.activation,
                              config.dueling, self.seeds, self.device)
        self.target = self.q_net.target_stack()
        self.optimizer = StackedOptimizer(self.q_net.params, torch.optim.Adam, lr=config.learning_rate,
                                          eps=config.adam_eps, **fused_if_cpu(self.device))
        self.replay = ReplayBuffer(self.num_members, config.buffer_size, self.encoder.storage_shape,
                                   self.encoder.storage_dtype)
        self._mlp = self.q_net.stacked_mlp()  # None: updates backpropagate through autograd
        self._n_calls = 0
        self.exploration_rate = 0.0  # SB3 starts at 0 and sets it after every env step

    def _stacks(self):
        return {"q_net": self.q_net.params, "target_net": self.target}

    def _optimizers(self):
        return {"optimizer": self.optimizer}

    def _act(self, x: torch.Tensor, deterministic: bool) -> torch.Tensor:
        greedy = self.q_net(x).argmax(dim=-1)
        if deterministic:
            return greedy
        actions = self._explore(x.shape[1], self.exploration_rate)  # dqn.py DQN.predict: one coin per call
        return torch.where(torch.from_numpy(actions >= 0).to(self.device), torch.from_numpy(actions).to(self.device),
                           greedy)

    def _explore(self, batch: int, epsilon: float) -> np.ndarray:
        """(K, batch): random actions for the members whose coin (from their own generator) falls below
        epsilon, -1 for the others (SB3's DQN.predict: one draw decides the whole vector step)."""
        actions = np.full((self.num_members, batch), -1, dtype=np.int64)
        for k, rng in enumerate(self.generators.numpy):
            if rng.random() < epsilon:
                actions[k] = rng.integers(self.action_space.n, size=batch)
        return actions

    def _values(self, x: torch.Tensor) -> torch.Tensor:
        return self.q_net(x).max(dim=-1).values

    # Collect, then train ------------------------------------------------------------------------------------
    def _iteration(self) -> dict:
        config = self.config
        for _ in range(config.train_freq):
            self._collect_step()
        figures = {"epsilon": self.exploration_rate}
        # stable_baselines3/common/off_policy_algorithm.py OffPolicyAlgorithm.learn: train once past learning_starts
        if self.num_timesteps > 0 and self.num_timesteps > config.learning_starts:
            gradient_steps = config.gradient_steps if config.gradient_steps >= 0 else config.train_freq * self.num_envs
            if gradient_steps > 0:
                learning_rate = config.learning_rate * self.progress_remaining() if config.anneal_lr \
                    else config.learning_rate
                self.optimizer.set_learning_rate(learning_rate)
                figures.update(self.train(gradient_steps), learning_rate=learning_rate)
        return figures

    @torch.no_grad()
    def _collect_step(self) -> None:
        config, n = self.config, self.num_envs
        obs = self._per_member(self._obs)
        if self.num_timesteps < config.learning_starts:  # off_policy_algorithm.py _sample_action: uniform warm-up
            actions = np.stack([rng.integers(self.action_space.n, size=n) for rng in self.generators.numpy])
        else:
            actions = self._explore(n, self.exploration_rate)
            exploit = actions < 0
            if exploit.any():
                greedy = self.q_net(self._input(obs)).argmax(dim=-1).cpu().numpy()
                actions = np.where(exploit, greedy, actions)
        next_obs, rewards, terminated, truncated, final_obs = self.env.step(actions.reshape(-1))
        next_obs = self.encoder.to_storage(next_obs)
        done = self.tracker.update(rewards, terminated, truncated)
        stored_next = next_obs
        if done.any():  # the transition ends in the episode's last observation, not the next episode's first
            stored_next = next_obs.copy()
            stored_next[done] = self.encoder.to_storage(final_obs)
        per = self._per_member
        self.replay.add(obs, actions, per(rewards), per(stored_next), per(terminated))
        self._obs = next_obs
        self.num_timesteps += n
        self._n_calls += 1
        if self._n_calls % max(config.target_update_interval // n, 1) == 0:  # stable_baselines3/dqn/dqn.py _on_step
            self.target.polyak_(self.q_net.params, config.tau)
        self.exploration_rate = linear_epsilon(config.exploration_initial_eps, config.exploration_final_eps,
                                               config.exploration_fraction, self.progress_remaining())

    def epsilon(self) -> float:
        """The exploration rate the next exploring step uses (SB3's `exploration_rate`)."""
        return self.exploration_rate

    def targets(self, rewards: torch.Tensor, next_x: torch.Tensor, not_done: torch.Tensor,
                next_q_target: torch.Tensor | None = None) -> torch.Tensor:
        """(K, B) TD targets y for next-state inputs next_x (K, B, input); `next_q_target` (K, B, A) may hold the
        target net's values for next_x, computed beforehand."""
        if next_q_target is None:
            next_q_target = self.q_net.q_values(self.target, next_x)
        if self.config.double_q:  # the online net picks a', the target net values it
            next_actions = self.q_net(next_x).argmax(dim=-1, keepdim=True)
            next_values = next_q_target.gather(-1, next_actions).squeeze(-1)
        else:
            next_values = next_q_target.max(dim=-1).values
        return rewards + self.config.gamma * not_done * next_values

    def train(self, gradient_steps: int) -> dict:
        """`gradient_steps` updates of every member on minibatches its own generator sampled up front (one
        gather and one host-to-device copy per round). The target net is fixed during a round (it moves only
        while collecting): its values are computed once per distinct sampled row (`_target_q_of_round`), and
        plain DQN's TD targets for the whole round in one pass; with double Q the online net's choice of a' is
        made minibatch by minibatch, as it moves every step. The logged loss is computed once, after the round."""
        config, batch = self.config, self.config.batch_size
        index = self.replay.sample_indices(self.generators.numpy, gradient_steps * batch)
        obs, actions, rewards, next_obs, terminated = self.replay.gather(index)
        x, next_x = self._input(obs), self._input(next_obs)
        actions = torch.as_tensor(actions, device=self.device).unsqueeze(-1)
        rewards = torch.as_tensor(rewards, device=self.device)
        not_done = torch.as_tensor(~terminated, dtype=torch.float32, device=self.device)
        mlp = self._mlp if feature_major(batch) else None
        next_q = self._target_q_of_round(index, next_x, batch)
        with torch.no_grad():
            targets = torch.empty_like(rewards) if config.double_q else self.targets(rewards, next_x, not_done, next_q)
        q_taken = torch.empty_like(targets)  # Q(s, a) of every minibatch, as each step saw it
        if mlp is not None:  # the gradient of the Huber loss on the chosen action only: a one-hot mask
            chosen = torch.zeros(*actions.shape[:2], self.q_net.num_actions, device=self.device)
            chosen.scatter_(-1, actions, 1.0)
        for step in range(gradient_steps):
            rows = slice(step * batch, (step + 1) * batch)
            if config.double_q:
                with torch.no_grad():
                    targets[:, rows] = self.targets(rewards[:, rows], next_x[:, rows], not_done[:, rows],
                                                    next_q[:, rows])
            if mlp is not None:
                q_taken[:, rows] = self._huber_step(mlp, x[:, rows], actions[:, rows], chosen[:, rows],
                                                    targets[:, rows])
                continue
            q = self.q_net(x[:, rows]).gather(-1, actions[:, rows]).squeeze(-1)
            loss = torch.nn.functional.smooth_l1_loss(q, targets[:, rows], reduction="none").mean(1)
            gradient_step(self.q_net.params, self.optimizer, loss.sum(), config.max_grad_norm)
            q_taken[:, rows] = q.detach()
        with torch.no_grad():
            losses = torch.nn.functional.smooth_l1_loss(q_taken, targets, reduction="none")
            losses = losses.view(self.num_members, gradient_steps, batch).mean(2).mean(1)
        return {"loss": losses.cpu().numpy().astype(np.float64), "gradient_steps": float(gradient_steps)}

    @torch.no_grad()
    def _target_q_of_round(self, index: np.ndarray, next_x: torch.Tensor, batch: int) -> torch.Tensor:
        """The target net's Q (K, S, A) at a round's S sampled next inputs (K, S, ...), computed once per distinct
        buffer row: the target net is fixed during a round, and a round samples with replacement (8,192 rows of
        rl-zoo's CartPole round from a buffer of 1k-50k rows are 79% distinct on average). The distinct rows go
        through the net in chunks of `batch` (padded with repeats), the shapes a minibatch has, and each value
        depends on its own row only, so it is bit for bit the value the minibatch would compute."""
        distinct = [np.unique(row, return_index=True, return_inverse=True)[1:] for row in index]
        width = -(-max(len(first) for first, _ in distinct) // batch) * batch
        positions = torch.as_tensor(np.stack([np.resize(first, width) for first, _ in distinct]), device=self.device)
        inverse = torch.as_tensor(np.stack([inv.reshape(-1) for _, inv in distinct]), device=self.device)
        members = torch.arange(self.num_members, device=self.device)[:, None]
        next_distinct = next_x[members, positions]
        q = torch.cat([self.q_net.q_values(self.target, next_distinct[:, start:start + batch])
                       for start in range(0, width, batch)], dim=1)
        return q[members, inverse]

    @torch.no_grad()
    def _huber_step(self, mlp: StackedMLP, x: torch.Tensor, actions: torch.Tensor, chosen: torch.Tensor,
                    targets: torch.Tensor) -> torch.Tensor:
        """The gradient step of `train` on the online net as a StackedMLP: the Huber loss's gradient written by
        hand, backpropagated by `mlp`; the same numbers as autograd's. chosen (K, B, A): the actions taken, one
        hot. Returns Q(s, a) (K, B) before the step.

        d mean_b huber(q_b - y_b) / d q_b is clamp(q_b - y_b, -1, 1) / B, bit for bit what autograd's mean and
        smooth_l1_loss backward compute (smooth_l1_backward with beta 1: +-grad beyond the kink, x * grad inside
        it); placed on the chosen action by the one-hot mask (exact: x * 1 = x, x * 0 = +-0, a zero either way)."""
        members, batch = targets.shape
        q_all = mlp.forward(x.reshape(members, batch, -1).transpose(1, 2)).transpose(1, 2)  # (K, B, A)
        q = q_all.gather(-1, actions).squeeze(-1)
        grad_q = torch.sub(q, targets).clamp_(-1.0, 1.0).mul_(1.0 / batch)
        # (K, B, A) in the layout autograd's gather backward gives it (a fresh contiguous tensor; q_all's
        # feature-major strides would make the reductions over B round differently)
        mlp.backward(torch.mul(chosen, grad_q.unsqueeze(-1)).transpose(1, 2))
        apply_gradient(self.q_net.params, self.optimizer, self.config.max_grad_norm)
        return q

    # Resume state -----------------------------------------------------------------------------------------
    def _extra_state(self, members: list[int], resume: bool) -> dict:
        state = {"n_calls": self._n_calls, "exploration_rate": self.exploration_rate}
        if resume:
            state["replay"] = self.replay.state_dict(members)
        return state

    def _load_extra_state(self, state: dict) -> None:
        self._n_calls = int(state["n_calls"])
        self.exploration_rate = float(state["exploration_rate"])
        if "replay" in state:
            self.replay.load_state_dict(state["replay"])
