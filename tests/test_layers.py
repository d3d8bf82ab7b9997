"""The import structure: every import of our modules (lazy ones inside functions included) points down the
layers that README.md lists under "What is inside", never sideways within a layer, and no modules import each
other in a circle. The layers are read from README.md, where they are written once."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("envs", "nets", "agents", "experiments")


def read_layers(readme: Path) -> list[list[str]]:
    """The text block of README.md that starts with `experiments.cli`: one layer a line, top first."""
    text = readme.read_text(encoding="utf-8")
    block = re.search(r"```text\n(experiments\.cli\n.*?)```", text, flags=re.S)
    assert block, f"{readme} lacks the layers block (a ```text block starting with experiments.cli)"
    return [[name.strip() for name in line.split("|")] for line in block[1].strip().splitlines()]


def module_files(root: Path, packages=PACKAGES) -> dict[str, Path]:
    """Module name -> file, for every .py of our packages under `root`."""
    modules = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def imported_modules(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Our modules that `name` imports anywhere in its file (a module, or the package that holds a name)."""
    is_package = path.name == "__init__.py"
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".")[: len(name.split(".")) - node.level + (1 if is_package else 0)]
                base = ".".join(anchor + ([base] if base else []))
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in modules:  # `import a.b.c` names a.b.c; `import a` names a
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def layer_of(module: str, layers: list[list[str]]) -> tuple[int, str] | None:
    """(layer index, the layer's entry) of the longest entry that is `module` or a prefix of it."""
    best = None
    for index, layer in enumerate(layers):
        for entry in layer:
            if (module == entry or module.startswith(entry + ".")) and (best is None or len(entry) > len(best[1])):
                best = (index, entry)
    return best


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for child in sorted(graph.get(node, ())):
            if child not in index:
                visit(child)
                low[node] = min(low[node], low[child])
            elif child in on_stack:
                low[node] = min(low[node], index[child])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def problems(root: Path, layers: list[list[str]], packages=PACKAGES) -> list[str]:
    """Every import that points up or sideways, and every circle, as sentences naming the files."""
    modules = module_files(root, packages)
    graph = {name: imported_modules(name, path, modules) for name, path in modules.items()}
    found = []
    for name, targets in sorted(graph.items()):
        here = layer_of(name, layers)
        for target in sorted(targets):
            there = layer_of(target, layers)
            if here is None or there is None or here[1] == there[1]:
                continue  # within one entry (a package's own modules), or the root package's face
            if there[0] < here[0]:
                found.append(f"{modules[name].relative_to(root)} imports {target}: up from {here[1]} to {there[1]}")
            elif there[0] == here[0]:
                found.append(f"{modules[name].relative_to(root)} imports {target}: sideways, {here[1]} and "
                             f"{there[1]} are independent")
    found += [f"circle: {' -> '.join(component)}" for component in circles(graph)]
    return found


def test_every_import_points_down_the_layers_and_none_form_a_circle():
    assert problems(ROOT, read_layers(ROOT / "README.md")) == []


def test_the_layers_cover_every_package_and_every_folder_of_experiments():
    layers = read_layers(ROOT / "README.md")
    for module in module_files(ROOT):
        if module != "experiments":
            assert layer_of(module, layers) is not None, f"{module} is in no layer of README.md"


# The test of the test: a small tree with one arrow up, one sideways and a circle.
def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


@pytest.fixture
def tree(tmp_path):
    write(tmp_path, {
        "top/__init__.py": "", "top/cli.py": "from mid import run\n",
        "mid/__init__.py": "", "mid/run.py": "import low.learn\n",
        "low/__init__.py": "", "low/learn.py": "x = 1\n",
        "side/__init__.py": "", "side/a.py": "",
    })
    return tmp_path


LAYERS = [["top"], ["mid", "side"], ["low"]]
PKGS = ("top", "mid", "low", "side")


def test_the_check_passes_a_tree_that_points_down(tree):
    assert problems(tree, LAYERS, PKGS) == []


def test_the_check_fails_on_an_import_up_even_inside_a_function(tree):
    write(tree, {"low/learn.py": "def save():\n    from mid.run import thing\n"})
    found = problems(tree, LAYERS, PKGS)
    assert "low/learn.py imports mid.run: up from low to mid" in found
    assert "circle: low.learn -> mid.run" in found  # mid.run imports low.learn too


def test_the_check_fails_sideways_and_on_a_circle_within_a_package(tree):
    write(tree, {"mid/run.py": "from side import a\nfrom . import other\n", "mid/other.py": "from .run import x\n"})
    found = problems(tree, LAYERS, PKGS)
    assert "mid/run.py imports side.a: sideways, mid and side are independent" in found
    assert "circle: mid.other -> mid.run" in found
