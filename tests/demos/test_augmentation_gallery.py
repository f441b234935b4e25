"""The augmentation gallery: a column per preset plus the notes' extras, written as a PNG."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from cnnlab.core.validate import InvalidArgument
from cnnlab.data.transforms import PRESETS
from cnnlab.demos.augmentation import (
    gallery_figure,
    gallery_images,
    load_photo,
    save_augmentation_gallery,
)

PNG = b"\x89PNG\r\n\x1a\n"


def test_one_column_per_preset_and_the_none_preset_is_the_photo() -> None:
    columns = gallery_images(size=32, draws=2, seed=0)
    titles = list(columns)
    assert titles[0] == "original" and titles[1 : 1 + len(PRESETS)] == list(PRESETS)
    assert any(t.startswith("PCA lighting") for t in titles)
    assert any(t.startswith("elastic") for t in titles)
    photo = load_photo(32)
    for images in columns.values():
        assert len(images) == 2 and all(x.shape == (3, 32, 32) for x in images)
    torch.testing.assert_close(columns["none"][0], photo, rtol=0, atol=1e-6)
    assert not torch.equal(columns["standard"][0], photo)
    fig = gallery_figure(columns)
    assert len(fig.axes) == 2 * len(columns)


def test_the_png_is_written_and_a_bad_path_refused_first(tmp_path: Path) -> None:
    out = save_augmentation_gallery(tmp_path / "g.png", size=24, draws=1, dpi=30)
    assert out.read_bytes()[:8] == PNG
    with pytest.raises(InvalidArgument, match=r"out must end in one of \['.png'\]"):
        save_augmentation_gallery(tmp_path / "g.jpg")
    (tmp_path / "file").write_text("x")
    with pytest.raises(InvalidArgument, match="out"):
        save_augmentation_gallery(tmp_path / "file" / "g.png")
