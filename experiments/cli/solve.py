"""`mdparcade solve ENV_ID`: solve a gridworld exactly from its model (value or policy iteration).

Prints iterations, wall time, V(start), the optimal policy's exact success probability and its arrows;
writes the env's picture with the value heatmap and policy arrows as a PNG.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: the planners load when something is solved
    import gymnasium as gym
    import numpy as np

    from agents.planning import Model, PlanningResult

ARROWS = ("←", "↓", "→", "↑")  # the gridworlds' action order: 0 left, 1 down, 2 right, 3 up
#: --method -> (name, function of agents.planning)
METHODS = {"vi": ("value iteration", "value_iteration"), "pi": ("policy iteration", "policy_iteration")}
# Cells drawn as themselves in the arrow grid; every other cell shows its policy's arrow.
FIXED_CELLS = "#GHC"


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "solve",
        help="solve a gridworld exactly (value or policy iteration) and draw the solution",
        description="Solve an mdparcade gridworld from its exact model; print the solution, save a PNG.",
    )
    parser.add_argument("env_id", metavar="ENV_ID", help="e.g. mdparcade/FrozenLake8x8-v0 (prefix optional)")
    parser.add_argument("--method", choices=sorted(METHODS), default="vi",
                        help="vi: value iteration, pi: policy iteration (default vi)")
    parser.add_argument("--gamma", type=float, default=0.99, help="discount factor in [0, 1] (default 0.99)")
    parser.add_argument("--tol", type=float, default=1e-8, help="stopping tolerance (default 1e-8)")
    parser.add_argument("--map", default=None,
                        help="map for mdparcade/GridWorld-v0: a built-in map name or a .txt file")
    parser.add_argument("--out", type=Path, default=None,
                        help="folder for solution.png (default runs/solve/<env-name>/)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import gymnasium as gym

    from agents import planning
    from agents.env_models import exact_model
    from envs import resolve_env_id

    env_id = resolve_env_id(args.env_id)
    if not 0.0 <= args.gamma <= 1.0:
        raise ValueError(f"--gamma must be in [0, 1], got {args.gamma}")
    kwargs = {"render_mode": "rgb_array"} | ({"map": args.map} if args.map is not None else {})
    env = gym.make(env_id, **kwargs)
    try:
        model = exact_model(env)
        if not args.tol > 0:
            raise ValueError(f"--tol must be > 0, got {args.tol}")
        method_name, function = METHODS[args.method]
        result = getattr(planning, function)(model, args.gamma, tol=args.tol)
        print(f"{env_id}: {method_name}, gamma {args.gamma:g}, tol {args.tol:g}")
        print(solution_summary(env, model, result))
        out_dir = args.out if args.out is not None else Path("runs") / "solve" / env_id.split("/")[-1]
        path = save_solution_png(env, result, out_dir / "solution.png")
        print(f"wrote {path}")
    finally:
        env.close()
    return 0


def solution_summary(env: gym.Env, model: Model, result: PlanningResult) -> str:
    """The printed report: sizes, iterations, time, V(start), success probability, the policy's arrows."""
    from agents.env_models import goal_mask
    from agents.planning import success_probability

    lines = [
        f"  states {model.num_states}, actions {model.num_actions}",
        f"  iterations          {result.iterations}",
        f"  wall time           {result.wall_time:.4f} s",
        f"  final residual      {result.residual:.3g}",
        f"  V(start)            {model.start @ result.V:.6f}  (expectation over the start distribution)",
    ]
    goal = goal_mask(env)
    if goal is not None:
        limit = env.spec.max_episode_steps if env.spec is not None else None
        unlimited = success_probability(model, result.policy, goal)
        text = f"  P(reach goal)       {unlimited:.6f}  (greedy policy, exact, no step limit)"
        if limit is not None:
            within = success_probability(model, result.policy, goal, horizon=limit)
            text += f"\n                      {within:.6f}  (within the env's {limit}-step limit)"
        lines.append(text)
        lines.append("  policy:")
        lines += ["    " + row for row in policy_arrows(env.unwrapped.rows, result.policy)]
    return "\n".join(lines)


def policy_arrows(rows: tuple[str, ...], policy: np.ndarray) -> list[str]:
    """One string per map row: walls, goals, holes and cliff cells as their map characters, else arrows."""
    width = len(rows[0])
    return [
        " ".join(char if char in FIXED_CELLS else ARROWS[policy[r * width + c]] for c, char in enumerate(row))
        for r, row in enumerate(rows)
    ]


def save_solution_png(env: gym.Env, result: PlanningResult, path: str | os.PathLike) -> Path:
    """The env's rgb_array render with V as a heatmap and the policy as arrows, saved as a PNG."""
    import numpy as np
    import pygame

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    env.reset(seed=0)
    env.unwrapped.set_overlay(values=result.V, policy=result.policy)
    frame = env.render()
    pygame.image.save(pygame.surfarray.make_surface(np.ascontiguousarray(frame.swapaxes(0, 1))), str(path))
    return path
