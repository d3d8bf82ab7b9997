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


def write_atomic(path: str | os.PathLike, write: Callable[[BinaryIO], None]) -> Path:
    """Call `write(handle)` on a temp file in the same folder, fsync, then os.replace it onto `path`, so a crash
    never leaves half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
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


def load_checkpoint(path: str | os.PathLike, required: tuple[str, ...] = ()) -> dict:
    """Load a dict checkpoint safely (weights_only=True); clear CheckpointError for any bad file."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises many types for truncated/corrupt files
        raise CheckpointError(f"checkpoint {path} is corrupt or not a torch checkpoint: {err}") from err
    if not isinstance(data, dict):
        raise CheckpointError(f"checkpoint {path} holds a {type(data).__name__}, expected a dict")
    missing = [key for key in required if key not in data]
    if missing:
        raise CheckpointError(f"checkpoint {path} lacks {missing}; it was not written by this trainer")
    return data
