"""The API reference (docs/api/*.md, rendered by mkdocstrings) lists every public module, class and function
of envs, nets, agents and experiments.

Public: no part of the dotted name starts with an underscore, and the class or function is defined in that
module (not imported into it). The concept gallery's scripts (experiments.gallery.<script>) are examples,
documented on docs/gallery.md and run by `mdparcade gallery`, so they are not API; the gallery's discovery
module, experiments.gallery itself, is. With the docs extra installed (`pip install -e ".[docs]"`), the site
is also built strictly and its objects.inv is checked to hold every public class and function.
"""

from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
import re
import subprocess
import sys
import zlib
from functools import cache
from pathlib import Path

import pytest
from markdown_examples import ROOT

PACKAGES = ("envs", "nets", "agents", "experiments")
NOT_API = re.compile(r"experiments\.gallery\.\w+")  # the gallery's scripts: examples, listed on gallery.md


@cache
def public_modules() -> tuple[str, ...]:
    names = []
    for package in PACKAGES:
        module = importlib.import_module(package)
        names.append(package)
        for info in pkgutil.walk_packages(module.__path__, f"{package}."):
            if not any(part.startswith("_") for part in info.name.split(".")) and not NOT_API.fullmatch(info.name):
                names.append(info.name)
    return tuple(names)


def public_objects(module_name: str) -> list[str]:
    """Classes and functions defined in the module whose names do not start with an underscore."""
    module = importlib.import_module(module_name)
    return [f"{module_name}.{name}" for name, obj in vars(module).items()
            if not name.startswith("_") and (inspect.isclass(obj) or inspect.isfunction(obj))
            and getattr(obj, "__module__", None) == module_name]


def api_entries() -> dict[str, str]:
    """`::: module` entries of docs/api/*.md -> the options block under each (indented lines)."""
    entries = {}
    for page in sorted((ROOT / "docs" / "api").glob("*.md")):
        lines = page.read_text(encoding="utf-8").splitlines()
        for i, line in enumerate(lines):
            match = re.match(r"^:::\s+(\S+)\s*$", line)
            if match:
                options = []
                for following in lines[i + 1:]:
                    if not following.startswith("    "):
                        break
                    options.append(following.strip())
                assert match[1] not in entries, f"{match[1]} is listed twice in docs/api"
                entries[match[1]] = "\n".join(options)
    return entries


def test_the_walk_finds_the_packages():
    modules = public_modules()
    assert {"envs.gridworld", "nets.trainer", "agents.ppo", "experiments.compare.report", "experiments.gallery"} <= set(
        modules)
    assert not any(NOT_API.fullmatch(name) for name in modules)
    assert "nets.trainer.Trainer" in public_objects("nets.trainer")
    assert "nets.trainer.torch" not in public_objects("nets.trainer")  # imported modules are not its objects


def test_every_public_module_has_an_api_entry():
    entries = api_entries()
    missing = [name for name in public_modules() if name not in entries]
    assert not missing, f"add `::: NAME` for these modules to a page in docs/api: {missing}"


def test_api_entries_show_every_public_member():
    entries = api_entries()
    hidden = []
    for name, options in entries.items():
        if re.search(r"^members:\s*(false|\[|$)", options, re.M) and public_objects(name):
            hidden.append(name)
        assert "filters" not in options, f"{name}: the site-wide filters (only _private names hidden) apply"
        assert not re.search(r"^members:\s*true", options, re.M), f"{name}: `members: true` shows _private names"
    assert not hidden, f"these entries hide public classes or functions: {hidden}"


def test_api_entries_name_real_modules():
    stale = [name for name in api_entries() if name not in public_modules()]
    assert not stale, f"docs/api lists modules that are not public modules: {stale}"


def read_inventory(path: Path) -> dict[str, str]:
    """A Sphinx objects.inv (version 2): four header lines, then zlib-compressed `name domain:role prio uri
    dispname` lines. Returns name -> domain:role."""
    data = path.read_bytes()
    header_end = 0
    for _ in range(4):
        header_end = data.index(b"\n", header_end) + 1
    assert data.startswith(b"# Sphinx inventory version 2"), data[:40]
    entries = {}
    for line in zlib.decompress(data[header_end:]).decode("utf-8").splitlines():
        match = re.match(r"(.+?)\s+(\S+:\S+)\s+(-?\d+)\s+(\S*)\s+(.*)", line)
        if match:
            entries[match[1]] = match[2]
    return entries


@pytest.fixture(scope="module")
def built_site(tmp_path_factory):
    pytest.importorskip("mkdocs", reason="the docs extra is not installed: pip install -e '.[docs]'")
    pytest.importorskip("mkdocstrings_handlers.python", reason="the docs extra is not installed")
    site = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file",
                           str(ROOT / "mkdocs.yml"), "--site-dir", str(site)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"mkdocs build --strict failed:\n{done.stdout}\n{done.stderr}"
    return site


def test_the_site_builds_strictly_and_its_inventory_lists_every_public_object(built_site):
    inventory = read_inventory(built_site / "objects.inv")
    missing = [name for module in public_modules() for name in [module, *public_objects(module)]
               if name not in inventory]
    assert not missing, f"objects.inv lacks {len(missing)} public names, e.g. {missing[:10]}"
    private = [name for name, role in inventory.items()
               if role.startswith("py:") and any(part.startswith("_") for part in name.split("."))]
    assert not private, f"the API reference shows private names: {private[:10]}"
    assert inventory["nets.trainer.Trainer"] == "py:class"
    assert inventory["agents.planning.value_iteration"] == "py:function"
    assert (built_site / "api" / "envs" / "index.html").exists()
