"""The one row type of a report, and the receptive-field values a row carries.

A :class:`Row` is filled in while the model runs (one per executed leaf module or functional
op) and is also what ``report[path]`` returns for a module (its totals). :class:`FieldBox` is the
input window of one output position.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from cnnlab.core.receptive_field import AxisField, Number

Exact = tuple[Number, ...]


@dataclass(frozen=True)
class ReceptiveField:
    """Receptive field per spatial axis (h, w for images): size, jump and start (Distill).

    Whole values are ``int`` and the others exact ``Fraction``\\ s: ``(212, 212)``.
    """

    size: Exact
    jump: Exact
    start: Exact

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

    lo: Exact
    hi: Exact
    input_size: tuple[int, ...]

    @property
    def size(self) -> Exact:
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


@dataclass
class Row:
    """One executed leaf module or functional op, or the totals of a module (``report[path]``).

    Attributes:
        name: module path (``layer1.0.conv1``) or ``<scope>.<function>`` (``layer1.0.add_``).
        type: class name (``Conv2d``) or function name (``add_``, ``cat``, ``flatten``).
        kind: ``"module"`` (leaf), ``"function"`` or ``"container"``.
        scope: module path the row runs in.
        depth: nesting depth (``layer1.0.conv1`` is 3).
        output_shape: shape of the output, batch included; a tuple of shapes when the output
            holds several tensors.
        params: parameters (trainable and frozen) read for the first time by this row.
        macs: multiply-accumulates (see :mod:`cnnlab.analysis.op_costs`).
        flops: floating-point operations, ``2 * macs`` plus element-wise work.
        backward_macs: multiply-accumulates of the row's backward (reports traced with
            ``mode="train"``; 0 otherwise).
        activation_bytes: bytes of the output tensor(s) (for a module: of every row in it).
        saved_bytes: bytes of the tensors autograd keeps for the backward, first saved here
            (``mode="train"``; parameters excluded, the model input included).
        receptive_field: field of the output per spatial axis, or None for outputs that do not
            depend on the input.
        positions: output positions per spatial axis (1 for an axis pooled away).
        uncounted: ATen ops without a cost rule that ran in this row, with their call counts.
        notes: receptive-field remarks (misaligned branches, approximations).
        data_dependent: the row's shapes (so its costs) depend on the input's values, e.g. the
            number of proposals a detector keeps.
    """

    name: str
    type: str
    kind: str = "module"
    scope: str = ""
    depth: int = 0
    output_shape: tuple = ()
    params: int = 0
    macs: int = 0
    flops: int = 0
    backward_macs: int = 0
    activation_bytes: int = 0
    saved_bytes: int = 0
    receptive_field: ReceptiveField | None = None
    positions: tuple[int, ...] = ()
    uncounted: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    data_dependent: bool = False

    @property
    def rf_size(self) -> Exact | None:
        return None if self.receptive_field is None else self.receptive_field.size

    @property
    def rf_jump(self) -> Exact | None:
        return None if self.receptive_field is None else self.receptive_field.jump

    @property
    def rf_start(self) -> Exact | None:
        return None if self.receptive_field is None else self.receptive_field.start

    def add_costs(self, other: Row) -> None:
        """Add ``other``'s costs, uncounted ops, notes and flags to this row (module totals)."""
        self.macs += other.macs
        self.flops += other.flops
        self.backward_macs += other.backward_macs
        self.activation_bytes += other.activation_bytes
        self.saved_bytes += other.saved_bytes
        for op, n in other.uncounted.items():
            self.uncounted[op] = self.uncounted.get(op, 0) + n
        self.notes.extend(n for n in other.notes if n not in self.notes)
        self.data_dependent = self.data_dependent or other.data_dependent
