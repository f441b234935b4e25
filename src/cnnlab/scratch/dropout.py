"""Inverted dropout: drop in training, identity at test time."""

from __future__ import annotations

import numpy as np

from cnnlab.scratch.init import RngLike
from cnnlab.scratch.module import Module


class Dropout(Module):
    """Zero each element with probability ``p`` in training and scale the rest by ``1/(1-p)``.

    Scaling at training time ("inverted" dropout) keeps ``E[y] = x``, so evaluation needs no
    rescaling: in eval mode the layer is the identity. The mask of the last forward is kept in
    ``self.mask`` and the backward multiplies by the same mask.

    Math:
        m ~ Bernoulli(1 - p),  y = x * m / (1 - p),  dx = dy * m / (1 - p)

    Shape:
        any -> same

    Args:
        p: drop probability in [0, 1).
        rng: Generator or seed for the masks (reproducible runs).
    """

    def __init__(self, p: float = 0.5, *, rng: RngLike = None) -> None:
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p < 1.0:
            raise ValueError(f"dropout probability p must be in [0, 1), got {p!r}")
        self.p = float(p)
        self.rng = np.random.default_rng(rng)
        self.mask: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        if not self.training or self.p == 0.0:
            self._cache = 1.0
            return x
        keep = self.rng.random(x.shape) >= self.p
        self.mask = keep
        scale = keep * (1.0 / (1.0 - self.p))
        self._cache = scale.astype(x.dtype, copy=False)
        return x * self._cache

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return dout * self._take_cache()

    def extra_repr(self) -> str:
        return f"p={self.p}"
