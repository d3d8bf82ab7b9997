"""Policy, value and Q networks of a population of K members, and the two action distributions.

Each member's nets are built only from `nets.mlp` / `nets.cnn` with torch seeded from the member's seed, so
member k starts from exactly the nets of a single run with seed k; their tensors are then stacked along a
member axis (`nets.stacked.ParameterStack`) and applied to all members at once with batched matmuls (the
convolution as a matmul on unfolded patches). Activations are (K, batch, features). Distributions take their
parameters as (K, batch, A) and draw from noise that each member's own generator made.
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
from nets.stacked import (
    ParameterStack,
    StackedMLP,
    activation_function,
    feature_major,
    linear_layers,
    stacked_conv2d,
    stacked_linear,
)

#: MinAtar's network (Young & Tian 2019): one 3x3 conv of 16 channels, stride 1, then a hidden layer.
MINATAR_CHANNELS = (16,)


def conv_padding(encoder: ObservationEncoder) -> int:
    """MinAtar's convs are unpadded; a board thinner than the 3x3 kernel (a 1 x 10 corridor) is zero-padded."""
    return 1 if min(encoder.shape[1:]) < 3 else 0


def feature_trunk(encoder: ObservationEncoder, hidden_sizes: Sequence[int], activation: str,
                  cnn_channels: Sequence[int] = MINATAR_CHANNELS) -> tuple[nn.Module, int]:
    """(trunk, features) of one net: an MLP for flat inputs, a MinAtar-style CNN then MLP for (C, H, W) boards.

    The trunk ends with an activation; heads put their own Linear layer on top.
    """
    if encoder.kind == "image":
        padding = conv_padding(encoder)
        conv = cnn(encoder.shape, cnn_channels, kernel_sizes=3, strides=1, paddings=padding, head=(),
                   activation=activation)
        c, h, w = cnn_output_shapes(encoder.shape, cnn_channels, 3, 1, padding)[-1]
        layers = [conv, *dense_stack(c * h * w, hidden_sizes, activation)]
        width = int(hidden_sizes[-1]) if len(hidden_sizes) else c * h * w
        return nn.Sequential(*layers), width
    layers = dense_stack(encoder.flat_dim, hidden_sizes, activation)
    width = int(hidden_sizes[-1]) if len(hidden_sizes) else encoder.flat_dim
    return nn.Sequential(*layers) if layers else nn.Identity(), width


# Distributions over a (K, A, B) parameter layout -------------------------------------------------------------
class Categorical:
    """Discrete actions from logits (K, B, A); actions (K, B)."""

    def __init__(self, num_actions: int):
        self.num_params = num_actions

    def noise(self, steps: int, batch: int, generator: torch.Generator) -> torch.Tensor:
        """(steps, batch, A) Gumbel noise for one member: argmax(logits + noise) is a draw from softmax(logits)."""
        uniform = torch.rand((steps, batch, self.num_params), generator=generator, device=generator.device)
        return -torch.log(-torch.log(uniform.clamp_(1e-20, 1.0)))

    def sample(self, logits: torch.Tensor, noise: torch.Tensor, log_std=None) -> torch.Tensor:
        return torch.argmax(logits + noise, dim=-1)

    def mode(self, logits: torch.Tensor) -> torch.Tensor:
        return torch.argmax(logits, dim=-1)

    def log_prob_entropy(self, logits: torch.Tensor, actions: torch.Tensor | None, log_std=None,
                         with_entropy: bool = True, with_log_prob: bool = True):
        """(log pi(a), entropy), each (K, B) or None when not asked for, from one log-softmax."""
        log_p = torch.log_softmax(logits, dim=-1)
        log_prob = log_p.gather(-1, actions.long().unsqueeze(-1)).squeeze(-1) if with_log_prob else None
        return log_prob, (-(log_p.exp() * log_p).sum(-1) if with_entropy else None)


class DiagonalGaussian:
    """Box actions: means (K, B, D) from the net, a state-independent log std parameter (K, 1, D)."""

    def __init__(self, dim: int):
        self.num_params = dim

    def noise(self, steps: int, batch: int, generator: torch.Generator) -> torch.Tensor:
        return torch.randn((steps, batch, self.num_params), generator=generator, device=generator.device)

    def sample(self, mean: torch.Tensor, noise: torch.Tensor, log_std: torch.Tensor) -> torch.Tensor:
        return mean + log_std.exp() * noise

    def mode(self, mean: torch.Tensor) -> torch.Tensor:
        return mean

    def log_prob_entropy(self, mean: torch.Tensor, actions: torch.Tensor | None, log_std: torch.Tensor,
                         with_entropy: bool = True, with_log_prob: bool = True):
        log_prob = None
        if with_log_prob:
            z = (actions - mean) / log_std.exp()
            log_prob = (-0.5 * z**2 - log_std - 0.5 * math.log(2 * math.pi)).sum(-1)
        entropy = (0.5 + 0.5 * math.log(2 * math.pi) + log_std).sum(-1).expand(mean.shape[0], mean.shape[1]) \
            if with_entropy else None
        return log_prob, entropy


def distribution_for(action_space: spaces.Space):
    if isinstance(action_space, spaces.Discrete):
        return Categorical(int(action_space.n))
    if isinstance(action_space, spaces.Box) and len(action_space.shape) == 1:
        return DiagonalGaussian(int(action_space.shape[0]))
    raise ValueError(f"policy-gradient agents take Discrete or 1-d Box actions, got {action_space!r}")


# The stacked trunk: convs, then dense layers --------------------------------------------------------------------
def trunk_tensors(trunk: nn.Module, prefix: str = "trunk.") -> list[tuple[str, torch.Tensor]]:
    """A `feature_trunk` module's tensors by stacked name: conv kernels and (out, 1) column biases."""
    tensors = []
    for i, conv in enumerate(m for m in trunk.modules() if isinstance(m, nn.Conv2d)):
        tensors += [(f"{prefix}conv{i}.weight", conv.weight), (f"{prefix}conv{i}.bias", conv.bias[:, None])]
    for i, layer in enumerate(linear_layers(trunk)):
        tensors += [(f"{prefix}dense{i}.weight", layer.weight), (f"{prefix}dense{i}.bias", layer.bias[None, :])]
    return tensors


class StackedTrunk:
    """Apply K members' `feature_trunk`s to net inputs (K, B, *input) -> features (K, B, width)."""

    def __init__(self, encoder: ObservationEncoder, trunk: nn.Module, activation: str, prefix: str = "trunk."):
        self.image = encoder.kind == "image"
        self.input_shape = encoder.shape
        self.padding = conv_padding(encoder) if self.image else 0
        self.convs = sum(isinstance(m, nn.Conv2d) for m in trunk.modules())
        self.denses = len(linear_layers(trunk))
        self.act = activation_function(activation)
        self.prefix = prefix

    def __call__(self, params: ParameterStack, x: torch.Tensor, fm: bool) -> torch.Tensor:
        """Features (K, width, B) when `fm` (feature-major), else (K, B, width)."""
        members, batch = x.shape[:2]
        p, act = self.prefix, self.act
        if self.image:
            z = x.reshape(members, batch, *self.input_shape).transpose(0, 1)
            z = z.reshape(batch, members * self.input_shape[0], *self.input_shape[1:])
            for i in range(self.convs):
                y, shape = stacked_conv2d(z, params[f"{p}conv{i}.weight"], params[f"{p}conv{i}.bias"], 1, self.padding)
                y = act(y)  # (K, out, B, H' * W')
                if i + 1 < self.convs:
                    z = y.permute(2, 0, 1, 3).reshape(batch, -1, *shape)
            # nets.cnn flattens each board as (channel, row, column)
            z = y.permute(0, 1, 3, 2) if fm else y.transpose(1, 2)
            z = z.reshape(members, -1, batch) if fm else z.reshape(members, batch, -1)
        else:
            z = x.reshape(members, batch, -1)
            z = z.transpose(1, 2) if fm else z
        for i in range(self.denses):
            z = act(stacked_linear(z, params[f"{p}dense{i}.weight"], params[f"{p}dense{i}.bias"], fm))
        return z


def batch_major(out: torch.Tensor, fm: bool) -> torch.Tensor:
    """An output (K, out, B) (feature-major) or (K, B, out) as (K, B, out)."""
    return out.transpose(1, 2) if fm else out


def seeded_members(build, seeds: Sequence[int]) -> list:
    """`build()` once per seed with torch's global RNG seeded from it (restored afterwards)."""
    members = []
    for seed in seeds:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(seed))
            members.append(build())
    return members


# Actor-critic ---------------------------------------------------------------------------------------------
class ActorCritic:
    """Policy and state-value nets of K members. Flat inputs: two separate MLPs per member (stable-baselines3's
    default), whose first layers read the same input and run as one matmul; boards: one shared CNN trunk with a
    policy and a value head (run as one matmul). Orthogonal init: sqrt(2) hidden, 0.01 policy, 1 value.
    """

    def __init__(self, encoder: ObservationEncoder, action_space: spaces.Space, hidden_sizes: Sequence[int],
                 activation: str = "tanh", log_std_init: float = 0.0, seeds: Sequence[int] = (0,),
                 device: torch.device | str = "cpu"):
        self.encoder, self.action_space = encoder, action_space
        self.hidden_sizes, self.activation, self.log_std_init = tuple(hidden_sizes), activation, log_std_init
        self.distribution = distribution_for(action_space)
        self.shared = encoder.kind == "image"
        self._activation = activation_function(activation)
        members = seeded_members(self.build_member, seeds)
        self.params = ParameterStack([self._tensors(m) for m in members], device)
        if self.shared:
            self.stacked_trunk = StackedTrunk(encoder, members[0]["trunk"], activation)

    @property
    def num_members(self) -> int:
        return self.params.num_members

    @property
    def trunk(self) -> nn.Module:
        """Member 0's shared board trunk as an ordinary module (boards only)."""
        if not self.shared:
            raise AttributeError("flat observations have no shared trunk: see member_nets(k)")
        return self.member_nets(0)["trunk"]

    def build_member(self) -> nn.ModuleDict:
        """One member's ordinary nets, from `nets` (torch's global RNG must be seeded by the caller)."""
        n_out = self.distribution.num_params
        nets = nn.ModuleDict()
        if self.shared:
            trunk, width = feature_trunk(self.encoder, self.hidden_sizes, self.activation)
            nets["trunk"] = orthogonal_init(trunk)
            nets["policy_head"] = orthogonal_init(mlp(width, [], n_out), output_gain=0.01)
            nets["value_head"] = orthogonal_init(mlp(width, [], 1), output_gain=1.0)
        else:
            d = self.encoder.flat_dim
            nets["policy_net"] = orthogonal_init(mlp(d, self.hidden_sizes, n_out, self.activation), output_gain=0.01)
            nets["value_net"] = orthogonal_init(mlp(d, self.hidden_sizes, 1, self.activation), output_gain=1.0)
        if isinstance(self.distribution, DiagonalGaussian):
            nets["log_std"] = nn.ParameterList([nn.Parameter(torch.full((n_out,), float(self.log_std_init)))])
        return nets

    def _tensors(self, nets: nn.ModuleDict) -> list[tuple[str, torch.Tensor]]:
        if self.shared:
            heads = [nets["policy_head"][0], nets["value_head"][0]]
            tensors = trunk_tensors(nets["trunk"])
            tensors += [("heads.weight", torch.cat([h.weight for h in heads])),
                        ("heads.bias", torch.cat([h.bias for h in heads])[None, :])]
        else:
            policy, value = linear_layers(nets["policy_net"]), linear_layers(nets["value_net"])
            tensors = []
            if len(policy) > 1:
                tensors += [("hidden0.weight", torch.cat([policy[0].weight, value[0].weight])),
                            ("hidden0.bias", torch.cat([policy[0].bias, value[0].bias])[None, :])]
            for name, layers in (("policy", policy), ("value", value)):
                for i in range(1, len(layers) - 1):
                    tensors += [(f"{name}.hidden{i}.weight", layers[i].weight),
                                (f"{name}.hidden{i}.bias", layers[i].bias[None, :])]
                tensors += [(f"{name}.out.weight", layers[-1].weight), (f"{name}.out.bias", layers[-1].bias[None, :])]
        if "log_std" in nets:
            tensors.append(("log_std", nets["log_std"][0][None, :]))
        return tensors

    def member_nets(self, k: int) -> nn.ModuleDict:
        """Member k's nets as ordinary modules (the single run's architecture), holding its current weights."""
        with torch.random.fork_rng(devices=[]):
            nets = self.build_member()
        tensors = self.params.member(k)
        with torch.no_grad():
            for name, target in self._tensors(nets):
                if name in ("hidden0.weight", "hidden0.bias", "heads.weight", "heads.bias"):
                    continue
                target.copy_(tensors[name].reshape(target.shape))
            if self.shared:
                width = nets["policy_head"][0].weight.shape[0]
                nets["policy_head"][0].weight.copy_(tensors["heads.weight"][:width])
                nets["policy_head"][0].bias.copy_(tensors["heads.bias"][0, :width])
                nets["value_head"][0].weight.copy_(tensors["heads.weight"][width:])
                nets["value_head"][0].bias.copy_(tensors["heads.bias"][0, width:])
            elif "hidden0.weight" in tensors:
                policy, value = linear_layers(nets["policy_net"]), linear_layers(nets["value_net"])
                h = policy[0].weight.shape[0]
                policy[0].weight.copy_(tensors["hidden0.weight"][:h])
                value[0].weight.copy_(tensors["hidden0.weight"][h:])
                policy[0].bias.copy_(tensors["hidden0.bias"][0, :h])
                value[0].bias.copy_(tensors["hidden0.bias"][0, h:])
        return nets

    # Forward passes: x (K, B, input) -> (K, B, A) policy parameters and (K, B) values ---------------------------
    def forward(self, x: torch.Tensor, fm: bool | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """`fm` forces the layout (`nets.stacked.stacked_linear`); by default it follows the batch size. What feeds
        the updates is computed feature-major, which rounds a member's numbers the same whatever K is."""
        p = self.params
        fm = feature_major(x.shape[1]) if fm is None else fm
        if self.shared:
            out = stacked_linear(self.stacked_trunk(p, x, fm), p["heads.weight"], p["heads.bias"], fm)
            logits, values = out.split(self.distribution.num_params, dim=1 if fm else 2)
        else:
            hp, hv = self._hidden(x, True, fm)
            logits = stacked_linear(hp, p["policy.out.weight"], p["policy.out.bias"], fm)
            values = stacked_linear(hv, p["value.out.weight"], p["value.out.bias"], fm)
        # A value's gradient must reach the value head as it left it: (K, 1, B) feature-major, not a transposed copy
        return batch_major(logits, fm), (values[:, 0] if fm else values[..., 0])

    def policy_params(self, x: torch.Tensor) -> torch.Tensor:
        if self.shared:
            return self.forward(x)[0]
        p, fm = self.params, feature_major(x.shape[1])
        hp = self._hidden(x, False, fm)[0]
        return batch_major(stacked_linear(hp, p["policy.out.weight"], p["policy.out.bias"], fm), fm)

    def value(self, x: torch.Tensor, fm: bool | None = None) -> torch.Tensor:
        return self.forward(x, fm)[1]

    def _hidden(self, x: torch.Tensor, value: bool, fm: bool):
        p, act, layers = self.params, self._activation, len(self.hidden_sizes)
        z = x.reshape(x.shape[0], x.shape[1], -1)
        z = z.transpose(1, 2) if fm else z
        if layers == 0:
            return z, z
        first, features = self.hidden_sizes[0], 1 if fm else 2
        if value:
            # split, not slicing: its backward is one concatenation, where two slices would each fill a zero tensor
            hp, hv = act(stacked_linear(z, p["hidden0.weight"], p["hidden0.bias"], fm)).split(first, dim=features)
        else:
            hp = act(stacked_linear(z, p["hidden0.weight"][:, :first], p["hidden0.bias"][:, :, :first], fm))
            hv = None
        for i in range(1, layers):
            hp = act(stacked_linear(hp, p[f"policy.hidden{i}.weight"], p[f"policy.hidden{i}.bias"], fm))
            if value:
                hv = act(stacked_linear(hv, p[f"value.hidden{i}.weight"], p[f"value.hidden{i}.bias"], fm))
        return hp, hv

    # The distribution, whatever its kind ------------------------------------------------------------------------
    @property
    def log_std(self) -> torch.Tensor | None:
        return self.params["log_std"] if "log_std" in self.params else None

    def act(self, params: torch.Tensor, deterministic: bool, noise: torch.Tensor | None) -> torch.Tensor:
        if deterministic:
            return self.distribution.mode(params)
        return self.distribution.sample(params, noise, self.log_std)

    def log_prob_entropy(self, params: torch.Tensor, actions: torch.Tensor | None, with_entropy: bool = True,
                         with_log_prob: bool = True):
        return self.distribution.log_prob_entropy(params, actions, self.log_std, with_entropy, with_log_prob)


# Q-network --------------------------------------------------------------------------------------------------
class QNetwork:
    """Q(s, .) of K members for Discrete actions; dueling (Wang et al. 2016): Q = V + A - mean(A) on one trunk.
    Default (torch) initialization, as stable-baselines3's QNetwork. The heads run as one matmul."""

    def __init__(self, encoder: ObservationEncoder, num_actions: int, hidden_sizes: Sequence[int],
                 activation: str = "relu", dueling: bool = False, seeds: Sequence[int] = (0,),
                 device: torch.device | str = "cpu"):
        self.encoder, self.num_actions = encoder, int(num_actions)
        self.hidden_sizes, self.activation, self.dueling = tuple(hidden_sizes), activation, dueling
        online = seeded_members(self._build_pair, seeds)
        self.params = ParameterStack([self._tensors(m) for m in online], device)
        self.trunk = StackedTrunk(encoder, online[0]["trunk"], activation)

    def target_stack(self) -> ParameterStack:
        """A stack of the same layout holding a copy of the online weights (the target network)."""
        return ParameterStack([list(self.params.member(k).items()) for k in range(self.num_members)],
                              self.params.device)

    @property
    def num_members(self) -> int:
        return self.params.num_members

    def build_member(self) -> nn.ModuleDict:
        trunk, width = feature_trunk(self.encoder, self.hidden_sizes, self.activation)
        nets = nn.ModuleDict({"trunk": trunk, "advantage": mlp(width, [], self.num_actions)})
        if self.dueling:
            nets["state_value"] = mlp(width, [], 1)
        return nets

    def _build_pair(self):
        # The single run builds its online net, then a target net (drawing from the same seeded RNG) that a
        # copy of the online weights then overwrites: the same draws keep member k equal to single run k.
        online = self.build_member()
        self.build_member()
        return online

    def _tensors(self, nets: nn.ModuleDict) -> list[tuple[str, torch.Tensor]]:
        heads = [nets["advantage"][0]] + ([nets["state_value"][0]] if self.dueling else [])
        return trunk_tensors(nets["trunk"]) + [("heads.weight", torch.cat([h.weight for h in heads])),
                                               ("heads.bias", torch.cat([h.bias for h in heads])[None, :])]

    def member_nets(self, k: int, params: ParameterStack | None = None) -> nn.ModuleDict:
        """Member k's Q-network as an ordinary module holding its current weights (or those of `params`, e.g. the
        target network's stack)."""
        with torch.random.fork_rng(devices=[]):
            nets = self.build_member()
        tensors = (params or self.params).member(k)
        with torch.no_grad():
            for name, target in trunk_tensors(nets["trunk"]):
                target.copy_(tensors[name].reshape(target.shape))
            a = self.num_actions
            nets["advantage"][0].weight.copy_(tensors["heads.weight"][:a])
            nets["advantage"][0].bias.copy_(tensors["heads.bias"][0, :a])
            if self.dueling:
                nets["state_value"][0].weight.copy_(tensors["heads.weight"][a:])
                nets["state_value"][0].bias.copy_(tensors["heads.bias"][0, a:])
        return nets

    def stacked_mlp(self, skip_dead_units: bool | None = None) -> StackedMLP | None:
        """The online net as a `StackedMLP` (hand-written backward) where it is one: a dense trunk, no dueling
        heads, a unit StackedMLP knows; else None. skip_dead_units: StackedMLP's (default: relu on CPU)."""
        if self.trunk.image or self.dueling or self.activation not in StackedMLP.units:
            return None
        return StackedMLP(self.params, [f"trunk.dense{i}" for i in range(self.trunk.denses)] + ["heads"],
                          self.activation, skip_dead_units)

    def q_values(self, params: ParameterStack, x: torch.Tensor) -> torch.Tensor:
        """x (K, B, input) -> Q (K, B, A) under `params` (the online stack or a target stack of the same layout)."""
        fm = feature_major(x.shape[1])
        out = stacked_linear(self.trunk(params, x, fm), params["heads.weight"], params["heads.bias"], fm)
        out = batch_major(out, fm)
        if not self.dueling:
            return out
        advantage, state_value = out.split(self.num_actions, dim=-1)
        return state_value + advantage - advantage.mean(dim=-1, keepdim=True)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return self.q_values(self.params, x)
