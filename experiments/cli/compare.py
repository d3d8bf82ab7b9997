"""`mdparcade compare SUITE`: train every env x algorithm x seed of a suite (ours and stable-baselines3's side
by side), each run in its own folder, then write the report (report.md, report.json, results.csv, curves.png,
profiles.png). Re-running skips finished runs and resumes interrupted ones."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from experiments.compare import builtin_names


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "compare", help="compare agents (ours, stable-baselines3, tabular, exact) over many seeds, with a report",
        description=__doc__.split("\n\n")[0].split(": ", 1)[1])
    parser.add_argument("suite", metavar="SUITE", help=f"a suite .toml file or a built-in suite: "
                                                       f"{', '.join(builtin_names())}")
    parser.add_argument("--seeds", type=int, default=None, help="seeds per env x algorithm (default: the suite's)")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default runs/<suite name>)")
    parser.add_argument("--backend", choices=("local", "ray"), default="local",
                        help="local: a process pool (default); ray: Ray tasks (pip install -e \".[distributed]\")")
    parser.add_argument("--workers", type=int, default=None,
                        help="parallel runs (default: the CPU count; with --address, the cluster decides)")
    parser.add_argument("--address", default=None,
                        help="with --backend ray: a running cluster's HOST:PORT, as `ray start --head` prints it (the "
                             "token Ray finds here is sent; docs/experiments.md, Running on a cluster)")
    parser.add_argument("--reps", type=int, default=2000, help="bootstrap resamples for the intervals")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from experiments.compare.backends import run_suite
    from experiments.compare.report import build, headline_table
    from experiments.compare.suites import load_suite
    from experiments.runs.folder import write_text_atomic

    if args.seeds is not None and args.seeds < 1:
        raise ValueError(f"--seeds must be >= 1, got {args.seeds}")
    if args.reps < 1:
        raise ValueError(f"--reps must be >= 1, got {args.reps}")
    if args.workers is not None and args.workers < 1:
        raise ValueError(f"--workers must be >= 1, got {args.workers}")
    if args.address and args.backend != "ray":
        raise ValueError("--address needs --backend ray")
    suite = load_suite(args.suite)
    runs = suite.runs(args.seeds)
    out = args.out if args.out is not None else Path("runs") / suite.name
    saved = out / "suite.toml"
    if saved.is_file() and saved.read_text(encoding="utf-8") != suite.text:
        raise ValueError(f"{out} holds the runs of another suite ({saved} differs from {suite.path}); "
                         "choose another --out")
    out.mkdir(parents=True, exist_ok=True)
    write_text_atomic(saved, suite.text)
    seeds = args.seeds or suite.seeds
    print(f"suite {suite.name} ({suite.path}): {len(suite.entries)} env(s), {seeds} seed(s) -> {out}", flush=True)
    command = shlex.join(["mdparcade", *sys.argv[1:]])
    try:
        counts = run_suite(runs, out, args.backend, args.workers, args.address, command)
    except KeyboardInterrupt:
        print("\ninterrupted: finished runs are kept, unfinished ones resume from their last checkpoint when "
              "you re-run the same command", file=sys.stderr)
        return 130
    summary = build(out, reps=args.reps)
    print()
    print(headline_table(summary))
    print(f"\n{counts['finished']} finished, {counts['failed']} failed; wrote {out}/report.md, report.json, "
          "results.csv, curves.png, profiles.png")
    return 1 if counts["failed"] else 0
