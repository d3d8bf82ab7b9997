"""Checkpoints written atomically (temp file + rename) and read back with torch.load(weights_only=True)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import torch


class CheckpointError(ValueError):
    """A checkpoint file is missing, truncated, corrupt or not one of ours."""


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(path: str | os.PathLike, write: Callable[[BinaryIO], None]) -> Path:
    """Call `write(handle)` on a temp file in the same folder, fsync, then os.replace it onto `path`, so a crash
    never leaves half a file. The file gets the permissions a plain `open(path, "w")` would give (0666 less the
    umask), not the temp file's private 0600."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_current_umask())
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def save_atomic(obj, path: str | os.PathLike) -> Path:
    """torch.save to a temp file in the same folder, then os.replace (see write_atomic)."""
    return write_atomic(path, lambda handle: torch.save(obj, handle))


def load_failure(err: Exception) -> str:
    """Why torch.load(weights_only=True) failed, in one line: a refused payload is named as such (torch's own
    text suggests weights_only=False, which would run it)."""
    text = str(err)
    if "GLOBAL" in text or "Unsupported global" in text:
        return ("was refused: it holds objects other than tensors and plain values, which could run code "
                "when read (a tampered or foreign file)")
    return f"is corrupt or not a torch checkpoint ({type(err).__name__})"


def load_checkpoint(path: str | os.PathLike, required: tuple[str, ...] = ()) -> dict:
    """Load a dict checkpoint safely (weights_only=True); clear CheckpointError for any bad file."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises many types for truncated/corrupt files
        raise CheckpointError(f"checkpoint {path} {load_failure(err)}") from err
    if not isinstance(data, dict):
        raise CheckpointError(f"checkpoint {path} holds a {type(data).__name__}, expected a dict")
    missing = [key for key in required if key not in data]
    if missing:
        raise CheckpointError(f"checkpoint {path} lacks {missing}; it was not written by this trainer")
    return data
