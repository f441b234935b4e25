"""Optimizers for the PyTorch tier: AdaBound/AMSBound and the notes' twelve names behind one
factory."""

from cnnlab.optim.adabound import AdaBound
from cnnlab.optim.factory import OPTIMIZERS, OptimizerSpec, create_optimizer, param_groups

__all__ = ["OPTIMIZERS", "AdaBound", "OptimizerSpec", "create_optimizer", "param_groups"]
