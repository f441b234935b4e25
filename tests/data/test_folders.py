"""``imagefolder:PATH`` layouts: each one read as meant, or refused by name (never misread)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.model_selection import train_test_split
from torchvision.datasets import ImageFolder

from cnnlab.data import load_dataset

CLASSES = {"cat": 5, "dog": 4, "owl": 3}


def _split(split: str, counts: dict[str, int] = CLASSES) -> dict[str, int]:
    return {f"{split}/{name}": n for name, n in counts.items()}


@pytest.mark.parametrize("held_out", ["val", "valid", "validation", "test", "Val"])
def test_train_with_a_held_out_folder(image_tree, held_out: str) -> None:
    root = image_tree({**_split("train"), **_split(held_out, {"cat": 2, "dog": 1, "owl": 1})})
    bundle = load_dataset(f"imagefolder:{root}", image_size=8)
    reference = ImageFolder(str(root / "train"))
    assert bundle.classes == reference.classes == ["cat", "dog", "owl"]
    assert bundle.targets_train == reference.targets
    assert (len(bundle.train), len(bundle.val)) == (12, 4)
    assert f"train/ + {held_out}/" in bundle.describe()
    x, y = bundle.val[0]
    assert x.shape == (3, 8, 8) and y == 0


def test_val_is_preferred_to_test(image_tree) -> None:
    root = image_tree(
        {**_split("train"), **_split("val", {"cat": 1, "dog": 1, "owl": 1}), **_split("test")}
    )
    bundle = load_dataset(f"imagefolder:{root}", image_size=8)
    assert len(bundle.val) == 3 and "train/ + val/" in bundle.describe()


@pytest.mark.parametrize("only_train", [True, False], ids=["train-only", "one-folder"])
def test_a_folder_without_held_out_split_is_split_stratified(image_tree, only_train) -> None:
    counts = {"cat": 10, "dog": 5, "owl": 5}
    root = image_tree(_split("train", counts) if only_train else counts)
    folder = root / "train" if only_train else root
    bundle = load_dataset(f"imagefolder:{root}", image_size=8, val_fraction=0.2)
    targets = np.array(ImageFolder(str(folder)).targets)
    train_idx, val_idx = train_test_split(
        np.arange(20), test_size=0.2, random_state=0, stratify=targets
    )
    assert sorted(bundle.train.indices) == sorted(train_idx.tolist())
    assert sorted(bundle.val.indices) == sorted(val_idx.tolist())
    assert np.bincount(targets[bundle.val.indices]).tolist() == [2, 1, 1]
    assert bundle.classes == ["cat", "dog", "owl"]
    assert "split 80%/20% stratified" in bundle.describe()


@pytest.mark.parametrize(
    ("layout", "match"),
    [
        ({"only": 20}, r"has 1 class folder \('only'\); a classifier needs at least 2"),
        ({**_split("train", {"a": 4}), **_split("val", {"a": 2})}, "has 1 class folder"),
        ({**_split("valid"), **_split("test")}, r"split folder\(s\) \['test', 'valid'\] but no"),
        ({**_split("val")}, r"no 'train' folder; read as classes"),
        ({**_split("train"), "c9": 3}, r"mixes split folders \['train'\] with other folders"),
        ({"a": 1, "b": 1, "c": 1}, r"class\(es\) 'a', 'b', 'c' have a single image"),
        ({"a": 1, "b": 5}, r"class\(es\) 'a' have a single image"),
        ({**_split("train"), **_split("val", {"cat": 1, "dog": 1})}, "different classes"),
    ],
    ids=[
        "one-class",
        "one-class-split",
        "split-names-as-classes",
        "val-without-train",
        "split-and-class-folders",
        "one-image-per-class",
        "class-without-a-second-image",
        "val-lacks-a-class",
    ],
)
def test_layouts_that_would_be_misread_are_errors(image_tree, layout, match) -> None:
    root = image_tree(layout)
    with pytest.raises(ValueError, match=match):
        load_dataset(f"imagefolder:{root}", image_size=8)


def test_hidden_folders_are_not_classes(image_tree) -> None:
    root = image_tree({"a": 4, "b": 4, ".ipynb_checkpoints": 1})
    assert load_dataset(f"imagefolder:{root}", image_size=8).classes == ["a", "b"]


def test_cli_refuses_a_misread_layout_before_training(image_tree, tmp_path: Path, capsys) -> None:
    from cnnlab.cli.main import main

    root = image_tree({"train/a": 3})  # the trial's 'train/ only' folder with a single class
    run = tmp_path / "run"
    args = ["train", "--dataset", f"imagefolder:{root}", "--image-size", "8", "--out", str(run)]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "has 1 class folder ('a')" in err[0]
    assert not (run / "last.pt").exists()


def test_augmentation_and_pca_lighting_fitted_on_the_training_images(tmp_path: Path) -> None:
    from PIL import Image

    from cnnlab.data.transforms import AugmentConfig, PCALighting

    rng = np.random.default_rng(0)
    pixels = {}
    for split, n in (("train", 3), ("val", 1)):
        for name in ("cat", "dog"):
            (tmp_path / split / name).mkdir(parents=True)
            for i in range(n):
                array = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
                Image.fromarray(array).save(tmp_path / split / name / f"{i}.png")
                pixels[(split, name, i)] = array
    augment = AugmentConfig("flip", pca_lighting=0.1)
    bundle = load_dataset(f"imagefolder:{tmp_path}", image_size=8, augment=augment)
    lighting = next(t for t in bundle.train.transform.transforms if isinstance(t, PCALighting))
    train = np.stack([a for (split, _, _), a in pixels.items() if split == "train"]) / 255
    values = np.linalg.eigvalsh(np.cov(train.reshape(-1, 3).T))[::-1]
    np.testing.assert_allclose(lighting.eigval.numpy(), values, rtol=1e-5)
    assert bundle.train[0][0].shape == (3, 8, 8)
    # validation images are only preprocessed: the file's pixels, standardised
    expected = (pixels[("val", "cat", 0)] / 255 - bundle.preprocess.mean) / bundle.preprocess.std
    np.testing.assert_allclose(
        bundle.val[0][0].numpy(), expected.transpose(2, 0, 1), rtol=1e-5, atol=1e-6
    )
