"""`mdparcade report DIR`: rebuild a comparison's report (report.md, report.json, results.csv, curves.png,
profiles.png) from its run folders alone."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers) -> None:
    parser = subparsers.add_parser("report", help="rebuild a comparison's report from its run folders",
                                   description=__doc__.split(": ", 1)[1].replace("\n", " "))
    parser.add_argument("out", metavar="DIR", type=Path,
                        help="the folder of `mdparcade compare` (or any folder holding run folders)")
    parser.add_argument("--reps", type=int, default=2000, help="bootstrap resamples for the intervals")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from experiments.compare.report import build, headline_table

    if args.reps < 1:
        raise ValueError(f"--reps must be >= 1, got {args.reps}")
    summary = build(args.out, reps=args.reps)
    print(headline_table(summary))
    unreadable = f", {len(summary['unreadable'])} unreadable" if summary["unreadable"] else ""
    print(f"\n{summary['finished']} finished, {summary['failed']} failed, {summary['interrupted']} interrupted"
          f"{unreadable}; wrote {args.out}/report.md, report.json, results.csv, curves.png, profiles.png")
    return 0
