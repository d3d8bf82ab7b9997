"""The one training loop every supervised and unsupervised model uses.

Mini-batches, device choice, validation split, early stopping that restores the best weights, atomic
checkpoints with resume, a progress bar, and a clear error on a non-finite loss; deterministic under a seed.
"""

from __future__ import annotations

import copy
import math
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from nets.checkpoint import load_checkpoint, save_atomic
from nets.device import get_device
from nets.losses import l2_penalty
from nets.optimizers import make_optimizer
from nets.schedules import make_schedule


@dataclass
class History:
    """Per-epoch losses and how training ended."""

    train_loss: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    lr: list = field(default_factory=list)
    best_epoch: int = -1
    epochs_run: int = 0
    stopped_early: bool = False


def as_tensor(data) -> torch.Tensor:
    """Floats become float32, integers int64 (class labels), on the CPU."""
    if not isinstance(data, torch.Tensor):
        data = np.asarray(data)
        if not data.flags.writeable:  # torch cannot share memory with a read-only array (e.g. a memmap)
            data = data.copy()
    tensor = torch.as_tensor(data)
    return tensor.float() if tensor.is_floating_point() else tensor.long()


def _as_targets(y) -> tuple[torch.Tensor, ...]:
    return tuple(as_tensor(t) for t in y) if isinstance(y, (tuple, list)) else (as_tensor(y),)


class Trainer:
    """Fits `model` by minimising `loss_fn(output, target)` (+ L2 + the model's own `penalty()` if it has one).

    `target` is y, a tuple when y is a tuple (multitask), or the input itself when y is None (autoencoders).
    """

    def __init__(self, model: nn.Module, loss_fn: Callable, epochs: int = 50, batch_size: int = 64,
                 optimizer: str = "adam", lr: float = 1e-3, momentum: float = 0.9, l2: float = 0.0,
                 schedule: str | None = None, schedule_kwargs: dict | None = None,
                 validation_fraction: float = 0.0, patience: int | None = None, device: str = "auto",
                 seed: int = 0, checkpoint_path: str | None = None, resume: bool = False,
                 progress: bool | None = None, callback: Callable[[int, dict], bool | None] | None = None):
        if epochs < 1 or batch_size < 1:
            raise ValueError(f"epochs and batch_size must be >= 1, got {epochs} and {batch_size}")
        if not 0.0 <= validation_fraction < 1.0:
            raise ValueError(f"validation_fraction must be in [0, 1), got {validation_fraction}")
        if resume and checkpoint_path is None:
            raise ValueError("resume=True needs a checkpoint_path")
        self.model, self.loss_fn = model, loss_fn
        self.epochs, self.batch_size = int(epochs), int(batch_size)
        self.l2, self.patience, self.seed = float(l2), patience, int(seed)
        self.validation_fraction = float(validation_fraction)
        self.checkpoint_path, self.resume = checkpoint_path, resume
        self.progress, self.callback = progress, callback
        self.device = get_device(device)
        self.model.to(self.device)
        self.optimizer = make_optimizer(optimizer, self.model.parameters(), lr, momentum)
        self.schedule_name = schedule
        self.scheduler = make_schedule(schedule, self.optimizer, self.epochs, **(schedule_kwargs or {}))
        self.history = History()

    # ---- data ---------------------------------------------------------------------------------------
    def _split(self, X: torch.Tensor, ys: tuple, X_val, y_val):
        if X_val is not None:
            val = (as_tensor(X_val), _as_targets(y_val) if y_val is not None else None)
            return (X, ys), val
        if self.validation_fraction == 0:
            return (X, ys), None
        n_val = max(1, int(round(self.validation_fraction * len(X))))
        if n_val >= len(X):
            raise ValueError(f"validation_fraction {self.validation_fraction} leaves no training data")
        order = torch.randperm(len(X), generator=torch.Generator().manual_seed(self.seed))
        val_idx, train_idx = order[:n_val], order[n_val:]
        pick = (lambda idx: tuple(t[idx] for t in ys)) if ys else (lambda idx: None)
        return (X[train_idx], pick(train_idx)), (X[val_idx], pick(val_idx))

    def _target(self, x: torch.Tensor, ys: tuple | None):
        if not ys:
            return x
        return ys[0] if len(ys) == 1 else ys

    def _loss(self, x: torch.Tensor, ys: tuple | None) -> torch.Tensor:
        output = self.model(x)
        loss = self.loss_fn(output, self._target(x, ys))
        if self.l2:
            loss = loss + l2_penalty(self.model, self.l2)
        penalty = getattr(self.model, "penalty", None)
        if callable(penalty):
            loss = loss + penalty()
        return loss

    # ---- checkpoints --------------------------------------------------------------------------------
    def _state(self, epoch: int, best: dict) -> dict:
        return {"epoch": epoch, "model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict() if self.scheduler is not None else {},
                "history": asdict(self.history), "best": best, "torch_rng": torch.get_rng_state(),
                "shuffle_rng": self._shuffle.get_state()}

    def _restore(self) -> tuple[int, dict]:
        data = load_checkpoint(self.checkpoint_path, required=("epoch", "model", "optimizer", "history"))
        try:
            self.model.load_state_dict(data["model"])
            self.optimizer.load_state_dict(data["optimizer"])
        except (RuntimeError, ValueError, KeyError) as err:
            raise ValueError(f"checkpoint {self.checkpoint_path} does not fit this model: {err}") from err
        if self.scheduler is not None and data["scheduler"]:
            self.scheduler.load_state_dict(data["scheduler"])
        self.history = History(**data["history"])
        torch.set_rng_state(data["torch_rng"])
        self._shuffle.set_state(data["shuffle_rng"])
        return int(data["epoch"]) + 1, data["best"]

    # ---- the loop -----------------------------------------------------------------------------------
    def fit(self, X, y=None, X_val=None, y_val=None, transform: Callable | None = None) -> History:
        """Train for up to `epochs` epochs; returns the History (also kept as `self.history`)."""
        X = as_tensor(X)
        ys = _as_targets(y) if y is not None else ()
        if any(len(t) != len(X) for t in ys):
            raise ValueError(f"X has {len(X)} rows but y has {[len(t) for t in ys]}")
        if len(X) == 0:
            raise ValueError("cannot fit on an empty dataset")
        (X_tr, ys_tr), val = self._split(X, ys, X_val, y_val)
        X_tr, ys_tr = X_tr.to(self.device), tuple(t.to(self.device) for t in ys_tr or ())
        if val is not None:
            val = (val[0].to(self.device), tuple(t.to(self.device) for t in val[1] or ()))
        torch.manual_seed(self.seed)
        self._shuffle = torch.Generator().manual_seed(self.seed)
        start, best = 0, {"loss": math.inf, "state": None, "bad_epochs": 0}
        if self.resume and Path(self.checkpoint_path).is_file():
            start, best = self._restore()
        show = self.progress if self.progress is not None else sys.stderr.isatty()
        bar = tqdm(range(start, self.epochs), desc="train", disable=not show, leave=False)
        for epoch in bar:
            train_loss = self._epoch(X_tr, ys_tr, transform, epoch)
            val_loss = self.evaluate(*val) if val is not None else None
            self._record(epoch, train_loss, val_loss)
            bar.set_postfix(loss=f"{train_loss:.4g}", val=f"{val_loss:.4g}" if val_loss is not None else "-")
            stop = self._early_stopping(epoch, val_loss, best)
            if self.checkpoint_path is not None:
                save_atomic(self._state(epoch, best), self.checkpoint_path)
            logs = {"train_loss": train_loss, "val_loss": val_loss, "lr": self.history.lr[-1]}
            if stop or (self.callback is not None and self.callback(epoch, logs)):
                break
        if best["state"] is not None:
            self.model.load_state_dict(best["state"])
        return self.history

    def _epoch(self, X: torch.Tensor, ys: tuple, transform, epoch: int) -> float:
        self.model.train()
        order = torch.randperm(len(X), generator=self._shuffle).to(self.device)
        total = 0.0
        for first in range(0, len(X), self.batch_size):
            idx = order[first:first + self.batch_size]
            if len(idx) == 1 and len(X) > 1 and _has_batch_norm(self.model):
                continue  # BatchNorm cannot train on a batch of one
            x = X[idx] if transform is None else transform(X[idx])
            loss = self._loss(x, tuple(t[idx] for t in ys))
            if not torch.isfinite(loss):
                raise FloatingPointError(
                    f"non-finite loss ({loss.item()}) at epoch {epoch}, batch {first // self.batch_size}: "
                    "lower the learning rate or check the inputs for NaN/inf")
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            total += loss.item() * len(idx)
        return total / len(X)

    @torch.no_grad()
    def evaluate(self, X: torch.Tensor, ys: tuple | None = None) -> float:
        """Mean data loss (no penalties) over X in eval mode."""
        self.model.eval()
        total = 0.0
        for first in range(0, len(X), 1024):
            x = X[first:first + 1024]
            part = tuple(t[first:first + 1024] for t in ys) if ys else ()
            total += self.loss_fn(self.model(x), self._target(x, part)).item() * len(x)
        return total / len(X)

    def _record(self, epoch: int, train_loss: float, val_loss: float | None) -> None:
        self.history.train_loss.append(train_loss)
        if val_loss is not None:
            self.history.val_loss.append(val_loss)
        self.history.lr.append(self.optimizer.param_groups[0]["lr"])
        self.history.epochs_run = epoch + 1
        if self.scheduler is not None:
            if self.schedule_name == "performance":
                self.scheduler.step(val_loss if val_loss is not None else train_loss)
            else:
                self.scheduler.step()

    def _early_stopping(self, epoch: int, val_loss: float | None, best: dict) -> bool:
        if val_loss is None or self.patience is None:
            return False
        if val_loss < best["loss"]:
            best.update(loss=val_loss, state=copy.deepcopy(self.model.state_dict()), bad_epochs=0)
            self.history.best_epoch = epoch
            return False
        best["bad_epochs"] += 1
        if best["bad_epochs"] > self.patience:
            self.history.stopped_early = True
            return True
        return False

    @torch.no_grad()
    def predict(self, X, batch_size: int = 1024):
        """Model outputs for X on the CPU (eval mode, no grad); a tuple for multi-output models."""
        self.model.eval()
        X = as_tensor(X).to(self.device)
        parts = [self.model(X[i:i + batch_size]) for i in range(0, len(X), batch_size)]
        if parts and isinstance(parts[0], (tuple, list)):
            return tuple(torch.cat([p[k] for p in parts]).cpu() for k in range(len(parts[0])))
        return torch.cat(parts).cpu()


def _has_batch_norm(model: nn.Module) -> bool:
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())
