"""Octave convolution and interleaved group convolutions against plain convolutions."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from cnnlab.analysis import summary
from cnnlab.layers import IGCV3Block, InterleavedGroupConv, OctaveConv


def test_octave_conv_with_alpha_zero_is_a_plain_conv() -> None:
    torch.manual_seed(0)
    octave = OctaveConv(8, 16, 3, alpha_in=0.0, alpha_out=0.0).double()
    plain = nn.Conv2d(8, 16, 3, padding=1, bias=False).double()
    assert octave.conv_h2l is None and octave.conv_l2h is None and octave.conv_l2l is None
    with torch.no_grad():
        plain.weight.copy_(octave.conv_h2h.weight)
    x = torch.randn(2, 8, 10, 10, dtype=torch.float64)
    high, low = octave(x)
    assert low is None
    torch.testing.assert_close(high, plain(x), rtol=0, atol=0)


class _Pair(nn.Module):
    """Feeds an octave conv from one tensor: the last channels, pooled 2x2, are the low group."""

    def __init__(self, conv: OctaveConv) -> None:
        super().__init__()
        self.conv = conv
        self.high = conv.channels_in[0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        high, low = self.conv((x[:, : self.high], F.avg_pool2d(x[:, self.high :], 2)))
        return torch.cat([high, F.interpolate(low, scale_factor=2)], 1)


@pytest.mark.parametrize("alpha", [0.25, 0.5, 0.75], ids=lambda a: f"alpha{a}")
def test_octave_conv_macs_follow_the_papers_ratio(alpha: float) -> None:
    # Chen et al. 2019, Table 1: an octave conv costs 1 - 3/4 alpha (2 - alpha) of the plain
    # one (h2h at full resolution, h2l, l2h and l2l at a quarter of the positions).
    c, side = 64, 32
    with torch.device("meta"):
        octave = _Pair(OctaveConv(c, c, 3, alpha, alpha))
        plain = nn.Conv2d(c, c, 3, padding=1, bias=False)
    ratio = summary(octave, (c, side, side)).total_macs / summary(plain, (c, side, side)).total_macs
    assert ratio == pytest.approx(1 - 0.75 * alpha * (2 - alpha), rel=1e-12)
    # ... and the four blocks hold exactly the plain convolution's weights.
    assert sum(p.numel() for p in octave.parameters()) == plain.weight.numel()


def _shuffle_index(groups: int, per_group: int) -> list[int]:
    """Channel shuffle as an index: output j * groups + i reads input i * per_group + j."""
    index = [0] * (groups * per_group)
    for i in range(groups):
        for j in range(per_group):
            index[j * groups + i] = i * per_group + j
    return index


def test_igc_primary_and_secondary_equal_one_dense_block_structured_conv() -> None:
    # Zhang et al. 2017, Sec. 3: primary group conv (L groups of M channels, 3x3), permutation,
    # secondary group conv (M groups of L channels, 1x1), permutation back. Built here as one
    # dense kernel W = P2 W2 P1 W1 from the two group convolutions' weights, by loops.
    torch.manual_seed(0)
    L, M, k = 3, 4, 3
    c = L * M
    igc = InterleavedGroupConv(L, M, k).double()
    w1 = torch.zeros(c, c, k, k, dtype=torch.float64)  # block diagonal: L blocks of M x M
    for p in range(c):
        g = p // M
        w1[p, g * M : (g + 1) * M] = igc.primary.weight[p]
    w2 = torch.zeros(c, c, dtype=torch.float64)  # block diagonal: M blocks of L x L
    for r in range(c):
        h = r // L
        w2[r, h * L : (h + 1) * L] = igc.secondary.weight[r, :, 0, 0]
    p1 = torch.eye(c, dtype=torch.float64)[_shuffle_index(L, M)]  # interleave
    p2 = torch.eye(c, dtype=torch.float64)[_shuffle_index(M, L)]  # and back
    dense = torch.einsum("ab,bc,cd,dekl->aekl", p2, w2, p1, w1)
    x = torch.randn(2, c, 8, 8, dtype=torch.float64)
    with torch.no_grad():
        torch.testing.assert_close(
            igc(x), F.conv2d(x, dense, padding=k // 2), rtol=1e-12, atol=1e-12
        )
    # Every output channel depends on every input channel (the kernel is dense) ...
    assert (dense.abs().sum((2, 3)) > 0).all()
    # ... with L M^2 k^2 + M L^2 weights instead of (L M)^2 k^2.
    assert sum(p.numel() for p in igc.parameters()) == L * M * M * k * k + M * L * L
    assert L * M * M * k * k + M * L * L < (L * M) ** 2 * k * k


def test_igcv3_permutation_makes_two_group_convs_dense() -> None:
    # Sun et al. 2018: the expand and project 1x1 group convs (2 groups each) with the
    # permutation between them compose to a dense channel mixing; without it, block diagonal.
    torch.manual_seed(0)
    block = IGCV3Block(8, 8, expand_ratio=2).eval()
    expand = torch.block_diag(*block.expand[0].weight[:, :, 0, 0].split(8, 0))
    project = torch.block_diag(*block.project[0].weight[:, :, 0, 0].split(4, 0))
    perm = torch.eye(16)[_shuffle_index(2, 8)]
    with_perm, without = project @ perm @ expand, project @ expand
    assert (with_perm.abs() > 0).all()
    assert (without[:4, 4:] == 0).all() and (without[4:, :4] == 0).all()
    x = torch.randn(2, 8, 6, 6)
    assert block(x).shape == x.shape and block.use_res_connect
