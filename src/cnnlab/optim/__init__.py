"""Optimizers for the PyTorch tier: the notes' twelve names behind one factory."""

from cnnlab.optim.factory import OPTIMIZERS, create_optimizer

__all__ = ["OPTIMIZERS", "create_optimizer"]
