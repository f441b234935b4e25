"""The NumPy-tier optimizers: the notes' twelve update rules written out, equal to torch.optim.

Every class takes an iterable of :class:`~cnnlab.scratch.Parameter` (or torch-style parameter
groups), uses torch.optim's hyperparameter names and defaults, and keeps its per-parameter
buffers in ``state[param]`` under torch's names (``momentum_buffer``, ``exp_avg``...).
:class:`AdaBound` follows the authors' reference package instead, since torch has no AdaBound.
"""

from cnnlab.scratch.optim.adabound import AdaBound
from cnnlab.scratch.optim.adadelta import Adadelta
from cnnlab.scratch.optim.adagrad import Adagrad
from cnnlab.scratch.optim.adam import Adam
from cnnlab.scratch.optim.adamax import Adamax
from cnnlab.scratch.optim.factory import OPTIMIZERS, RULES, OptimizerSpec, create_optimizer
from cnnlab.scratch.optim.nadam import NAdam
from cnnlab.scratch.optim.optimizer import Optimizer
from cnnlab.scratch.optim.rmsprop import RMSprop
from cnnlab.scratch.optim.sgd import SGD

__all__ = [
    "OPTIMIZERS",
    "RULES",
    "SGD",
    "AdaBound",
    "Adadelta",
    "Adagrad",
    "Adam",
    "Adamax",
    "NAdam",
    "Optimizer",
    "OptimizerSpec",
    "RMSprop",
    "create_optimizer",
]
