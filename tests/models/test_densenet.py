"""DenseNet: the channel arithmetic of dense connectivity, why it needs more memory than ResNet
(measured two ways, against ResNet-50 at about the same MACs), and the memory-efficient variant."""

from __future__ import annotations

import re

import torch
import torchvision
from torch import nn

from cnnlab.analysis import summary
from cnnlab.layers import DenseLayer
from cnnlab.models import create_model


def test_each_dense_layer_sees_k0_plus_k_times_l_minus_1_channels() -> None:
    # Huang et al. 2017, Sec. 3: "the l-th layer has k0 + k(l - 1) input feature-maps".
    # DenseNet-121: k = 32, blocks of 6, 12, 24, 16 layers, 64 stem channels, transitions halve.
    seen: dict[str, int] = {}
    with torch.device("meta"):
        model = create_model("densenet121")
        for name, m in model.named_modules():
            if isinstance(m, DenseLayer):
                m.norm1.register_forward_pre_hook(
                    lambda mod, args, name=name: seen.__setitem__(name, args[0].shape[1])
                )
        model(torch.empty(1, 3, 224, 224))
    k, k0 = 32, 64
    for block, layers in enumerate((6, 12, 24, 16), start=1):
        for layer in range(1, layers + 1):
            assert seen[f"features.denseblock{block}.denselayer{layer}"] == k0 + k * (layer - 1)
        k0 = (k0 + k * layers) // 2  # the transition's compression 0.5
    assert model.classifier.in_features == 512 + 16 * 32 == 1024


def _saved_bytes(model: nn.Module, x: torch.Tensor) -> tuple[int, torch.Tensor]:
    """Bytes of the distinct activation storages autograd keeps for the backward pass."""
    params = {p.untyped_storage().data_ptr() for p in model.parameters()}
    storages: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        s = t.untyped_storage()
        if s.data_ptr() not in params:
            storages[s.data_ptr()] = s.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = model(x)
    out.square().mean().backward()
    return sum(storages.values()), out.detach()


def test_densenet_needs_more_memory_than_resnet50_and_checkpointing_fixes_it() -> None:
    # The notes' question "why does DenseNet use more memory than ResNet?": every layer
    # concatenates, normalises and activates all earlier maps of its block, and autograd keeps
    # those ever wider tensors. DenseNet-201 has about ResNet-50's multiply-adds.
    with torch.device("meta"):
        dense_meta, res_meta = create_model("densenet201"), create_model("resnet50")
    dense_r, res_r = summary(dense_meta, (3, 224, 224)), summary(res_meta, (3, 224, 224))
    assert abs(dense_r.total_macs / res_r.total_macs - 1) < 0.06  # 4.29 vs 4.09 GMACs
    # (1) the outputs of all layers (summary's activation bytes): 292 MiB against 164 MiB.
    assert dense_r.total_activation_bytes > 1.6 * res_r.total_activation_bytes
    # (2) what autograd really saves for the backward pass, one training step at 64x64.
    torch.manual_seed(0)
    x = torch.randn(2, 3, 64, 64)
    dense = create_model("densenet201", num_classes=10).train()
    resnet = create_model("resnet50", num_classes=10).train()
    res_bytes, _ = _saved_bytes(resnet, x)
    dense_bytes, out = _saved_bytes(dense, x)
    grads = [p.grad.clone() for p in dense.parameters()]
    assert dense_bytes > 2 * res_bytes  # 33 MiB against 14 MiB
    # memory_efficient (Pleiss et al. 2017) recomputes concatenation-BN-ReLU-conv1x1 in the
    # backward pass: the same outputs and gradients, less than half the memory, below ResNet-50.
    dense.zero_grad()
    for m in dense.modules():
        if isinstance(m, DenseLayer):
            m.memory_efficient = True
    lean_bytes, lean_out = _saved_bytes(dense, x)
    torch.testing.assert_close(lean_out, out, rtol=0, atol=0)
    for p, g in zip(dense.parameters(), grads, strict=True):
        torch.testing.assert_close(p.grad, g, rtol=1e-5, atol=1e-7)
    assert lean_bytes < 0.5 * dense_bytes and lean_bytes < res_bytes


def test_old_torchvision_key_names_load() -> None:
    # torchvision's first DenseNet weights name "norm.1" what is now "norm1" (its own loader
    # renames them with a regular expression); ours accepts both.
    torch.manual_seed(0)
    theirs = torchvision.models.densenet121(weights=None).state_dict()
    with torch.device("meta"):
        ours = create_model("densenet121")
    pattern = re.compile(r"^(.*denselayer\d+\.(?:norm|relu|conv))([12])\.(.*)$")
    old = {pattern.sub(r"\1.\2.\3", k): v for k, v in theirs.items()}
    assert "features.denseblock1.denselayer1.norm.1.weight" in old
    assert "features.denseblock1.denselayer1.norm1.weight" not in old
    ours.load_state_dict(old, strict=True, assign=True)
    layer = ours.features.denseblock1.denselayer1
    assert torch.equal(layer.conv2.weight, old["features.denseblock1.denselayer1.conv.2.weight"])
    assert torch.equal(layer.norm1.bias, theirs["features.denseblock1.denselayer1.norm1.bias"])
