"""Neural nets shared by agents and estimators: MLP/CNN builders, initialization, losses, optimizers,
schedules and one trainer with early stopping, checkpoints and device choice (torch).
"""

from nets.checkpoint import CheckpointError, load_checkpoint, save_atomic
from nets.cnn import cnn, cnn_output_shapes
from nets.device import get_device, set_small_net_threads
from nets.mlp import mlp
from nets.optimizers import make_optimizer
from nets.schedules import make_schedule
from nets.trainer import History, Trainer

__all__ = ["CheckpointError", "History", "Trainer", "cnn", "cnn_output_shapes", "get_device", "load_checkpoint",
           "make_optimizer", "make_schedule", "mlp", "save_atomic", "set_small_net_threads"]
