"""`mdparcade compare --backend ray --address` on a real two-node Ray cluster, started on this machine the way a
user starts one with Ray's defaults (token authentication on): runs land on both nodes and the report matches
the local backend's; a driver without the token gets one line; stopping the worker node while one of its runs
is in flight loses nothing (Ray runs it again on the head from its checkpoint) and a re-run has nothing left.

Slow (each `ray start` takes seconds, the node-death suite a minute). The cluster lives in a temp folder and
sessions of its own: it is stopped by its own processes, never by `ray stop`, which stops every Ray on the
machine."""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
RAY = str(Path(sys.executable).with_name("ray"))
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="the distributed extra is not "
                                                                                 "installed")]

QUICK = """
seeds = 3
eval_every = 1000
eval_episodes = 3
[[runs]]
env = "CliffWalking"
steps = 3000
algos = ["QLearning", "SARSA"]
"""

#: Runs of several seconds each with a checkpoint every 2000 steps: long enough to stop a node under one.
#: stable-baselines3's, so that each seed is a task of its own (our deep agents' seeds of a cell train as one
#: population, one task, which would leave the worker node nothing to run).
LONG = """
seeds = 4
eval_every = 2000
eval_episodes = 2
[[runs]]
env = "CartPole-v1"
steps = 20000
algos = ["sb3:DQN"]
set = { "sb3:DQN" = { learning_starts = 100, train_freq = 4, gradient_steps = 1 } }
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def session_pids(sid: int) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.getsid(int(entry)) == sid:
                    pids.append(int(entry))
            except OSError:  # gone meanwhile
                pass
    return pids


def stop_session(sid: int, sig: int = signal.SIGTERM, grace: float = 5.0) -> None:
    """Signal every process of session `sid` (one node, started by this test), then SIGKILL what is left (the
    GCS server and the autoscaler monitor of a head outlive a SIGTERM by half a minute and more)."""
    for pid in session_pids(sid):
        try:
            os.kill(pid, sig)
        except OSError:
            pass
    deadline = time.monotonic() + grace
    while session_pids(sid) and time.monotonic() < deadline:
        time.sleep(0.2)
    for pid in session_pids(sid):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


@dataclass
class Node:
    sid: int  # the session its processes live in
    node_id: str  # Ray's node id (its raylet's --node_id)
    log: str  # what `ray start` printed


@dataclass
class Cluster:
    address: str
    env: dict  # a driver's environment: HOME holds the head's token in ~/.ray/auth_token
    token: str
    head: Node
    worker: Node


def start_node(args: list[str], env: dict, sessions: list[int]) -> Node:
    """`ray start ARGS` in a session of its own; the node's processes stay in that session when it returns."""
    process = subprocess.Popen([RAY, "start", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, start_new_session=True)
    sessions.append(process.pid)
    log, _ = process.communicate(timeout=180)
    assert process.returncode == 0, log
    raylets = [pid for pid in session_pids(process.pid) if "raylet" in Path(f"/proc/{pid}/comm").read_text()]
    assert len(raylets) == 1, log
    arguments = Path(f"/proc/{raylets[0]}/cmdline").read_text().split("\0")
    (node_id,) = [a.split("=", 1)[1] for a in arguments if a.startswith("--node_id=")]
    return Node(process.pid, node_id, log)


def node_args() -> list[str]:
    # Two nodes on one machine need their own agent ports; everything else is Ray's default.
    return ["--num-cpus", "1", "--dashboard-agent-listen-port", str(free_port()), "--disable-usage-stats"]


@pytest.fixture(scope="module")
def cluster():
    base = Path(tempfile.mkdtemp(prefix="mdp-ray-"))  # short: Ray's socket paths must fit in 107 characters
    home = base / "home"
    home.mkdir()
    env = {key: value for key, value in os.environ.items()
           if key not in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH", "RAY_ADDRESS")}
    env.update(HOME=str(home), PYTHONPATH=str(ROOT), SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy")
    token = subprocess.run([RAY, "get-auth-token", "--generate"], env=env, capture_output=True, text=True,
                           check=True, timeout=120).stdout.strip()
    assert (home / ".ray/auth_token").read_text().strip() == token
    port = free_port()
    sessions: list[int] = []
    try:
        head = start_node(["--head", "--port", str(port), "--ray-client-server-port", str(free_port()),
                           "--include-dashboard", "false", "--temp-dir", str(base / "ray"), *node_args()], env,
                          sessions)
        assert "Token authentication is enabled" in head.log  # what a user sees: Ray's default with a token
        # A joining node sends its token only when told to (Ray's rule for `ray start --address`).
        worker = start_node(["--address", f"127.0.0.1:{port}", *node_args()], {**env, "RAY_AUTH_MODE": "token"},
                            sessions)
        yield Cluster(f"127.0.0.1:{port}", env, token, head, worker)
    finally:
        for sid in reversed(sessions):
            stop_session(sid)
        shutil.rmtree(base, ignore_errors=True)


def compare(suite: Path, out: Path, *extra: str, env: dict, timeout: float = 600) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "experiments.cli", "compare", str(suite), "--out", str(out), "--reps", "100",
               *extra]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def ran_on(out: Path, name: str) -> dict[str, str]:
    """{run folder: the Ray node id its `name` (config.json: started, summary.json: finished) records}."""
    return {str(path.parent.relative_to(out)): json.loads(path.read_text())["node"]["ray_node_id"]
            for path in out.rglob(name)}


def read_csv(path: Path, drop: set[str]) -> list[dict]:
    with open(path, newline="") as handle:
        return [{k: v for k, v in row.items() if k not in drop} for row in csv.DictReader(handle)]


def test_a_suite_runs_on_both_nodes_with_the_token_file(cluster, tmp_path):
    suite = tmp_path / "quick.toml"
    suite.write_text(QUICK)
    done = compare(suite, tmp_path / "cluster", "--backend", "ray", "--address", cluster.address, env=cluster.env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "6 finished, 0 failed" in done.stdout
    nodes = ran_on(tmp_path / "cluster", "summary.json")
    assert len(nodes) == 6 and set(nodes.values()) == {cluster.head.node_id, cluster.worker.node_id}
    # the same report as the local backend's, timing aside
    local = compare(suite, tmp_path / "local", "--workers", "2", env=cluster.env)
    assert local.returncode == 0, local.stderr
    assert read_csv(tmp_path / "cluster/results.csv", {"seconds"}) == read_csv(tmp_path / "local/results.csv",
                                                                               {"seconds"})


def test_a_driver_without_the_token_gets_one_line(cluster, tmp_path):
    suite = tmp_path / "quick.toml"
    suite.write_text(QUICK)
    # RAY_AUTH_MODE=disabled: this driver sends no token. Ray's own knobs keep its connection retries short.
    env = {**cluster.env, "RAY_AUTH_MODE": "disabled", "RAY_gcs_server_port_wait_time_s": "1",
           "RAY_py_gcs_connect_timeout_s": "5"}
    done = compare(suite, tmp_path / "out", "--backend", "ray", "--address", cluster.address, env=env, timeout=300)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith(f"mdparcade compare: error: cannot connect to the Ray cluster at {cluster.address}: ")
    assert "Authentication token is missing or incorrect" in last and "RAY_AUTH_MODE is 'disabled' now" in last
    assert not list((tmp_path / "out").rglob("config.json"))


def stop_the_worker_under_a_run(cluster: Cluster, out: Path, stopped: dict) -> None:
    """Wait for a run that started on the worker node and has a checkpoint, note its metrics, then SIGKILL
    the worker node's processes (a machine that dies does not clean up)."""
    deadline = time.monotonic() + 400
    while time.monotonic() < deadline:
        for folder, node in ran_on(out, "config.json").items():
            path = out / folder
            if node == cluster.worker.node_id and (path / "checkpoint.pt").is_file() \
                    and not (path / "summary.json").is_file():
                stopped["metrics"] = read_csv(path / "metrics.csv", set())
                stop_session(cluster.worker.sid, signal.SIGKILL, grace=5)
                stopped["folder"] = folder
                return
        time.sleep(0.2)


def test_stopping_the_worker_node_mid_suite_loses_nothing(cluster, tmp_path):
    suite = tmp_path / "long.toml"
    suite.write_text(LONG)
    out = tmp_path / "out"
    # This driver has the token in RAY_AUTH_TOKEN, and none in its home.
    home = tmp_path / "home"
    home.mkdir()
    env = {**cluster.env, "HOME": str(home), "RAY_AUTH_TOKEN": cluster.token}
    stopped: dict = {}
    killer = threading.Thread(target=stop_the_worker_under_a_run, args=(cluster, out, stopped), daemon=True)
    killer.start()
    done = compare(suite, out, "--backend", "ray", "--address", cluster.address, env=env)
    killer.join(timeout=5)
    assert "folder" in stopped, "no run was on the worker node with a checkpoint: " + done.stdout
    assert not session_pids(cluster.worker.sid)
    # Ray ran the lost run again on the head, which resumed it from its checkpoint: the suite finished.
    assert done.returncode == 0, done.stdout + done.stderr
    assert "4 finished, 0 failed" in done.stdout
    folder = stopped["folder"]
    assert ran_on(out, "config.json")[folder] == cluster.worker.node_id
    assert ran_on(out, "summary.json")[folder] == cluster.head.node_id
    resumed = read_csv(out / folder / "metrics.csv", set())
    # the evaluations before the checkpoint are the ones made on the worker (same seconds): resumed, not redone
    assert resumed[:2] == stopped["metrics"][:2] and float(resumed[1]["seconds"]) > 0
    assert [int(row["steps"]) for row in resumed] == list(range(0, 20001, 2000))
    summaries = {path: path.stat().st_mtime_ns for path in out.rglob("summary.json")}
    assert len(summaries) == 4
    # a re-run on what is left of the cluster: nothing to do, nothing rewritten
    again = compare(suite, out, "--backend", "ray", "--address", cluster.address, env=env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "4 runs: 4 already finished, 0 to run" in again.stdout
    assert all(path.stat().st_mtime_ns == stamp for path, stamp in summaries.items())
    assert json.loads((out / "report.json").read_text())["finished"] == 4
