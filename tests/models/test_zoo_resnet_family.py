"""ResNet v2's identity mappings, SE-ResNet's relation to ResNet, the stem the notes discuss."""

from __future__ import annotations

from collections import Counter

import pytest
import torch
import torchvision
from torch import nn

from cnnlab.models import create_model
from cnnlab.models.resnet import BasicBlock, Bottleneck
from cnnlab.models.resnetv2 import PreActBasicBlock, PreActBottleneck


def _zero_residual_v2(block: nn.Module) -> None:
    last = block.conv3 if isinstance(block, PreActBottleneck) else block.conv2
    nn.init.zeros_(last.weight)


@pytest.mark.parametrize(
    ("v2", "v1"),
    [(PreActBasicBlock, BasicBlock), (PreActBottleneck, Bottleneck)],
    ids=["basic", "bottleneck"],
)
def test_preactivation_block_is_an_exact_identity(v2: type, v1: type) -> None:
    # He et al. 2016b: with nothing after the addition, x_{l+1} = x_l + F(x_l); if F = 0 the
    # block is the identity. ResNet v1 applies ReLU after the sum, so it returns ReLU(x).
    torch.manual_seed(0)
    c = 4 * v2.expansion
    x = torch.randn(2, c, 5, 5)  # negative values too
    block = v2(c, c // v2.expansion).eval()
    _zero_residual_v2(block)
    torch.testing.assert_close(block(x), x, rtol=0, atol=0)
    old = v1(c, c // v1.expansion).eval()
    last_bn = old.bn3 if isinstance(old, Bottleneck) else old.bn2
    nn.init.zeros_(last_bn.weight)
    nn.init.zeros_(last_bn.bias)
    torch.testing.assert_close(old(x), torch.relu(x), rtol=0, atol=0)
    assert not torch.equal(old(x), x)


def test_preactivation_order_bn_relu_before_conv() -> None:
    # Record the order modules run in one identity block: BN, ReLU, conv, BN, conv (v2) versus
    # conv, BN, ReLU, conv, BN (v1).
    def order(block: nn.Module, x: torch.Tensor) -> list[str]:
        seen: list[str] = []
        hooks = [
            m.register_forward_hook(lambda m, i, o: seen.append(type(m).__name__))
            for m in block.modules()
            if isinstance(m, (nn.Conv2d, nn.BatchNorm2d, nn.ReLU))
        ]
        block(x)
        for h in hooks:
            h.remove()
        return seen

    x = torch.randn(1, 8, 4, 4)
    assert order(PreActBasicBlock(8, 8), x)[:3] == ["BatchNorm2d", "ReLU", "Conv2d"]
    assert order(BasicBlock(8, 8), x)[:3] == ["Conv2d", "BatchNorm2d", "ReLU"]


@pytest.mark.parametrize("depth", [18, 50, 152])
def test_resnetv2_has_resnets_convolutions(depth: int) -> None:
    # Pre-activation moves BN and ReLU, not convolutions: the multiset of conv/FC weight shapes
    # equals torchvision's ResNet of the same depth.
    with torch.device("meta"):
        ours = create_model(f"resnetv2_{depth}")
        theirs = getattr(torchvision.models, f"resnet{depth}")(weights=None)

    def shapes(m: nn.Module) -> Counter:
        return Counter(
            tuple(x.weight.shape) for x in m.modules() if isinstance(x, (nn.Conv2d, nn.Linear))
        )

    assert shapes(ours) == shapes(theirs)


def test_se_resnet_is_resnet_plus_se_blocks() -> None:
    # torchvision's ResNet-50 weights fill every SE-ResNet-50 parameter except the SE blocks.
    with torch.device("meta"):
        ours = create_model("se_resnet50")
        theirs = torchvision.models.resnet50(weights=None)
    result = ours.load_state_dict(theirs.state_dict(), strict=False)
    assert result.unexpected_keys == []
    assert result.missing_keys and all(".se." in k for k in result.missing_keys)
    assert len(result.missing_keys) == 4 * 16  # fc1/fc2 weight+bias in each of 16 blocks


def test_se_scales_the_residual_before_the_addition() -> None:
    # With the excitation's last layer zeroed the gate is sigmoid(0) = 1/2 for every channel:
    # the block must return ReLU(residual / 2 + identity).
    torch.manual_seed(0)
    model = create_model("se_resnet18").eval()
    block = model.layer1[0]
    nn.init.zeros_(block.se.fc2.weight)
    nn.init.zeros_(block.se.fc2.bias)
    x = torch.randn(2, 64, 8, 8)
    with torch.no_grad():
        residual = block.bn2(block.conv2(block.relu(block.bn1(block.conv1(x)))))
        torch.testing.assert_close(block(x), torch.relu(residual / 2 + x))


def test_stem_downsamples_early_with_64_channels() -> None:
    # The notes: the 7x7/2 conv and max pool take 224 to 56 with only 64 channels (VGG-19 has
    # 256 channels at 56x56).
    with torch.device("meta"):
        model = create_model("resnet50")
        stem = model.maxpool(model.relu(model.bn1(model.conv1(torch.empty(1, 3, 224, 224)))))
        vgg = create_model("vgg19").features[:18](torch.empty(1, 3, 224, 224))
    assert tuple(stem.shape) == (1, 64, 56, 56)
    assert tuple(vgg.shape) == (1, 256, 56, 56)


@pytest.mark.parametrize("name", ["resnet18", "resnet50"])
def test_zero_init_residual_starts_every_block_as_identity_plus_relu(name: str) -> None:
    torch.manual_seed(0)
    model = create_model(name, zero_init_residual=True).eval()
    block = model.layer1[1]  # an identity-shortcut block
    x = torch.randn(1, block.conv1.in_channels, 6, 6)
    with torch.no_grad():
        torch.testing.assert_close(block(x), torch.relu(x), rtol=0, atol=0)


def test_every_conv_is_initialised_by_type_se_blocks_included() -> None:
    # torchvision and timm initialise by isinstance: every Conv2d gets Kaiming (fan_out, ReLU),
    # std = sqrt(2 / fan_out), the SE block's 1x1 convolutions included (they used to be skipped
    # by matching ".se." in the parameter names and kept PyTorch's default, ~10x smaller).
    torch.manual_seed(0)
    model = create_model("se_resnet50")
    for conv in (model.layer4[0].se.fc1, model.layer4[0].se.fc2, model.layer4[0].conv2):
        fan_out = conv.out_channels * conv.kernel_size[0] * conv.kernel_size[1]
        expected = (2 / fan_out) ** 0.5
        assert abs(conv.weight.std().item() / expected - 1) < 0.1, conv
