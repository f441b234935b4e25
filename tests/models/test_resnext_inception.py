"""ResNeXt's equivalent forms, GoogLeNet's 1x1 reductions and Inception v3's factorisations,
each against an independent construction."""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from cnnlab.analysis import summary
from cnnlab.layers import Inception
from cnnlab.models import create_model


def test_resnext_split_paths_equal_one_grouped_convolution() -> None:
    # Xie et al. 2017, Fig. 3: (a) 32 paths 1x1 -> 3x3 -> 1x1 summed, (b) the paths' 3x3
    # outputs concatenated then one 1x1, (c) a grouped 3x3. Our block is (c); (a) and (b) are
    # built here from copies of its weights (eval mode: BN is a per-channel affine map, so its
    # slices go with the paths' channels) and must give the same residual.
    torch.manual_seed(0)
    block = create_model("resnext50_32x4d").layer1[0].double().eval()
    for bn in (block.bn1, block.bn2, block.bn3):  # non-trivial statistics
        bn.running_mean.uniform_(-0.5, 0.5)
        bn.running_var.uniform_(0.5, 2.0)
    x = torch.randn(2, 64, 9, 9, dtype=torch.float64)
    with torch.no_grad():
        grouped = block.bn3(
            block.conv3(block.relu(block.bn2(block.conv2(block.relu(block.bn1(block.conv1(x)))))))
        )
        cardinality, d = 32, 4
        assert block.conv2.groups == cardinality and block.conv2.in_channels == cardinality * d

        def bn(layer: nn.BatchNorm2d, t: torch.Tensor, sl: slice) -> torch.Tensor:
            mean, var = layer.running_mean[sl], layer.running_var[sl]
            return F.batch_norm(t, mean, var, layer.weight[sl], layer.bias[sl], False, 0, layer.eps)

        paths, middles = [], []
        for g in range(cardinality):
            sl = slice(g * d, (g + 1) * d)
            p1 = nn.Conv2d(64, d, 1, bias=False).double()
            p2 = nn.Conv2d(d, d, 3, padding=1, bias=False).double()
            p3 = nn.Conv2d(d, 256, 1, bias=False).double()
            p1.weight.copy_(block.conv1.weight[sl])
            p2.weight.copy_(block.conv2.weight[sl])  # (d, d, 3, 3): group g's kernel
            p3.weight.copy_(block.conv3.weight[:, sl])
            h = F.relu(bn(block.bn1, p1(x), sl))
            h = F.relu(bn(block.bn2, p2(h), sl))
            middles.append(h)
            paths.append(p3(h))
        full = slice(None)
        form_a = bn(block.bn3, sum(paths), full)
        form_b = bn(block.bn3, F.conv2d(torch.cat(middles, 1), block.conv3.weight), full)
    torch.testing.assert_close(form_a, grouped, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(form_b, grouped, rtol=1e-10, atol=1e-10)


class NaiveInception(nn.Module):
    """Szegedy et al. 2015, Fig. 2(a): 1x1, 3x3 and 5x5 on all inputs, pooling passed through."""

    def __init__(self, cin: int, c1: int, c3: int, c5: int) -> None:
        super().__init__()
        self.b1 = nn.Conv2d(cin, c1, 1, bias=False)
        self.b3 = nn.Conv2d(cin, c3, 3, padding=1, bias=False)
        self.b5 = nn.Conv2d(cin, c5, 5, padding=2, bias=False)
        self.pool = nn.MaxPool2d(3, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.b1(x), self.b3(x), self.b5(x), self.pool(x)], 1)


def test_googlenet_1x1_reductions_cut_the_cost_of_inception_3a() -> None:
    # Inception (3a) of Table 1 on a 28x28x192 map: #1x1 64, #3x3 reduce 96, #3x3 128,
    # #5x5 reduce 16, #5x5 32, pool proj 32.
    size = (192, 28, 28)
    with torch.device("meta"):
        reduced = Inception(192, 64, 96, 128, 16, 32, 32, branch3_kernel=5)
        naive = NaiveInception(192, 64, 128, 32)
    hw = 28 * 28
    by_hand_reduced = hw * (192 * 64 + 192 * 96 + 96 * 128 * 9 + 192 * 16 + 16 * 32 * 25 + 192 * 32)
    by_hand_naive = hw * (192 * 64 + 192 * 128 * 9 + 192 * 32 * 25)
    r, n = summary(reduced, size), summary(naive, size)
    assert r.total_macs == by_hand_reduced == 128_049_152
    assert n.total_macs == by_hand_naive == 303_464_448
    # ... and the output stays narrow: 256 channels instead of 416 (pooling passes all 192).
    assert r.rows[-1].output_shape[1] == 256 and n.rows[-1].output_shape[1] == 416


def _window(convs: list[nn.Conv2d], channels: int) -> tuple[int, int]:
    """Height and width of the input window one output pixel depends on (gradient support).

    Copies of the convolutions with all-ones weights on a positive input: no cancellation, so
    the support of d out / d in is exactly the receptive field.
    """
    stack = nn.Sequential(*(copy.deepcopy(c).double() for c in convs))
    with torch.no_grad():
        for c in stack:
            c.weight.fill_(1.0)
            if c.bias is not None:
                c.bias.zero_()
    x = torch.ones(1, channels, 21, 21, dtype=torch.float64, requires_grad=True)
    stack(x)[0, 0, 10, 10].backward()
    rows, cols = x.grad[0].sum(0).nonzero(as_tuple=True)
    return int(rows.max() - rows.min()) + 1, int(cols.max() - cols.min()) + 1


@pytest.mark.parametrize(
    ("module", "parts", "kernel"),
    [
        ("Mixed_5b", ("branch3x3dbl_2", "branch3x3dbl_3"), (5, 5)),  # two 3x3 for a 5x5
        ("Mixed_6b", ("branch7x7_2", "branch7x7_3"), (7, 7)),  # 1x7 then 7x1 for a 7x7
        ("Mixed_6b", ("branch7x7dbl_2", "branch7x7dbl_3"), (7, 7)),  # 7x1 then 1x7
    ],
    ids=["3x3+3x3=5x5", "1x7+7x1=7x7", "7x1+1x7=7x7"],
)
def test_inception_v3_factorisations_keep_the_field_with_fewer_weights(
    module: str, parts: tuple[str, str], kernel: tuple[int, int]
) -> None:
    # Szegedy et al. 2016, Sec. 3: factorised convolutions see the same window as the big one.
    with torch.device("meta"):
        model = create_model("inception_v3")
    convs = [getattr(getattr(model, module), p).conv for p in parts]
    cin, cout = convs[0].in_channels, convs[-1].out_channels
    convs = [
        nn.Conv2d(c.in_channels, c.out_channels, c.kernel_size, padding=c.padding) for c in convs
    ]
    big = nn.Conv2d(cin, cout, kernel, padding=(kernel[0] // 2, kernel[1] // 2))
    assert _window(convs, cin) == _window([big], cin) == kernel
    factorised = sum(c.weight.numel() for c in convs)
    assert factorised < big.weight.numel()
    if kernel == (5, 5):  # 9 + 9 weights per channel pair instead of 25: 28% fewer
        c = convs[0].in_channels
        assert convs[0].weight.numel() == 9 * c * convs[0].out_channels
