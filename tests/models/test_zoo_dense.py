"""FCN and U-Net: alignment, upsampling, sizes and the convolutionalised classifier."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from cnnlab.core.receptive_field import AxisField
from cnnlab.models import create_model
from cnnlab.models.fcn import bilinear_upsampling, crop_offset
from cnnlab.models.unet import unet_output_size


@pytest.mark.parametrize(
    ("name", "offsets"),
    [
        ("fcn32s", {"score": 19}),
        ("fcn16s", {"score_pool4": 5, "score": 27}),
        ("fcn8s", {"score_pool4": 5, "score_pool3": 9, "score": 31}),
    ],
)
def test_crop_offsets_match_reference_models(name: str, offsets: dict[str, int]) -> None:
    # The crop offsets of the reference Caffe models (fcn.berkeleyvision.org voc-fcn*), as the
    # common PyTorch port (wkentaro/pytorch-fcn) hard-codes them.
    with torch.device("meta"):
        model = create_model(name)
    assert model.offsets == offsets


@pytest.mark.parametrize("side", [1, 31, 224, 333, 500])
@pytest.mark.parametrize("name", ["fcn32s", "fcn16s", "fcn8s"])
def test_fcn_output_is_cropped_to_the_input(name: str, side: int) -> None:
    with torch.device("meta"):
        out = create_model(name, num_classes=5)(torch.empty(1, 3, side, side + 7))
    assert tuple(out.shape) == (1, 5, side, side + 7)


@pytest.mark.parametrize("factor", [2, 8, 32])
def test_transposed_conv_starts_as_bilinear_interpolation(factor: int) -> None:
    # Away from the borders, the transposed conv's output shifted by factor / 2 equals
    # torch's bilinear interpolation (align_corners=False).
    torch.manual_seed(0)
    x = torch.randn(1, 3, 5, 6, dtype=torch.float64)
    up = bilinear_upsampling(3, factor).double()
    ours = up(x)[..., factor // 2 :, factor // 2 :]
    ref = F.interpolate(x, scale_factor=factor, mode="bilinear", align_corners=False)
    inner = (slice(None), slice(None), slice(factor, 4 * factor), slice(factor, 5 * factor))
    torch.testing.assert_close(ours[inner], ref[inner], rtol=1e-12, atol=1e-12)


def test_crop_offset_uses_core_fields_and_rejects_misaligned_maps() -> None:
    # FCN aligns maps with core's AxisField (no coordinate-map class of its own): position 0
    # of an unpadded 3x3 conv's map is centred on input pixel 1, so cropping the input at
    # offset 1 aligns it with that map.
    assert crop_offset(AxisField(), AxisField().conv(3)) == 1
    with pytest.raises(ValueError, match="jumps"):
        crop_offset(AxisField().conv(2, 2), AxisField())
    with pytest.raises(ValueError, match="whole pixels"):
        crop_offset(AxisField().conv(2, 1), AxisField())


def test_fc6_fc7_are_the_convolutionalised_classifier() -> None:
    # Copying VGG-16's fully connected weights into the 7x7 and 1x1 convolutions gives, on a
    # 7x7 pool5 map, exactly VGG's fc7 activations (eval mode: no dropout).
    torch.manual_seed(0)
    vgg = create_model("vgg16").eval()
    fcn = create_model("fcn32s").eval()
    fcn.load_vgg16(vgg)
    pool5 = torch.randn(2, 512, 7, 7)
    with torch.no_grad():
        ref = vgg.classifier[:5](torch.flatten(pool5, 1))
        out = fcn.fc7(fcn.fc6(pool5))
    assert out.shape == (2, 4096, 1, 1)
    torch.testing.assert_close(out.flatten(1), ref, rtol=1e-4, atol=1e-5)
    assert torch.equal(fcn.features[2].weight, vgg.features[2].weight)


def test_unet_paper_sizes_and_concatenations() -> None:
    # Ronneberger et al. Fig. 1: 572x572 in, 388x388 out; the expanding path concatenates
    # cropped encoder maps into 1024, 512, 256, 128 channels at 56, 104, 200, 392 pixels.
    seen: list[tuple[int, int]] = []
    with torch.device("meta"):
        model = create_model("unet")
        for block in model.decoder:
            block.register_forward_hook(lambda m, i, o: seen.append(tuple(i[0].shape[1:3])))
        out = model(torch.empty(1, 1, 572, 572))
    assert tuple(out.shape) == (1, 2, 388, 388)
    assert seen == [(1024, 56), (512, 104), (256, 200), (128, 392)]


@pytest.mark.parametrize(("side", "out"), [(572, 388), (188, 4), (204, 20), (508, 324)])
def test_unet_valid_output_size(side: int, out: int) -> None:
    # Valid 3x3 convs lose 4 pixels per level and every pooled size must be even.
    assert unet_output_size(side) == out
    with torch.device("meta"):
        y = create_model("unet", num_classes=3)(torch.empty(1, 1, side, side))
    assert tuple(y.shape) == (1, 3, out, out)


@pytest.mark.parametrize("side", [570, 572 + 8, 172, 64])
def test_unet_rejects_sizes_that_do_not_tile(side: int) -> None:
    with pytest.raises(ValueError, match=rf"cannot take an input of side {side}; use 16k \+ 124"):
        create_model("unet", base_channels=2)(torch.zeros(1, 1, side, side))


def test_unet_same_padding_keeps_the_size() -> None:
    torch.manual_seed(0)
    model = create_model("unet", padding="same", base_channels=4, in_chans=3, num_classes=5)
    assert model(torch.randn(2, 3, 48, 32)).shape == (2, 5, 48, 32)
    with pytest.raises(ValueError, match="side 50; use a multiple of 16"):
        model(torch.randn(1, 3, 50, 48))


def test_unet_tiles_exactly_the_sides_16k_plus_124_from_k_4() -> None:
    # Docs error 4: the chapter listed 156 and 172 (16k + 124 with k = 2, 3), which do not
    # tile: 156 pools to 76, 36, 16, 6, leaves 2 at the bottom, and the first up-convolution's
    # 2 * 2 = 4 pixels vanish in its two valid 3x3 convs. The model itself, on meta tensors,
    # decides.
    def runs(side: int) -> bool:
        try:
            with torch.device("meta"):
                model(torch.empty(1, 1, side, side))
        except ValueError:
            return False
        return True

    with torch.device("meta"):
        model = create_model("unet")
    accepted = [s for s in range(150, 300, 2) if runs(s)]
    assert accepted == [188, 204, 220, 236, 252, 268, 284]
    assert not runs(156) and not runs(172)
