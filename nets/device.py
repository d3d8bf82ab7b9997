"""Device choice in one place: "auto" means cuda, else mps, else cpu."""

from __future__ import annotations

import torch


def get_device(device: str | torch.device = "auto") -> torch.device:
    """Resolve "auto" (cuda, then mps, then cpu) or any torch device string; unknown names are a ValueError."""
    if isinstance(device, torch.device):
        return device
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        resolved = torch.device(device)
    except RuntimeError as err:
        raise ValueError(f"unknown device {device!r}: use 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'") from err
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} requested but CUDA is not available on this machine")
    return resolved


def set_small_net_threads(max_threads: int = 4) -> int:
    """Small nets gain nothing from many intra-op threads and lose to their overhead; cap them."""
    threads = max(1, min(max_threads, torch.get_num_threads()))
    torch.set_num_threads(threads)
    return threads
