"""Presets, preprocessing and the train/val pair, against torchvision's own pieces and by hand."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision import transforms as T
from torchvision import tv_tensors
from torchvision.transforms import v2

from cnnlab.core.validate import InvalidArgument
from cnnlab.data.transforms import (
    PRESETS,
    AugmentConfig,
    Preprocess,
    build_transforms,
    random_erasing,
)

GREY = Preprocess((28, 28), (0.13,), (0.31,))
RGB = Preprocess((32, 32), (0.49, 0.48, 0.45), (0.25, 0.24, 0.26))


@pytest.mark.parametrize("channels", [1, 3], ids=["grey", "rgb"])
@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_every_preset_runs_on_grey_and_rgb(preset: str, channels: int) -> None:
    pre = GREY if channels == 1 else RGB
    pair = build_transforms(preset, pre)
    torch.manual_seed(0)
    for _ in range(8):  # several random draws: the policies pick different operations
        x = torch.rand(channels, 30, 26)
        out = pair.train(x)
        assert type(out) is torch.Tensor and out.dtype == torch.float32
        assert out.shape == (channels, *pre.image_size)
        assert torch.isfinite(out).all()
    assert pair.train_is_val == (preset == "none")


def test_none_equals_standardisation_by_hand() -> None:
    x = torch.rand(1, 28, 28)
    expected = (x.numpy().astype(np.float64) - 0.13) / 0.31
    pair = build_transforms("none", GREY)
    for transform in (pair.train, pair.val):
        np.testing.assert_allclose(transform(x).numpy(), expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("side", [8, 28, 40], ids=["up", "same", "down"])
def test_batch_apply_equals_the_per_image_transform(side: int) -> None:
    images = torch.rand(5, 1, side, side, dtype=torch.float64)
    batch = GREY.apply(images)
    one_by_one = torch.stack([GREY.transform()(x.float()) for x in images])
    torch.testing.assert_close(batch, one_by_one, rtol=1e-5, atol=1e-5)
    assert batch.dtype == torch.float32 and batch.shape == (5, 1, 28, 28)


def test_image_files_preprocess_as_torchvisions_classic_pipeline() -> None:
    rng = np.random.default_rng(0)
    photo = Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8))
    reference = T.Compose([T.ToTensor(), T.Normalize(RGB.mean, RGB.std)])(photo)
    torch.testing.assert_close(RGB.transform()(photo), reference, rtol=1e-6, atol=1e-6)
    grey = Image.fromarray(rng.integers(0, 256, (28, 28), dtype=np.uint8))
    torch.testing.assert_close(
        GREY.transform()(grey.convert("RGB")),  # an RGB file for a grey model
        T.Compose([T.Grayscale(1), T.ToTensor(), T.Normalize(GREY.mean, GREY.std)])(
            grey.convert("RGB")
        ),
    )


def test_preprocess_round_trips_through_a_dict() -> None:
    assert Preprocess.from_dict(RGB.to_dict()) == RGB
    with pytest.raises(ValueError, match="one value per channel"):
        Preprocess((8, 8), (0.5, 0.5), (0.2,))
    with pytest.raises(ValueError, match="std must be finite and > 0"):
        Preprocess((8, 8), (0.5,), (0.0,))


REFERENCE_STEPS = {
    "flip": lambda s: [v2.Resize(s), v2.RandomHorizontalFlip()],
    "crop": lambda s: [v2.Resize(s), v2.RandomCrop(s, padding=4)],
    "standard": lambda s: [v2.RandomResizedCrop(s), v2.RandomHorizontalFlip()],
    "autoaugment": lambda s: [v2.RandomResizedCrop(s), v2.RandomHorizontalFlip(), v2.AutoAugment()],
    "randaugment": lambda s: [v2.RandomResizedCrop(s), v2.RandomHorizontalFlip(), v2.RandAugment()],
    "trivialaugment": lambda s: [
        v2.RandomResizedCrop(s),
        v2.RandomHorizontalFlip(),
        v2.TrivialAugmentWide(),
    ],
}


@pytest.mark.parametrize("preset", sorted(REFERENCE_STEPS))
def test_presets_equal_torchvisions_reference_recipes(preset: str) -> None:
    # torchvision's references/classification/presets.py: crop and flip, then the policy,
    # then float conversion and normalisation (here on uint8, as the references' PIL images).
    size = (32, 32)
    reference = v2.Compose(
        [
            v2.ToImage(),
            *REFERENCE_STEPS[preset](size),
            v2.ToDtype(torch.float32, scale=True),
            v2.Normalize(RGB.mean, RGB.std),
        ]
    )
    ours = build_transforms(preset, RGB).train
    rng = np.random.default_rng(1)
    for seed in range(6):
        x = torch.from_numpy(rng.integers(0, 256, (3, 40, 36), dtype=np.uint8))
        torch.manual_seed(seed)
        expected = reference(x)
        torch.manual_seed(seed)
        torch.testing.assert_close(ours(x), expected.as_subclass(torch.Tensor), rtol=0, atol=0)


def test_unknown_preset_lists_close_matches() -> None:
    with pytest.raises(
        InvalidArgument,
        match=r"augment must be one of .*got 'autoaugmnt'; did you mean autoaugment",
    ):
        build_transforms("autoaugmnt", GREY)


def test_random_erasing_is_torchvisions_after_normalisation() -> None:
    pair = build_transforms(AugmentConfig("none", random_erasing=1.0), GREY)
    x = torch.rand(1, 28, 28)
    torch.manual_seed(3)
    ours = pair.train(x)
    torch.manual_seed(3)
    expected = v2.RandomErasing(p=1.0)(GREY.transform()(x))
    torch.testing.assert_close(ours, expected, rtol=0, atol=0)
    assert (ours == 0).sum() > 0 and not pair.train_is_val
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(InvalidArgument, match="random_erasing must be a finite number in"):
            random_erasing(bad)


def _coded(size: int = 16) -> tuple[tv_tensors.Image, tv_tensors.Mask]:
    """An image whose every pixel encodes its mask label (label / 10)."""
    mask = torch.randint(0, 6, (size, size))
    return tv_tensors.Image(mask[None].float() / 10), tv_tensors.Mask(mask)


@pytest.mark.parametrize("preset", ["none", "flip", "crop"])
def test_masks_move_with_their_pixels(preset: str) -> None:
    pre = Preprocess((16, 16), (0.0,), (1.0,))
    pair = build_transforms(preset, pre, target="mask")
    torch.manual_seed(0)
    for _ in range(10):
        image, mask = pair.train(*_coded())
        assert mask.dtype == torch.int64 and mask.shape == (16, 16)
        labelled = mask != 255
        torch.testing.assert_close(image[0][labelled] * 10, mask[labelled].float())
        assert (image[0][~labelled] == 0).all()  # crop padding: image 0, mask ignored


def test_standard_preset_resamples_masks_by_nearest_neighbour() -> None:
    pair = build_transforms("standard", Preprocess((16, 16), (0.0,), (1.0,)), target="mask")
    torch.manual_seed(0)
    _, mask = pair.train(*_coded(32))
    assert set(mask.unique().tolist()) <= set(range(6))  # labels stay labels, no blends


@pytest.mark.parametrize("preset", ["autoaugment", "randaugment", "trivialaugment"])
def test_policies_are_refused_for_masks_with_the_allowed_presets(preset: str) -> None:
    with pytest.raises(ValueError, match=r"choose one of \['none', 'flip', 'crop', 'standard'\]"):
        build_transforms(preset, GREY, target="mask")


@pytest.mark.parametrize(
    ("config", "target", "match"),
    [
        (AugmentConfig(random_erasing=0.5), "mask", "random_erasing erases pixels but not"),
        (AugmentConfig(elastic=10.0), "label", "elastic deformation is U-Net's"),
        (AugmentConfig(elastic=10.0), "boxes", "elastic deformation is U-Net's"),
        (AugmentConfig(pca_lighting=0.1), "label", "pca_lighting needs"),
    ],
    ids=["erasing-masks", "elastic-labels", "elastic-boxes", "pca-unfitted"],
)
def test_options_a_target_cannot_follow_are_refused(config, target, match) -> None:
    with pytest.raises(ValueError, match=match):
        build_transforms(config, GREY, target=target)


def test_boxes_follow_a_flip() -> None:
    pair = build_transforms("flip", Preprocess((20, 20), (0.0,), (1.0,)), target="boxes")
    boxes = tv_tensors.BoundingBoxes([[2.0, 3.0, 7.0, 9.0]], format="XYXY", canvas_size=(20, 20))
    flipped = False
    for seed in range(6):
        torch.manual_seed(seed)
        _, target = pair.train(
            tv_tensors.Image(torch.zeros(1, 20, 20)), {"boxes": boxes, "labels": torch.tensor([4])}
        )
        got = target["boxes"].tolist()[0]
        assert got in ([2.0, 3.0, 7.0, 9.0], [13.0, 3.0, 18.0, 9.0])  # x -> 20 - x
        flipped |= got[0] == 13.0
        assert target["labels"].tolist() == [4]
    assert flipped
