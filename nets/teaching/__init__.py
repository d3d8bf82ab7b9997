"""From-scratch teaching code: the perceptron, a scalar autograd graph and numpy optimizers.

Each piece is short enough to read in one sitting and is tested against torch (tests/nets/test_teaching.py).
"""

from nets.teaching.numpy_optimizers import SGD, Adagrad, Adam, AdamW, NumpyOptimizer, RMSprop
from nets.teaching.perceptron import (
    LinearUnit,
    Perceptron,
    linear_output,
    perceptron_update,
    threshold_output,
)
from nets.teaching.scalar_autograd import Neuron, Value

__all__ = [
    "SGD",
    "Adagrad",
    "Adam",
    "AdamW",
    "LinearUnit",
    "Neuron",
    "NumpyOptimizer",
    "Perceptron",
    "RMSprop",
    "Value",
    "linear_output",
    "perceptron_update",
    "threshold_output",
]
