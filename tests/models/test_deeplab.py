"""DeepLab: atrous convolution, ASPP, the heads' outputs, and v3+ against
segmentation_models_pytorch (every difference measured)."""

from __future__ import annotations

import pytest
import segmentation_models_pytorch as smp
import torch
import torch.nn.functional as F
from torch import nn

from cnnlab.layers import ASPP
from cnnlab.models import create_model


@pytest.mark.parametrize("rate", [1, 2, 3, 6])
def test_atrous_conv_is_a_conv_with_a_zero_inserted_kernel(rate: int) -> None:
    # A 3x3 kernel with rate r spreads its taps r pixels apart: the same as a (2r + 1)-wide
    # kernel holding the 9 weights at multiples of r and zeros in between ("holes", trous).
    torch.manual_seed(0)
    atrous = nn.Conv2d(4, 5, 3, padding=rate, dilation=rate).double()
    big = torch.zeros(5, 4, 2 * rate + 1, 2 * rate + 1, dtype=torch.float64)
    big[:, :, ::rate, ::rate] = atrous.weight.detach()
    x = torch.randn(2, 4, 13, 11, dtype=torch.float64)
    with torch.no_grad():
        ref = F.conv2d(x, big, atrous.bias, padding=rate)
        torch.testing.assert_close(atrous(x), ref, rtol=1e-12, atol=1e-12)
    assert int((big != 0).sum()) == 5 * 4 * 9  # still 9 weights per kernel


def test_aspp_branches_and_image_pooling() -> None:
    torch.manual_seed(0)
    aspp = ASPP(8, (2, 4, 6), out_channels=6).eval()
    assert [b[0].dilation for b in aspp.convs[1:4]] == [(2, 2), (4, 4), (6, 6)]
    x = torch.randn(2, 8, 9, 9)
    with torch.no_grad():
        pooled = aspp.convs[4](x)
        assert aspp(x).shape == (2, 6, 9, 9)
    # image-level features: the same vector at every position (the whole image as context)
    torch.testing.assert_close(pooled, pooled[:, :, :1, :1].expand_as(pooled))


def test_segmentation_outputs_and_aux_heads() -> None:
    with torch.device("meta"):
        x = torch.empty(2, 3, 65, 65)
        plain = create_model("deeplabv3_resnet50", num_classes=5)(x)
        both = create_model("deeplabv3_resnet50", num_classes=5, aux_loss=True)(x)
        model = create_model("deeplabv3plus_resnet50", num_classes=5, output_stride=8)
        feats = model.backbone(x)
        plus = model(x)
    assert isinstance(plain, torch.Tensor) and plain.shape == (2, 5, 65, 65)
    assert list(both) == ["out", "aux"] and all(v.shape == (2, 5, 65, 65) for v in both.values())
    assert plus.shape == (2, 5, 65, 65)
    assert feats["out"].shape[-1] == 9 and feats["low"].shape[-1] == 17  # strides 8 and 4


def _smp() -> nn.Module:
    # The paper's settings where smp lets us choose them: output stride 16, rates 6/12/18,
    # plain (not separable) ASPP convolutions.
    return smp.DeepLabV3Plus(
        encoder_name="resnet50",
        encoder_weights=None,
        encoder_output_stride=16,
        decoder_atrous_rates=(6, 12, 18),
        decoder_aspp_separable=False,
        classes=21,
    )


def test_deeplabv3plus_against_segmentation_models_pytorch() -> None:
    # float64: smp also dilates the stage's 1x1 convolutions, which changes nothing but the
    # float32 summation order of the convolution kernels.
    torch.manual_seed(0)
    theirs = _smp().double().eval()
    ours = create_model("deeplabv3plus_resnet50").double().eval()
    # Same encoder and ASPP: their weights load strictly into ours.
    ours.backbone.load_state_dict(theirs.encoder.state_dict(), strict=True)
    ours.aspp.load_state_dict(theirs.decoder.aspp[0].state_dict(), strict=True)
    x = torch.randn(1, 3, 65, 65, dtype=torch.float64)
    with torch.no_grad():
        their_feats = theirs.encoder(x)  # [input, stride 2, 4, 8, 16, 16]
        ours_feats = ours.backbone(x)
        torch.testing.assert_close(ours_feats["low"], their_feats[2], rtol=0, atol=0)
        # Difference 1: smp dilates the last stage from its first block on; torchvision (and
        # ours) keeps the first block at dilation 1. Dilating it too makes the encoders equal.
        assert not torch.allclose(ours_feats["out"], their_feats[-1])
        conv = ours.backbone.layer4[0].conv2
        conv.dilation, conv.padding = (2, 2), (2, 2)
        exact = {"rtol": 1e-12, "atol": 1e-12}
        torch.testing.assert_close(ours.backbone(x)["out"], their_feats[-1], **exact)
        aspp = their_feats[-1]
        torch.testing.assert_close(ours.aspp(aspp), theirs.decoder.aspp[0](aspp), **exact)
        # Difference 2: smp needs sides divisible by 16 (it upsamples by fixed factors); ours
        # takes any side (and aligns its maps exactly at 16k + 1, as the paper's 513).
        with pytest.raises(RuntimeError, match="divisible by 16"):
            theirs(x)
        assert ours(x).shape == (1, 21, 65, 65)
        assert ours(x[..., :64, :64]).shape == theirs(x[..., :64, :64]).shape == (1, 21, 64, 64)

    # Difference 3, the decoder: the paper's two 3x3 conv-BN (304 -> 256 -> 256) against smp's
    # one separable 3x3 (304 -> 256) plus a separable 3x3 after ASPP; the 48-channel projection
    # and the classifier are the same. That accounts for the whole parameter difference.
    def count(m: nn.Module) -> int:
        return sum(p.numel() for p in m.parameters())

    ours_decoder = 304 * 256 * 9 + 2 * 256 + 256 * 256 * 9 + 2 * 256
    smp_extra = (256 * 9 + 256 * 256 + 2 * 256) + (304 * 9 + 304 * 256 + 2 * 256)
    assert count(ours) - count(theirs) == ours_decoder - smp_extra == 1_141_840
