"""The `mdparcade` command line: one module per subcommand, each with `register(subparsers)` (cheap: no torch,
SB3 or Ray at import) and `run(args) -> int`, which imports what it uses. Bad input of any kind is one line on
stderr naming the problem, and exit status 2."""

from __future__ import annotations

import argparse
import importlib
import sys

#: The subcommands, in the order `mdparcade --help` lists them.
COMMANDS = ("train", "watch", "play", "solve", "compare", "report", "gallery", "demo")


def package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mdparcade")
    except PackageNotFoundError:
        return "0+unknown"


class OneLineErrors(argparse.ArgumentParser):
    """argparse, with a usage error as one line naming the problem and where help is (exit status 2)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


class VersionAction(argparse.Action):
    """--version, reading the installed version only when asked."""

    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help="show the version and exit")

    def __call__(self, parser, namespace, values, option_string=None):
        parser.exit(0, f"mdparcade {package_version()}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineErrors(
        prog="mdparcade",
        description="Gridworld MDPs, arcade games, shared neural nets and agents.",
    )
    parser.add_argument("--version", action=VersionAction)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineErrors)
    for name in COMMANDS:
        importlib.import_module(f"{__name__}.{name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print(f"\nmdparcade {args.command}: interrupted", file=sys.stderr)
        return 130
    except (ValueError, OSError) as err:  # bad input: CheckpointError, RunFolderError, FileNotFoundError, ...
        print(f"mdparcade {args.command}: error: {one_line(err)}", file=sys.stderr)
        return 2


def one_line(err: Exception) -> str:
    """The error's message on one line (OSErrors with their file name)."""
    if isinstance(err, OSError) and err.filename is not None and err.strerror:
        return f"{err.strerror}: {err.filename}"
    text = " ".join(str(err).split())
    return text or type(err).__name__


if __name__ == "__main__":
    sys.exit(main())
