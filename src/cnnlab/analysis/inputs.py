"""What the model runs on: a batch made from ``input_size``, or the user's example inputs.

``input_size`` is one sample's shape, without the batch dimension: the trace runs a batch of one
(a float tensor, or integer token ids below the smallest ``nn.Embedding`` for ``dtype=torch.long``).
``example_inputs`` are the positional and keyword arguments of ``forward`` (tensors on the meta
device or real ones, which are copied, never changed); the batch is their first dimension.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.utils._pytree import tree_map

from cnnlab.analysis.tensor_fields import TensorField
from cnnlab.core.receptive_field import AxisField
from cnnlab.core.validate import InvalidArgument


def check_input_size(value: Any) -> tuple[int, ...]:
    """``input_size`` as a tuple of positive ints (one sample: C, H, W for images)."""
    ok = isinstance(value, Sequence) and not isinstance(value, (str, bytes)) and len(value) > 0
    if ok:
        ok = all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value)
    if not ok:
        raise InvalidArgument(
            "input_size",
            f"input_size must be a sequence of positive integers, one sample's shape without "
            f"the batch dimension (C, H, W for images), got {value!r}",
        )
    return tuple(int(v) for v in value)


def check_device(device: Any) -> torch.device | None:
    """``device`` as a ``torch.device`` that exists here (None stays None: meta, or the CPU)."""
    if device is None:
        return None
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise InvalidArgument(
            "device", f"device must be 'meta', 'cpu', 'cuda' or similar, got {device!r}"
        ) from err
    if dev.type != "meta":
        try:
            torch.empty(0, device=dev)
        except Exception as err:  # no driver, not compiled with it, no such index
            reason = " ".join(str(err).split()).split(". ")[0] or type(err).__name__
            raise InvalidArgument(
                "device",
                f"device {str(dev)!r} is not available here ({reason[:120]}); "
                f"use device='cpu' or the default meta device",
            ) from err
    return dev


def _split_example(value: Any) -> tuple[tuple, dict[str, Any]]:
    if isinstance(value, torch.Tensor):
        return (value,), {}
    if isinstance(value, dict):
        return (), dict(value)
    if (
        isinstance(value, tuple)
        and len(value) == 2
        and isinstance(value[0], (tuple, list))
        and isinstance(value[1], dict)
    ):
        return tuple(value[0]), dict(value[1])
    if isinstance(value, (tuple, list)):
        return tuple(value), {}
    raise InvalidArgument(
        "example_inputs",
        f"example_inputs must be a tensor, a tuple of positional arguments, a dict of keyword "
        f"arguments or a pair (args, kwargs), got {type(value).__name__}",
    )


@dataclass
class Inputs:
    """The model's arguments, to be made on a device (see :meth:`make`).

    Attributes:
        size: one sample's shape of the first input (the report's ``input_size``).
        batch: samples along dim 0 of the inputs (1 for ``input_size``).
        shapes: shapes of every tensor input, batch included.
        dtype: the input dtype for ``input_size`` (None: the model's floating dtype).
    """

    size: tuple[int, ...]
    batch: int
    shapes: tuple[tuple[int, ...], ...]
    dtype: torch.dtype | None = None
    args: tuple = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    from_size: bool = True

    @classmethod
    def from_input_size(cls, size: tuple[int, ...], dtype: torch.dtype | None) -> Inputs:
        return cls(size, 1, ((1, *size),), dtype)

    @classmethod
    def from_examples(cls, value: Any) -> Inputs:
        args, kwargs = _split_example(value)
        tensors = [t for t in (*args, *kwargs.values()) if isinstance(t, torch.Tensor)]
        if not tensors:
            raise InvalidArgument(
                "example_inputs", "example_inputs must hold at least one tensor, got none"
            )
        first = tensors[0]
        batch = int(first.shape[0]) if first.dim() else 1
        shapes = tuple(tuple(int(s) for s in t.shape) for t in tensors)
        return cls(shapes[0][1:], batch, shapes, None, args, kwargs, from_size=False)

    def describe(self) -> str:
        if self.from_size:
            return f"input size {self.size}"
        return "example inputs of shape " + ", ".join(str(s) for s in self.shapes)

    def make(
        self,
        device: torch.device,
        dtype: torch.dtype,
        *,
        scale: int = 1,
        high: int = 2,
        fields: Any = None,
    ) -> tuple[tuple, dict[str, Any]]:
        """Arguments on ``device`` with ``scale`` times the batch; fields seeded in ``fields``.

        Args:
            device: where to make them (meta: shapes only).
            dtype: the input dtype when made from ``input_size``.
            scale: multiply the batch (dim 0 of every tensor) by this.
            high: integer inputs are drawn below this (the smallest embedding table).
            fields: a weak dict to seed with the receptive field of image-like inputs.
        """
        generator = None if device.type == "meta" else torch.Generator(device).manual_seed(0)

        def fresh(shape: tuple[int, ...], dt: torch.dtype) -> torch.Tensor:
            if device.type == "meta":
                return torch.empty(shape, dtype=dt, device=device)
            if dt.is_floating_point or dt.is_complex:
                return torch.rand(shape, generator=generator, dtype=dt, device=device)
            if dt == torch.bool:
                return torch.rand(shape, generator=generator, device=device) > 0.5
            return torch.randint(0, high, shape, generator=generator, dtype=dt, device=device)

        if self.from_size:
            args: tuple = (fresh((scale, *self.size), dtype),)
            kwargs: dict[str, Any] = {}
        else:

            def convert(t: Any) -> Any:
                if not isinstance(t, torch.Tensor):
                    return t
                shape = tuple(t.shape)
                if scale > 1 and shape:
                    shape = (shape[0] * scale, *shape[1:])
                if device.type == "meta" or t.is_meta:
                    new = fresh(shape, t.dtype)
                else:
                    new = t.detach().to(device, copy=True)
                    if scale > 1 and t.dim():
                        new = new.repeat(scale, *([1] * (t.dim() - 1)))
                if t.requires_grad and (new.is_floating_point() or new.is_complex()):
                    new.requires_grad_(True)
                return new

            args, kwargs = tree_map(convert, (self.args, self.kwargs))
        if fields is not None:
            seed_fields(fields, (*args, *kwargs.values()))
        return args, kwargs


def seed_fields(fields: Any, values: tuple) -> None:
    """Give the first floating input with spatial dims (N, C, spatial...) the input's field."""
    for t in values:
        if isinstance(t, torch.Tensor) and t.is_floating_point() and t.dim() >= 3:
            spatial = t.dim() - 2
            fields[t] = TensorField(
                tuple(range(2, 2 + spatial)), tuple(AxisField() for _ in range(spatial))
            )
            return


def smallest_embedding(model: nn.Module) -> int:
    """Integer inputs stay below every embedding table's size (2 without embeddings)."""
    sizes = [
        m.num_embeddings for m in model.modules() if isinstance(m, (nn.Embedding, nn.EmbeddingBag))
    ]
    return min(sizes, default=2)
