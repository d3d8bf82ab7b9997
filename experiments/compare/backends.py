"""Running a suite: every run in its own folder, skipped when finished, resumed from its checkpoint when it was
interrupted, recorded as failed (with its traceback, in failed.json) when it raises, while the rest go on. The
unfinished seeds of one of our deep agents' cells (same env, algorithm, budget and overrides) are one task: a
population trained as one batched model by one worker (experiments/runs/run.py `PopulationRun`).

Two backends run the same worker function, `execute`: a local process pool (the default) and Ray (the optional
`distributed` extra; a local instance, or an existing cluster by address). Each worker pins torch to one
thread: small nets lose more to thread overhead than they gain, and two workers on two cores stay fair. A run
records the node it started on (config.json) and finished on (summary.json); on Ray, a run whose worker or
node dies is run again elsewhere from its last checkpoint, and recorded as failed if that keeps happening.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
import sys
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from experiments.compare.ray_connect import connect
from experiments.compare.suites import SuiteRun
from experiments.learners.registry import learner_class
from experiments.runs.folder import FINISHED, RunFolder
from experiments.runs.run import PopulationRun, Run
from experiments.runs.spec import RunSpec


@dataclass(frozen=True)
class Outcome:
    """What a worker reports for one run: its folder, "finished" or "failed", the final evaluation or the error."""

    folder: str
    status: str
    seconds: float
    eval_mean: float | None = None
    error: str = ""
    node: str = ""  # where it ran, on Ray: "host, Ray node 1a2b3c4d"


@dataclass(frozen=True)
class Task:
    """What one worker trains: one run, or (`group` set: the members' cell folder) a population of seeds."""

    specs: tuple[RunSpec, ...]
    folders: tuple[str, ...]
    group: str | None = None
    command: str = ""


#: How often Ray runs a run again when its worker or node dies (each attempt resumes from the run's last
#: checkpoint); after that the run is recorded as failed, and a re-run of the suite tries it again.
NODE_FAILURE_RETRIES = 3


def where_this_runs() -> dict:
    """The host, and the Ray node when this process is a Ray worker: the "node" a run folder records."""
    node = {"host": socket.gethostname()}
    ray = sys.modules.get("ray")
    if ray is not None and ray.is_initialized():
        node["ray_node_id"] = ray.get_runtime_context().get_node_id()
    return node


def node_label(node: dict) -> str:
    return node["host"] + (f", Ray node {node['ray_node_id'][:8]}" if "ray_node_id" in node else "")


def _pin_threads() -> None:
    import torch

    torch.set_num_threads(1)
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")


def execute(task: Task) -> list[Outcome]:
    """Train a task's runs (resuming what was interrupted); an Outcome per run.

    An exception becomes failed.json (error, traceback, spec) in each of the task's folders and "failed"
    outcomes: one bad run does not stop a suite. Runs a worker's whole task, in a pool process or a Ray worker."""
    _pin_threads()
    node = where_this_runs()
    label = node_label(node) if "ray_node_id" in node else ""
    started = time.perf_counter()
    try:
        if task.group is None:
            summaries = [Run(task.specs[0], task.folders[0], progress=False, command=task.command, node=node)
                         .run().summary]
        else:
            results = PopulationRun(list(task.specs), list(task.folders), task.group, progress=False,
                                    command=task.command, node=node).run_members()
            summaries = [result.summary for result in results]
    except Exception as err:  # noqa: BLE001  (any failure of one run is recorded, not raised)
        error = f"{type(err).__name__}: {err}"
        for spec, folder in zip(task.specs, task.folders):
            RunFolder(folder).write_failure(error, traceback.format_exc(), spec.as_dict(), node)
        return [Outcome(folder, "failed", time.perf_counter() - started, error=error, node=label)
                for folder in task.folders]
    outcomes = []
    for folder, summary in zip(task.folders, summaries):
        RunFolder(folder).clear_failure()
        outcomes.append(Outcome(folder, FINISHED, summary["seconds"], eval_mean=summary["eval_mean"], node=label))
    return outcomes


def tasks(runs: list[SuiteRun], out: Path, command: str = "") -> list[Task]:
    """The tasks for every run not finished yet (failed runs are tried again): the unfinished seeds of a cell of
    our deep agents together as a population, every other run alone."""
    cells: dict[str, list[SuiteRun]] = {}
    alone = []
    for run in runs:
        if RunFolder(out / run.folder).status() == FINISHED:
            continue
        if learner_class(run.spec.algo).supports_populations:
            cell = str(Path(run.folder).parent)  # env[kwargs]/algo[overrides]: everything but the seed
            cells.setdefault(cell, []).append(run)
        else:
            alone.append(Task((run.spec,), (str((out / run.folder).resolve()),), None, command))
    grouped = [Task(tuple(r.spec for r in members), tuple(str((out / r.folder).resolve()) for r in members),
                    str((out / cell).resolve()) if len(members) > 1 else None, command)
               for cell, members in cells.items()]
    return grouped + alone


def _ignore_sigint() -> None:
    # Ctrl-C reaches the whole process group: the parent alone handles it, by terminating the workers. SIGTERM
    # then raises SystemExit, so a write in progress removes its temp file on the way out.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _exit)
    _pin_threads()


def _exit(signum, frame):
    sys.exit(128 + signum)


def run_local(work: list[Task], workers: int) -> Iterator[list[Outcome]]:
    """Outcomes as tasks finish, from a pool of `workers` spawned processes; Ctrl-C terminates the pool (every
    file is written atomically, so the folders stay consistent) and re-raises."""
    context = multiprocessing.get_context("spawn")
    pool = context.Pool(workers, initializer=_ignore_sigint)
    try:
        yield from pool.imap_unordered(execute, work, chunksize=1)
        pool.close()
    except BaseException:
        pool.terminate()
        raise
    finally:
        pool.join()


def run_ray(work: list[Task], workers: int | None, address: str | None) -> Iterator[list[Outcome]]:
    """Outcomes as tasks finish, one Ray task (one CPU) each: a local instance of `workers` CPUs, or the
    cluster at `address` (then every node needs mdparcade installed and the output folder on shared storage).

    A task whose worker process or node dies is retried (NODE_FAILURE_RETRIES times, on any node; it resumes
    from the run's checkpoint); one Ray gives up on becomes a failed run (failed.json says why), and the suite
    goes on."""
    try:
        import ray
    except ImportError as err:
        raise ValueError('the ray backend needs Ray: pip install -e ".[distributed]"') from err
    started_here = not ray.is_initialized()
    if started_here:
        connect(address, workers)
    remote = ray.remote(num_cpus=1, max_retries=NODE_FAILURE_RETRIES)(execute)
    pending = {remote.remote(task): task for task in work}
    try:
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            task = pending.pop(done[0])
            try:
                outcome = ray.get(done[0])
            except ray.exceptions.RayError as err:
                yield lost(task, err)
            else:
                yield checked(outcome, task)
    except BaseException:
        for ref in pending:
            ray.cancel(ref, force=True)
        raise
    finally:
        if started_here:
            ray.shutdown()


def lost(task: Task, err: Exception) -> list[Outcome]:
    """A task Ray gave up on (its worker or node died on every try): its runs are recorded as failed, to
    resume on a re-run."""
    first_line = (str(err).strip().splitlines() or [""])[0]
    error = (f"Ray lost the run ({type(err).__name__}: {first_line}; a run whose worker or node dies is tried "
             f"{NODE_FAILURE_RETRIES + 1} times): re-run the suite to resume it from its last checkpoint")
    for spec, folder in zip(task.specs, task.folders):
        try:
            RunFolder(folder).write_failure(error, str(err), spec.as_dict())
        except OSError:
            pass  # a folder this machine cannot write: the outcome still says what happened
    return [Outcome(folder, "failed", 0.0, error=error) for folder in task.folders]


def checked(outcomes: list[Outcome], task: Task) -> list[Outcome]:
    """Runs a Ray worker finished must have their summaries where the driver reads them: if not, --out is not
    on storage the nodes share, and the report would miss the runs."""
    return [_seen(outcome, spec) for outcome, spec in zip(outcomes, task.specs)]


def _seen(outcome: Outcome, spec: RunSpec) -> Outcome:
    if outcome.status != FINISHED or RunFolder(outcome.folder).summary_path.is_file():
        return outcome
    error = (f"the run finished on {outcome.node or 'another node'}, but its summary.json is not in "
             f"{outcome.folder} on this machine: on a cluster, --out must be on storage that every node shares")
    try:
        RunFolder(outcome.folder).write_failure(error, "", spec.as_dict())
    except OSError:
        pass
    return Outcome(outcome.folder, "failed", outcome.seconds, error=error, node=outcome.node)


def run_suite(runs: list[SuiteRun], out: Path, backend: str = "local", workers: int | None = None,
              address: str | None = None, command: str = "", echo=print) -> dict[str, int]:
    """Train every unfinished run of `runs` under `out`; print a line per finished run; return the counts of
    finished (now or before) and failed runs."""
    out.mkdir(parents=True, exist_ok=True)
    work = tasks(runs, out, command)
    to_run = sum(len(task.specs) for task in work)
    done_before = len(runs) - to_run
    populations = sum(task.group is not None for task in work)
    echo(f"{len(runs)} runs: {done_before} already finished, {to_run} to run on the {backend} backend"
         + (f" ({workers} worker{'s' if workers != 1 else ''})" if workers else "")
         + (f"; {populations} of our cells as populations" if populations else ""), flush=True)
    workers = workers or os.cpu_count() or 1
    if backend == "local":
        results = run_local(work, min(workers, max(len(work), 1))) if work else iter(())
    elif backend == "ray":
        results = run_ray(work, workers, address) if work else iter(())
    else:
        raise ValueError(f"unknown backend {backend!r}; choose local or ray")
    counts = {"finished": done_before, "failed": 0}
    outcomes = (outcome for batch in results for outcome in batch)
    for index, outcome in enumerate(outcomes, start=1):
        name = os.path.relpath(outcome.folder, out)
        counts[outcome.status] += 1
        detail = f"eval {outcome.eval_mean:.4g}" if outcome.status == FINISHED else outcome.error
        where = f" on {outcome.node}" if outcome.node else ""
        echo(f"[{index}/{to_run}] {name} {outcome.status} in {outcome.seconds:.1f} s{where}: {detail}",
             flush=True)
    return counts
