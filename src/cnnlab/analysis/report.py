"""The result of :func:`cnnlab.analysis.summary`: rows, totals, receptive fields, lookups."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from cnnlab.core.names import unknown_name_message
from cnnlab.core.receptive_field import AxisField

Pair = tuple[Fraction, ...]


def _tidy(values: Pair) -> Pair:
    """Whole fractions become ints, so fields print as ``(212, 212)``, not ``Fraction(212, 1)``."""
    return tuple(int(v) if isinstance(v, Fraction) and v.denominator == 1 else v for v in values)


@dataclass(frozen=True)
class ReceptiveField:
    """Receptive field per spatial axis (h, w for images): size, jump and start (Distill)."""

    size: Pair
    jump: Pair
    start: Pair

    def __post_init__(self) -> None:
        for name in ("size", "jump", "start"):
            object.__setattr__(self, name, _tidy(getattr(self, name)))

    def axis(self, k: int) -> AxisField:
        return AxisField(self.size[k], self.jump[k], self.start[k])


@dataclass(frozen=True)
class FieldBox:
    """The input window seen by one output position, per axis, inclusive bounds.

    Attributes:
        lo: first input coordinate per axis (may be negative: the window reaches into padding).
        hi: last input coordinate per axis (may exceed the input).
        input_size: spatial size of the input, per axis.
    """

    lo: Pair
    hi: Pair
    input_size: tuple[int, ...]

    @property
    def size(self) -> Pair:
        return tuple(h - lo + 1 for lo, h in zip(self.lo, self.hi, strict=True))

    @property
    def clipped(self) -> tuple[tuple[int, int], ...]:
        """Per axis, the inclusive range of input pixels inside the window and the image."""
        return tuple(
            (max(0, math.ceil(lo)), min(n - 1, math.floor(h)))
            for lo, h, n in zip(self.lo, self.hi, self.input_size, strict=True)
        )

    @property
    def slices(self) -> tuple[slice, ...]:
        """Index the input's spatial dims with these to get the pixels the position sees."""
        return tuple(slice(a, b + 1) for a, b in self.clipped)


@dataclass(frozen=True)
class LayerRow:
    """One executed leaf module or functional op (or a module's totals, for ``Report[path]``).

    Attributes:
        name: module path (``layer1.0.conv1``) or ``<scope>.<function>`` (``layer1.0.add_``).
        type: class name (``Conv2d``) or function name (``add_``, ``cat``, ``flatten``).
        output_shape: shape of the output, batch of one included; a tuple of shapes when the
            output holds several tensors.
        params: parameters (trainable and frozen) read for the first time by this row.
        macs: multiply-accumulates (see :mod:`cnnlab.analysis.costs`).
        flops: floating-point operations, ``2 * macs`` plus element-wise work.
        activation_bytes: bytes of the output tensor(s) (for ``Report[path]``: of every row in it).
        rf_size, rf_jump, rf_start: receptive field of the output per spatial axis, or None for
            outputs that do not depend on the input.
        kind: ``"module"`` (leaf), ``"function"`` or ``"container"``.
        scope: module path the row runs in.
        depth: nesting depth (``layer1.0.conv1`` is 3).
        uncounted: ATen ops without a cost formula that ran in this row.
        notes: receptive-field remarks (misaligned branches, approximations).
        positions: output positions per spatial axis (1 for an axis pooled away).
    """

    name: str
    type: str
    output_shape: tuple
    params: int
    macs: int
    flops: int
    activation_bytes: int
    rf_size: Pair | None
    rf_jump: Pair | None
    rf_start: Pair | None
    kind: str = "module"
    scope: str = ""
    depth: int = 0
    uncounted: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    positions: tuple[int, ...] = ()

    @property
    def receptive_field(self) -> ReceptiveField | None:
        if self.rf_size is None or self.rf_jump is None or self.rf_start is None:
            return None
        return ReceptiveField(self.rf_size, self.rf_jump, self.rf_start)


class UnknownLayerError(KeyError, ValueError):
    """``Report[name]`` for a name that is neither a module path nor a row."""

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass(repr=False)
class Report:
    """Shapes, parameters, MACs/FLOPs, activations and receptive fields of one model.

    ``layers`` holds one row per executed leaf module or function, in execution order (at
    ``depth``, deeper rows are folded into their ancestor module). ``report[path]`` gives the row
    of any module (containers: their totals and the field at their output), or of a function row.
    """

    model: str
    input_size: tuple[int, ...]
    rows: list[LayerRow]
    modules: dict[str, LayerRow]
    total_params: int
    trainable_params: int
    depth: int | None = None
    count_bias: bool = False
    uncounted: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    idle_modules: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return (
            f"Report(model={self.model!r}, input_size={self.input_size}, rows={len(self.rows)}, "
            f"total_params={self.total_params}, total_macs={self.total_macs}, "
            f"partial={self.partial})"
        )

    # -- totals ----------------------------------------------------------------------------
    @property
    def total_macs(self) -> int:
        return sum(r.macs for r in self.rows)

    @property
    def total_flops(self) -> int:
        return sum(r.flops for r in self.rows)

    @property
    def total_activation_bytes(self) -> int:
        return sum(r.activation_bytes for r in self.rows)

    @property
    def partial(self) -> bool:
        """True when some op had no cost formula (listed in ``uncounted``)."""
        return bool(self.uncounted)

    @property
    def receptive_field(self) -> ReceptiveField | None:
        """The field at the model's output."""
        return self.modules[""].receptive_field

    @property
    def layers(self) -> list[LayerRow]:
        if self.depth is None:
            return list(self.rows)
        shown: list[LayerRow] = []
        seen: set[str] = set()
        for row in self.rows:
            if row.depth <= self.depth:
                shown.append(row)
                continue
            ancestor = ".".join(row.scope.split(".")[: self.depth])
            if ancestor not in seen:
                seen.add(ancestor)
                shown.append(self.modules[ancestor])
        return shown

    # -- lookups ---------------------------------------------------------------------------
    def __getitem__(self, name: str) -> LayerRow:
        if name in self.modules:
            return self.modules[name]
        for row in self.rows:
            if row.name == name:
                return row
        if name in self.idle_modules:
            raise UnknownLayerError(f"module {name!r} did not run in this forward pass")
        choices = [n for n in self.modules if n] + [r.name for r in self.rows]
        raise UnknownLayerError(unknown_name_message("layer", name, set(choices)))

    def __contains__(self, name: object) -> bool:
        return name in self.modules or any(r.name == name for r in self.rows)

    def field_of(self, module_path: str, position: tuple[int, ...]) -> FieldBox:
        """The input window seen by output ``position`` (e.g. ``(i, j)``) of ``module_path``.

        Raises:
            ValueError: unknown path, an output without a receptive field, or a position
                outside the output.
        """
        row = self[module_path]
        rf = row.receptive_field
        if rf is None:
            raise ValueError(f"{module_path!r} has no receptive field (it does not see the input)")
        position = tuple(position)
        n = len(rf.size)
        if len(position) != n or not all(isinstance(p, int) for p in position):
            raise ValueError(
                f"position must be {n} integers (one per spatial axis), got {position}"
            )
        for k, (p, extent) in enumerate(zip(position, row.positions, strict=True)):
            if not 0 <= p < extent:
                raise ValueError(
                    f"position {position} is outside {module_path!r}'s output: axis {k} has "
                    f"positions 0..{extent - 1}"
                )
        boxes = [rf.axis(k).box(p) for k, p in enumerate(position)]
        return FieldBox(tuple(b[0] for b in boxes), tuple(b[1] for b in boxes), self.input_size[1:])

    # -- export ----------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        from cnnlab.analysis.export import report_dict

        return report_dict(self)

    def to_json(self, indent: int | None = 2) -> str:
        from cnnlab.analysis.export import to_json

        return to_json(self, indent)

    def to_csv(self) -> str:
        from cnnlab.analysis.export import to_csv

        return to_csv(self)

    def to_markdown(self) -> str:
        from cnnlab.analysis.export import to_markdown

        return to_markdown(self)

    def __rich__(self) -> Any:
        from cnnlab.analysis.export import rich_table

        return rich_table(self)

    def __str__(self) -> str:
        from cnnlab.analysis.export import to_text

        return to_text(self)
