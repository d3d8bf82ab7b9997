"""The ray backend's edges that need no cluster: a wrong --address is one line naming it (at once, before Ray's
minutes of retries), Ray's own token pickup, Ray's reasons made short, and a run Ray lost recorded as failed
and finished by a re-run. The real two-node cluster is in test_cluster.py (slow)."""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from experiments.cli import main
from experiments.compare.backends import Outcome, Task, checked, lost
from experiments.compare.ray_connect import connect_error, split_address
from experiments.compare.suites import load_suite

ROOT = Path(__file__).resolve().parents[3]
HAS_RAY = importlib.util.find_spec("ray") is not None
needs_ray = pytest.mark.skipif(not HAS_RAY, reason="the distributed extra is not installed")

SUITE = """
seeds = 1
eval_every = 500
eval_episodes = 2
[[runs]]
env = "CliffWalking"
steps = 1000
algos = ["QLearning"]
"""

#: What Ray 2.60 chains under its ConnectionError("Failed to connect to Ray cluster at ..."), as text.
AUTH_FAILURE = """Failed to connect to GCS. Last connection error: Traceback (most recent call last):
  File "python/ray/includes/common.pxi", line 119, in ray._raylet.check_status
ray.exceptions.AuthenticationError: RPC error: InvalidAuthToken: Authentication token is missing or incorrect. \
Note: RAY_AUTH_MODE is currently 'disabled' (not 'token'). Ensure that the token for the cluster is available..."""
TIMEOUT = """Failed to connect to GCS. Last connection error: Traceback (most recent call last):
  File "python/ray/includes/common.pxi", line 144, in ray._raylet.check_status_timeout_as_rpc_error
ray.exceptions.RpcError: Timed out while waiting for GCS to become available.
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@needs_ray
def test_an_address_where_nothing_listens_is_one_line_at_once(tmp_path, capsys):
    (tmp_path / "suite.toml").write_text(SUITE)
    port = free_port()  # closed again: nothing listens there
    code = main(["compare", str(tmp_path / "suite.toml"), "--out", str(tmp_path / "out"), "--backend", "ray",
                 "--address", f"127.0.0.1:{port}"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"mdparcade compare: error: no Ray cluster answers at 127.0.0.1:{port} (Connection refused)")
    assert f"ray start --head --port {port}" in err


@needs_ray
def test_an_address_that_is_not_host_port_is_refused(tmp_path, capsys):
    (tmp_path / "suite.toml").write_text(SUITE)
    assert main(["compare", str(tmp_path / "suite.toml"), "--out", str(tmp_path / "out"), "--backend", "ray",
                 "--address", "headnode"]) == 2
    assert "--address 'headnode' is not HOST:PORT" in capsys.readouterr().err


@pytest.mark.parametrize("address, expected", [
    ("10.0.0.5:6379", ("10.0.0.5", 6379)), ("ray://head:10001", ("head", 10001)), ("[::1]:6379", ("::1", 6379)),
    ("head", None), ("head:port", None), (":6379", None),
])
def test_split_address(address, expected):
    assert split_address(address) == expected


@pytest.mark.parametrize("cause, reason", [
    (AUTH_FAILURE, "RPC error: InvalidAuthToken: Authentication token is missing or incorrect"),
    (TIMEOUT, "Timed out while waiting for GCS to become available"),
])
def test_a_refused_connection_names_the_address_ray_s_reason_and_the_token(monkeypatch, cause, reason):
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")
    try:
        try:
            raise RuntimeError(cause)
        except RuntimeError as inner:
            raise ConnectionError("Failed to connect to Ray cluster at 10.0.0.5:6379") from inner
    except ConnectionError as err:
        message = connect_error("head:6379", err)
    assert message.startswith(f"cannot connect to the Ray cluster at head:6379: {reason}. ")
    assert "\n" not in message
    for needed in ("~/.ray/auth_token", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH", "ray get-auth-token",
                   "RAY_AUTH_MODE is 'disabled' now"):
        assert needed in message


def token_mode_after_pickup(env: dict) -> str:
    """RAY_AUTH_MODE after use_configured_token, in a process of its own (Ray caches the token it loads)."""
    code = ("import os\nfrom experiments.compare.ray_connect import use_configured_token\nuse_configured_token()\n"
            "print(os.environ.get('RAY_AUTH_MODE'))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@needs_ray
def test_the_driver_sends_the_token_ray_finds(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    env = {key: value for key, value in os.environ.items()
           if key not in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH")}
    env.update(HOME=str(home), PYTHONPATH=str(ROOT))
    assert token_mode_after_pickup(env) == "None"  # no token anywhere: nothing changes
    (home / ".ray").mkdir()
    (home / ".ray/auth_token").write_text("0123456789abcdef" * 2)
    assert token_mode_after_pickup(env) == "token"  # Ray's default file
    assert token_mode_after_pickup({**env, "RAY_AUTH_MODE": "disabled"}) == "disabled"  # an explicit opt-out
    (home / ".ray/auth_token").unlink()
    assert token_mode_after_pickup({**env, "RAY_AUTH_TOKEN": "fedcba9876543210" * 2}) == "token"


def test_a_run_ray_lost_is_recorded_failed_and_a_rerun_finishes_it(tmp_path, capsys):
    suite_path = tmp_path / "suite.toml"
    suite_path.write_text(SUITE)
    out = tmp_path / "out"
    (run,) = load_suite(suite_path).runs()
    folder = out / run.folder
    (outcome,) = lost(Task((run.spec,), (str(folder),)), RuntimeError(
        "Task failed because the node it was running on is dead or unavailable.\nmore lines"))
    assert outcome.status == "failed" and "re-run the suite" in outcome.error
    failure = json.loads((folder / "failed.json").read_text())
    assert "the node it was running on is dead" in failure["error"] and failure["spec"] == run.spec.as_dict()
    capsys.readouterr()
    assert main(["compare", str(suite_path), "--out", str(out), "--reps", "100"]) == 0
    assert "1 runs: 0 already finished, 1 to run" in capsys.readouterr().out
    assert (folder / "summary.json").is_file() and not (folder / "failed.json").exists()


def test_a_run_finished_where_the_driver_cannot_see_it_is_failed(tmp_path):
    suite_path = tmp_path / "suite.toml"
    suite_path.write_text(SUITE)
    (run,) = load_suite(suite_path).runs()
    folder = tmp_path / "out" / run.folder
    (outcome,) = checked([Outcome(str(folder), "finished", 1.0, eval_mean=0.0, node="node-b, Ray node 1a2b3c4d")],
                         Task((run.spec,), (str(folder),)))
    assert outcome.status == "failed"
    assert "finished on node-b, Ray node 1a2b3c4d" in outcome.error and "storage that every node shares" in \
        outcome.error
    assert json.loads((folder / "failed.json").read_text())["spec"] == run.spec.as_dict()
