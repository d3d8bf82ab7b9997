"""Where a run was made: the library versions and the machine, written into every config.json and printed by
every benchmark."""

from __future__ import annotations

import os
import platform
from importlib.metadata import PackageNotFoundError, version

LIBRARIES = ("mdparcade", "gymnasium", "numpy", "torch", "stable-baselines3", "pygame")


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def machine_line() -> str:
    """One line naming the machine: platform, CPUs, python, numpy, torch and its threads, the GPU if any."""
    import numpy as np
    import torch

    cuda = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no CUDA"
    return (f"machine: {platform.platform()} | {os.cpu_count()} CPUs | python {platform.python_version()} | "
            f"numpy {np.__version__} | torch {torch.__version__} ({torch.get_num_threads()} threads) | {cuda}")
