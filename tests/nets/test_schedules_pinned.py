"""Learning-rate schedules: their published defaults and the boundaries of their parameter checks."""

from __future__ import annotations

import pytest
import torch

from nets import make_optimizer, schedules


def lrs(scheduler, optimizer, steps, metrics=None):
    values = []
    for t in range(steps):
        values.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step(metrics[t]) if metrics is not None else scheduler.step()
    return values


def fresh(lr=0.1):
    return make_optimizer("sgd", [torch.nn.Parameter(torch.zeros(1))], lr)


def test_defaults_power_s10_c1_and_exponential_s10():
    opt = fresh(0.1)
    assert lrs(schedules.power_schedule(opt), opt, 21) == pytest.approx([0.1 / (1 + t / 10) for t in range(21)])
    opt = fresh(0.1)
    got = lrs(schedules.exponential_schedule(opt), opt, 21)
    assert got == pytest.approx([0.1 * 0.1 ** (t / 10) for t in range(21)])
    assert got[10] == pytest.approx(0.01)


def test_performance_default_halves_after_five_stalled_steps():
    opt = fresh(0.1)
    losses = [1.0] + [1.0] * 7
    got = lrs(schedules.performance_schedule(opt), opt, len(losses), losses)
    # best 1.0 at t=0; t=1..5 stall (5 = patience, not yet more), the 6th stall (t=6) halves the lr.
    assert got == pytest.approx([0.1] * 7 + [0.05])


def test_rising_losses_count_as_stalls_mode_min():
    opt = fresh(0.1)
    losses = [1.0, 2.0, 3.0, 4.0]
    got = lrs(schedules.performance_schedule(opt, factor=0.5, patience=1), opt, len(losses), losses)
    assert got == pytest.approx([0.1, 0.1, 0.1, 0.05])


def test_parameter_boundaries():
    opt = fresh(0.1)
    for s in (0.5, 1.0):  # any s > 0 is fine, also s <= 1
        schedules.power_schedule(opt, s=s)
        schedules.exponential_schedule(opt, s=s)
    with pytest.raises(ValueError, match="power schedule needs s > 0, got 0"):
        schedules.power_schedule(opt, s=0)
    with pytest.raises(ValueError, match="exponential schedule needs s > 0, got 0"):
        schedules.exponential_schedule(opt, s=0)
    schedules.performance_schedule(opt, factor=0.01)
    schedules.performance_schedule(opt, factor=0.99)
    for factor in (0.0, 1.0, 1.5):
        with pytest.raises(ValueError, match=rf"performance schedule needs 0 < factor < 1, got {factor}"):
            schedules.performance_schedule(opt, factor=factor)
    with pytest.raises(ValueError, match=r"1cycle needs max_lr \(eta1\) > eta0, got 0.1 <= 0.1"):
        schedules.one_cycle_schedule(opt, max_lr=0.1, total_steps=10)
    opt = fresh(0.01)
    assert lrs(schedules.one_cycle_schedule(opt, max_lr=0.1, total_steps=3), opt, 3) == pytest.approx(
        [0.01, 0.1, 0.01])
    with pytest.raises(ValueError, match="1cycle needs total_steps >= 3, got 2"):
        schedules.one_cycle_schedule(opt, max_lr=0.1, total_steps=2)


def test_make_schedule_one_cycle_defaults_max_lr_to_ten_times_eta0():
    opt = fresh(0.01)
    assert lrs(schedules.make_schedule("one_cycle", opt, 3), opt, 3) == pytest.approx([0.01, 0.1, 0.01])
