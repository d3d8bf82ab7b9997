"""Running a suite: every run in its own folder, skipped when finished, resumed from its checkpoint when it was
interrupted, recorded as failed (with its traceback, in failed.json) when it raises, while the rest go on.

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
from experiments.runs.folder import FINISHED, RunFolder
from experiments.runs.run import Run
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


def execute(spec: RunSpec, folder: str, command: str = "") -> Outcome:
    """Train one run into `folder` (resuming it if it was interrupted).

    An exception becomes failed.json (error, traceback, spec) and a "failed" outcome: one bad run does not stop
    a suite. Runs a worker's whole task, in a pool process or a Ray worker."""
    _pin_threads()
    run_folder = RunFolder(folder)
    node = where_this_runs()
    label = node_label(node) if "ray_node_id" in node else ""
    started = time.perf_counter()
    try:
        summary = Run(spec, run_folder.path, progress=False, command=command, node=node).run().summary
    except Exception as err:  # noqa: BLE001  (any failure of one run is recorded, not raised)
        error = f"{type(err).__name__}: {err}"
        run_folder.write_failure(error, traceback.format_exc(), spec.as_dict(), node)
        return Outcome(folder, "failed", time.perf_counter() - started, error=error, node=label)
    run_folder.clear_failure()
    return Outcome(folder, FINISHED, summary["seconds"], eval_mean=summary["eval_mean"], node=label)


def tasks(runs: list[SuiteRun], out: Path) -> list[tuple[RunSpec, str]]:
    """(spec, absolute folder) for every run not finished yet: failed runs are tried again."""
    return [(run.spec, str((out / run.folder).resolve())) for run in runs
            if RunFolder(out / run.folder).status() != FINISHED]


def _ignore_sigint() -> None:
    # Ctrl-C reaches the whole process group: the parent alone handles it, by terminating the workers. SIGTERM
    # then raises SystemExit, so a write in progress removes its temp file on the way out.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _exit)
    _pin_threads()


def _exit(signum, frame):
    sys.exit(128 + signum)


def _call(task: tuple) -> Outcome:
    return execute(*task)


def run_local(work: list[tuple], workers: int) -> Iterator[Outcome]:
    """Results as runs finish, from a pool of `workers` spawned processes; Ctrl-C terminates the pool (every
    file is written atomically, so the folders stay consistent) and re-raises."""
    context = multiprocessing.get_context("spawn")
    pool = context.Pool(workers, initializer=_ignore_sigint)
    try:
        yield from pool.imap_unordered(_call, work, chunksize=1)
        pool.close()
    except BaseException:
        pool.terminate()
        raise
    finally:
        pool.join()


def run_ray(work: list[tuple], workers: int | None, address: str | None) -> Iterator[Outcome]:
    """Results as runs finish, one Ray task (one CPU) each: a local instance of `workers` CPUs, or the
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
    pending = {remote.remote(*task): task for task in work}
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


def lost(task: tuple, err: Exception) -> Outcome:
    """A run Ray gave up on (its worker or node died on every try): recorded as failed, to resume on a re-run."""
    spec, folder = task[0], task[1]
    first_line = (str(err).strip().splitlines() or [""])[0]
    error = (f"Ray lost the run ({type(err).__name__}: {first_line}; a run whose worker or node dies is tried "
             f"{NODE_FAILURE_RETRIES + 1} times): re-run the suite to resume it from its last checkpoint")
    try:
        RunFolder(folder).write_failure(error, str(err), spec.as_dict())
    except OSError:
        pass  # a folder this machine cannot write: the outcome still says what happened
    return Outcome(folder, "failed", 0.0, error=error)


def checked(outcome: Outcome, task: tuple) -> Outcome:
    """A run a Ray worker finished must have its summary where the driver reads it: if not, --out is not on
    storage the nodes share, and the report would miss the run."""
    if outcome.status != FINISHED or RunFolder(outcome.folder).summary_path.is_file():
        return outcome
    error = (f"the run finished on {outcome.node or 'another node'}, but its summary.json is not in "
             f"{outcome.folder} on this machine: on a cluster, --out must be on storage that every node shares")
    try:
        RunFolder(outcome.folder).write_failure(error, "", task[0].as_dict())
    except OSError:
        pass
    return Outcome(outcome.folder, "failed", outcome.seconds, error=error, node=outcome.node)


def run_suite(runs: list[SuiteRun], out: Path, backend: str = "local", workers: int | None = None,
              address: str | None = None, command: str = "", echo=print) -> dict[str, int]:
    """Train every unfinished run of `runs` under `out`; print a line per finished run; return the counts of
    finished (now or before) and failed runs."""
    out.mkdir(parents=True, exist_ok=True)
    work = [(spec, folder, command) for spec, folder in tasks(runs, out)]
    done_before = len(runs) - len(work)
    echo(f"{len(runs)} runs: {done_before} already finished, {len(work)} to run on the {backend} backend"
         + (f" ({workers} workers)" if workers else ""), flush=True)
    workers = workers or os.cpu_count() or 1
    if backend == "local":
        results = run_local(work, min(workers, max(len(work), 1))) if work else iter(())
    elif backend == "ray":
        results = run_ray(work, workers, address) if work else iter(())
    else:
        raise ValueError(f"unknown backend {backend!r}; choose local or ray")
    counts = {"finished": done_before, "failed": 0}
    for index, outcome in enumerate(results, start=1):
        name = os.path.relpath(outcome.folder, out)
        counts[outcome.status] += 1
        detail = f"eval {outcome.eval_mean:.4g}" if outcome.status == FINISHED else outcome.error
        where = f" on {outcome.node}" if outcome.node else ""
        echo(f"[{index}/{len(work)}] {name} {outcome.status} in {outcome.seconds:.1f} s{where}: {detail}",
             flush=True)
    return counts
