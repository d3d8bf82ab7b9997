"""Universal approximation: one hidden layer computes any truth table exactly and any continuous function closely.

The notes: "any boolean function can be represented with 2 layers; any bounded continuous function can be
represented with arbitrarily small error with two layers ... but this is only true for existence. It may be
very, very difficult to find the weights and take a ton of nodes."
Boolean: for each input row where the table says 1, one ReLU unit relu(w . x - (ones - 1)), w = +1 where the
row has a 1 and -1 where it has a 0, is 1 on that row and 0 on every other; the output adds them up (or, when
more than half the rows are 1, subtracts the 0-rows' units from 1, so at most 2^(n-1) units are needed). Built
with nets.mlp and weights set by hand, it reproduces random truth tables of 4, 5 and 6 inputs with no error.
Continuous: n ReLU units with kinks at n evenly spaced knots draw the piecewise-linear interpolant of f, whose
largest error shrinks like 1/n^2 (a quarter per doubling): any error is reachable with enough units. Nets
trained by gradient descent (tanh units, Adam, best of 3 seeds) also get closer as they widen, from 0.95 with
1-2 units (stuck near a constant or one bump) to about 0.02 with 8; tanh units bend, so a few trained ones beat
as many constructed kinks. But past 8 units the trained error stalls where the optimizer stops, while the
constructed nets go on to 0.003 with 128 units: the weights exist, finding them is the hard part.
"""

from __future__ import annotations

import numpy as np
import torch

from experiments.gallery._plotting import new_figure, plot_dir_from_argv, save_figure
from experiments.gallery._side_by_side import train_side_by_side
from nets import mlp

SEED = 0
N_INPUTS = (4, 5, 6)
TABLES_PER_SIZE = 3
DOMAIN = (-3.0, 3.0)
KNOT_COUNTS = (4, 8, 16, 32, 64, 128)
TRAINED_WIDTHS = (1, 2, 4, 8, 16, 32)
TRAIN_SEEDS = (0, 1, 2)
TRAIN_STEPS = 3000


def target(x: np.ndarray) -> np.ndarray:
    """The bounded continuous function to approximate on DOMAIN: a damped wave, |f| < 1."""
    return np.sin(np.pi * x) * np.exp(-x ** 2 / 9)


def all_inputs(n: int) -> np.ndarray:
    """Every n-bit input row, (2^n, n), row i holding the bits of i (most significant first)."""
    return ((np.arange(2 ** n)[:, None] >> np.arange(n - 1, -1, -1)) & 1).astype(np.float64)


def boolean_net(table: np.ndarray) -> torch.nn.Sequential:
    """A one-hidden-layer ReLU net (nets.mlp, float64) whose output is exactly table[i] on input row i.

    table: (2^n,) of 0/1, indexed like all_inputs(n). One unit per 1-row (or per 0-row, if those are fewer).
    """
    table = np.asarray(table, dtype=np.float64)
    n = int(np.log2(len(table)))
    rows = all_inputs(n)
    use_ones = table.sum() <= len(table) / 2
    chosen = rows[table == (1.0 if use_ones else 0.0)]
    width = max(len(chosen), 1)  # a constant table still needs one (silent) unit
    net = mlp(n, (width,), 1, activation="relu").double()
    with torch.no_grad():
        net[0].weight.zero_()
        net[0].bias.fill_(-1.0)  # a silent unit: relu(-1) = 0 everywhere
        net[0].weight[:len(chosen)] = torch.tensor(2 * chosen - 1)
        net[0].bias[:len(chosen)] = torch.tensor(1 - chosen.sum(axis=1))
        net[2].weight.fill_(1.0 if use_ones else -1.0)
        net[2].bias.fill_(0.0 if use_ones else 1.0)
    return net


def random_tables() -> dict:
    """Build boolean_net for random truth tables and compare its outputs on every input row with the table."""
    rng = np.random.default_rng(SEED)
    results = []
    for n in N_INPUTS:
        for _ in range(TABLES_PER_SIZE):
            table = rng.integers(0, 2, 2 ** n).astype(np.float64)
            net = boolean_net(table)
            with torch.no_grad():
                output = net(torch.tensor(all_inputs(n)))[:, 0].numpy()
            results.append({"n_inputs": n, "ones": int(table.sum()), "hidden_units": int(net[0].out_features),
                            "max_abs_error": float(np.abs(output - table).max()),
                            "table": table.astype(int).tolist()})
    return {"tables": results}


def interpolating_net(n_knots: int) -> torch.nn.Sequential:
    """n_knots ReLU units drawing the piecewise-linear interpolant of `target` through evenly spaced knots."""
    knots = np.linspace(*DOMAIN, n_knots + 1)
    slopes = np.diff(target(knots)) / np.diff(knots)
    net = mlp(1, (n_knots,), 1, activation="relu").double()
    with torch.no_grad():
        net[0].weight.fill_(1.0)
        net[0].bias.copy_(torch.tensor(-knots[:-1]))  # unit k: relu(x - knot_k), a kink at knot k
        # Each unit changes the slope at its knot; unit 0 starts the first slope from the left end.
        net[2].weight.copy_(torch.tensor(np.diff(slopes, prepend=0.0))[None])
        net[2].bias.fill_(float(target(knots[:1])[0]))
    return net


def net_on(net: torch.nn.Module, x: np.ndarray) -> np.ndarray:
    """The net's scalar output at each x (float64 numpy in, float64 numpy out)."""
    with torch.no_grad():
        return net(torch.as_tensor(x[:, None], dtype=next(net.parameters()).dtype))[:, 0].double().numpy()


def continuous(dense: np.ndarray) -> dict:
    """Largest error on `dense` of the constructed nets (per knot count) and the best trained net (per width)."""
    constructed = {n: float(np.abs(net_on(interpolating_net(n), dense) - target(dense)).max())
                   for n in KNOT_COUNTS}
    x_train = np.linspace(*DOMAIN, 100)
    nets = {}
    for width in TRAINED_WIDTHS:
        for seed in TRAIN_SEEDS:
            torch.manual_seed(seed)  # torch's default init, a different draw per seed
            nets[(width, seed)] = mlp(1, (width,), 1, activation="tanh")
    # Full-batch Adam (lr 0.02, cosine decay) on the square loss; all 18 nets train in one loop.
    train_side_by_side(list(nets.values()), x_train, target(x_train), "square", TRAIN_STEPS, lr=0.02)
    trained = {}
    for width in TRAINED_WIDTHS:
        errors = [float(np.abs(net_on(nets[(width, seed)], dense) - target(dense)).max()) for seed in TRAIN_SEEDS]
        trained[width] = {"best": min(errors), "per_seed": errors}
    return {"constructed_max_error": constructed, "trained_max_error": trained}


def main(plot_dir: str | None = None) -> dict:
    torch.set_num_threads(1)
    boolean = random_tables()
    print("random truth tables, one hidden ReLU layer with weights set by hand (nets.mlp):")
    for row in boolean["tables"]:
        print(f"  {row['n_inputs']} inputs, {row['ones']:2d} of {2 ** row['n_inputs']} rows true: "
              f"{row['hidden_units']:2d} hidden units, max |output - table| = {row['max_abs_error']}")
    dense = np.linspace(*DOMAIN, 6001)
    cont = continuous(dense)
    print("f(x) = sin(pi x) exp(-x^2 / 9) on [-3, 3]; largest |net(x) - f(x)| on 6001 points:")
    print("  constructed (units at evenly spaced knots): "
          + ", ".join(f"{n} units {e:.2g}" for n, e in cont["constructed_max_error"].items()))
    print(f"  trained (Adam, {TRAIN_STEPS} steps, best of {len(TRAIN_SEEDS)} seeds): "
          + ", ".join(f"{w} units {r['best']:.2g}" for w, r in cont["trained_max_error"].items()))
    if plot_dir is not None:
        _plot(plot_dir, dense, cont)
    return {"boolean": boolean, "continuous": cont}


def _plot(plot_dir, dense: np.ndarray, cont: dict) -> None:
    fig, (ax_f, ax_err) = new_figure(ncols=2)
    ax_f.plot(dense, target(dense), "k-", lw=2, label="f")
    for n in (4, 16):
        ax_f.plot(dense, net_on(interpolating_net(n), dense), "--", label=f"constructed, {n} units")
    ax_f.set(title="one hidden ReLU layer, weights by hand", xlabel="x")
    ax_f.legend(fontsize="small", loc="lower left")
    knots, constructed = zip(*cont["constructed_max_error"].items())
    widths = list(cont["trained_max_error"])
    ax_err.loglog(knots, constructed, "o-", label="constructed (ReLU)")
    ax_err.loglog(widths, [cont["trained_max_error"][w]["best"] for w in widths], "s-", label="trained (tanh)")
    ax_err.set(title="largest error vs hidden units", xlabel="hidden units", ylabel="max |net - f|")
    ax_err.legend(fontsize="small")
    save_figure(fig, plot_dir, "universal_approximation")


if __name__ == "__main__":
    main(plot_dir=plot_dir_from_argv())
