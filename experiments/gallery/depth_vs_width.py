"""Depth vs width: per parameter depth can draw exponentially more pieces, yet on digits a wide net trains as well.

Part 1, what a net can represent. The tent map t(x) = 2 relu(x) - 4 relu(x - 1/2) folds [0, 1] onto itself;
composing it k times (a ReLU net k layers deep, 2 units wide, weights set by hand) gives a sawtooth with
2^k linear pieces from 4 + 6 (k - 1) + 3 parameters. A net with one hidden layer of N ReLUs has at most N + 1
pieces on a line, so with the same parameter budget (N = 10) it cannot draw that sawtooth: the best it can
do is much worse (shown by training one); to have enough pieces at all it needs 2^k - 1 units.
Part 2, what training finds. A deep-narrow (3 x 32) and a shallow-wide (1 x 60) MLP with the same number of
parameters, trained the same way on the digits until both fit the training set, do not bear the rule out:
the wide net is as good or 1-3 points better on test digits (over the seeds we tried). The chapter's "add
layers before width" is a rule of thumb for compositional problems; a digit at 8x8 needs little composition.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import nets
from experiments.gallery._plotting import new_figure, plot_dir_from_argv, save_figure
from nets.losses import cross_entropy, square_loss

FOLDS = 5  # sawtooth with 2^5 = 32 linear pieces
SEED = 0
DIGITS_NETS = {"deep 3 x 32": (32, 32, 32), "wide 1 x 60": (60,)}


def count_parameters(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def sawtooth_net(folds: int) -> torch.nn.Sequential:
    """nets.mlp(1, [2] * folds, 1) with weights set so that it computes the tent map composed `folds` times."""
    model = nets.mlp(1, [2] * folds, 1)
    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    with torch.no_grad():
        # Units (relu(s), relu(s - 1/2)) of the current signal s; the next signal is t(s) = 2 u1 - 4 u2.
        linears[0].weight.copy_(torch.tensor([[1.0], [1.0]]))
        linears[0].bias.copy_(torch.tensor([0.0, -0.5]))
        for layer in linears[1:-1]:
            layer.weight.copy_(torch.tensor([[2.0, -4.0], [2.0, -4.0]]))
            layer.bias.copy_(torch.tensor([0.0, -0.5]))
        linears[-1].weight.copy_(torch.tensor([[2.0, -4.0]]))
        linears[-1].bias.zero_()
    return model


def sawtooth(x: np.ndarray, folds: int) -> np.ndarray:
    """The tent map composed `folds` times, in closed form: a triangle wave with 2^(folds-1) teeth in [0, 1]."""
    teeth = 2 ** (folds - 1)
    phase = x * teeth - np.floor(x * teeth)
    return 1.0 - np.abs(2.0 * phase - 1.0)


def linear_pieces(y: np.ndarray, x: np.ndarray) -> int:
    """Number of linear pieces of a piecewise-linear function sampled on the fine uniform grid x."""
    slopes = np.diff(y) / np.diff(x)
    return 1 + int(np.sum(np.abs(np.diff(slopes)) > 1e-3 * max(1.0, np.abs(slopes).max())))


def representation_part() -> dict:
    """Hand-set deep sawtooth vs a trained one-hidden-layer net with the same parameter budget."""
    deep = sawtooth_net(FOLDS)
    budget = count_parameters(deep)
    units = (budget - 1) // 3  # one hidden layer: 3 parameters per unit (weight, bias, output weight) + 1
    # The sawtooth's kinks sit at multiples of 2^-FOLDS, all on this grid, so counting slope changes is exact.
    x = np.linspace(0.0, 1.0, 2**FOLDS * 16 + 1, dtype=np.float32)[:, None]
    target = sawtooth(x, FOLDS).astype(np.float32)
    torch.manual_seed(SEED)
    shallow = nets.mlp(1, [units], 1)
    nets.Trainer(shallow, square_loss, epochs=300, batch_size=len(x), lr=1e-2, device="cpu", seed=SEED,
                 progress=False).fit(x, target)
    with torch.no_grad():
        deep_y, shallow_y = deep(torch.from_numpy(x)).numpy(), shallow(torch.from_numpy(x)).numpy()
    pieces = linear_pieces(deep_y[:, 0], x[:, 0])
    return {"deep_parameters": budget, "deep_pieces": pieces, "deep_max_error": float(np.abs(deep_y - target).max()),
            "shallow_units": units, "shallow_parameters": count_parameters(shallow), "shallow_max_pieces": units + 1,
            "shallow_mse": float(np.mean((shallow_y - target) ** 2)), "constant_mse": float(np.var(target)),
            # one hidden layer needs a kink per unit: pieces - 1 units, 3 parameters each, + 1 output bias
            "shallow_parameters_needed": 3 * (pieces - 1) + 1,
            "curves": (x[:, 0], target[:, 0], shallow_y[:, 0])}


def digits_part() -> dict:
    """Deep-narrow vs shallow-wide MLPs of about equal size on digits: parameter counts and accuracies."""
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split((X / 16.0).astype(np.float32), y, test_size=0.5,
                                                        random_state=SEED, stratify=y)
    results = {}
    for name, hidden in DIGITS_NETS.items():
        torch.manual_seed(SEED)
        model = nets.mlp(64, hidden, 10)
        trainer = nets.Trainer(model, cross_entropy, epochs=40, batch_size=64, lr=1e-2, device="cpu", seed=SEED,
                               progress=False)
        trainer.fit(X_train, y_train)
        accuracy = {part: float((trainer.predict(Xp).argmax(1).numpy() == yp).mean())
                    for part, Xp, yp in (("train", X_train, y_train), ("test", X_test, y_test))}
        results[name] = {"parameters": count_parameters(model), "train_accuracy": accuracy["train"],
                         "test_accuracy": accuracy["test"]}
    return results


def main(plot_dir: str | None = None) -> dict:
    torch.set_num_threads(1)
    rep = representation_part()
    print(f"sawtooth with {2 ** FOLDS} linear pieces on [0, 1]:")
    print(f"  deep net, {FOLDS} layers x 2 ReLUs, weights by hand: {rep['deep_parameters']} parameters, "
          f"{rep['deep_pieces']} pieces, max error {rep['deep_max_error']:.1e}")
    print(f"  shallow net, 1 layer x {rep['shallow_units']} ReLUs, trained: {rep['shallow_parameters']} parameters, "
          f"at most {rep['shallow_max_pieces']} pieces, mean square error {rep['shallow_mse']:.4f} "
          f"(the best constant scores {rep['constant_mse']:.4f})")
    print(f"  one hidden layer needs {rep['deep_pieces'] - 1} ReLUs = {rep['shallow_parameters_needed']} parameters "
          "just to have enough pieces")
    digits = digits_part()
    print("digits (898 training images), same training for both:")
    for name, row in digits.items():
        print(f"  {name}: {row['parameters']} parameters, accuracy train {row['train_accuracy']:.3f} "
              f"test {row['test_accuracy']:.3f}")
    gap = digits["deep 3 x 32"]["test_accuracy"] - digits["wide 1 x 60"]["test_accuracy"]
    verdict = "deeper is better" if gap > 0.01 else "wider is better" if gap < -0.01 else "about a tie"
    print(f"  deep minus wide test accuracy: {gap:+.3f} ({round(gap * 899):+d} of 899 test digits): {verdict} "
          "here, whatever the rule of thumb says")
    if plot_dir is not None:
        _plot(plot_dir, rep)
    rep = {k: v for k, v in rep.items() if k != "curves"}
    return {"representation": rep, "digits": digits, "digits_test_gap_deep_minus_wide": gap}


def _plot(plot_dir, rep: dict) -> None:
    fig, ax = new_figure(panel_size=(6.0, 3.0))
    x, target, shallow_y = rep["curves"]
    ax.plot(x, target, label=f"deep, {rep['deep_parameters']} params (exact)")
    ax.plot(x, shallow_y, label=f"shallow, {rep['shallow_parameters']} params (trained)")
    ax.set(title=f"sawtooth with {2 ** FOLDS} pieces", xlabel="x")
    ax.legend(fontsize="small", loc="lower right")
    save_figure(fig, plot_dir, "depth_vs_width")


if __name__ == "__main__":
    main(plot_dir=plot_dir_from_argv())
