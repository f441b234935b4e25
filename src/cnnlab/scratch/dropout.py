"""Inverted dropout: drop in training, identity at test time."""

from __future__ import annotations

import numpy as np

from cnnlab.core.validate import number
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
        self.p = number("p", p, minimum=0, maximum=1, exclusive_maximum=True)
        self.rng = np.random.default_rng(rng)
        self.mask: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        if not self.training or self.p == 0.0:
            return self._keep(1.0, x)
        keep = self.rng.random(x.shape) >= self.p
        self.mask = keep
        scale = (keep * (1.0 / (1.0 - self.p))).astype(x.dtype, copy=False)
        return self._keep(scale, x * scale)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return dout * self._take_cache(dout)

    def extra_repr(self) -> str:
        return f"p={self.p}"
