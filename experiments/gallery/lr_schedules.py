"""Learning-rate schedules: power, exponential, performance and 1cycle schedules follow their formulas.

The schedules come from nets.schedules (torch LR schedulers); each is stepped for T steps and compared with
its closed form: power eta0 / (1 + t/s)^c, exponential eta0 * 0.1^(t/s), performance (multiply by lambda
after `patience` steps without improvement in the validation loss) and 1cycle (eta0 linearly up to eta1 at the
middle, then back down).
"""

from __future__ import annotations

import numpy as np
import torch

from experiments.gallery._plotting import new_figure, plot_dir_from_argv, save_figure
from nets.schedules import exponential_schedule, one_cycle_schedule, performance_schedule, power_schedule

T = 101
ETA0, ETA1 = 0.1, 1.0
S, C = 10.0, 1.0
FACTOR, PATIENCE = 0.5, 5
REPORT_STEPS = (0, 10, 20, 50, 100)


def validation_losses(steps: int = T) -> np.ndarray:
    """A made-up validation curve: improves up to t = 39, then stays flat (no improvement from t = 40 on)."""
    return 1.0 / (1.0 + np.minimum(np.arange(steps), 39) / 10)


def closed_forms(val: np.ndarray) -> dict[str, np.ndarray]:
    """Each schedule's eta(t), t = 0..T-1, from its formula (the performance one by simulating its rule)."""
    t = np.arange(T)
    middle = (T - 1) / 2
    performance, lr, best, bad_steps = [], ETA0, np.inf, 0
    for loss in val:
        performance.append(lr)  # the rate used at step t, before this step's validation loss is seen
        if loss < best * (1 - 1e-4):  # "improved", with torch's default relative threshold
            best, bad_steps = loss, 0
        else:
            bad_steps += 1
        if bad_steps > PATIENCE:
            lr, bad_steps = lr * FACTOR, 0
    return {
        "power": ETA0 / (1 + t / S) ** C,
        "exponential": ETA0 * 0.1 ** (t / S),
        "performance": np.array(performance),
        "one_cycle": ETA0 + (ETA1 - ETA0) * (1 - np.abs(t - middle) / middle),
    }


def scheduled_rates(name: str, val: np.ndarray) -> np.ndarray:
    """Run the torch scheduler for T steps on a dummy parameter; the learning rate in force at each step."""
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=ETA0)
    scheduler = {
        "power": lambda: power_schedule(optimizer, s=S, c=C),
        "exponential": lambda: exponential_schedule(optimizer, s=S),
        "performance": lambda: performance_schedule(optimizer, factor=FACTOR, patience=PATIENCE),
        "one_cycle": lambda: one_cycle_schedule(optimizer, max_lr=ETA1, total_steps=T),
    }[name]()
    rates = []
    for t in range(T):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step(val[t]) if name == "performance" else scheduler.step()
    return np.array(rates)


def main(plot_dir: str | None = None) -> dict:
    torch.set_num_threads(1)
    val = validation_losses()
    expected = closed_forms(val)
    rates = {name: scheduled_rates(name, val) for name in expected}
    results = {name: {"max_abs_diff_vs_formula": float(np.abs(rates[name] - expected[name]).max()),
                      "at_step": {t: float(rates[name][t]) for t in REPORT_STEPS}}
               for name in expected}
    results["performance"]["reductions_at"] = [int(t) for t in np.nonzero(np.diff(rates["performance"]) < 0)[0] + 1]
    print(f"eta0 = {ETA0}, s = {S}, c = {C}, 1cycle eta1 = {ETA1}, performance lambda = {FACTOR} "
          f"patience {PATIENCE}; T = {T}")
    print("  t          " + "".join(f"{t:>10d}" for t in REPORT_STEPS) + "   max |torch - formula|")
    for name, r in results.items():
        print(f"  {name:11s}" + "".join(f"{r['at_step'][t]:10.4g}" for t in REPORT_STEPS)
              + f"   {r['max_abs_diff_vs_formula']:.1e}")
    print(f"performance schedule: validation loss stops improving at t = 40; lr halved from t = "
          f"{results['performance']['reductions_at']} (every patience + 1 = {PATIENCE + 1} stalled steps)")
    if plot_dir is not None:
        fig, (ax_lr, ax_val) = new_figure(ncols=2)
        for name, r in rates.items():
            ax_lr.plot(r, label=name)
        ax_lr.set(title="learning rate per step", xlabel="step t", ylabel="eta(t)", yscale="log")
        ax_lr.legend(fontsize="small")
        ax_val.plot(val)
        ax_val.set(title="validation loss seen by 'performance'", xlabel="step t")
        save_figure(fig, plot_dir, "lr_schedules")
    return results


if __name__ == "__main__":
    main(plot_dir=plot_dir_from_argv())
