"""`mdparcade report DIR`: rebuild a comparison's report (report.md, curves.png, profiles.png, results.csv,
summary.json) from its run folders alone."""

from __future__ import annotations

import argparse
from pathlib import Path

from experiments.report import build, headline_table


def register(subparsers) -> None:
    parser = subparsers.add_parser("report", help="rebuild a comparison's report from its run folders",
                                   description=__doc__.split(": ", 1)[1])
    parser.add_argument("out", metavar="DIR", type=Path, help="the output folder of `mdparcade compare`")
    parser.add_argument("--reps", type=int, default=2000, help="bootstrap resamples for the intervals")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not args.out.is_dir():
        raise FileNotFoundError(f"{args.out} is not a folder")
    summary = build(args.out, reps=args.reps)
    print(headline_table(summary))
    print(f"\n{summary['finished']} finished, {summary['failed']} failed, {summary['unfinished']} unfinished; "
          f"wrote {args.out}/report.md, curves.png, profiles.png, results.csv, summary.json")
    return 0
