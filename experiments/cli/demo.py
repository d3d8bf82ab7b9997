"""`mdparcade demo` (what `make demo` runs), the main job: solve a gridworld exactly, compare our agents with
stable-baselines3 on the quick suite (3 seeds, each run in its own folder), write the report, the learning
curves and a GIF of the best agent, all headless. Re-running it reuses every finished run."""

from __future__ import annotations

import argparse
from pathlib import Path

GAMES = ("mdparcade/Catch-v0", "mdparcade/Snake-v0", "mdparcade/Breakout-v0")


def register(subparsers) -> None:
    parser = subparsers.add_parser("demo", help="the main job: solve, compare with stable-baselines3, report, GIF",
                                   description=__doc__.split(": ", 1)[1].replace("\n", " "))
    parser.add_argument("--out", type=Path, default=Path("runs/demo"), help="output folder (default runs/demo)")
    parser.add_argument("--suite", default="quick", help="the suite to compare on (default quick)")
    parser.add_argument("--seeds", type=int, default=3, help="seeds per env x algorithm (default 3)")
    parser.add_argument("--workers", type=int, default=None, help="parallel runs (default: the CPU count)")
    parser.set_defaults(func=run)


def best_run(out: Path) -> Path | None:
    """The finished run to film: on the suite's first arcade game (else its first env), the highest final score;
    ties go to the faster run."""
    from experiments.compare.records import collect
    from experiments.runs.folder import FINISHED

    records = [r for r in collect(out) if r.status == FINISHED]
    if not records:
        return None
    envs = [r.env_id for r in records]
    env_id = next((env for env in GAMES if env in envs), envs[0])
    best = max((r for r in records if r.env_id == env_id), key=lambda r: (r.score, -r.seconds))
    return out / best.folder


def run(args: argparse.Namespace) -> int:
    from experiments.cli import main as mdparcade
    from experiments.runs.folder import RunFolder

    print("== 1. Solve slippery FrozenLake8x8 exactly (value iteration on its model)", flush=True)
    code = mdparcade(["solve", "FrozenLake8x8", "--out", str(args.out / "solve")])
    if code:
        return code
    print(f"\n== 2. Compare ours with stable-baselines3: the {args.suite} suite, {args.seeds} seeds", flush=True)
    workers = [] if args.workers is None else ["--workers", str(args.workers)]
    code = mdparcade(["compare", args.suite, "--seeds", str(args.seeds), "--out", str(args.out), *workers])
    if code not in (0, 1):  # 1: some runs failed; the report says which
        return code
    best = best_run(args.out)
    if best is not None:
        config = RunFolder(best).read_config()
        print(f"\n== 3. The best agent on {config['env_id']}: {config['algo']}, seed {config['seed']} ({best})",
              flush=True)
        mdparcade(["watch", str(best), "--record", str(args.out / "best.gif"), "--episodes", "3"])
    print(f"\nreport: {args.out / 'report.md'}\ncurves: {args.out / 'curves.png'}\n"
          f"GIF:    {args.out / 'best.gif'}\nsolution: {args.out / 'solve'}")
    return code
