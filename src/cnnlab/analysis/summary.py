"""``summary(model, input_size)``: one traced forward pass on a copy of the model, one report."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from cnnlab.analysis.assemble import assemble
from cnnlab.analysis.input_checks import InputRankError
from cnnlab.analysis.inputs import Inputs, check_device, check_input_size, smallest_embedding
from cnnlab.analysis.model_copy import tracing_copy
from cnnlab.analysis.report import Report
from cnnlab.analysis.tracing import Failure, Tracer
from cnnlab.core.validate import InvalidArgument, non_negative_int, one_of

MODES = ("eval", "train")


class NeedsRealData(ValueError):
    """An op cannot run on the meta device (it needs values), and no CPU run was possible.

    Attributes:
        problem: which op, in which layer, cannot run, and torch's words.
    """

    def __init__(self, problem: str, fix: str) -> None:
        super().__init__(f"{problem}; {fix}")
        self.problem = problem


@dataclass
class Trace:
    """A finished trace: the tracer's rows, the copy it ran on (and its modules), where."""

    tracer: Tracer
    copy: nn.Module
    modules: list[tuple[str, nn.Module]]
    device: torch.device
    dtype: torch.dtype


class _Failed(Exception):
    def __init__(self, failure: Failure | None, error: Exception, device: torch.device) -> None:
        super().__init__(str(error))
        self.failure = failure
        self.error = error
        self.needs_data = device.type == "meta" and _needs_data(failure, error)


def _needs_data(failure: Failure | None, error: BaseException) -> bool:
    """Errors of ops that need values: ``.item()``, ``nonzero``, copies to the host..."""
    err = failure.error if failure is not None and failure.error is not None else error
    text = str(err).lower()
    return isinstance(err, NotImplementedError) or (
        "meta" in text and ("device" in text or "tensor" in text)  # .item(), mixed devices...
    )


# -- argument checks -----------------------------------------------------------------------
def _check_model(model: Any) -> None:
    if isinstance(model, torch.jit.ScriptModule):
        raise InvalidArgument(
            "model",
            f"model is a TorchScript module ({type(model).__name__}): summary follows a Python "
            f"module's forward op by op; pass the nn.Module it was scripted or traced from",
        )
    if not isinstance(model, nn.Module):
        raise InvalidArgument(
            "model", f"model must be a torch.nn.Module, got {type(model).__name__}"
        )


def _inputs(input_size: Any, example_inputs: Any, dtype: Any) -> Inputs:
    if dtype is not None and not isinstance(dtype, torch.dtype):
        raise InvalidArgument("dtype", f"dtype must be a torch.dtype or None, got {dtype!r}")
    if (input_size is None) == (example_inputs is None):
        raise InvalidArgument(
            "input_size",
            "input_size must be given (one sample's shape, e.g. (3, 224, 224)), or "
            "example_inputs instead, not both",
        )
    if example_inputs is not None:
        return Inputs.from_examples(example_inputs)
    return Inputs.from_input_size(check_input_size(input_size), dtype)


# -- running -------------------------------------------------------------------------------
@contextmanager
def _rng_guard(device: torch.device) -> Iterator[None]:
    if device.type == "meta":
        yield
        return
    devices = [device] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        yield


def _has_values(model: nn.Module) -> bool:
    return not any(t.is_meta for t in [*model.parameters(), *model.buffers()])


def _model_dtype(model: nn.Module) -> torch.dtype:
    return next((p.dtype for p in model.parameters() if p.is_floating_point()), torch.float32)


def _trace(
    model: nn.Module,
    inputs: Inputs,
    device: torch.device,
    dtype: torch.dtype,
    mode: str,
    count_bias: bool,
    high: int,
    scale: int = 1,
) -> Trace:
    if device.type == "meta":

        def convert(t: torch.Tensor) -> torch.Tensor:
            return torch.empty_strided(t.shape, t.stride(), dtype=t.dtype, device="meta")
    else:

        def convert(t: torch.Tensor) -> torch.Tensor:
            return t.to(device, copy=True)

    copy, params = tracing_copy(model, convert)
    modules = list(copy.named_modules())
    for _, m in modules:
        m.training = mode == "train"
    tracer = Tracer(
        modules,
        {id(p): p for p in params.values()},
        train=mode == "train",
        count_bias=count_bias,
    )
    grad = torch.enable_grad() if mode == "train" else torch.no_grad()
    try:
        with grad, _rng_guard(device):
            args, kwargs = inputs.make(device, dtype, scale=scale, high=high, fields=tracer.fields)
            with tracer.activate():
                copy(*args, **kwargs)
    except Exception as err:
        raise _Failed(tracer.failure, err, device) from err
    return Trace(tracer, copy, modules, device, dtype)


def _is_embedding_dtype_error(f: Failure | None, inputs: Inputs, dtype: torch.dtype) -> bool:
    return (
        inputs.from_size
        and inputs.dtype is None
        and dtype.is_floating_point
        and f is not None
        and isinstance(f.module, (nn.Embedding, nn.EmbeddingBag))
    )


def _run(
    model: nn.Module,
    inputs: Inputs,
    device: torch.device,
    mode: str,
    count_bias: bool,
) -> tuple[Trace, int | None]:
    """Trace (integer inputs when the input feeds an embedding), and for training the saved
    bytes at twice the batch, so that memory scales exactly."""
    dtype = inputs.dtype or _model_dtype(model)
    high = smallest_embedding(model) if not dtype.is_floating_point or not inputs.from_size else 2
    try:
        trace = _trace(model, inputs, device, dtype, mode, count_bias, high)
    except _Failed as failed:
        if not _is_embedding_dtype_error(failed.failure, inputs, dtype):
            raise
        dtype = torch.long
        high = smallest_embedding(model)
        trace = _trace(model, inputs, device, dtype, mode, count_bias, high)
    doubled = None
    if mode == "train":
        again = _trace(model, inputs, device, dtype, mode, count_bias, high, scale=2)
        doubled = again.tracer.total_saved_bytes
    return trace, doubled


def summary(
    model: nn.Module,
    input_size: Sequence[int] | None = None,
    *,
    example_inputs: Any = None,
    depth: int | None = None,
    device: str | torch.device | None = None,
    dtype: torch.dtype | None = None,
    mode: str = "eval",
    count_bias: bool = False,
) -> Report:
    """Shapes, parameters, MACs/FLOPs, activation memory and receptive field of every layer.

    The model runs once, on a private copy (:mod:`cnnlab.analysis.model_copy`), so it is never
    changed, even by a forward that caches tensors or by an error: its parameters, buffers,
    attributes, hooks and training flags stay exactly as they were. By default the copy lives on
    the *meta* device (shapes only: no arithmetic, no memory proportional to the input); when an
    op needs real values (``nonzero`` in detectors, ``.item()``, a ``torch.distributions``
    output), the trace reruns on the CPU and the report says so.

    Conventions (details in :mod:`cnnlab.analysis.op_costs` and the chapter docs/analysis.md):
    MACs count multiply-accumulates of convolutions (transposed: at input resolution), linear
    layers, matrix products, attention and recurrent layers (per step), bias excluded; FLOPs are
    ``2 * MACs`` plus element-wise work; receptive fields follow Araujo et al., "Computing
    Receptive Fields of Convolutional Neural Networks" (Distill 2019): size, jump (effective
    stride) and start (centre of the first position's window), exact fractions when upsampling
    makes the jump smaller than 1. With ``mode="train"`` the report also holds the backward's
    MACs per row (``total_training_macs``) and the tensors autograd saves for the backward
    (:meth:`Report.memory` gives a training step's memory for an optimizer and batch size).

    Args:
        model: any ``nn.Module`` (not TorchScript).
        input_size: one sample's shape without the batch dimension: (C, H, W) for images,
            (C, L) or (C, D, H, W) for 1-D and 3-D data, (L,) token ids for a model starting
            with an ``nn.Embedding`` (detected; or give ``dtype=torch.long``).
        example_inputs: instead of ``input_size``, ``forward``'s arguments: a tensor, a tuple of
            positional arguments, a dict of keyword arguments, or a pair ``(args, kwargs)``;
            tensors may be meta or real (copied: never changed). Their first dim is the batch.
        depth: fold rows deeper than this into their ancestor module (``None``: every leaf).
        device: ``None`` (default: meta, CPU when an op needs values), ``"meta"`` (meta only),
            or a real device (a real forward pass on a copy).
        dtype: input dtype for ``input_size`` (default: the model's first floating
            parameter's dtype; integer inputs for embeddings).
        mode: ``"eval"`` (default; inference graph, e.g. no auxiliary heads) or ``"train"``
            (training graph, backward MACs and saved tensors).
        count_bias: add one MAC per bias addition of convolutions and linear layers, which
            reproduces the notes' formula FLOPs = H'W'n(hwc + 1).

    Returns:
        A :class:`~cnnlab.analysis.report.Report`.

    Raises:
        ValueError: a bad argument, an input the model cannot take (the message names the
            layer where the shape breaks), or an op that needs values on a model that has none.

    Shape:
        input ``(1, *input_size)``; every row reports its output shape with the batch included.

    Example:
        >>> from torch import nn
        >>> net = nn.Sequential(*[nn.Conv2d(8, 8, 3, padding=1) for _ in range(3)])
        >>> r = summary(net, (8, 32, 32))
        >>> r.receptive_field.size, r.total_params
        ((7, 7), 1752)
    """
    _check_model(model)
    inputs = _inputs(input_size, example_inputs, dtype)
    if depth is not None:
        depth = non_negative_int("depth", depth)
    one_of("mode", mode, MODES)
    if not isinstance(count_bias, bool):
        raise InvalidArgument("count_bias", f"count_bias must be True or False, got {count_bias!r}")
    pinned = check_device(device)
    has_values = _has_values(model)
    if pinned is not None and pinned.type != "meta" and not has_values:
        raise InvalidArgument(
            "device",
            f"the model has meta-device parameters (no values): device={str(pinned)!r} needs a "
            f"model built on a real device; use the default meta device",
        )
    target = pinned or torch.device("meta")
    notes = []
    try:
        trace, doubled = _run(model, inputs, target, mode, count_bias)
    except _Failed as failed:
        if not failed.needs_data or pinned is not None or not has_values:
            raise _error(model, inputs, failed, pinned, has_values) from failed.error
        notes.append(f"ran on the CPU: {_cannot_run(failed)}")
        try:
            trace, doubled = _run(model, inputs, torch.device("cpu"), mode, count_bias)
        except _Failed as again:
            raise _error(model, inputs, again, torch.device("cpu"), True) from again.error
    report = assemble(model, trace, inputs, depth, count_bias, mode, doubled)
    report.notes[:0] = notes
    return report


# -- messages ------------------------------------------------------------------------------
# ATen names that say little to a user
_OP_NAMES = {"_local_scalar_dense": "Tensor.item() (a value read in Python)"}


def _where(f: Failure | None, err: BaseException) -> str:
    op = "an op"
    if f is not None and f.op:
        op = _OP_NAMES.get(f.op, f"op {f.op!r}")
    if f is not None and f.path:
        return f"{op} in layer {f.path!r} ({f.type})"
    return f"{op} at the model's top level"


def _cannot_run(failed: _Failed) -> str:
    f, err = failed.failure, failed.error
    cause = f.error if f is not None and f.error is not None else err
    text = " ".join(str(cause).split()) or type(cause).__name__
    return (
        f"{_where(f, cause)} cannot run on the meta device, which has shapes but no values "
        f"({text[:160]})"
    )


def _error(
    model: nn.Module,
    inputs: Inputs,
    failed: _Failed,
    device: torch.device | None,
    has_values: bool,
) -> ValueError:
    f, err = failed.failure, failed.error
    cause = f.error if f is not None and f.error is not None else err
    if isinstance(cause, InvalidArgument) and f is None:
        return cause
    text = " ".join(str(cause).split()) or type(cause).__name__
    if failed.needs_data:
        if has_values:
            fix = "pass device='cpu' (a real forward pass on a copy of the model)"
        else:
            fix = (
                "the model has no values to run it on the CPU (its parameters are on the meta "
                "device): build it on the CPU and call summary again"
            )
        return NeedsRealData(_cannot_run(failed), fix)
    if (
        isinstance(cause, InputRankError)
        and inputs.from_size
        and len(inputs.size) != cause.sample_dims
    ):
        return InvalidArgument("input_size", _rank_message(inputs.size, cause, f))
    where = "the model's top level"
    if f is not None and f.path:
        where = f"layer {f.path!r} ({f.type})"
    shapes = ""
    if f is not None and f.input_shapes:
        shapes = " given input of shape " + ", ".join(str(s) for s in f.input_shapes)
    hint = ""
    if inputs.from_size and len(inputs.size) >= 4:
        hint = (
            "; input_size is one sample's shape, without the batch dimension "
            f"(did you mean {inputs.size[1:]}?)"
        )
    return ValueError(
        f"{inputs.describe()} does not fit {type(model).__name__}: {where} failed{shapes}: "
        f"{text}{hint}"
    )


def _rank_message(size: tuple[int, ...], err: InputRankError, f: Failure | None) -> str:
    layer = f"layer {f.path!r} ({f.type})" if f is not None and f.path else "a convolution"
    want = err.sample_dims
    names = {2: "C L", 3: "C H W", 4: "C D H W"}.get(want, f"{want} values")
    if len(size) > want:
        return (
            f"input_size {size} has {len(size)} values but {layer} takes {names} ({want} "
            f"values): input_size is one sample's shape, without the batch dimension "
            f"(torchinfo's input_size includes it); try {size[len(size) - want :]}"
        )
    return (
        f"input_size {size} has {len(size)} values but {layer} takes {names} ({want} values) "
        f"per sample: give all of them, without the batch dimension"
    )
