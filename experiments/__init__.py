"""Runs, comparisons, reports and the `mdparcade` command line, one folder per stage of a run:

    cli/       the entry point, one module per subcommand
    compare/   suites, their execution (local pool, Ray), statistics, report, plots
    runs/      one run: its spec, the run and its evaluator, the run folder, provenance
    learners/  the Learner interface and registry: our agents, tabular learners, value iteration, SB3
    bench/, gallery/, recording.py   leaves beside the pipeline (benchmarks, concept gallery, GIFs)

Imports point down that list. The flat modules of earlier releases (experiments.sb3, experiments.stats, ...)
still import, with a DeprecationWarning, until the next release (see `MOVED`).
"""

from __future__ import annotations

import importlib
import importlib.machinery
import sys
import types
import warnings

#: Old module -> the modules that now hold its names (searched in order, imported only when a name is used).
MOVED: dict[str, tuple[str, ...]] = {
    "experiments.algorithms": ("experiments.learners.presets", "experiments.learners.overrides",
                               "experiments.learners.ours"),
    "experiments.env_models": ("agents.env_models", "envs.registration"),
    "experiments.sb3": ("experiments.learners.sb3", "experiments.learners.sb3_presets",
                        "experiments.learners.sb3_classes"),
    "experiments.sb3_classes": ("experiments.learners.sb3_classes",),
    "experiments.sb3_zoo": ("experiments.learners.sb3_presets",),
    "experiments.suites": ("experiments.compare.suites",),
    "experiments.report": ("experiments.compare.report", "experiments.compare.records",
                           "experiments.compare.references"),
    "experiments.stats": ("experiments.compare.stats",),
    "experiments.plots": ("experiments.compare.plots",),
    "experiments.demo": ("experiments.cli.demo",),
    "experiments.commands": ("experiments.cli",),
    **{f"experiments.commands.{name}": (f"experiments.cli.{name}",)
       for name in ("compare", "gallery", "play", "report", "solve", "train", "watch")},
}


class _MovedModules:
    """Imports an old module path as a stand-in module whose names come from the new modules, lazily."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in MOVED:
            return None
        return importlib.machinery.ModuleSpec(fullname, self, is_package=fullname == "experiments.commands")

    def create_module(self, spec):
        return None

    def exec_module(self, module: types.ModuleType) -> None:
        sources = MOVED[module.__name__]
        warnings.warn(f"{module.__name__} moved to {', '.join(sources)}; the old path goes in the next release",
                      DeprecationWarning, stacklevel=2)

        def __getattr__(name: str):
            for source in sources:
                value = getattr(importlib.import_module(source), name, _MISSING)
                if value is not _MISSING:
                    return value
            raise AttributeError(f"module {module.__name__!r} (moved to {', '.join(sources)}) has no attribute "
                                 f"{name!r}")

        module.__getattr__ = __getattr__
        if module.__spec__.submodule_search_locations is not None:
            module.__path__ = []


_MISSING = object()
if not any(isinstance(finder, _MovedModules) for finder in sys.meta_path):
    sys.meta_path.append(_MovedModules())
