"""What makes K seeds one batched model: each member's seed and random generators, and the optimizer over a
`ParameterStack` whose steps, gradient clipping and state stay per member.

A member's generators are the ones its single run would have: a torch.Generator (action sampling, minibatch
order) and a numpy Generator (exploration, replay sampling), both seeded from the member's seed. The optimizer
sees the stack's K rows as K parameters, so Adam or RMSprop keeps each member's moments and step count apart
(K independent optimizers in one fused call), and a member can sit a step out (PPO's target-KL stop, a
REINFORCE member whose batch is not complete) without touching its state.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Sequence

import numpy as np
import torch

from nets.stacked import ParameterStack, flush_denormals


def resolve_seeds(config, seeds: Sequence[int] | None):
    """(config, seeds): `seeds` makes a population of len(seeds); without it, `config.seed` (or a fresh random
    seed when that is None) makes a population of one. The config's seed is the member's for K = 1, else None."""
    if seeds is None:
        seed = config.seed if config.seed is not None else int(np.random.SeedSequence().generate_state(1)[0])
        return config, (int(seed),)
    seeds = tuple(int(s) for s in seeds)
    if not seeds:
        raise ValueError("seeds must hold at least one seed")
    name = type(config).__name__
    if config.seed is not None and seeds != (config.seed,):
        raise ValueError(f"give {name}.seed or seeds=, not both (seed={config.seed}, seeds={list(seeds)})")
    return dataclasses.replace(config, seed=seeds[0] if len(seeds) == 1 else None), seeds


class MemberGenerators:
    """Each member's torch.Generator (on the agent's device) and numpy Generator, seeded from its seed."""

    def __init__(self, seeds: Sequence[int], device: torch.device):
        self.torch = [torch.Generator(device=device).manual_seed(int(s)) for s in seeds]
        self.numpy = [np.random.default_rng(int(s)) for s in seeds]

    def state_dict(self, members: Sequence[int]) -> list[dict]:
        return [{"torch": self.torch[k].get_state(), "numpy": self.numpy[k].bit_generator.state} for k in members]

    def load_state_dict(self, states: list[dict]) -> None:
        for generator, rng, state in zip(self.torch, self.numpy, states):
            try:
                generator.set_state(state["torch"])
            except RuntimeError:  # saved on another device type: sampling restarts from the seed (no exact resume)
                pass
            rng.bit_generator.state = state["numpy"]


class StackedOptimizer:
    """One torch optimizer over a ParameterStack's K rows, stepping each member on its own gradient row.

    `step(active)` steps only the members where `active` is True (all when None): the others' rows get no
    gradient for that call, so their weights, moments and step counts stay as they were, exactly as if their
    single run had not taken that step.
    """

    def __init__(self, stack: ParameterStack, optimizer_class: type[torch.optim.Optimizer], **kwargs):
        self.stack = stack
        self.optimizer = optimizer_class(stack.rows(), **kwargs)
        self._fused_adam = optimizer_class is torch.optim.Adam and kwargs.get("fused", False) \
            and hasattr(torch, "_fused_adam_") and not kwargs.get("amsgrad", False)
        self._state_lists = None

    def set_learning_rate(self, learning_rate: float) -> None:
        for group in self.optimizer.param_groups:
            group["lr"] = learning_rate

    def step(self, active: np.ndarray | None = None) -> None:
        if active is None or active.all():
            if self._state_lists is not None:
                self._fused_adam_step()
                return
            self.optimizer.step()
            if self._fused_adam and all(row in self.optimizer.state for row in self.stack.rows()):
                state = [self.optimizer.state[row] for row in self.stack.rows()]
                self._state_lists = ([s["exp_avg"] for s in state], [s["exp_avg_sq"] for s in state],
                                     [s["step"] for s in state])
            return
        self._state_lists = None  # a member sat out: torch's step sorts out who moves
        rows = self.stack.rows()
        idle = np.flatnonzero(~active).tolist()
        for k in idle:
            rows[k].grad = None
        try:
            if active.any():
                self.optimizer.step()
        finally:
            for k in idle:
                rows[k].grad = self.stack.grad[k]

    @torch.no_grad()
    def _fused_adam_step(self) -> None:
        with flush_denormals(self.stack.device):
            self._fused_adam_kernel()

    def _fused_adam_kernel(self) -> None:
        """What torch.optim.Adam(fused=True).step does for every row (torch/optim/adam.py `_fused_adam`: count the
        step, then one `_fused_adam_` call), without its per-call bookkeeping, which costs as much as the kernel
        for a small net."""
        group = self.optimizer.param_groups[0]
        exp_avgs, exp_avg_sqs, steps = self._state_lists
        rows = self.stack.rows()
        beta1, beta2 = group["betas"]
        torch._foreach_add_(steps, 1)
        torch._fused_adam_(rows, [row.grad for row in rows], exp_avgs, exp_avg_sqs, [], steps, amsgrad=False,
                           lr=group["lr"], beta1=beta1, beta2=beta2, weight_decay=group["weight_decay"],
                           eps=group["eps"], maximize=group["maximize"], grad_scale=None, found_inf=None)

    def state_dict(self, members: Sequence[int]) -> dict:
        """The optimizer state of the listed members, as a state dict of an optimizer over len(members) rows."""
        full = self.optimizer.state_dict()
        state = {new: copy.deepcopy(full["state"][old]) for new, old in enumerate(members) if old in full["state"]}
        groups = [{**group, "params": list(range(len(members)))} for group in full["param_groups"]]
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state: dict) -> None:
        self.optimizer.load_state_dict(state)
        self._state_lists = None  # new state tensors: torch's next step finds them


def gradient_step(stack: ParameterStack, optimizer: StackedOptimizer, loss: torch.Tensor, max_grad_norm: float,
                  active: np.ndarray | None = None) -> torch.Tensor:
    """Backpropagate `loss` (the sum of the members' own losses), clip each member's gradient norm to
    `max_grad_norm`, and step the active members. Returns the (K,) gradient norms before clipping."""
    stack.backward(loss)
    return apply_gradient(stack, optimizer, max_grad_norm, active)


def apply_gradient(stack: ParameterStack, optimizer: StackedOptimizer, max_grad_norm: float,
                   active: np.ndarray | None = None) -> torch.Tensor:
    """The rest of `gradient_step` once `stack.grad` holds the gradient: clip each member's norm, step."""
    norms = stack.clip_grad_norm_(max_grad_norm)
    optimizer.step(active)
    return norms


def fused_if_cpu(device: torch.device) -> dict:
    """Adam's fused kernel on CPU: one call per step over all members' rows instead of several ops per tensor,
    which is what a small net's step costs; on CUDA torch picks its own fast path."""
    return {"fused": True} if device.type == "cpu" else {}
