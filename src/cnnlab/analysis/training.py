"""What one training step holds in memory: weights, gradients, optimizer state, saved activations.

During a training step the device holds the parameters (and buffers), one gradient per trainable
parameter, the optimizer's state (parameter-sized buffers: none for SGD, the momentum for
momentum SGD, two moments for Adam, ...: ``cnnlab.core.optimizers``' table) and, between the
forward and the backward, every tensor autograd saved to compute the gradients (the inputs of
convolutions and linear layers, the outputs of ReLUs and sigmoids, BatchNorm's statistics...).
Only that last part grows with the batch, and for a CNN at a usable batch size it is most of the
total. Not counted: the gradients of activations that exist during the backward (at most a few
layers' worth at a time), the allocator's caching and fragmentation, and the framework's own
workspace (cuDNN, CUDA context).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from cnnlab.core.optimizers import state_buffers
from cnnlab.core.validate import positive_int


@dataclass(frozen=True)
class SavedActivations:
    """Bytes autograd saved for the backward at ``batch`` and at twice ``batch`` samples.

    Saved tensors either grow with the batch (activations) or do not (BatchNorm's per-channel
    statistics and running buffers), so two measurements give the exact count at any batch.
    """

    at_batch: int
    at_double: int
    batch: int

    def bytes_at(self, batch_size: int) -> int:
        grown = Fraction(self.at_double - self.at_batch, self.batch)  # per sample
        return self.at_batch + round(grown * (batch_size - self.batch))


@dataclass(frozen=True)
class TrainingMemory:
    """Memory of one training step, in bytes (see :meth:`cnnlab.analysis.Report.memory`).

    Attributes:
        optimizer: the optimizer's name (``cnnlab.core.optimizers``).
        batch_size: samples per step.
        params_bytes: every parameter, trainable or frozen.
        buffers_bytes: buffers (BatchNorm's running statistics...).
        grads_bytes: one gradient per trainable parameter.
        optimizer_state_bytes: the optimizer's state buffers per trainable parameter.
        saved_activation_bytes: tensors autograd keeps for the backward, the input included and
            parameters excluded.
        total_bytes: the sum.
    """

    optimizer: str
    batch_size: int
    params_bytes: int
    buffers_bytes: int
    grads_bytes: int
    optimizer_state_bytes: int
    saved_activation_bytes: int
    total_bytes: int

    def lines(self) -> list[str]:
        """One line per part and its share (what ``cnnlab summary --train`` prints)."""
        parts = (
            ("parameters", self.params_bytes),
            ("buffers", self.buffers_bytes),
            ("gradients", self.grads_bytes),
            (f"optimizer state ({self.optimizer})", self.optimizer_state_bytes),
            (f"saved activations (batch {self.batch_size})", self.saved_activation_bytes),
        )
        total = self.total_bytes or 1
        out = [f"{name}: {_size(n)} ({n / total:.0%})" for name, n in parts]
        out.append(f"total: {_size(self.total_bytes)}")
        return out


def _size(n: int) -> str:
    """Bytes in binary units, three significant digits: ``97.7 MiB``, ``1.52 GiB``."""
    for factor, unit in ((2**40, "TiB"), (2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
        if n >= factor:
            return f"{n / factor:.3g} {unit}"
    return f"{n} B"


def training_memory(
    *,
    params_bytes: int,
    trainable_params_bytes: int,
    buffers_bytes: int,
    saved: SavedActivations,
    optimizer: str,
    batch_size: int,
    **options: object,
) -> TrainingMemory:
    """The memory of a training step with ``optimizer`` (a name of ``cnnlab.core.optimizers``,
    with its options, e.g. ``centered=True`` for RMSprop) at ``batch_size`` samples."""
    batch_size = positive_int("batch_size", batch_size)
    state = state_buffers(optimizer, **options) * trainable_params_bytes
    activations = saved.bytes_at(batch_size)
    total = params_bytes + buffers_bytes + trainable_params_bytes + state + activations
    return TrainingMemory(
        optimizer=optimizer,
        batch_size=batch_size,
        params_bytes=params_bytes,
        buffers_bytes=buffers_bytes,
        grads_bytes=trainable_params_bytes,
        optimizer_state_bytes=state,
        saved_activation_bytes=activations,
        total_bytes=total,
    )
