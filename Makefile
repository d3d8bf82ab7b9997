# Two commands on a fresh machine: `make demo` runs the main job, `make test` runs lint + tests.
# Both create .venv when it is missing. CPU torch by default; GPU users: make TORCH=torch demo
# (or any pip requirement, e.g. TORCH="torch==2.13.0 --index-url https://download.pytorch.org/whl/cu126").

PYTHON ?= python3
TORCH ?= torch==2.13.0
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

export SDL_VIDEODRIVER ?= dummy
export SDL_AUDIODRIVER ?= dummy
export PYGAME_HIDE_SUPPORT_PROMPT := 1
# Quiet Material's "MkDocs 2.0" banner on every build.
export NO_MKDOCS_2_WARNING := 1

.PHONY: demo test lint bench bench-agents classic mutation docs serve-docs clean clean-numba

# The package and its runtime dependencies (what `make demo` needs) ...
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet $(TORCH)
	$(PY) -m pip install --quiet -e .
	$(PY) -m envs.compile_games
	touch $(STAMP)

# ... and the dev extra on top (pytest, ruff, Ray, MkDocs, minatar, ...) for the tests and the docs.
$(DEV_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(DEV_STAMP)

# The main job: solve a gridworld exactly, compare ours with stable-baselines3 on the quick suite (3 seeds),
# write runs/demo/report.md, curves.png and best.gif (about 5 minutes on 2 cores; re-runs reuse finished runs).
demo: $(STAMP)
	$(VENV)/bin/mdparcade demo

lint: $(DEV_STAMP)
	$(VENV)/bin/ruff check .

test: lint
	$(PY) -m pytest -q -n 2

bench: $(STAMP)
	$(PY) -m experiments.bench.nets

# Deep agents against stable-baselines3, 5 seeds each (about 45 minutes on 2 cores).
bench-agents: $(STAMP)
	$(PY) -m experiments.bench.agents

# The classic suite at 10 seeds (CartPole, Acrobot, FrozenLake8x8, CliffWalking; about 30 minutes on 2 cores).
classic: $(STAMP)
	$(VENV)/bin/mdparcade compare classic --seeds 10 --out runs/classic

# Mutation testing of the core modules listed under [tool.mutmut] in pyproject.toml (about 40 minutes on
# 2 cores; not part of `make test`). Prints each module's kill rate and every surviving mutant.
mutation: $(DEV_STAMP)
	$(PY) -m pip install --quiet "mutmut>=3.3"
	$(VENV)/bin/mutmut run --max-children 2 || true
	$(PY) tools/mutation_report.py

# The documentation site, built strictly into site/ (a broken link, anchor or API reference fails it); the
# dev extra holds the doc tools, `pip install -e ".[docs]"` installs them alone.
docs: $(DEV_STAMP)
	$(VENV)/bin/mkdocs build --strict

# Serve the site on http://127.0.0.1:8000, rebuilt on every save.
serve-docs: $(DEV_STAMP)
	$(VENV)/bin/mkdocs serve

clean: clean-numba
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis mutants site

# numba's cache (compiled game kernels) notices edits to a kernel's own module only: after editing a module
# that kernels inline from (envs/rng_jit.py, envs/seaquest_movers.py, envs/seaquest_shots.py), drop it.
clean-numba:
	find envs -name '*.nbi' -delete -o -name '*.nbc' -delete
