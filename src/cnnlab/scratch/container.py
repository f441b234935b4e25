"""Composition: ``Sequential`` chains layers; ``Residual`` adds a shortcut, y = F(x) + x."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from cnnlab.scratch.module import Module


class Sequential(Module):
    """Layers applied in order; backward runs them in reverse. Children are named ``0, 1, ...``.

    Shape:
        whatever the first layer takes -> whatever the last layer returns
    """

    def __init__(self, *layers: Module) -> None:
        super().__init__()
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise ValueError(
                    f"Sequential takes scratch layers, got {type(layer).__name__} at position {i}"
                )
            setattr(self, str(i), layer)

    def _layers(self) -> list[Module]:
        return list(self.children())

    def __len__(self) -> int:
        return len(self._layers())

    def __iter__(self) -> Iterator[Module]:
        return iter(self._layers())

    def __getitem__(self, index: int) -> Module:
        return self._layers()[index]

    def forward(self, x: np.ndarray) -> np.ndarray:
        for layer in self._layers():
            x = layer.forward(x)
        return self._keep(True, x)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        self._take_cache(dout)
        for layer in reversed(self._layers()):
            dout = layer.backward(dout)
        return dout


class Residual(Module):
    """``y = block(x) + shortcut(x)``; the shortcut is the identity when ``None``.

    The gradient reaches ``x`` along both paths and adds: ``dx = dblock + dshortcut``; along the
    identity path it passes unchanged, which is why very deep ResNets still train.

    Shape:
        x -> block(x), which must have the shape of shortcut(x)
    """

    def __init__(self, block: Module, shortcut: Module | None = None) -> None:
        super().__init__()
        if not isinstance(block, Module) or not (shortcut is None or isinstance(shortcut, Module)):
            raise ValueError("Residual takes scratch layers for block and shortcut")
        self.block = block
        self.shortcut = shortcut

    def forward(self, x: np.ndarray) -> np.ndarray:
        main = self.block.forward(x)
        skip = x if self.shortcut is None else self.shortcut.forward(x)
        if main.shape != skip.shape:
            raise ValueError(
                f"Residual block output {main.shape} does not match shortcut output {skip.shape}"
            )
        return self._keep(True, main + skip)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        self._take_cache(dout)
        dx = self.block.backward(dout)
        return dx + (dout if self.shortcut is None else self.shortcut.backward(dout))
