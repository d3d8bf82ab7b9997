"""Subcommands of the `mdparcade` command line: each module defines `register(subparsers)`.

`register` adds one subparser and sets `func=run` on it, where `run(args) -> int` is the exit status.
"""
