"""Running a suite: every run in its own folder, skipped when finished, resumed from its checkpoint when it was
interrupted, recorded as failed (with its traceback, in failed.json) when it raises, while the rest go on.

Two backends run the same worker function, `execute`: a local process pool (the default) and Ray (the optional
`distributed` extra; a local instance, or an existing cluster by address). Each worker pins torch to one
thread: small nets lose more to thread overhead than they gain, and two workers on two cores stay fair.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import signal
import sys
import time
import traceback
from collections.abc import Iterator
from pathlib import Path

from experiments.runs import Run, RunSpec, write_json
from experiments.suites import SuiteRun

FAILED = "failed.json"


def run_status(folder: Path) -> str:
    """finished (summary.json), failed (failed.json), interrupted (config.json but no summary) or pending."""
    if (folder / "summary.json").is_file():
        return "finished"
    if (folder / FAILED).is_file():
        return "failed"
    if (folder / "config.json").is_file():
        return "interrupted"
    return "pending"


def _pin_threads() -> None:
    import torch

    torch.set_num_threads(1)
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")


def execute(spec: dict, folder: str, command: str = "") -> dict:
    """Train one run into `folder` (resuming it if it was interrupted); return {folder, status, ...}.

    An exception becomes failed.json (error, traceback, spec) and a "failed" result: one bad run does not stop
    a suite. Runs a worker's whole task, in a pool process or a Ray worker."""
    _pin_threads()
    out = Path(folder)
    started = time.perf_counter()
    try:
        summary = Run(RunSpec(**spec), out, progress=False, command=command).run()
    except Exception as err:  # noqa: BLE001  (any failure of one run is recorded, not raised)
        out.mkdir(parents=True, exist_ok=True)
        error = f"{type(err).__name__}: {err}"
        write_json(out / FAILED, {"error": error, "traceback": traceback.format_exc(), "spec": spec})
        return {"folder": folder, "status": "failed", "error": error, "seconds": time.perf_counter() - started}
    (out / FAILED).unlink(missing_ok=True)
    return {"folder": folder, "status": "finished", "eval_mean": summary["eval_mean"],
            "seconds": summary["seconds"]}


def tasks(runs: list[SuiteRun], out: Path) -> list[tuple[dict, str]]:
    """(spec, absolute folder) for every run not finished yet: failed runs are tried again."""
    return [(dataclasses.asdict(run.spec), str((out / run.folder).resolve())) for run in runs
            if run_status(out / run.folder) != "finished"]


def _ignore_sigint() -> None:
    # Ctrl-C reaches the whole process group: the parent alone handles it, by terminating the workers. SIGTERM
    # then raises SystemExit, so a write in progress removes its temp file on the way out.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _exit)
    _pin_threads()


def _exit(signum, frame):
    sys.exit(128 + signum)


def _call(task: tuple) -> dict:
    return execute(*task)


def run_local(work: list[tuple], workers: int) -> Iterator[dict]:
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


def run_ray(work: list[tuple], workers: int | None, address: str | None) -> Iterator[dict]:
    """Results as runs finish, one Ray task (one CPU) each: a local instance of `workers` CPUs, or the
    cluster at `address` (then every node needs mdparcade installed and the output folder on shared storage)."""
    try:
        import ray
    except ImportError as err:
        raise ValueError('the ray backend needs Ray: pip install -e ".[distributed]"') from err
    started_here = not ray.is_initialized()
    if started_here:
        options = {"address": address} if address else {"num_cpus": workers, "include_dashboard": False}
        ray.init(log_to_driver=False, configure_logging=False, **options)
    remote = ray.remote(num_cpus=1, max_retries=0)(execute)
    pending = [remote.remote(*task) for task in work]
    try:
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            yield ray.get(done[0])
    except BaseException:
        for ref in pending:
            ray.cancel(ref, force=True)
        raise
    finally:
        if started_here:
            ray.shutdown()


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
    for index, result in enumerate(results, start=1):
        name = os.path.relpath(result["folder"], out)
        counts[result["status"]] += 1
        detail = f"eval {result['eval_mean']:.4g}" if result["status"] == "finished" else result["error"]
        echo(f"[{index}/{len(work)}] {name} {result['status']} in {result['seconds']:.1f} s: {detail}", flush=True)
    return counts
