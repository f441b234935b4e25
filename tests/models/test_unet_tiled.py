"""U-Net's overlap-tile prediction against NumPy's reflect padding and a by-hand tile loop."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from cnnlab.models import create_model
from cnnlab.models.unet import mirror_pad, predict_tiled, unet_margin, unet_output_size


@pytest.mark.parametrize(
    "pads",
    [(0, 0, 0, 0), (1, 2, 3, 4), (4, 4, 6, 6), (9, 13, 20, 31)],
    ids=["none", "small", "edge", "repeated"],
)
def test_mirror_pad_is_numpy_reflect(pads: tuple[int, int, int, int]) -> None:
    x = torch.arange(2 * 5 * 7, dtype=torch.float64).reshape(2, 5, 7)
    top, bottom, left, right = pads
    expected = np.pad(x.numpy(), ((0, 0), (top, bottom), (left, right)), mode="reflect")
    assert np.array_equal(mirror_pad(x, *pads).numpy(), expected)


def test_mirror_pad_of_a_one_pixel_side_repeats_it() -> None:
    x = torch.tensor([[1.0, 2.0, 3.0]])
    assert torch.equal(mirror_pad(x, 2, 1, 0, 0), x.expand(4, 3))


def test_margin_is_the_papers() -> None:
    assert unet_margin("valid") == (572 - unet_output_size(572)) // 2 == 92
    assert unet_margin("same") == 0


def _by_hand(model: torch.nn.Module, image: torch.Tensor, tile: int) -> torch.Tensor:
    """The tile loop written out, padding with numpy.pad(mode="reflect")."""
    m = unet_margin(model.padding)
    _, h, w = image.shape
    rows, cols = math.ceil(h / tile), math.ceil(w / tile)
    pad = ((0, 0), (m, rows * tile - h + m), (m, cols * tile - w + m))
    padded = torch.from_numpy(np.pad(image.numpy(), pad, mode="reflect"))
    out = torch.zeros(model.num_classes, rows * tile, cols * tile, dtype=image.dtype)
    with torch.no_grad():
        for i in range(rows):
            for j in range(cols):
                window = padded[
                    :, i * tile : i * tile + tile + 2 * m, j * tile : j * tile + tile + 2 * m
                ]
                y = model(window[None])[0]
                assert y.shape[-2:] == (tile, tile)
                out[:, i * tile : (i + 1) * tile, j * tile : (j + 1) * tile] = y
    return out[:, :h, :w]


@pytest.mark.parametrize(
    "size", [(30, 50), (20, 20), (5, 7)], ids=["uneven", "one-tile", "smaller-than-margin"]
)
def test_predict_tiled_equals_the_tile_loop(size: tuple[int, int]) -> None:
    torch.manual_seed(0)
    model = create_model("unet", num_classes=3, base_channels=2).double().eval()
    image = torch.randn(1, *size, dtype=torch.float64)
    out = predict_tiled(model, image, 20)  # 20 + 2 * 92 = 204 = 16 * 5 + 124
    assert out.shape == (3, *size)
    torch.testing.assert_close(out, _by_hand(model, image, 20), rtol=1e-12, atol=1e-12)
    batched = predict_tiled(model, image[None].expand(2, -1, -1, -1), 20)
    torch.testing.assert_close(batched, out[None].expand(2, -1, -1, -1), rtol=1e-12, atol=1e-12)


def test_predict_tiled_with_same_padding_tiles_without_margin() -> None:
    torch.manual_seed(0)
    model = create_model("unet_small", num_classes=2, base_channels=2).double().eval()
    image = torch.randn(1, 40, 24, dtype=torch.float64)
    out = predict_tiled(model, image, 16)
    torch.testing.assert_close(out, _by_hand(model, image, 16), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    ("name", "tile", "message"),
    [
        ("unet", 21, "out_tile must be 16k - 60"),
        ("unet_small", 20, "out_tile must be a multiple of 16"),
        ("digits_cnn", 16, "predict_tiled needs a U-Net"),
    ],
    ids=["valid-bad-tile", "same-bad-tile", "not-a-unet"],
)
def test_predict_tiled_refuses_what_does_not_tile(name: str, tile: int, message: str) -> None:
    with torch.device("meta"):
        model = create_model(name, base_channels=2) if "unet" in name else create_model(name)
    with pytest.raises(ValueError, match=message):
        predict_tiled(model, torch.zeros(1, 8, 8, device="meta"), tile)
