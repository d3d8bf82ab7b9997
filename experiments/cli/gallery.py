"""`mdparcade gallery [NAME] [--plots DIR]`: list the concept gallery's scripts, or run one of them."""

from __future__ import annotations

import argparse

from experiments import gallery


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "gallery",
        help="list or run the concept gallery's scripts",
        description="Without NAME, list every gallery script and the claim it checks; with NAME, run it.",
    )
    parser.add_argument("name", nargs="?", metavar="NAME", help="script to run (omit to list them all)")
    parser.add_argument("--plots", metavar="DIR", default=None, help="also write the script's PNG into DIR")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.name is None:
        if args.plots is not None:
            raise ValueError("--plots needs a script NAME")
        print(gallery.format_listing())
        return 0
    gallery.run_script(args.name, plot_dir=args.plots)
    return 0
