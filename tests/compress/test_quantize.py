"""Int8 on PyTorch's PT2E flow: the zoo's models, the integers, a trained run's accuracy, bytes."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torchvision
from torch import nn

from cnnlab.compress import (
    accuracy,
    activation_qparams,
    fold_bn,
    lower_for_cpu,
    quantize_dynamic,
    quantize_static,
    restore_static,
    saved_bytes,
)
from cnnlab.models import create_model
from cnnlab.scratch import quant

from .conftest import calibrate_bn


def _int8_weights(quantized: nn.Module) -> list[torch.Tensor]:
    return [t for t in quantized.state_dict().values() if t.dtype == torch.int8]


def _relative_error(out: torch.Tensor, ref: torch.Tensor) -> float:
    return float((out - ref).norm() / ref.norm())


def _cosine(out: torch.Tensor, ref: torch.Tensor) -> float:
    return float(torch.nn.functional.cosine_similarity(out.flatten(), ref.flatten(), dim=0))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "build", "size"),
    [
        # the model that stops torchao's quantizer under non-strict export (shared ReLU)
        ("resnet18", lambda: create_model("resnet18", num_classes=10), 32),
        # torchvision's: depthwise convs, ReLU6, residual sums without ReLU. Random weights:
        # at 32 px its last maps are 1x1 and its BN statistics come from a handful of values.
        ("mobilenet_v2", lambda: torchvision.models.mobilenet_v2(num_classes=10), 96),
    ],
)
def test_zoo_model_quantizes_and_runs_on_cpu(name: str, build, size: int) -> None:
    torch.manual_seed(0)
    x = torch.randn(16, 3, size, size)
    model = calibrate_bn(build(), x)
    quantized = quantize_static(model, x.split(8))
    layers = [m for m in model.modules() if isinstance(m, nn.Conv2d | nn.Linear)]
    assert len(_int8_weights(quantized)) == len(layers)  # every conv and linear layer is int8
    with torch.no_grad():
        ref, out = model(x), quantized(x)
        assert quantized(x[:1]).shape == (1, 10)  # any batch size
    # int8 noise, not another function (random weights amplify noise: a loose bound)
    print(f"{name}: cosine {_cosine(out, ref):.4f}, relative error {_relative_error(out, ref):.3f}")
    assert _cosine(out, ref) > 0.9
    if name == "resnet18":  # the oneDNN int8 kernels compute what the reference graph says
        lowered = lower_for_cpu(quantized, x)
        assert any("onednn" in str(n.target) for n in lowered.graph.nodes)
        with torch.no_grad():
            assert _cosine(lowered(x), out) > 0.99  # int32 accumulation rounds differently


def test_int8_weights_are_scratch_quantize_of_folded_weights(trained) -> None:
    # PT2E folds the BNs in float32, we in float64: a rounding tie may land one step apart
    quantized = quantize_static(trained.model, [trained.data.train[i][0][None] for i in range(4)])
    folded = fold_bn(trained.model)
    layers = [m for m in folded.modules() if isinstance(m, nn.Conv2d | nn.Linear)]
    ints = _int8_weights(quantized)
    assert len(ints) == len(layers)
    mismatches = total = 0
    for layer, theirs in zip(layers, ints, strict=True):
        w = layer.weight.detach().numpy()
        qp = quant.choose_qparams(w, symmetric=True, per_channel_axis=0, eps=2**-12)
        ours = quant.quantize(w, qp.scale, qp.zero_point, axis=0).astype(np.int64)
        diff = np.abs(ours - theirs.numpy().astype(np.int64))
        assert diff.max() <= 1
        if isinstance(layer, nn.Linear):  # no BN folded into it: exactly equal
            assert diff.max() == 0
        mismatches += int((diff > 0).sum())
        total += diff.size
    assert mismatches <= 1e-3 * total


def test_trained_digits_int8_accuracy_and_size(trained) -> None:
    images = torch.stack([trained.data.train[i][0] for i in range(256)])
    quantized = quantize_static(trained.model, images.split(32))
    float_acc = accuracy(trained.model, trained.data.val)
    int8_acc = accuracy(quantized, trained.data.val)
    float_bytes = saved_bytes(trained.model.state_dict())
    int8_bytes = saved_bytes(quantized.state_dict())
    print(f"float {float_acc:.4f} {float_bytes} B, int8 {int8_acc:.4f} {int8_bytes} B")
    assert float_acc >= 0.95
    assert int8_acc >= float_acc - 0.01  # at most one point lost
    assert float_bytes >= 3.5 * int8_bytes

    # the saved state and activation qparams rebuild the same model
    state, qparams = quantized.state_dict(), activation_qparams(quantized)
    rebuilt = restore_static(create_model("digits_cnn").eval(), images[:2], state, qparams)
    with torch.no_grad():
        assert torch.equal(rebuilt(images), quantized(images))


def test_dynamic_int8_linear_layers() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10)).eval()
    x = torch.randn(16, 512)
    quantized = quantize_dynamic(model)
    with torch.no_grad():
        assert _relative_error(quantized(x), model(x)) < 0.05
    assert saved_bytes(model.state_dict()) >= 3.5 * saved_bytes(quantized.state_dict())
    assert isinstance(model[0].weight, nn.Parameter)  # the original is untouched
    with pytest.raises(ValueError, match="no linear layer"):
        quantize_dynamic(nn.Sequential(nn.Conv2d(1, 1, 3)))


def test_no_calibration_batch_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="calibration"):
        quantize_static(create_model("digits_cnn").eval(), [])
