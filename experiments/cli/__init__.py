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
        message = message.replace("\r", "\\r").replace("\n", "\\n")  # a newline typed into an argument
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


def check_writable(path, option: str, folder: bool) -> None:
    """Refuse an output path this process cannot write, before any work: `path` must be a folder (or not exist
    yet) when `folder`, else not a folder; the nearest existing folder above it must take a new file (tried
    with a temporary file, which also catches read-only mounts and /proc for root)."""
    import tempfile
    from pathlib import Path

    path = Path(path)
    if folder and path.exists() and not path.is_dir():
        raise ValueError(f"{option} {path} is a file; give a folder")
    if not folder and path.is_dir():
        raise ValueError(f"{option} {path} is a folder; give a file name")
    existing = path if folder and path.is_dir() else path.parent
    while not existing.exists():
        existing = existing.parent
    try:
        if not existing.is_dir():
            raise NotADirectoryError(f"{existing} is not a folder")
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as err:
        raise ValueError(f"{option} {path}: cannot write in {existing} ({err.strerror or err})") from None


def one_line(err: Exception) -> str:
    """The error's message on one line (OSErrors with their file name)."""
    if isinstance(err, OSError) and err.filename is not None and err.strerror:
        return f"{err.strerror}: {err.filename}"
    text = " ".join(str(err).split())
    return text or type(err).__name__


if __name__ == "__main__":
    sys.exit(main())
