"""The layer contract of the NumPy tier, a small mirror of ``torch.nn.Module``.

A layer's ``forward`` hands what its backward needs, and its output, to ``self._keep(cache, out)``.
Its ``backward(dout)`` takes the cache back with ``self._take_cache(dout)``, which refuses a
gradient not shaped like that output (one check for every layer), adds the parameter gradients
into ``.grad`` (so a parameter shared by two layers receives both) and returns the input
gradient. Parameters, buffers and child layers are plain attributes; ``named_parameters`` and
``state_dict`` find them in assignment order, with torch's names
(``0.weight``, ``block.1.running_mean``), so torch weights load without renaming.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from cnnlab.scratch.parameter import Parameter


class Module:
    """Base class of every scratch layer."""

    training: bool

    def __init__(self) -> None:
        self.training = True
        self._buffer_names: list[str] = []
        self._cache: Any = None
        self._out_shape: tuple[int, ...] | None = None

    # -- the contract ---------------------------------------------------------------------
    def forward(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} must implement forward")

    def backward(self, dout: np.ndarray) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} must implement backward")

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)

    def _keep(self, cache: Any, out: np.ndarray) -> np.ndarray:
        """Remember ``cache`` for the backward and the shape of ``out``; return ``out``."""
        self._cache = cache
        self._out_shape = out.shape
        return out

    def _take_cache(self, dout: np.ndarray) -> Any:
        """The cache of the last forward, once ``dout`` is known to be shaped like its output.

        Raises:
            ValueError: no forward yet, or ``dout`` is not an array of the output's shape.
        """
        name = type(self).__name__
        if self._cache is None:
            raise ValueError(f"{name}.backward called before forward")
        if not isinstance(dout, np.ndarray) or dout.shape != self._out_shape:
            got = dout.shape if isinstance(dout, np.ndarray) else type(dout).__name__
            raise ValueError(
                f"{name}.backward expects a gradient of shape {self._out_shape} (the shape of "
                f"its last output), got {got}"
            )
        return self._cache

    # -- bookkeeping ----------------------------------------------------------------------
    def register_buffer(self, name: str, value: np.ndarray) -> None:
        """A non-trainable array saved in the state dict (e.g. BN's running mean)."""
        setattr(self, name, value)
        if name not in self._buffer_names:
            self._buffer_names.append(name)

    def named_children(self) -> Iterator[tuple[str, Module]]:
        for name, value in vars(self).items():
            if isinstance(value, Module):
                yield name, value

    def children(self) -> Iterator[Module]:
        return (m for _, m in self.named_children())

    def modules(self) -> Iterator[Module]:
        """This layer and all layers below it, depth first (as ``torch.nn.Module.modules``)."""
        yield self
        for child in self.children():
            yield from child.modules()

    def _own_parameters(self) -> Iterator[tuple[str, Parameter]]:
        for name, value in vars(self).items():
            if isinstance(value, Parameter):
                yield name, value

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """``(name, Parameter)`` pairs, each shared parameter once, in torch's order."""
        seen: set[int] = set()
        for name, param in self._named_parameters_all(prefix):
            if id(param) not in seen:
                seen.add(id(param))
                yield name, param

    def _named_parameters_all(self, prefix: str) -> Iterator[tuple[str, Parameter]]:
        for name, param in self._own_parameters():
            yield prefix + name, param
        for name, child in self.named_children():
            yield from child._named_parameters_all(f"{prefix}{name}.")

    def parameters(self) -> list[Parameter]:
        return [p for _, p in self.named_parameters()]

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.zero_grad()

    def train(self, mode: bool = True) -> Module:
        """Training mode (batch statistics, dropout on); returns ``self``."""
        for m in self.modules():
            m.training = mode
        return self

    def eval(self) -> Module:
        """Evaluation mode (running statistics, dropout off); returns ``self``."""
        return self.train(False)

    def state_dict(self, prefix: str = "") -> dict[str, np.ndarray]:
        """Copies of parameters and buffers: own parameters, own buffers, then children."""
        state: dict[str, np.ndarray] = {}
        for name, param in self._own_parameters():
            state[prefix + name] = param.data.copy()
        for name in self._buffer_names:
            state[prefix + name] = np.array(getattr(self, name), copy=True)
        for name, child in self.named_children():
            state.update(child.state_dict(f"{prefix}{name}."))
        return state

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True) -> None:
        """Copy values in place (dtype kept); accepts anything ``numpy.asarray`` reads.

        Raises:
            ValueError: missing or unexpected keys (with ``strict``), or a shape mismatch.
        """
        targets = self._state_targets()
        missing = [k for k in targets if k not in state_dict]
        unexpected = [k for k in state_dict if k not in targets]
        if strict and (missing or unexpected):
            raise ValueError(
                f"state dict does not match {type(self).__name__}: missing keys {missing}, "
                f"unexpected keys {unexpected}"
            )
        for key, (owner, name) in targets.items():
            if key not in state_dict:
                continue
            value = np.asarray(state_dict[key])
            current = getattr(owner, name)
            array = current.data if isinstance(current, Parameter) else current
            if value.shape != array.shape:
                raise ValueError(
                    f"state dict entry {key!r} has shape {value.shape}, expected {array.shape}"
                )
            array[...] = value

    def _state_targets(self, prefix: str = "") -> dict[str, tuple[Module, str]]:
        targets = {prefix + name: (self, name) for name, _ in self._own_parameters()}
        targets.update({prefix + name: (self, name) for name in self._buffer_names})
        for name, child in self.named_children():
            targets.update(child._state_targets(f"{prefix}{name}."))
        return targets

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        children = list(self.named_children())
        if not children:
            return f"{type(self).__name__}({self.extra_repr()})"
        lines = [f"  ({name}): " + repr(child).replace("\n", "\n  ") for name, child in children]
        return f"{type(self).__name__}(\n" + "\n".join(lines) + "\n)"


def check_input(layer: Module, x: np.ndarray, ndims: tuple[int, ...], channels: int | None) -> None:
    """Raise ``ValueError`` unless ``x`` has one of ``ndims`` dimensions and ``channels`` at axis 1.

    Args:
        layer: the layer (for the message).
        x: the input.
        ndims: allowed numbers of dimensions.
        channels: required size of axis 1, or ``None`` for any.
    """
    name = type(layer).__name__
    if not isinstance(x, np.ndarray):
        raise ValueError(f"{name} expects a numpy array, got {type(x).__name__}")
    if x.ndim not in ndims:
        raise ValueError(
            f"{name} expects an input with {' or '.join(map(str, ndims))} dimensions, "
            f"got shape {x.shape}"
        )
    if channels is not None and x.shape[1] != channels:
        raise ValueError(f"{name} expects {channels} channels at axis 1, got input {x.shape}")
