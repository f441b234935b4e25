"""The result of :func:`cnnlab.analysis.summary`: rows, totals, fields, lookups, memory."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cnnlab.analysis import export
from cnnlab.analysis.rows import FieldBox, ReceptiveField, Row
from cnnlab.analysis.training import SavedActivations, TrainingMemory, training_memory
from cnnlab.core.names import unknown_name_message

if TYPE_CHECKING:
    from rich.table import Table


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
    Reports traced with ``mode="train"`` also give the backward's MACs and the memory of a
    training step (:meth:`memory`).
    """

    model: str
    input_size: tuple[int, ...]
    rows: list[Row]
    modules: dict[str, Row]
    total_params: int
    trainable_params: int
    depth: int | None = None
    count_bias: bool = False
    mode: str = "eval"
    device: str = "meta"
    input_shapes: tuple[tuple[int, ...], ...] = ()
    uncounted: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    idle_modules: tuple[str, ...] = ()
    params_bytes: int = 0
    trainable_params_bytes: int = 0
    buffers_bytes: int = 0
    saved: SavedActivations | None = None

    def __repr__(self) -> str:
        return (
            f"Report(model={self.model!r}, input_size={self.input_size}, mode={self.mode!r}, "
            f"rows={len(self.rows)}, total_params={self.total_params}, "
            f"total_macs={self.total_macs}, partial={self.partial})"
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

    def _training(self, what: str) -> None:
        if self.mode != "train":
            raise ValueError(
                f"{what} needs a report traced with mode='train' (the training graph), "
                f"this one was traced with mode={self.mode!r}"
            )

    @property
    def total_backward_macs(self) -> int:
        """MACs of the backward: input and weight gradients where they are needed."""
        self._training("total_backward_macs")
        return sum(r.backward_macs for r in self.rows)

    @property
    def total_training_macs(self) -> int:
        """Forward plus backward MACs of one training step (for the traced batch)."""
        return self.total_macs + self.total_backward_macs

    @property
    def total_saved_bytes(self) -> int:
        """Bytes autograd keeps for the backward at the traced batch (``mode="train"``)."""
        self._training("total_saved_bytes")
        return sum(r.saved_bytes for r in self.rows)

    @property
    def partial(self) -> bool:
        """True when some op had no cost rule (listed in ``uncounted``)."""
        return bool(self.uncounted)

    @property
    def receptive_field(self) -> ReceptiveField | None:
        """The field at the model's output."""
        return self.modules[""].receptive_field

    @property
    def layers(self) -> list[Row]:
        if self.depth is None:
            return list(self.rows)
        shown: list[Row] = []
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

    def memory(
        self, optimizer: str = "adam", batch_size: int = 1, **options: Any
    ) -> TrainingMemory:
        """Memory of one training step with ``optimizer`` at ``batch_size`` samples.

        Args:
            optimizer: a name of the optimizer table (``sgd``, ``momentum``, ``adam``,
                ``amsgrad``, ``adagrad``, ``adadelta``, ...).
            batch_size: samples per step (for ``example_inputs``: along their first dim).
            **options: options that change the optimizer's state (RMSprop's ``centered``).

        Raises:
            ValueError: a report not traced with ``mode="train"``, an unknown optimizer name, or
                a batch size that is not a positive integer.
        """
        self._training("memory()")
        assert self.saved is not None
        return training_memory(
            params_bytes=self.params_bytes,
            trainable_params_bytes=self.trainable_params_bytes,
            buffers_bytes=self.buffers_bytes,
            saved=self.saved,
            optimizer=optimizer,
            batch_size=batch_size,
            **options,
        )

    # -- lookups ---------------------------------------------------------------------------
    def __getitem__(self, name: str) -> Row:
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
        return export.report_dict(self)

    def to_json(self, indent: int | None = 2) -> str:
        return export.to_json(self, indent)

    def to_csv(self) -> str:
        return export.to_csv(self)

    def to_markdown(self) -> str:
        return export.to_markdown(self)

    def __rich__(self) -> Table:
        return export.rich_table(self)

    def __str__(self) -> str:
        return export.to_text(self)
