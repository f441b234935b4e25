"""The compression methods of ``cnnlab compress``, one table: how to compress, how to rebuild.

Each method turns a trained float model into a :class:`Compressed` (the model to evaluate, what
to save, how to rebuild its architecture), and each saved model can be rebuilt from the float
architecture plus the saved tensors (:func:`cnnlab.compress.storage.load_compressed`): nothing
is pickled but tensors and plain data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.utils.data import Subset

from cnnlab.compress.channel_prune import prune_channels, shrink_channels
from cnnlab.compress.finetune import finetune
from cnnlab.compress.fold_bn import BATCH_NORMS, fold_bn
from cnnlab.compress.lowrank import lowrank
from cnnlab.compress.measure import parameter_count
from cnnlab.compress.prune import prune_unstructured, sparsity
from cnnlab.compress.quantize import (
    activation_qparams,
    lower_for_cpu,
    quantize_dynamic,
    quantize_static,
    restore_static,
)
from cnnlab.compress.run import TrainedRun


@dataclass
class Options:
    """Settings shared by the methods."""

    amount: float | None = None  # prune / lowrank: share removed (None: the method's default)
    finetune_epochs: int = 3
    finetune_lr: float | None = None  # None: the run's own learning rate
    calibration_images: int = 256
    seed: int = 0


@dataclass
class Compressed:
    """A compressed model and what to save of it."""

    model: nn.Module  # evaluated for accuracy (int8 static: the reference graph)
    params: int  # parameter values stored (non-zero ones for unstructured pruning)
    float_twin: nn.Module  # a float model doing the same multiply-adds (for MACs)
    payload: dict[str, Any]  # tensors and plain data to save
    recipe: dict[str, Any] = field(default_factory=dict)  # JSON-able: how to rebuild
    detail: str = ""  # one line for the report
    timed: Callable[[torch.Tensor], Callable[[torch.Tensor], Any]] | None = None

    def model_for(self, example: torch.Tensor) -> Callable[[torch.Tensor], Any]:
        """The model to time at ``example``'s shape (int8 static: lowered to oneDNN kernels)."""
        return self.model if self.timed is None else self.timed(example)


@dataclass
class Method:
    """One row of :data:`METHODS`."""

    help: str
    compress: Callable[[TrainedRun, Options], Compressed]
    # (float model, recipe, payload, example input) -> the compressed model with its tensors
    rebuild: Callable[[nn.Module, dict[str, Any], dict[str, Any], torch.Tensor], nn.Module]
    default_amount: float | None = None  # None: the method takes no --amount


def _loaded(model: nn.Module, payload: dict[str, Any], *, assign: bool = False) -> nn.Module:
    try:
        model.load_state_dict(payload["state_dict"], strict=True, assign=assign)
    except (RuntimeError, KeyError) as err:
        first = str(err).strip().splitlines()[0]
        raise ValueError(f"the saved tensors do not fit the architecture: {first}") from None
    model.eval()  # (an exported graph's eval() returns None: no chaining)
    return model


def _folded_or_same(model: nn.Module) -> nn.Module:
    try:
        return fold_bn(model)
    except ValueError:  # not traceable: count the float model as it is
        return model


def _finetune(run: TrainedRun, model: nn.Module, options: Options, **kwargs: Any) -> str:
    cfg = run.config
    lr = cfg.lr if options.finetune_lr is None else options.finetune_lr
    losses = finetune(
        model,
        run.data.train,
        epochs=options.finetune_epochs,
        optimizer=cfg.optimizer,
        lr=lr,
        batch_size=cfg.batch_size,
        seed=options.seed,
        **kwargs,
    )
    if not losses:
        return "no fine-tuning"
    return f"fine-tuned {len(losses)} epoch(s), {cfg.optimizer} lr {lr:g}"


# ---------------------------------------------------------------------------- the methods
def _fold(run: TrainedRun, options: Options) -> Compressed:
    folded = fold_bn(run.model)
    n_bn = sum(isinstance(m, BATCH_NORMS) for m in run.model.modules())
    n_left = sum(isinstance(m, BATCH_NORMS) for m in folded.modules())
    return Compressed(
        folded,
        parameter_count(folded),
        folded,
        {"state_dict": folded.state_dict()},
        detail=f"{n_bn - n_left} of {n_bn} batch norms folded",
    )


def _rebuild_fold(
    model: nn.Module, recipe: dict, payload: dict, example: torch.Tensor
) -> nn.Module:
    return _loaded(fold_bn(model.eval()), payload)


def _calibration(run: TrainedRun, options: Options) -> list[torch.Tensor]:
    n = min(options.calibration_images, len(run.data.train))
    subset = Subset(run.data.train, range(n))
    images = [subset[i][0] for i in range(n)]
    return [torch.stack(images[i : i + 32]) for i in range(0, n, 32)]


def _ptq(run: TrainedRun, options: Options) -> Compressed:
    batches = _calibration(run, options)
    quantized = quantize_static(run.model, batches)
    twin = _folded_or_same(run.model)
    n = sum(len(b) for b in batches)
    return Compressed(
        quantized,
        parameter_count(twin),
        twin,
        {"state_dict": quantized.state_dict(), "activation_qparams": activation_qparams(quantized)},
        detail=f"PT2E x86 int8, calibrated on {n} training images",
        timed=lambda example: lower_for_cpu(quantized, example),
    )


def _rebuild_ptq(model: nn.Module, recipe: dict, payload: dict, example: torch.Tensor) -> nn.Module:
    return restore_static(model, example, payload["state_dict"], payload["activation_qparams"])


def _dynamic(run: TrainedRun, options: Options) -> Compressed:
    quantized = quantize_dynamic(run.model)
    n_linear = sum(isinstance(m, nn.Linear) for m in run.model.modules())
    return Compressed(
        quantized,
        parameter_count(run.model),
        run.model,
        {"state_dict": quantized.state_dict()},
        detail=f"torchao int8 dynamic, {n_linear} linear layer(s)",
    )


def _rebuild_dynamic(
    model: nn.Module, recipe: dict, payload: dict, example: torch.Tensor
) -> nn.Module:
    return _loaded(quantize_dynamic(model), payload, assign=True)


def _prune(run: TrainedRun, options: Options) -> Compressed:
    pruned, plan = prune_channels(run.model, options.amount)
    detail = _finetune(run, pruned, options)
    kept = {name: len(idx) for name, idx in plan.items()}
    return Compressed(
        pruned,
        parameter_count(pruned),
        pruned,
        {"state_dict": pruned.state_dict()},
        recipe={"channels": kept},
        detail=f"{len(plan)} conv(s) lose {options.amount:.0%} of channels; {detail}",
    )


def _rebuild_prune(
    model: nn.Module, recipe: dict, payload: dict, example: torch.Tensor
) -> nn.Module:
    plan = {name: list(range(n)) for name, n in recipe["channels"].items()}
    return _loaded(shrink_channels(model, plan), payload)


def _sparsify(run: TrainedRun, options: Options) -> Compressed:
    pruned, masks = prune_unstructured(run.model, options.amount)
    detail = _finetune(run, pruned, options, masks=masks)
    return Compressed(
        pruned,
        parameter_count(pruned, nonzero=True),
        pruned,
        {"state_dict": pruned.state_dict()},
        detail=f"{sparsity(pruned):.0%} of conv/linear weights zero (dense storage); {detail}",
    )


def _rebuild_same(
    model: nn.Module, recipe: dict, payload: dict, example: torch.Tensor
) -> nn.Module:
    return _loaded(model, payload)


def _lowrank(run: TrainedRun, options: Options) -> Compressed:
    factored, ranks = lowrank(run.model, options.amount)
    shown = ", ".join(f"{name} r={r}" for name, r in ranks.items())
    return Compressed(
        factored,
        parameter_count(factored),
        factored,
        {"state_dict": factored.state_dict()},
        recipe={"ranks": ranks},
        detail=f"truncated SVD: {shown}",
    )


def _rebuild_lowrank(
    model: nn.Module, recipe: dict, payload: dict, example: torch.Tensor
) -> nn.Module:
    ranks = {str(k): int(v) for k, v in recipe["ranks"].items()}
    return _loaded(lowrank(model, ranks=ranks)[0], payload)


METHODS: dict[str, Method] = {
    "fold-bn": Method("fold batch norms into the conv before them", _fold, _rebuild_fold),
    "ptq-int8": Method("static int8 (PT2E, x86): int8 weights and activations", _ptq, _rebuild_ptq),
    "dynamic-int8": Method(
        "int8 linear weights, activations quantised on the fly (torchao)",
        _dynamic,
        _rebuild_dynamic,
    ),
    "prune": Method(
        "remove conv output channels (L1 norm), then fine-tune", _prune, _rebuild_prune, 0.5
    ),
    "prune-unstructured": Method(
        "zero the smallest weights (magnitude), then fine-tune", _sparsify, _rebuild_same, 0.5
    ),
    "lowrank": Method("factorise linear layers by truncated SVD", _lowrank, _rebuild_lowrank, 0.5),
}
