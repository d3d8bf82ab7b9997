"""A check the gallery test files share: their scripts are discovered with a concept and a claim, and
`mdparcade gallery` lists them."""

from __future__ import annotations

from experiments import gallery
from experiments.cli import main as cli_main


def listed_names(scripts, capsys) -> list[str]:
    """Assert every name in `scripts` is a gallery script with a concept and a claim, and return the names
    `mdparcade gallery` prints (a superset of `scripts`, asserted)."""
    listed = {script.name: script for script in gallery.list_scripts()}
    for name in scripts:
        assert name in listed, name
        assert listed[name].concept and listed[name].claim, name
    assert cli_main(["gallery"]) == 0
    names = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert set(scripts) <= set(names)
    return names
