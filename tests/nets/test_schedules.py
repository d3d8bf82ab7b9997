import pytest
import torch

from nets import make_optimizer, schedules


def lrs(scheduler, optimizer, steps, metrics=None):
    values = []
    for t in range(steps):
        values.append(optimizer.param_groups[0]["lr"])
        optimizer.step()  # no gradients: a no-op, but keeps torch's step-order check quiet
        scheduler.step(metrics[t]) if metrics is not None else scheduler.step()
    return values


def fresh(lr=0.1):
    return make_optimizer("sgd", [torch.nn.Parameter(torch.zeros(1))], lr)


def test_power_schedule_closed_form():
    opt = fresh(0.1)
    got = lrs(schedules.power_schedule(opt, s=5, c=2), opt, 20)
    assert got == pytest.approx([0.1 / (1 + t / 5) ** 2 for t in range(20)])


def test_exponential_schedule_closed_form():
    opt = fresh(0.1)
    got = lrs(schedules.exponential_schedule(opt, s=4), opt, 13)
    assert got == pytest.approx([0.1 * 0.1 ** (t / 4) for t in range(13)])
    assert got[4] == pytest.approx(0.01) and got[8] == pytest.approx(0.001)


def test_performance_schedule_cuts_by_lambda_after_patience():
    opt = fresh(0.1)
    losses = [1.0, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9]
    got = lrs(schedules.performance_schedule(opt, factor=0.5, patience=2), opt, len(losses), losses)
    # best 0.9 at t=1; stalls at t=2,3,4 -> after 3 bad steps (> patience) the lr halves
    assert got == pytest.approx([0.1, 0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05])


def test_one_cycle_goes_linearly_up_to_eta1_and_back_to_eta0():
    opt = fresh(0.01)
    steps = 21
    got = lrs(schedules.one_cycle_schedule(opt, max_lr=0.1, total_steps=steps), opt, steps)
    up = [0.01 + (0.1 - 0.01) * t / 10 for t in range(11)]
    down = [0.1 - (0.1 - 0.01) * t / 10 for t in range(1, 11)]
    assert got == pytest.approx(up + down)


def test_bad_schedule_parameters():
    with pytest.raises(ValueError, match="unknown schedule 'cosine'"):
        schedules.make_schedule("cosine", fresh(), 10)
    with pytest.raises(ValueError, match="max_lr"):
        schedules.one_cycle_schedule(fresh(0.1), max_lr=0.05, total_steps=10)


@pytest.mark.parametrize("name,cls", [("sgd", torch.optim.SGD), ("momentum", torch.optim.SGD),
                                      ("nesterov", torch.optim.SGD), ("adagrad", torch.optim.Adagrad),
                                      ("rmsprop", torch.optim.RMSprop), ("adam", torch.optim.Adam)])
def test_optimizers_by_name(name, cls):
    opt = make_optimizer(name, [torch.nn.Parameter(torch.zeros(1))], 0.01)
    assert isinstance(opt, cls)
    group = opt.param_groups[0]
    if name in ("momentum", "nesterov"):
        assert group["momentum"] == 0.9 and group["nesterov"] == (name == "nesterov")
    with pytest.raises(ValueError, match="unknown optimizer"):
        make_optimizer("lbfgs2", [torch.nn.Parameter(torch.zeros(1))], 0.01)
