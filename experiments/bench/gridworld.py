"""Gridworld speed, one table: single-env steps/s against Gymnasium's FrozenLake8x8-v1, and vectorized value
iteration on a 100x100 maze against a plain per-state Python loop.

Run: `python -m experiments.bench.gridworld [--quick]`; `gridworld_tables()` returns the same text.
"""

from __future__ import annotations

import os

# One BLAS thread, set before numpy loads: the machine is shared and timings should not depend on it.
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import gymnasium as gym  # noqa: E402
import numpy as np  # noqa: E402
import scipy  # noqa: E402

import envs  # noqa: E402, F401  (registers the mdparcade ids)
from agents.env_models import exact_model  # noqa: E402
from agents.planning import value_iteration  # noqa: E402
from envs.gridworld_maps import generate_maze  # noqa: E402
from experiments.bench.common import machine_line, table  # noqa: E402

MAZE_SIZE, GAMMA, TOL = 100, 0.99, 1e-8


def env_steps_per_second(env_id: str, steps: int, seed: int = 0) -> float:
    """Steps/s of one env under gym.make (same wrappers for both ids), random actions drawn in advance,
    resets included."""
    env = gym.make(env_id)
    actions = np.random.default_rng(seed).integers(0, env.action_space.n, size=steps).tolist()
    env.reset(seed=seed)
    started = time.perf_counter()
    for action in actions:
        _, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            env.reset()
    return steps / (time.perf_counter() - started)


def value_iteration_sweeps_loop(P: dict, terminal: np.ndarray, gamma: float, sweeps: int) -> np.ndarray:
    """The textbook baseline: synchronous value iteration, one state and one action at a time over
    Gymnasium's P dict (the same update our vectorized sweep makes)."""
    V = np.zeros(len(P)).tolist()
    for _ in range(sweeps):
        new_V = list(V)
        for s, actions in P.items():
            if terminal[s]:
                continue
            new_V[s] = max(sum(p * (r + gamma * V[s2]) for p, s2, r, _ in outcomes)
                           for outcomes in actions.values())
        V = new_V
    return np.array(V)


def maze_rows(quick: bool) -> tuple[str, ...]:
    size = 30 if quick else MAZE_SIZE
    return tuple(generate_maze(size, size, seed=0))


def gridworld_tables(quick: bool = False) -> list[str]:
    """The benchmark as text: [machine line + one table]. `quick` shrinks steps and the maze (for tests)."""
    steps = 20_000 if quick else 200_000
    ours = env_steps_per_second("mdparcade/FrozenLake8x8-v0", steps)
    theirs = env_steps_per_second("FrozenLake8x8-v1", steps)
    rows = [
        ["FrozenLake8x8 single env, steps/s", f"{ours:,.0f}", f"{theirs:,.0f}", f"{ours / theirs:.2f}x",
         f"{steps:,} random steps, resets included; baseline Gymnasium FrozenLake8x8-v1"],
    ]

    maze = maze_rows(quick)
    env = gym.make("mdparcade/GridWorld-v0", map=maze)
    model = exact_model(env)
    result = value_iteration(model, GAMMA, tol=TOL)
    per_sweep_ours = result.wall_time / result.iterations
    loop_sweeps = min(result.iterations, 5 if quick else 20)
    P = env.unwrapped.P
    started = time.perf_counter()
    V_loop = value_iteration_sweeps_loop(P, model.terminal, GAMMA, loop_sweeps)
    per_sweep_loop = (time.perf_counter() - started) / loop_sweeps
    with warnings.catch_warnings():  # stopping after loop_sweeps sweeps is the point here
        warnings.simplefilter("ignore", RuntimeWarning)
        check = value_iteration(model, GAMMA, tol=0.0, max_iterations=loop_sweeps).V
    if not np.allclose(V_loop, check, atol=1e-12):
        raise RuntimeError("the loop baseline and the vectorized sweep disagree")
    extrapolated = per_sweep_loop * result.iterations
    label = f"value iteration, {len(maze)}x{len(maze[0])} maze ({model.num_states} states)"
    rows += [
        [f"{label}, s", f"{result.wall_time:.3f}", f"{extrapolated:.1f}",
         f"{extrapolated / result.wall_time:.0f}x",
         f"gamma {GAMMA}, tol {TOL:g}: {result.iterations} sweeps; loop timed on {loop_sweeps} sweeps and "
         f"extrapolated"],
        [f"{label}, ms per sweep", f"{per_sweep_ours * 1e3:.3f}", f"{per_sweep_loop * 1e3:.1f}",
         f"{per_sweep_loop / per_sweep_ours:.0f}x", "sparse (A*S x S) matrix-vector product vs Python loop"],
    ]
    header = (f"{machine_line()} | scipy {scipy.__version__} | gymnasium {gym.__version__}")
    return [header + "\n" + table(["measure", "ours", "baseline", "speed-up", "notes"], rows)]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps and a 30x30 maze")
    args = parser.parse_args(argv)
    for text in gridworld_tables(quick=args.quick):
        print(text)


if __name__ == "__main__":
    main()
