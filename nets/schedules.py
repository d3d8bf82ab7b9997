"""The chapter's learning-rate schedules as torch LR schedulers (call .step() once per epoch or step t).

power:       eta(t) = eta0 / (1 + t/s)^c
exponential: eta(t) = eta0 * 0.1^(t/s)
performance: multiply eta by lambda when the validation loss has not improved for `patience` steps
1cycle:      eta0 linearly up to eta1 at the middle, then linearly back down to eta0
"""

from __future__ import annotations

import torch
from torch.optim import lr_scheduler

SCHEDULES = ("power", "exponential", "performance", "one_cycle")


def power_schedule(optimizer: torch.optim.Optimizer, s: float = 10.0, c: float = 1.0) -> lr_scheduler.LambdaLR:
    """eta(t) = eta0 / (1 + t/s)^c, eta0 being the optimizer's learning rate."""
    if s <= 0:
        raise ValueError(f"power schedule needs s > 0, got {s}")
    return lr_scheduler.LambdaLR(optimizer, lambda t: 1.0 / (1.0 + t / s) ** c)


def exponential_schedule(optimizer: torch.optim.Optimizer, s: float = 10.0) -> lr_scheduler.LambdaLR:
    """eta(t) = eta0 * 0.1^(t/s): ten times smaller every s steps."""
    if s <= 0:
        raise ValueError(f"exponential schedule needs s > 0, got {s}")
    return lr_scheduler.LambdaLR(optimizer, lambda t: 0.1 ** (t / s))


def performance_schedule(optimizer: torch.optim.Optimizer, factor: float = 0.5,
                         patience: int = 5) -> lr_scheduler.ReduceLROnPlateau:
    """eta <- lambda * eta when the monitored loss stalls for `patience` steps; call .step(val_loss)."""
    if not 0 < factor < 1:
        raise ValueError(f"performance schedule needs 0 < factor < 1, got {factor}")
    return lr_scheduler.ReduceLROnPlateau(optimizer, mode="min", factor=factor, patience=patience)


def one_cycle_schedule(optimizer: torch.optim.Optimizer, max_lr: float,
                       total_steps: int) -> lr_scheduler.LambdaLR:
    """1cycle: from the optimizer's lr eta0 linearly up to max_lr = eta1 at step (T-1)/2, then back to eta0.

    torch's OneCycleLR peaks at step pct_start*T - 1 (not the middle) and its linear mode starts the
    descent from there, so the chapter's symmetric triangle is written here as a LambdaLR.
    """
    eta0 = optimizer.param_groups[0]["lr"]
    if max_lr <= eta0:
        raise ValueError(f"1cycle needs max_lr (eta1) > eta0, got {max_lr} <= {eta0}")
    if total_steps < 3:
        raise ValueError(f"1cycle needs total_steps >= 3, got {total_steps}")
    mid = (total_steps - 1) / 2
    ratio = max_lr / eta0

    def factor(t: int) -> float:
        rise = max(0.0, 1.0 - abs(min(t, total_steps - 1) - mid) / mid)
        return 1.0 + (ratio - 1.0) * rise

    return lr_scheduler.LambdaLR(optimizer, factor)


def make_schedule(name: str | None, optimizer: torch.optim.Optimizer, total_steps: int, **kwargs):
    """A scheduler by name (None gives None); one_cycle defaults max_lr to 10 x eta0."""
    if name is None:
        return None
    if name == "power":
        return power_schedule(optimizer, **kwargs)
    if name == "exponential":
        return exponential_schedule(optimizer, **kwargs)
    if name == "performance":
        return performance_schedule(optimizer, **kwargs)
    if name == "one_cycle":
        kwargs.setdefault("max_lr", 10 * optimizer.param_groups[0]["lr"])
        return one_cycle_schedule(optimizer, total_steps=total_steps, **kwargs)
    raise ValueError(f"unknown schedule {name!r}; choose one of {SCHEDULES} or None")
