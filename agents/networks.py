"""Policy, value and Q networks for the deep agents, built only from `nets.mlp` / `nets.cnn`, and the two
action distributions (categorical for Discrete, diagonal Gaussian for Box) sampled from the agent's own
torch.Generator so that a run is reproducible without touching torch's global RNG.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from gymnasium import spaces
from torch import nn

from agents.encoding import ObservationEncoder
from nets.cnn import cnn, cnn_output_shapes
from nets.init import orthogonal_init
from nets.mlp import dense_stack, mlp

#: MinAtar's network (Young & Tian 2019): one 3x3 conv of 16 channels, stride 1, then a hidden layer.
MINATAR_CHANNELS = (16,)


def feature_trunk(encoder: ObservationEncoder, hidden_sizes: Sequence[int], activation: str,
                  cnn_channels: Sequence[int] = MINATAR_CHANNELS) -> tuple[nn.Module, int]:
    """(trunk, features): an MLP for flat inputs, a MinAtar-style CNN then MLP for (C, H, W) boards.

    The trunk ends with an activation; heads put their own Linear layer on top.
    """
    if encoder.kind == "image":
        # MinAtar's convs are unpadded; a board thinner than the 3x3 kernel (a 1 x 10 corridor) is zero-padded.
        padding = 1 if min(encoder.shape[1:]) < 3 else 0
        conv = cnn(encoder.shape, cnn_channels, kernel_sizes=3, strides=1, paddings=padding, head=(),
                   activation=activation)
        c, h, w = cnn_output_shapes(encoder.shape, cnn_channels, 3, 1, padding)[-1]
        layers = [conv, *dense_stack(c * h * w, hidden_sizes, activation)]
        width = int(hidden_sizes[-1]) if len(hidden_sizes) else c * h * w
        return nn.Sequential(*layers), width
    layers = dense_stack(encoder.flat_dim, hidden_sizes, activation)
    width = int(hidden_sizes[-1]) if len(hidden_sizes) else encoder.flat_dim
    return nn.Sequential(*layers) if layers else nn.Identity(), width


class Categorical:
    """Discrete actions from logits (N, A)."""

    def __init__(self, num_actions: int):
        self.num_params = num_actions

    def sample(self, logits: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        # Gumbel-max: argmax(logits + Gumbel noise) is a draw from softmax(logits).
        uniform = torch.rand(logits.shape, generator=generator, device=logits.device).clamp_(1e-20, 1.0)
        return torch.argmax(logits - torch.log(-torch.log(uniform)), dim=-1)

    def mode(self, logits: torch.Tensor) -> torch.Tensor:
        return torch.argmax(logits, dim=-1)

    def log_prob(self, logits: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        return torch.log_softmax(logits, dim=-1).gather(-1, actions.long().unsqueeze(-1)).squeeze(-1)

    def entropy(self, logits: torch.Tensor) -> torch.Tensor:
        log_p = torch.log_softmax(logits, dim=-1)
        return -(log_p.exp() * log_p).sum(-1)


class DiagonalGaussian:
    """Box actions: mean (N, D) from the net, a state-independent log std parameter (D,)."""

    def __init__(self, dim: int):
        self.num_params = dim

    def sample(self, mean: torch.Tensor, log_std: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        noise = torch.randn(mean.shape, generator=generator, device=mean.device)
        return mean + log_std.exp() * noise

    def log_prob(self, mean: torch.Tensor, log_std: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        z = (actions - mean) / log_std.exp()
        return (-0.5 * z**2 - log_std - 0.5 * math.log(2 * math.pi)).sum(-1)

    def entropy(self, log_std: torch.Tensor, batch: int) -> torch.Tensor:
        return (0.5 + 0.5 * math.log(2 * math.pi) + log_std).sum(-1).expand(batch)


class ActorCritic(nn.Module):
    """Policy and state-value nets. Flat inputs: two separate MLPs (stable-baselines3's default); boards: one
    shared CNN trunk with a policy and a value head. Orthogonal init: sqrt(2) hidden, 0.01 policy, 1 value.
    """

    def __init__(self, encoder: ObservationEncoder, action_space: spaces.Space, hidden_sizes: Sequence[int],
                 activation: str = "tanh", log_std_init: float = 0.0):
        super().__init__()
        if isinstance(action_space, spaces.Discrete):
            self.distribution = Categorical(int(action_space.n))
            self.log_std = None
        elif isinstance(action_space, spaces.Box) and len(action_space.shape) == 1:
            self.distribution = DiagonalGaussian(int(action_space.shape[0]))
            self.log_std = nn.Parameter(torch.full((action_space.shape[0],), float(log_std_init)))
        else:
            raise ValueError(f"policy-gradient agents take Discrete or 1-d Box actions, got {action_space!r}")
        self.shared = encoder.kind == "image"
        n_out = self.distribution.num_params
        if self.shared:
            trunk, width = feature_trunk(encoder, hidden_sizes, activation)
            self.trunk = orthogonal_init(trunk)
            self.policy_head = orthogonal_init(mlp(width, [], n_out), output_gain=0.01)
            self.value_head = orthogonal_init(mlp(width, [], 1), output_gain=1.0)
        else:
            self.policy_net = orthogonal_init(mlp(encoder.flat_dim, hidden_sizes, n_out, activation), output_gain=0.01)
            self.value_net = orthogonal_init(mlp(encoder.flat_dim, hidden_sizes, 1, activation), output_gain=1.0)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x (N, *input) -> (policy parameters (N, A or D), values (N,))."""
        if self.shared:
            features = self.trunk(x)
            return self.policy_head(features), self.value_head(features).squeeze(-1)
        return self.policy_net(x), self.value_net(x).squeeze(-1)

    def policy_params(self, x: torch.Tensor) -> torch.Tensor:
        return self.policy_head(self.trunk(x)) if self.shared else self.policy_net(x)

    def value(self, x: torch.Tensor) -> torch.Tensor:
        return (self.value_head(self.trunk(x)) if self.shared else self.value_net(x)).squeeze(-1)

    # The distribution, whatever its kind ----------------------------------------------------------------------
    def act(self, params: torch.Tensor, deterministic: bool, generator: torch.Generator) -> torch.Tensor:
        if isinstance(self.distribution, Categorical):
            return self.distribution.mode(params) if deterministic else self.distribution.sample(params, generator)
        return params if deterministic else self.distribution.sample(params, self.log_std, generator)

    def log_prob(self, params: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        if isinstance(self.distribution, Categorical):
            return self.distribution.log_prob(params, actions)
        return self.distribution.log_prob(params, self.log_std, actions)

    def entropy(self, params: torch.Tensor) -> torch.Tensor:
        if isinstance(self.distribution, Categorical):
            return self.distribution.entropy(params)
        return self.distribution.entropy(self.log_std, params.shape[0])


class QNetwork(nn.Module):
    """Q(s, .) for Discrete actions; dueling (Wang et al. 2016): Q = V + A - mean(A) over one shared trunk."""

    def __init__(self, encoder: ObservationEncoder, num_actions: int, hidden_sizes: Sequence[int],
                 activation: str = "relu", dueling: bool = False):
        super().__init__()
        self.dueling = dueling
        self.trunk, width = feature_trunk(encoder, hidden_sizes, activation)
        self.advantage = mlp(width, [], num_actions)
        self.state_value = mlp(width, [], 1) if dueling else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.trunk(x)
        advantage = self.advantage(features)
        if not self.dueling:
            return advantage
        return self.state_value(features) + advantage - advantage.mean(dim=-1, keepdim=True)
