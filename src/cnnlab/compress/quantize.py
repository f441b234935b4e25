"""Int8 quantisation on PyTorch's maintained stack: torchao's PT2E flow (static) and ``quantize_``.

**Static post-training quantisation** (:func:`quantize_static`): the model is captured with
``torch.export`` (batch dimension dynamic), ``prepare_pt2e`` with the ``X86InductorQuantizer``
folds the batch norms and inserts observers, a few training batches calibrate them, and
``convert_pt2e`` leaves int8 weights (per output channel, symmetric) and uint8 activations (per
tensor, affine) as quantise/dequantise pairs around float ops: the *reference* model, whose
outputs are the int8 model's. :func:`lower_for_cpu` turns that into oneDNN int8 kernels for one
batch size (torchao's ``lower_pt2e_quantized_to_x86``): the fast model.

Why ``strict=True`` export: torchvision-style ResNet blocks call one ``nn.ReLU`` module twice.
Non-strict export tags both calls with the same module path, the quantizer sees one "partition"
with two outputs and stops ("Input partition has more than one output node"); strict (Dynamo)
export names each call apart, and the zoo's ResNets, MobileNets, ShuffleNets and VGGs quantise.

**Dynamic quantisation** (:func:`quantize_dynamic`): torchao's ``quantize_`` with
``Int8DynamicActivationInt8WeightConfig`` stores linear weights in int8 and quantises each
activation on the fly; no calibration, nothing for the convolutions.

``torch.ao.quantization`` (eager/FX) is deprecated and not used.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

import torch
from torch import fx, nn

#: Upper bound of the dynamic batch dimension of exported models.
MAX_BATCH = 4096


def _example(x: torch.Tensor) -> torch.Tensor:
    """A batch of at least 2 (export treats a batch of 1 as a constant)."""
    if x.ndim < 2:
        raise ValueError(f"calibration batches must be (N, C, ...) tensors, got {tuple(x.shape)}")
    return x if x.shape[0] >= 2 else x.expand(2, *x.shape[1:]).contiguous()


def export_model(model: nn.Module, example: torch.Tensor) -> fx.GraphModule:
    """``model`` (eval mode) captured by strict ``torch.export`` with a dynamic batch size."""
    batch = torch.export.Dim("batch", min=1, max=MAX_BATCH)
    program = torch.export.export(
        model.eval(), (_example(example),), dynamic_shapes=({0: batch},), strict=True
    )
    return program.module()


def _drop_unused(gm: fx.GraphModule) -> fx.GraphModule:
    """Delete parameters and buffers the graph no longer reads (float weights once converted)."""
    used = {str(n.target) for n in gm.graph.nodes if n.op == "get_attr"}
    names = [n for n, _ in gm.named_parameters()] + [n for n, _ in gm.named_buffers()]
    for name in names:
        if name not in used:
            owner, _, leaf = name.rpartition(".")
            delattr(gm.get_submodule(owner) if owner else gm, leaf)
    return gm


def quantize_static(model: nn.Module, calibration: Iterable[torch.Tensor]) -> fx.GraphModule:
    """Post-training static int8 quantisation (PT2E, x86 recipe) calibrated on ``calibration``.

    Args:
        model: a float model; it is not changed.
        calibration: input batches (training images) that set the activation ranges.

    Returns:
        The converted reference model: int8 weights, uint8 activations, any batch size, CPU.

    Shape:
        the model's input (N, C, H, W) with the calibration batches' C, H, W.
    """
    from torchao.quantization.pt2e import allow_exported_model_train_eval
    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e
    from torchao.quantization.pt2e.quantizer.x86_inductor_quantizer import (
        X86InductorQuantizer,
        get_default_x86_inductor_quantization_config,
    )

    batches = iter(calibration)
    first = next(batches, None)
    if first is None:
        raise ValueError("quantize_static needs at least one calibration batch")
    graph = export_model(copy.deepcopy(model).cpu(), first.cpu())
    quantizer = X86InductorQuantizer().set_global(get_default_x86_inductor_quantization_config())
    prepared = prepare_pt2e(graph, quantizer)
    with torch.no_grad():
        prepared(_example(first.cpu()))
        for x in batches:
            prepared(_example(x.cpu()))
    # .eval() / .train() then work (and change nothing: the graph was captured in eval mode).
    return allow_exported_model_train_eval(_drop_unused(convert_pt2e(prepared)))


def lower_for_cpu(quantized: fx.GraphModule, example: torch.Tensor) -> fx.GraphModule:
    """The reference model as oneDNN int8 kernels, for ``example``'s shape only.

    torchao's ``lower_pt2e_quantized_to_x86`` prepacks the weights in channels-last layout; the
    ``view`` that flattens a feature map then fails on the non-contiguous result, so views
    become reshapes (a copy only where needed).
    """
    from torchao.quantization.pt2e.lowering import lower_pt2e_quantized_to_x86

    lowered = lower_pt2e_quantized_to_x86(quantized, (example,))
    for node in lowered.graph.nodes:
        if node.target is torch.ops.aten.view.default:
            node.target = torch.ops.aten.reshape.default
    lowered.recompile()
    return lowered


_ACTIVATION_QUANT = ("quantize_per_tensor", "dequantize_per_tensor")


def _activation_nodes(gm: fx.GraphModule) -> list[fx.Node]:
    qd = torch.ops.quantized_decomposed
    targets = {getattr(qd, name).default for name in _ACTIVATION_QUANT}
    return [n for n in gm.graph.nodes if n.op == "call_function" and n.target in targets]


def activation_qparams(quantized: fx.GraphModule) -> dict[str, list[float]]:
    """The activations' (scale, zero point) by graph node: constants in the graph, not tensors."""
    return {n.name: [float(n.args[1]), int(n.args[2])] for n in _activation_nodes(quantized)}


def restore_static(
    model: nn.Module,
    example: torch.Tensor,
    state_dict: dict[str, Any],
    qparams: dict[str, list[float]],
) -> fx.GraphModule:
    """Rebuild a :func:`quantize_static` model from its float architecture and saved state.

    Raises:
        ValueError: the saved state does not fit the graph (saved by another torch/torchao).
    """
    quantized = quantize_static(model, [example])
    nodes = {n.name: n for n in _activation_nodes(quantized)}
    if set(nodes) != set(qparams):
        raise ValueError(
            "the saved int8 model does not fit the graph this torch/torchao builds "
            f"({len(qparams)} saved activation quantisers, {len(nodes)} in the graph); "
            "quantise the run again"
        )
    for name, (scale, zero_point) in qparams.items():
        args = list(nodes[name].args)
        args[1], args[2] = float(scale), int(zero_point)
        nodes[name].args = tuple(args)
    quantized.recompile()
    try:
        quantized.load_state_dict(state_dict, strict=True)
    except RuntimeError as err:
        first = str(err).strip().splitlines()[0]
        raise ValueError(f"the saved int8 weights do not fit the model: {first}") from None
    return quantized


def quantize_dynamic(model: nn.Module) -> nn.Module:
    """A copy of ``model`` whose linear layers compute in int8, activations quantised per call.

    Raises:
        ValueError: the model has no linear layer.
    """
    from torchao.quantization import Int8DynamicActivationInt8WeightConfig, quantize_

    if not any(isinstance(m, nn.Linear) for m in model.modules()):
        raise ValueError(f"{type(model).__name__} has no linear layer to quantise dynamically")
    quantized = copy.deepcopy(model).cpu().eval()
    quantize_(quantized, Int8DynamicActivationInt8WeightConfig())
    return quantized
