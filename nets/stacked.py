"""Member-stacked parameters: K nets of one architecture trained side by side as one batched model.

Each member's net is built the ordinary way (`nets.mlp`, `nets.cnn`, initialized from its own seed);
`ParameterStack` copies the members' tensors into one (K, P) tensor, member k in row k, and hands out
(K, *shape) views of it that batched ops apply to all members at once: `stacked_linear` (`torch.baddbmm`)
and `stacked_conv2d` (a batched matmul on unfolded patches). The optimizer
sees the K rows as K parameters, so Adam or RMSprop over them is K independent optimizers, each with its own
step count, in one fused call; gradient-norm clipping is per row. `StackedMLP` runs a stacked MLP with a
hand-written backward for updates whose loss gradient is known in closed form (DQN's), equal bit for bit to
autograd's.

Measured with `python -m experiments.bench.population --only stacking` (2-core AMD EPYC, one torch thread; a
(64, 64) tanh MLP, batch 256, K = 10, forward + backward + Adam step): torch.func (stack_module_state +
functional_call + vmap) 10.2 ms, batched layers (baddbmm) 5.6 ms, a loop over K modules 11.4 ms, one module
alone 0.89 ms. Batched layers are used.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import nn

from nets.activations import hidden_unit

#: Row length of a ParameterStack is padded to a multiple of this many floats.
ROW_ALIGNMENT = 16


class ParameterStack:
    """K members' tensors in one (K, P) tensor `flat` and its gradient `grad`, with (K, *shape) views by name.

    members: one sequence of (name, tensor) per member, the same names and shapes in the same order for all.
    The views (`stack[name]`) are leaves that require grad; `backward(loss)` writes d loss / d views into
    `grad` (row k: member k), and `rows()` are the K row Parameters an optimizer steps (their .grad are rows of
    `grad`). A loss that sums the members' own losses gives each member exactly its own gradient.
    """

    def __init__(self, members: Sequence[Sequence[tuple[str, torch.Tensor]]], device: torch.device | str = "cpu"):
        if not members:
            raise ValueError("a ParameterStack needs at least one member")
        self.names = [name for name, _ in members[0]]
        self.shapes = {name: tuple(tensor.shape) for name, tensor in members[0]}
        for k, member in enumerate(members):
            shapes = [(name, tuple(tensor.shape)) for name, tensor in member]
            if shapes != [(name, self.shapes[name]) for name in self.names]:
                raise ValueError(f"member {k} has tensors {shapes}, member 0 has "
                                 f"{[(n, self.shapes[n]) for n in self.names]}")
        self.num_members = len(members)
        sizes = [math.prod(self.shapes[name]) for name in self.names]
        self.offsets = dict(zip(self.names, np.cumsum([0, *sizes[:-1]]).tolist()))
        self.size = int(sum(sizes))
        # Rows padded to a multiple of 16 floats (64 bytes): every member's row then has the same alignment, and
        # BLAS and vectorized reductions round a member's numbers the same way whatever its position in the stack.
        padding = torch.zeros(-self.size % ROW_ALIGNMENT)
        rows = [torch.cat([t.detach().cpu().reshape(-1).float() for _, t in member] + [padding]) for member in members]
        self.flat = torch.stack(rows).to(device)
        self._padding = torch.zeros(self.num_members, len(padding), device=self.flat.device)
        self.grad = torch.zeros_like(self.flat)
        self._views: dict[str, torch.Tensor] = {}
        for name in self.names:
            self._views[name] = self._named_view(self.flat, name).requires_grad_(True)
        self._leaves = [self._views[name] for name in self.names]
        self._rows = [nn.Parameter(self.flat[k]) for k in range(self.num_members)]
        for k, row in enumerate(self._rows):
            row.grad = self.grad[k]

    @property
    def device(self) -> torch.device:
        return self.flat.device

    def __getitem__(self, name: str) -> torch.Tensor:
        """The (K, *shape) view of tensor `name` (a leaf that requires grad)."""
        return self._views[name]

    def __contains__(self, name: str) -> bool:
        return name in self._views

    def grad_view(self, name: str) -> torch.Tensor:
        """The (K, *shape) view of `grad` holding d loss / d tensor `name`, for writing a gradient in place."""
        return self._named_view(self.grad, name)

    def _named_view(self, rows: torch.Tensor, name: str) -> torch.Tensor:
        """Tensor `name`'s columns of a (K, P) tensor laid out as `flat`, viewed as (K, *shape)."""
        start = self.offsets[name]
        return rows[:, start:start + math.prod(self.shapes[name])].view(self.num_members, *self.shapes[name])

    def rows(self) -> list[nn.Parameter]:
        """The K rows as Parameters aliasing `flat` (member k's whole net in row k), for one optimizer."""
        return self._rows

    def backward(self, loss: torch.Tensor) -> None:
        """Write d loss / d parameters into `grad` (one concatenation; views the loss does not use get 0)."""
        grads = torch.autograd.grad(loss, self._leaves, allow_unused=True, materialize_grads=True)
        torch.cat([g.reshape(self.num_members, -1) for g in grads] + [self._padding], dim=1, out=self.grad)

    def clip_grad_norm_(self, max_norm: float) -> torch.Tensor:
        """Scale each member's gradient to norm at most `max_norm` as `torch.nn.utils.clip_grad_norm_` does for
        one net (coefficient max_norm / (norm + 1e-6), capped at 1); returns the (K,) norms before clipping."""
        norms = torch.linalg.vector_norm(self.grad, dim=1)
        coefficients = (max_norm / (norms + 1e-6)).clamp_(max=1.0)
        # x * 1.0 is x: on CPU the pass over every gradient is skipped when no member clips (a GPU would wait
        # for the check, so there it always multiplies)
        if self.device.type != "cpu" or bool((coefficients < 1.0).any()):
            self.grad.mul_(coefficients.unsqueeze(1))
        return norms

    @torch.no_grad()
    def copy_from(self, other: ParameterStack) -> None:
        """Make this stack's values equal to `other`'s (same layout): a hard target-network copy."""
        self.flat.copy_(other.flat)

    @torch.no_grad()
    def polyak_(self, other: ParameterStack, tau: float) -> None:
        """self <- (1 - tau) self + tau other, written as stable-baselines3's `polyak_update` writes it; tau = 1 (a
        hard update, SB3's DQN default) is one copy: 0 * x + y is y (SB3's two passes can only turn a -0 into
        +0), and the copy is one pass over the weights instead of two, every `target_update_interval` steps."""
        if tau == 1.0:
            self.flat.copy_(other.flat)
            return
        self.flat.mul_(1.0 - tau).add_(other.flat, alpha=tau)

    def member(self, k: int) -> dict[str, torch.Tensor]:
        """Member k's tensors (copies) by name, in their ordinary shapes."""
        return {name: self._views[name][k].detach().clone() for name in self.names}

    @torch.no_grad()
    def load_flat(self, flat: torch.Tensor, members: Sequence[int] | None = None) -> None:
        """Set the values from a saved (K', P) tensor; `members` picks K' rows of this stack (all by default)."""
        rows = list(range(self.num_members)) if members is None else list(members)
        width = self.flat.shape[1]
        if tuple(flat.shape) != (len(rows), width):
            raise ValueError(f"saved parameters have shape {tuple(flat.shape)}, expected ({len(rows)}, {width})")
        self.flat[rows] = flat.to(self.flat.device, self.flat.dtype)


_DENORMAL = torch.tensor([1e-40], dtype=torch.float32)


@contextlib.contextmanager
def flush_denormals(device: torch.device):
    """Flush denormal floats to zero on the CPU within the block (`torch.set_flush_denormal`), restoring the
    setting found. For Adam's step: a weight whose gradient stays 0 (a dead ReLU's) has its first moment decay
    through the denormal range over hundreds of steps, and arithmetic on denormals is slow (measured: 360k of a
    K = 10 DQN population's 670k first moments denormal after 20k steps on CartPole, its Adam step 0.5 ms of
    7 ms slower). The weights do not change: a moment below 1e-38 moves a weight by about 1e-31 x lr, below the
    last bit of any weight not itself near 0 (tests/agents/test_population.py)."""
    if device.type != "cpu":
        yield
        return
    already = bool(_DENORMAL.mul(1.0)[0] == 0)
    if not already:
        torch.set_flush_denormal(True)
    try:
        yield
    finally:
        if not already:
            torch.set_flush_denormal(False)


#: A member's batch of at least this many rows runs feature-major, a smaller one batch-major (see stacked_linear).
FEATURE_MAJOR_ROWS = 17


def feature_major(rows: int) -> bool:
    """The layout for a member's batch of `rows`: decided per member, so a member's numbers do not depend on K."""
    return rows >= FEATURE_MAJOR_ROWS


def stacked_linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, feature_major: bool) -> torch.Tensor:
    """Linear layer of G groups, group g computing `nn.Linear` with weight[g] (out, in) and bias[g] (1, out).

    feature_major: x (G, in, B) -> (G, out, B); else x (G, B, in) -> (G, B, out). MKL's batched matmul packs
    its left operand, so with few rows the weight must be the right one: for K = 10 members' 256 x 256 layer
    on one row, weight @ x took 0.86 ms and x @ weight.T 0.08 ms. With many rows both cost the same, and the
    feature-major form gives each member the same rounding whatever K is (its bias gradient is a reduction
    along the last axis), so populations reproduce single runs bit for bit on CPU.
    """
    if feature_major:
        return torch.baddbmm(bias.transpose(1, 2), weight, x)
    return torch.baddbmm(bias, x, weight.transpose(1, 2))


def stacked_conv2d(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, stride: int = 1,
                   padding: int = 0) -> tuple[torch.Tensor, tuple[int, int]]:
    """K members' convolutions as one batched matmul on unfolded patches (im2col).

    x (B, K * C, H, W), member k's channels at k*C..(k+1)*C; weight (K, out, C, kh, kw); bias (K, out, 1).
    Returns (y (K, out, B, H' * W'), (H', W')). Measured faster than a grouped `conv2d` (K = 10, batch 256,
    Catch's 2 x 10 x 5 boards, 16 channels: 12.6 ms against 20.5 ms forward + backward), and each member's
    numbers come out the same whatever K is, as with the batched linear layers.
    """
    members, out, channels, kh, kw = weight.shape
    batch, _, height, width = x.shape
    cols = torch.nn.functional.unfold(x, (kh, kw), padding=padding, stride=stride)  # (B, K * C * kh * kw, L)
    size = cols.shape[-1]
    cols = cols.view(batch, members, channels * kh * kw, size).permute(1, 2, 0, 3).reshape(members, -1, batch * size)
    y = torch.baddbmm(bias, weight.reshape(members, out, -1), cols)
    shape = ((height + 2 * padding - kh) // stride + 1, (width + 2 * padding - kw) // stride + 1)
    return y.view(members, out, batch, size), shape


class _SigmoidTanh(torch.autograd.Function):
    """tanh(x) computed as 2 sigmoid(2x) - 1 (within 2e-7 of torch.tanh, float32's resolution at 1), with tanh's
    own backward grad * (1 - y^2) in one op."""

    @staticmethod
    def forward(ctx, x):
        y = torch.sigmoid(x * 2.0).mul_(2.0).sub_(1.0)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return torch.ops.aten.tanh_backward(grad, y)


#: Activations of at least this many elements per member take `_SigmoidTanh`; smaller ones torch.tanh (there a
#: Python autograd function's own cost outweighs the gain). Decided per member, so a member's numbers do not
#: depend on K.
SIGMOID_TANH_ELEMENTS = 8192


def tanh(x: torch.Tensor) -> torch.Tensor:
    """tanh of member-stacked activations (K, ...). torch's vectorized tanh costs about 3.4 ns an element on the
    2-core AMD EPYC the benchmarks run on, its sigmoid 1.1 ns; for 10 members' (128, 256) activations forward and
    backward took 1.42 ms by torch.tanh and 0.95 ms by `_SigmoidTanh` (1 member: 0.196 and 0.194 ms)."""
    if x.numel() // max(x.shape[0], 1) < SIGMOID_TANH_ELEMENTS:
        return torch.tanh(x)
    return _SigmoidTanh.apply(x)


def activation_function(name: str) -> Callable[[torch.Tensor], torch.Tensor]:
    """The elementwise function of `nets`' hidden unit `name` (its module's forward, without module overhead;
    tanh is `tanh` above)."""
    return tanh if name == "tanh" else hidden_unit(name).forward


#: The backward of a hidden unit from its output y, as autograd computes it (`StackedMLP`).
_UNIT_BACKWARD = {"relu": lambda grad, y: torch.ops.aten.threshold_backward(grad, y, 0),
                  "tanh": torch.ops.aten.tanh_backward}


#: A member whose hidden layer has more than this fraction of its units live backpropagates densely
#: (`StackedMLP`'s skip_dead_units): the gathers then cost about what the skipped rows save.
DENSE_LIVE_FRACTION = 0.8


class StackedMLP:
    """K members' MLP of a ParameterStack, feature-major, with a hand-written backward that writes each layer's
    gradient straight into the stack's `grad`.

    layers: the names of the dense layers in order ("trunk.dense0", ..., "heads": tensors "<name>.weight"
    (K, out, in) and "<name>.bias" (K, 1, out)), which must be all the stack holds; the hidden unit follows every
    layer but the last. For an update whose loss gradient with respect to the outputs is known in closed form
    (DQN's Huber loss): it builds no autograd graph, skips its per-op bookkeeping and the concatenation of
    `ParameterStack.backward`. Each op is the one autograd's derivative of `stacked_linear` and of the unit runs,
    on operands of the same layout, so with `skip_dead_units=False` the gradients equal autograd's bit for bit on
    CPU (tests/nets/test_stacked.py). Measured (2-core AMD EPYC, one torch thread, K = 10 members' (256, 256)
    relu Q-nets on CartPole, batch 64): forward and backward 4.2 ms, against 5.3 ms through autograd.

    skip_dead_units (relu only; the default on CPU): a relu unit that is 0 on every row of the batch passes no
    gradient back, so its row of d loss / d z is 0, and so are its row of the weight gradient and its terms in the
    gradient sent to the layer below. For each hidden-to-hidden layer the backward then multiplies, member by
    member, only the rows of its live units and writes zeros for the rest (a member with more than
    `DENSE_LIVE_FRACTION` of its units live takes its dense matmuls). DQN's CartPole Q-nets at rl-zoo's settings
    keep about 30% of their second layer's units live on a batch from 5k steps on, so that layer's two backward
    matmuls shrink to about a third: 2.1 ms -> 1.1 ms for K = 10 members' (256, 256) layer on a batch of 64, the
    gathers and the loop included. Both products sum the same nonzero terms as the dense ones, in matmuls of
    other shapes, which BLAS may round differently (within float precision: tests/nets/test_stacked.py). Each
    member's matmuls have its own shapes whatever the other members hold, so member k of a population still
    equals the single run with its seed bit for bit.
    """

    units = tuple(_UNIT_BACKWARD)

    def __init__(self, stack: ParameterStack, layers: Sequence[str], activation: str,
                 skip_dead_units: bool | None = None):
        if activation not in _UNIT_BACKWARD:
            raise ValueError(f"StackedMLP has a backward for the units {self.units}, not {activation!r}")
        if skip_dead_units is None:
            skip_dead_units = activation == "relu" and stack.device.type == "cpu"
        if skip_dead_units and activation != "relu":
            raise ValueError(f"skip_dead_units needs relu units (exact zeros), not {activation!r}")
        names = [f"{layer}.{part}" for layer in layers for part in ("weight", "bias")]
        if sorted(names) != sorted(stack.names):
            raise ValueError(f"StackedMLP layers {list(layers)} must cover the stack's tensors {stack.names} exactly: "
                             "the backward writes the gradient of these layers only")
        self.layers = [(stack[f"{layer}.weight"], stack[f"{layer}.bias"], stack.grad_view(f"{layer}.weight"),
                        stack.grad_view(f"{layer}.bias").view(stack.num_members, -1)) for layer in layers]
        self.act, self.unit_backward = activation_function(activation), _UNIT_BACKWARD[activation]
        if activation == "relu":  # in place: the layer's fresh output is needed only through the unit
            self.act = torch.relu_
        self.skip_dead_units = skip_dead_units
        # each layer's weights and weight gradients as K per-member views, made once
        self._member_views = [(weight.unbind(0), grad_weight.unbind(0)) for weight, _, grad_weight, _ in self.layers]
        self._inputs: list[torch.Tensor] = []

    @torch.no_grad()
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (K, in, B) -> outputs (K, out, B); keeps each layer's input for `backward`."""
        self._inputs = []
        for i, (weight, bias, _, _) in enumerate(self.layers):
            if i:
                x = self.act(x)
            self._inputs.append(x)
            x = stacked_linear(x, weight, bias, True)
        return x

    @torch.no_grad()
    def backward(self, grad: torch.Tensor) -> None:
        """Write d loss / d parameters into the stack's `grad`, given d loss / d outputs (K, out, B) of the last
        `forward`."""
        for i in reversed(range(len(self.layers))):
            weight, _, grad_weight, grad_bias = self.layers[i]
            x = self._inputs[i]
            torch.sum(grad, 2, out=grad_bias)
            if self.skip_dead_units:
                if 0 < i < len(self.layers) - 1:
                    grad = self.unit_backward(self._live_rows_backward(i, grad), x)
                    continue
                # The output layer's gradient arrives as a transposed view (the loss's (K, B, A) layout); MKL
                # multiplies it contiguous faster (K = 10 members, 2 actions, batch 64, 256 inputs: 75 -> 33 us),
                # rounded as another kernel rounds it, as this mode's hidden layers are.
                grad = grad.contiguous()
            torch.bmm(grad, x.transpose(1, 2), out=grad_weight)
            if i:
                grad = self.unit_backward(torch.bmm(weight.transpose(1, 2), grad), x)
        self._inputs = []

    def _live_rows_backward(self, i: int, grad: torch.Tensor) -> torch.Tensor:
        """Layer i's weight gradient from its live units' rows only, member by member; returns d loss / d (its
        input) before the unit's backward, (K, in, B)."""
        weight, _, grad_weight, _ = self.layers[i]
        x, dense_above = self._inputs[i], DENSE_LIVE_FRACTION * weight.shape[1]
        live = self._inputs[i + 1].amax(2) > 0  # (K, out): positive on some row of the batch
        dense = (live.sum(1) > dense_above).tolist()
        live[dense] = False  # those members multiply all their rows
        sizes = live.sum(1).tolist()
        flat_rows = live.view(-1).nonzero().squeeze(1)  # member k's row r as k * out + r, member by member
        rows = (flat_rows % weight.shape[1]).split(sizes)
        # every member's live rows of the (contiguous) gradient in one gather (ten gathers cost 54 us, one 7 us)
        live_grads = grad.reshape(-1, grad.shape[2]).index_select(0, flat_rows).split(sizes)
        grad_in = torch.empty_like(x)
        if not all(dense):
            grad_weight.zero_()
        for grad_k, x_t, weight_k, grad_weight_k, grad_in_k, dense_k, live_k, live_grad in zip(
                grad.unbind(0), x.transpose(1, 2).unbind(0), *self._member_views[i], grad_in.unbind(0), dense,
                rows, live_grads):
            if dense_k:
                torch.mm(grad_k, x_t, out=grad_weight_k)
                torch.mm(weight_k.T, grad_k, out=grad_in_k)
                continue
            grad_weight_k.index_copy_(0, live_k, torch.mm(live_grad, x_t))
            torch.mm(weight_k.index_select(0, live_k).T, live_grad, out=grad_in_k)
        return grad_in


def linear_layers(module: nn.Module) -> list[nn.Linear]:
    """The Linear layers of a `nets.mlp`/`dense_stack` in order; anything but Linear, activations and Flatten is
    a ValueError (batch norm and dropout have no stacked form here)."""
    layers = []
    for layer in module.modules():
        if isinstance(layer, nn.Linear):
            layers.append(layer)
        elif isinstance(layer, (nn.BatchNorm1d, nn.BatchNorm2d, nn.Dropout)):
            raise ValueError(f"{type(layer).__name__} has no member-stacked form")
    return layers
