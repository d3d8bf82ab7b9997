"""Connecting the driver to Ray: a local instance, or a cluster by address, with the token Ray finds configured
(token authentication is Ray's default), and a failure as one line naming the address and what to set.
"""

from __future__ import annotations

import os
import re
import socket

#: How long the driver waits for a TCP answer at `--address` before it gives up (Ray alone would retry for
#: minutes when nothing listens there).
PROBE_SECONDS = 10.0

TOKEN_HELP = ("a cluster started with Ray's defaults checks a token: give this machine the head's token (copy the "
              "head's ~/.ray/auth_token to ~/.ray/auth_token here, or set RAY_AUTH_TOKEN to it, or RAY_AUTH_TOKEN_PATH "
              "to its file; `ray get-auth-token` on the head prints it) and leave RAY_AUTH_MODE unset or set it to "
              "token")


def connect(address: str | None, workers: int | None) -> None:
    """ray.init: a local instance of `workers` CPUs, or the cluster at `address` (host:port of the head, as
    `ray start --head` prints it). A cluster that cannot be reached is a ValueError naming the address and the
    fix."""
    import ray

    if not address:
        # "local": a new instance even where `ray start` runs (ray.init() alone would join that cluster)
        ray.init(address="local", num_cpus=workers, include_dashboard=False, log_to_driver=False,
                 configure_logging=False)
        return
    check_reachable(address)
    use_configured_token()
    try:
        ray.init(address=address, log_to_driver=False, configure_logging=False)
    except (ConnectionError, RuntimeError, ValueError, ray.exceptions.RayError) as err:
        raise ValueError(connect_error(address, err)) from err


def use_configured_token() -> None:
    """Send the token Ray finds configured (RAY_AUTH_TOKEN, RAY_AUTH_TOKEN_PATH, or ~/.ray/auth_token), unless
    RAY_AUTH_MODE says otherwise.

    ray.init enables token authentication for a new local instance and for `address="auto"`, but not for an
    explicit address (ray/_private/worker.py, `init`), so a driver pointed at a cluster that `ray start --head`
    started with its default (token on) sent no token. This is the same call `ray start --head`
    (ray/scripts/scripts.py, `start`) and ray.init make: Ray's own token loader decides whether a token is there.
    """
    try:
        from ray._private.authentication.authentication_token_setup import (
            maybe_enable_token_auth_if_token_available,
        )
    except ImportError:  # a Ray before token authentication: nothing to send
        return
    maybe_enable_token_auth_if_token_available(warn_if_disabled=False)


def check_reachable(address: str) -> None:
    """Fail at once, naming the address, when it is not HOST:PORT (or ray://HOST:PORT, or "auto": the cluster
    this machine is a node of) or nothing accepts a TCP connection there."""
    if address == "auto":
        return
    host_port = split_address(address)
    if host_port is None:
        raise ValueError(f"--address {address!r} is not HOST:PORT: give the head's address, as `ray start --head` "
                         "prints it (e.g. 10.0.0.5:6379)")
    host, port = host_port
    try:
        socket.create_connection((host, port), timeout=PROBE_SECONDS).close()
    except OSError as err:
        why = err.strerror or str(err) or type(err).__name__
        raise ValueError(f"no Ray cluster answers at {address} ({why}): start its head there with `ray start "
                         f"--head --port {port}`, or give the address the head's `ray start` printed") from None


def split_address(address: str) -> tuple[str, int] | None:
    """(host, port) of "host:port", "[v6]:port" or "ray://host:port"; None for anything else."""
    rest = address.split("://", 1)[-1]
    host, sep, port = rest.rpartition(":")
    if not sep or not host or not port.isdigit():
        return None
    return host.strip("[]"), int(port)


def connect_error(address: str, err: BaseException) -> str:
    """One line: the address tried, Ray's own reason, and what to set."""
    mode = os.environ.get("RAY_AUTH_MODE")
    now = f" (RAY_AUTH_MODE is {mode!r} now)" if mode is not None and mode.lower() != "token" else ""
    return (f"cannot connect to the Ray cluster at {address}: {ray_reason(err)}. Check that it is the head's "
            f"address (`ray start --head` prints it); {TOKEN_HELP}{now}")


def ray_reason(err: BaseException) -> str:
    """Ray's words for a failed connection, in one short sentence: the last line of the innermost error (Ray
    keeps the GCS client's error as traceback text), without its exception name and Ray's long help."""
    while err.__cause__ is not None:
        err = err.__cause__
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    if not lines:
        return type(err).__name__
    reason = re.sub(r"^[\w.]*(Error|Exception): ", "", lines[-1])
    return reason.split(". ")[0].rstrip(".")
