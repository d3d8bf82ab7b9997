"""Overfitting: a degree-12 polynomial beats its L2-regularized twin on the training set and loses on new data.

The chapter's formal definition: h overfits the training data X if some alternative h' has
error_X(h) < error_X(h') and error_D(h) > error_D(h'). Here X is 15 noisy samples of y = sin(pi x) + noise,
h is the least-squares polynomial of degree 12 (spiky: it chases the noise), h' the same polynomial fitted
with the complexity penalty alpha * 0.5 * ||w||^2 (smooth). error_D, the expected square loss under the
data distribution D, is estimated on 20,000 fresh samples from D. The degree sweep shows the classic picture:
training error falls with every degree, test error falls and then climbs.
"""

from __future__ import annotations

import numpy as np
from numpy.polynomial import legendre

from experiments.gallery._plotting import new_figure, plot_dir_from_argv, save_figure

N_TRAIN = 15
NOISE_STD = 0.3
DEGREE = 12
ALPHA = 1e-2
SEED = 0


def sample(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """n draws from D: x ~ U(-1, 1), y = sin(pi x) + N(0, NOISE_STD^2). Returns x (n,), y (n,)."""
    x = rng.uniform(-1.0, 1.0, n)
    return x, np.sin(np.pi * x) + rng.normal(0.0, NOISE_STD, n)


def fit_polynomial(x: np.ndarray, y: np.ndarray, degree: int, alpha: float = 0.0) -> np.ndarray:
    """Legendre coefficients (degree + 1,) minimising mean (y - h(x))^2 + alpha * 0.5 * ||w||^2.

    The bias (degree-0 coefficient) is not penalised, as nets.losses.l2_penalty leaves biases alone.
    """
    features = legendre.legvander(x, degree)  # Legendre rather than x^k columns: far better conditioned
    penalty = np.full(degree + 1, alpha * 0.5 * len(x))
    penalty[0] = 0.0
    # Normal equations of sum (y - Fw)^2 + n * alpha/2 * ||w||^2 (the mean loss times n); lstsq for alpha = 0.
    if alpha == 0:
        return np.linalg.lstsq(features, y, rcond=None)[0]
    return np.linalg.solve(features.T @ features + np.diag(2 * penalty), features.T @ y)


def square_error(coefficients: np.ndarray, x: np.ndarray, y: np.ndarray) -> float:
    """Mean square loss of the polynomial on (x, y)."""
    return float(np.mean((y - legendre.legval(x, coefficients)) ** 2))


def main(plot_dir: str | None = None) -> dict:
    rng = np.random.default_rng(SEED)
    x_train, y_train = sample(N_TRAIN, rng)
    x_new, y_new = sample(20_000, rng)
    h = fit_polynomial(x_train, y_train, DEGREE)
    h_prime = fit_polynomial(x_train, y_train, DEGREE, ALPHA)
    errors = {name: {"train": square_error(w, x_train, y_train), "expected": square_error(w, x_new, y_new)}
              for name, w in (("h", h), ("h_prime", h_prime))}
    fits_x_better = errors["h"]["train"] < errors["h_prime"]["train"]
    overfits = fits_x_better and errors["h"]["expected"] > errors["h_prime"]["expected"]
    degrees = list(range(0, DEGREE + 1))
    sweep = [fit_polynomial(x_train, y_train, d) for d in degrees]
    print(f"{N_TRAIN} noisy points of sin(pi x); degree-{DEGREE} polynomial h vs h' with L2 alpha = {ALPHA}")
    for name, row in errors.items():
        print(f"  {name:8s}: error_X = {row['train']:.4f}   error_D ~ {row['expected']:.4f}")
    print(f"  error_X(h) < error_X(h') and error_D(h) > error_D(h'): {overfits} -> h overfits X")
    print(f"  noise floor (best possible error_D) = {NOISE_STD**2:.3f}; ||w||^2 of h {np.sum(h**2):.1f}, "
          f"of h' {np.sum(h_prime**2):.1f}")
    train_by_degree = [square_error(w, x_train, y_train) for w in sweep]
    test_by_degree = [square_error(w, x_new, y_new) for w in sweep]
    if plot_dir is not None:
        _plot(plot_dir, x_train, y_train, h, h_prime, degrees, train_by_degree, test_by_degree)
    return {"errors": errors, "overfits": overfits, "weight_norm_sq": {"h": float(np.sum(h**2)),
            "h_prime": float(np.sum(h_prime**2))}, "degrees": degrees, "train_error_by_degree": train_by_degree,
            "test_error_by_degree": test_by_degree, "noise_variance": NOISE_STD**2}


def _plot(plot_dir, x_train, y_train, h, h_prime, degrees, train_by_degree, test_by_degree) -> None:
    fig, (ax_fit, ax_sweep) = new_figure(ncols=2, panel_size=(4.5, 3.5))
    grid = np.linspace(-1, 1, 400)
    ax_fit.plot(grid, np.sin(np.pi * grid), "k:", label="sin(pi x)")
    ax_fit.plot(grid, legendre.legval(grid, h), label=f"h: degree {DEGREE}")
    ax_fit.plot(grid, legendre.legval(grid, h_prime), label=f"h': degree {DEGREE} + L2")
    ax_fit.scatter(x_train, y_train, c="k", s=15, zorder=3)
    ax_fit.set(ylim=(-2, 2), title="spiky vs smooth", xlabel="x", ylabel="y")
    ax_fit.legend(fontsize="small")
    ax_sweep.semilogy(degrees, train_by_degree, "o-", label="training error_X")
    ax_sweep.semilogy(degrees, test_by_degree, "s-", label="expected error_D")
    ax_sweep.set(title="unregularized fits by degree", xlabel="degree", ylabel="mean square error")
    ax_sweep.legend(fontsize="small")
    save_figure(fig, plot_dir, "overfitting")


if __name__ == "__main__":
    main(plot_dir=plot_dir_from_argv())
