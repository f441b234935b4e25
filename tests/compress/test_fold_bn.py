"""BN folding against torch.nn.utils.fusion and the unfolded model's outputs."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval, fuse_linear_bn_eval

from cnnlab.compress import conv_bn_pairs, fold_bn
from cnnlab.compress.fold_bn import fold_into
from cnnlab.models import create_model


def _randomise_bn(model: nn.Module, seed: int = 0) -> nn.Module:
    """Non-trivial running statistics and affine parameters (fresh BNs are the identity)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.modules.batchnorm.BatchNorm2d | nn.BatchNorm1d):
                c = m.num_features
                m.running_mean.copy_(torch.rand(c, generator=g) - 0.5)
                m.running_var.copy_(torch.rand(c, generator=g) + 0.5)
                if m.affine:
                    m.weight.copy_(torch.rand(c, generator=g) + 0.5)
                    m.bias.copy_(torch.rand(c, generator=g) - 0.5)
    return model.eval()


LAYERS = {
    "conv2d-nobias": lambda: (nn.Conv2d(4, 6, 3, bias=False), nn.BatchNorm2d(6)),
    "conv2d-bias-groups": lambda: (nn.Conv2d(4, 6, 3, groups=2), nn.BatchNorm2d(6)),
    "conv1d": lambda: (nn.Conv1d(3, 5, 3), nn.BatchNorm1d(5)),
    "conv3d": lambda: (nn.Conv3d(2, 3, 2), nn.BatchNorm3d(3)),
    "bn-no-affine": lambda: (nn.Conv2d(4, 6, 1), nn.BatchNorm2d(6, affine=False)),
}


@pytest.mark.parametrize("name", list(LAYERS))
def test_folded_conv_equals_fuse_conv_bn_eval(name: str) -> None:
    torch.manual_seed(0)
    conv, bn = LAYERS[name]()
    pair = _randomise_bn(nn.Sequential(conv, bn))
    ours = fold_into(pair[0], pair[1])
    ref = fuse_conv_bn_eval(pair[0], pair[1])
    torch.testing.assert_close(ours.weight, ref.weight, rtol=1e-6, atol=1e-7)
    torch.testing.assert_close(ours.bias, ref.bias, rtol=1e-6, atol=1e-7)


def test_folded_linear_equals_fuse_linear_bn_eval() -> None:
    torch.manual_seed(0)
    pair = _randomise_bn(nn.Sequential(nn.Linear(7, 5), nn.BatchNorm1d(5)))
    ours = fold_into(pair[0], pair[1])
    ref = fuse_linear_bn_eval(pair[0], pair[1])
    torch.testing.assert_close(ours.weight, ref.weight, rtol=1e-6, atol=1e-7)
    torch.testing.assert_close(ours.bias, ref.bias, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize(
    ("name", "size", "folded", "left"),
    [
        ("digits_cnn", (1, 8, 8), 4, 0),
        # stem + 2 per block x 8 + 3 shortcut convs: every BN follows a conv
        ("resnet18", (3, 32, 32), 20, 0),
        ("mobilenet_v1", (3, 32, 32), 27, 0),  # stem + 13 x (depthwise, pointwise)
        # pre-activation: stem and each block's middle BN fold; the BNs at the inputs of
        # blocks 2-8 (the first block has none) and the final one come after a sum and stay
        ("resnetv2_18", (3, 32, 32), 9, 8),
        # stem, conv5, 3 per unit x 13 + 5 per downsampling unit x 3 (through the shuffle)
        ("shufflenet_v2_x0_5", (3, 32, 32), 56, 0),
    ],
)
def test_folded_model_computes_the_same(
    name: str, size: tuple[int, ...], folded: int, left: int
) -> None:
    torch.manual_seed(0)
    model = _randomise_bn(create_model(name, num_classes=10, in_chans=size[0]))
    x = torch.randn(2, *size)
    out = fold_bn(model)
    assert len(conv_bn_pairs(model)) == folded
    assert sum(isinstance(m, nn.modules.batchnorm.BatchNorm2d) for m in out.modules()) == left
    with torch.no_grad():
        torch.testing.assert_close(out(x), model(x), rtol=1e-5, atol=1e-5)
    # the original is untouched
    assert sum(isinstance(m, nn.BatchNorm2d) for m in model.modules()) == folded + left


def test_conv_output_used_twice_is_not_folded() -> None:
    class Fork(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3, padding=1)
            self.bn = nn.BatchNorm2d(4)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            y = self.conv(x)
            return self.bn(y) + y  # folding would change the second use

    model = _randomise_bn(Fork())
    assert conv_bn_pairs(model) == []
    x = torch.randn(1, 3, 6, 6)
    with torch.no_grad():
        torch.testing.assert_close(fold_bn(model)(x), model(x))


def test_training_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="eval"):
        fold_bn(create_model("digits_cnn"))


def test_untraceable_forward_is_a_value_error() -> None:
    class Branchy(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(1, 2, 3)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.conv(x) if x.sum() > 0 else x

    with pytest.raises(ValueError, match="cannot trace"):
        fold_bn(Branchy().eval())
