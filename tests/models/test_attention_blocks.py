"""Selective kernel and global context blocks against their papers' definitions."""

from __future__ import annotations

import torch
import torchvision
from torch import nn

from cnnlab.layers import GlobalContext, SelectiveKernel
from cnnlab.models import create_model


def test_sk_branch_attention_sums_to_one_per_channel() -> None:
    # Li et al. 2019, Eq. 5: a_c + b_c = 1 (softmax across the branches, per channel).
    torch.manual_seed(0)
    sk = SelectiveKernel(16, 32, stride=2, split_input=False).eval()
    x = torch.randn(3, 16, 9, 9)
    with torch.no_grad():
        branches = [path(x) for path in sk.paths]
        weights = sk.attn(branches[0] + branches[1])
        out = sk(x)
    assert weights.shape == (3, 2, 32, 1, 1)
    torch.testing.assert_close(weights.sum(1), torch.ones(3, 32, 1, 1))
    torch.testing.assert_close(out, branches[0] * weights[:, 0] + branches[1] * weights[:, 1])
    # The 5x5 branch is a 3x3 with dilation 2 (same field, 9 instead of 25 weights).
    assert [p.conv.dilation for p in sk.paths] == [(1, 1), (2, 2)]
    assert [p.conv.kernel_size for p in sk.paths] == [(3, 3), (3, 3)]


def test_sk_with_a_silent_selector_averages_the_branches() -> None:
    # fc_select = 0 gives equal logits, softmax 1/2 each: the output is the branches' mean.
    torch.manual_seed(0)
    sk = SelectiveKernel(8, 8, split_input=True).eval()
    nn.init.zeros_(sk.attn.fc_select.weight)
    x = torch.randn(2, 8, 7, 7)
    with torch.no_grad():
        a, b = sk.paths[0](x[:, :4]), sk.paths[1](x[:, 4:])  # split_input: half the channels each
        torch.testing.assert_close(sk(x), (a + b) / 2)


def test_global_context_block_is_the_identity_with_its_last_conv_zeroed() -> None:
    # Cao et al. 2019: the transform's last 1x1 conv starts at zero, so a new block is x + 0.
    torch.manual_seed(0)
    gc = GlobalContext(32, ratio=1 / 4).eval()
    x = torch.randn(2, 32, 6, 5)
    torch.testing.assert_close(gc(x), x, rtol=0, atol=0)
    nn.init.normal_(gc.channel_add_conv[-1].weight)
    assert not torch.allclose(gc(x), x)
    # The context is sum_j softmax_j(w . x_j + b) x_j, the same vector for every position.
    with torch.no_grad():
        w, b = gc.conv_mask.weight.view(32), gc.conv_mask.bias
        logits = torch.einsum("c,nchw->nhw", w, x) + b
        attn = torch.softmax(logits.flatten(1), dim=1).view(2, 1, 6, 5)
        context = (x * attn).sum((2, 3), keepdim=True)
        torch.testing.assert_close(gc.context(x), context)
        torch.testing.assert_close(gc(x), x + gc.channel_add_conv(context))


def test_gc_resnet50_is_resnet50_plus_identity_blocks_in_c3_to_c5() -> None:
    torch.manual_seed(0)
    theirs = torchvision.models.resnet50(weights=None).eval()
    ours = create_model("gc_resnet50").eval()
    result = ours.load_state_dict(theirs.state_dict(), strict=False)
    assert result.unexpected_keys == []
    assert {k.split(".se.")[0] for k in result.missing_keys} == {
        f"layer{s}.{b}" for s, n in ((2, 4), (3, 6), (4, 3)) for b in range(n)
    }
    assert all(isinstance(block.se, nn.Identity) for block in ours.layer1)
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():  # new blocks are identities: ResNet-50's outputs exactly
        torch.testing.assert_close(ours(x), theirs(x), rtol=0, atol=0)
