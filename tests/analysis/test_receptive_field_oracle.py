"""Receptive fields against an independent oracle: the support of an input gradient.

With positive weights and inputs (and max pooling replaced by average pooling of the same
geometry, which has the same support), an output position depends on exactly the input pixels
in its receptive field, so the non-zero entries of d out[pos] / d input, computed by autograd in
float64, span exactly the reported window; neighbouring positions' windows are one jump apart.
Big models run as "thin" copies (channels divided by a constant, every kernel, stride, padding
and dilation unchanged), checked to have the same fields as the originals.
"""

from __future__ import annotations

import copy
from fractions import Fraction

import pytest
import torch
import torch.nn.functional as F
import torchvision
from torch import nn

from cnnlab.analysis import summary


class _Stop(Exception):
    pass


def meta(factory, **kwargs) -> nn.Module:
    """The real architecture on meta tensors (no memory, no initialisation time)."""
    with torch.device("meta"):
        return factory(**kwargs)


def thin(model: nn.Module, k: int) -> nn.Module:
    """Same geometry, channels divided by ``k`` (3 input channels stay), max pool -> avg pool.

    Every module with weights is rebuilt on the CPU, so a meta-device original gives a real
    (small) copy."""
    model = copy.deepcopy(model)
    for name, m in list(model.named_modules()):
        new: nn.Module | None = None
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            cin = m.in_channels if m.in_channels == 3 else m.in_channels // k
            groups = m.groups if m.groups == 1 else m.groups // k
            cls = type(m)
            new = cls(
                cin,
                m.out_channels // k,
                m.kernel_size,
                stride=m.stride,
                padding=m.padding,
                dilation=m.dilation,
                groups=groups,
                bias=m.bias is not None,
            )
        elif isinstance(m, nn.Linear):
            new = nn.Linear(m.in_features // k, m.out_features // k, bias=m.bias is not None)
        elif isinstance(m, nn.BatchNorm2d):
            new = nn.BatchNorm2d(m.num_features // k, eps=m.eps)
        elif isinstance(m, nn.MaxPool2d):
            assert m.dilation in (1, (1, 1))
            new = nn.AvgPool2d(m.kernel_size, m.stride, m.padding, ceil_mode=m.ceil_mode)
        if new is not None:
            parent, _, attr = name.rpartition(".")
            setattr(model.get_submodule(parent) if parent else model, attr, new)
    return model


def positive(model: nn.Module) -> nn.Module:
    """float64, every weight and bias in [0.1, 1], BatchNorm as a positive affine map."""
    model = model.double().eval()
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.rand(p.shape, generator=gen, dtype=p.dtype) * 0.9 + 0.1)
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.zero_()
                m.running_var.fill_(1.0)
    return model


def supports(model: nn.Module, target: str, size: tuple[int, ...], positions: list) -> list:
    """Per position, the (lo, hi) bounding box of the input-gradient support, per axis."""
    x = (torch.rand((1, *size), generator=torch.Generator().manual_seed(1)) + 0.5).double()
    x.requires_grad_(True)
    captured = {}

    def grab(module, args, out):
        captured["out"] = out
        raise _Stop

    handle = model.get_submodule(target).register_forward_hook(grab) if target else None
    try:
        captured["out"] = model(x)
    except _Stop:
        pass
    finally:
        if handle is not None:
            handle.remove()
    out = captured["out"]
    boxes = []
    for pos in positions:
        (grad,) = torch.autograd.grad(out[(0, slice(None), *pos)].sum(), x, retain_graph=True)
        mask = grad[0].abs().sum(0) > 0
        box = []
        for axis in range(mask.dim()):
            other = tuple(a for a in range(mask.dim()) if a != axis)
            hits = torch.nonzero(mask.any(dim=other) if other else mask).flatten()
            box.append((int(hits.min()), int(hits.max())))
        boxes.append(tuple(box))
    return boxes


def inside_positions(report, target: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """An output position whose window and its next neighbour's lie fully inside the input."""
    row = report[target]
    spatial = report.input_size[1:]
    pos = []
    for k, n in enumerate(spatial):
        f = row.receptive_field.axis(k)
        ok = [
            p for p in range(row.positions[k] - 1) if f.box(p)[0] >= 0 and f.box(p + 1)[1] <= n - 1
        ]
        assert ok, f"input {spatial} too small to see {target}'s whole field on axis {k}"
        pos.append(ok[len(ok) // 2])
    neighbour = (pos[0], pos[1] + 1)
    return tuple(pos), neighbour


def check_oracle(model: nn.Module, target: str, size: tuple[int, ...]) -> None:
    report = summary(model, size)
    pos, neighbour = inside_positions(report, target)
    row = report[target]
    got, got_next = supports(positive(model), target, size, [pos, neighbour])
    for axis in range(2):
        lo, hi = got[axis]
        assert hi - lo + 1 == row.rf_size[axis]
        box = report.field_of(target, pos)
        assert (lo, hi) == (box.lo[axis], box.hi[axis])
    # the neighbour (one step along the last axis) is exactly one jump further
    assert got_next[0] == got[0]
    assert got_next[1][0] - got[1][0] == row.rf_jump[1]
    assert got_next[1][1] - got[1][1] == row.rf_jump[1]


def test_vgg16_conv5_3_and_pool5() -> None:
    real = meta(torchvision.models.vgg16)
    report = summary(real, (3, 224, 224))
    # Published: VGG-16 conv5_3 sees 196 pixels, pool5 212 (Araujo et al. 2019, table 1).
    assert report["features.28"].rf_size == (196, 196)
    assert report["features.30"].rf_size == (212, 212)
    assert report["features.30"].rf_jump == (32, 32)
    small = thin(real, 16)
    small_report = summary(small, (3, 224, 224))
    for path in ("features.28", "features.30"):
        assert small_report[path].receptive_field == report[path].receptive_field
        check_oracle(small, path, (3, 256, 256))


def test_alexnet_features() -> None:
    real = meta(torchvision.models.alexnet)
    report = summary(real, (3, 224, 224))
    assert report["features"].rf_size == (195, 195)  # Araujo et al. 2019, table 1
    small = thin(real, 32)
    assert summary(small, (3, 224, 224))["features"].receptive_field == (
        report["features"].receptive_field
    )
    check_oracle(small, "features", (3, 260, 260))


def test_dilated_resnet50_layer3() -> None:
    real = meta(torchvision.models.resnet50, replace_stride_with_dilation=[False, True, True])
    report = summary(real, (3, 224, 224))
    row = report["layer3"]
    assert row.rf_jump == (8, 8)  # stride replaced by dilation: the jump stays at 8
    small = thin(real, 16)
    assert summary(small, (3, 224, 224))["layer3"].receptive_field == row.receptive_field
    check_oracle(small, "layer3", (3, 320, 320))


def test_googlenet_inception_branches() -> None:
    real = meta(torchvision.models.googlenet, init_weights=False)
    small = thin(real, 8)
    for path in ("inception3b", "maxpool3"):
        assert (
            summary(small, (3, 224, 224))[path].receptive_field
            == summary(real, (3, 224, 224))[path].receptive_field
        )
    check_oracle(small, "inception3b", (3, 160, 160))


def test_bottleneck_sees_3x3_and_the_basic_block_5x5() -> None:
    # docs/analysis.md compares the two blocks: the 1x1 convolutions add nothing to the field.
    from torchvision.models.resnet import BasicBlock, Bottleneck

    basic, bottleneck = BasicBlock(8, 8), Bottleneck(8, 2)
    assert summary(basic, (8, 12, 12)).receptive_field.size == (5, 5)
    assert summary(bottleneck, (8, 12, 12)).receptive_field.size == (3, 3)
    for block in (basic, bottleneck):
        block = block.double().eval()
        # the 3x3 convolution gives the block its field (1x1s and the identity add nothing)
        check_oracle(block, "conv2", (8, 12, 12))


class Misaligned(nn.Module):
    """Two branches whose windows are not centred on the same pixel, joined by addition."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Conv2d(3, 4, 3, padding=1)
        self.b = nn.Conv2d(3, 4, 2)
        self.head = nn.Conv2d(4, 4, 3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.a(x) + F.pad(self.b(x), (1, 0, 1, 0))
        return self.head(F.relu(y))


def test_misaligned_branches_are_reported_and_exact() -> None:
    model = Misaligned()
    report = summary(model, (3, 20, 20))
    assert any("misaligned" in n for n in report["add"].notes)
    assert any("misaligned" in n for n in report.notes)
    check_oracle(model, "head", (3, 20, 20))
    check_oracle(model, "", (3, 20, 20))


class TinyFCN(nn.Module):
    """Downsample by 4, transposed conv x2 (kernel 4, stride 2), nearest x2: jumps 4, 2, 1."""

    def __init__(self) -> None:
        super().__init__()
        self.down = nn.Sequential(nn.Conv2d(3, 4, 3, 2, 1), nn.Conv2d(4, 4, 3, 2, 1))
        self.up = nn.ConvTranspose2d(4, 4, 4, stride=2, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.interpolate(self.up(self.down(x)), scale_factor=2, mode="nearest")


def test_upsampling_fields_average_out_exactly() -> None:
    model = TinyFCN()
    size = (3, 48, 48)
    report = summary(model, size)
    rf = report.receptive_field
    assert rf.jump == (1, 1)
    assert report["up"].rf_jump == (2, 2)
    assert report["up"].rf_start == (-1, -1)  # (padding - (k-1)/2) * 4 / 2
    # One period of the upsampling (4 output positions) well inside the image.
    period = [(24, j) for j in range(20, 24)]
    boxes = supports(positive(model), "", size, period)
    reported = [report.field_of("", p) for p in period]
    for got, want in zip(boxes, reported, strict=True):
        assert got[1][1] - got[1][0] + 1 == want.size[1]  # every window has the full size
    mean_got = Fraction(sum(b[1][0] + b[1][1] for b in boxes), 2 * len(boxes))
    mean_want = sum((w.lo[1] + w.hi[1]) / 2 for w in reported) / len(reported)
    assert mean_got == mean_want


class SqueezeExcite(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.fc = nn.Conv2d(4, 4, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(x)
        return y * torch.sigmoid(self.fc(y.mean((2, 3), keepdim=True)))


@pytest.mark.parametrize("position", [(0, 0), (5, 9)], ids=["corner", "inside"])
def test_squeeze_excitation_sees_the_whole_input(position: tuple[int, int]) -> None:
    model = SqueezeExcite()
    size = (3, 12, 12)
    report = summary(model, size)
    (got,) = supports(positive(model), "", size, [position])
    assert report.field_of("", position).clipped == ((0, 11), (0, 11)) == got


# The second wave: the registry's own GoogLeNet, DenseNet-121 and DeepLab v3 (ResNet-50).
def test_zoo_googlenet_inception_branches() -> None:
    from cnnlab.models import create_model

    real = meta(create_model, name="googlenet")
    small = thin(real, 8)
    assert summary(small, (3, 224, 224))["inception3b"].receptive_field == (
        summary(real, (3, 224, 224))["inception3b"].receptive_field
    )
    check_oracle(small, "inception3b", (3, 160, 160))


def test_zoo_densenet121_through_concatenations() -> None:
    # A dense block's output concatenates its input and every layer's output: the field is
    # the union, i.e. the last layer's (DenseNet-121's first block: 59 pixels, jump 4).
    from cnnlab.models import create_model

    real = meta(create_model, name="densenet121")
    report = summary(real, (3, 224, 224))
    block = "features.denseblock1"
    assert report[block].rf_size == report[f"{block}.denselayer6"].rf_size == (59, 59)
    small = thin(real, 8)
    assert summary(small, (3, 224, 224))[block].receptive_field == report[block].receptive_field
    check_oracle(small, block, (3, 96, 96))


def test_zoo_deeplabv3_atrous_backbone_aspp_and_image_pooling() -> None:
    # Through the dilated backbone (output stride 8) into ASPP's 1x1 branch; the rate-12 branch
    # adds 2 * 12 * 8 pixels; the whole output sees the entire image through image pooling.
    from cnnlab.models import create_model

    real = meta(create_model, name="deeplabv3_resnet50", num_classes=64)
    report = summary(real, (3, 224, 224))
    layer4 = report["backbone.layer4"]
    assert layer4.rf_jump == (8, 8)
    assert report["classifier.0.convs.1"].rf_size == (layer4.rf_size[0] + 2 * 12 * 8,) * 2
    small = thin(real, 64)
    for path in ("classifier.0.convs.0", "classifier.0.convs.1"):
        assert summary(small, (3, 224, 224))[path].receptive_field == report[path].receptive_field
    check_oracle(small, "classifier.0.convs.0", (3, 448, 448))
    size = (3, 48, 48)
    (got,) = supports(positive(small), "", size, [(5, 30)])
    assert summary(small, size).field_of("", (5, 30)).clipped == ((0, 47), (0, 47)) == got
