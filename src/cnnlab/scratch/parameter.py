"""A trainable array: the NumPy tier's answer to ``torch.nn.Parameter``."""

from __future__ import annotations

import numpy as np


class Parameter:
    """A NumPy array with a gradient slot.

    Attributes:
        data: the values (integers are promoted to float64).
        grad: the accumulated gradient, same shape as ``data``, or ``None`` before any backward.
    """

    __slots__ = ("data", "grad")

    def __init__(self, data: np.ndarray) -> None:
        data = np.asarray(data)
        if not np.issubdtype(data.dtype, np.floating):
            data = data.astype(np.float64)
        self.data = data
        self.grad: np.ndarray | None = None

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    def accumulate(self, grad: np.ndarray) -> None:
        """Add ``grad`` to ``.grad`` (a parameter used twice receives both contributions)."""
        if grad.shape != self.data.shape:
            raise ValueError(f"gradient shape {grad.shape} does not match parameter {self.shape}")
        if self.grad is None:
            self.grad = np.array(grad, dtype=self.data.dtype, copy=True)
        else:
            self.grad += grad

    def zero_grad(self) -> None:
        self.grad = None

    def __repr__(self) -> str:
        return f"Parameter(shape={self.shape}, dtype={self.data.dtype})"
