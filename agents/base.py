"""The agent protocol every planner-backed, tabular and deep agent meets, close to stable-baselines3's.

`learn(total_timesteps, callback=None) -> self`, `predict(obs, deterministic=True) -> (action, None)`,
`save(path)` and `Agent.load(path, env=None)`; this module holds the shared save/load plumbing.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from nets.checkpoint import CheckpointError, load_checkpoint, save_atomic

#: Called by `learn` at least once per episode (deep agents: once per rollout) with the agent and a dict of
#: progress figures (`num_timesteps` always; tabular agents add `episode_return`, `episode_length`).
#: Returning False stops training early; None or True carries on.
Callback = Callable[["Agent", dict], "bool | None"]

CHECKPOINT_FORMAT = "mdparcade-agent"
CHECKPOINT_VERSION = 1


class Agent(ABC):
    """Base class: subclasses implement learn/predict and the two checkpoint hooks.

    A checkpoint is a dict of tensors and plain Python values (str, int, float, bool, None, list, dict), so
    it loads with `torch.load(weights_only=True)`: a saved agent can never run code when it is read.
    """

    #: Every concrete subclass by class name, so `Agent.load(path)` can rebuild whatever a file holds.
    _classes: ClassVar[dict[str, type[Agent]]] = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        Agent._classes[cls.__name__] = cls

    @abstractmethod
    def learn(self, total_timesteps: int, callback: Callback | None = None) -> Agent:
        """Train for `total_timesteps` environment steps; return self."""

    @abstractmethod
    def predict(self, obs, deterministic: bool = True) -> tuple[Any, None]:
        """The action(s) for `obs` and, like stable-baselines3, a recurrent state (always None here)."""

    @abstractmethod
    def _checkpoint(self) -> dict:
        """Everything needed to rebuild the agent, as tensors and plain Python values."""

    @classmethod
    @abstractmethod
    def _from_checkpoint(cls, checkpoint: dict, env=None, device: str = "auto") -> Agent:
        """Rebuild an agent from `_checkpoint()`'s dict; `env` (optional) is attached for further learning;
        `device` places deep agents' nets (tabular agents have none)."""

    def save(self, path: str | os.PathLike) -> Path:
        """Write the agent to `path` atomically (temp file in the same folder, then os.replace)."""
        record = {
            "format": CHECKPOINT_FORMAT,
            "version": CHECKPOINT_VERSION,
            "class": type(self).__name__,
            "agent": self._checkpoint(),
        }
        return save_atomic(record, path)

    @classmethod
    def load(cls, path: str | os.PathLike, env=None, device: str = "auto") -> Agent:
        """Read an agent saved by `save`. `Agent.load` returns whatever class the file holds; a subclass's
        `load` insists on its own class. Missing, corrupt or foreign files raise CheckpointError (a
        ValueError) naming the file."""
        record = load_checkpoint(path, required=("format", "class", "agent"))
        if record["format"] != CHECKPOINT_FORMAT:
            raise CheckpointError(f"{path} is not an mdparcade agent file (format {record['format']!r})")
        if record.get("version", 0) > CHECKPOINT_VERSION:
            raise CheckpointError(f"{path} was written by a newer mdparcade (agent file version {record['version']}, "
                                  f"this one reads up to {CHECKPOINT_VERSION})")
        saved_class = Agent._classes.get(record["class"])
        if saved_class is None:
            raise CheckpointError(f"{path} holds an unknown agent class {record['class']!r}")
        if cls is not Agent and not issubclass(saved_class, cls):
            raise CheckpointError(f"{path} holds a {record['class']}, not a {cls.__name__}")
        try:
            return saved_class._from_checkpoint(record["agent"], env=env, device=device)
        except (KeyError, TypeError, AttributeError, RuntimeError) as err:
            raise CheckpointError(f"{path} holds an incomplete {record['class']} checkpoint: {err!r}") \
                from err
