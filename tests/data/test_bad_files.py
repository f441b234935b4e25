"""Unreadable files stop the dataset before training, naming the file, or are skipped, counted."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from cnnlab.cli.main import main
from cnnlab.data import load_dataset
from cnnlab.data.images import image_problem


def _png_bytes() -> bytes:
    buffer = io.BytesIO()
    pixels = np.random.default_rng(0).integers(0, 256, (40, 50, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(buffer, "PNG")
    return buffer.getvalue()


def _jpeg_bytes() -> bytes:
    buffer = io.BytesIO()
    pixels = np.random.default_rng(0).integers(0, 256, (40, 50, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(buffer, "JPEG")
    return buffer.getvalue()


# file name -> contents: the trial's corrupt, zero-byte and truncated files (a truncated JPEG
# passes PIL's verify(), which only parses headers; decoding it fails).
BAD_FILES = {
    "garbage": ("5.png", bytes(np.random.default_rng(1).integers(0, 256, 300, dtype=np.uint8))),
    "zero-byte": ("5.png", b""),
    "truncated-png": ("5.png", _png_bytes()[: len(_png_bytes()) // 2]),
    "truncated-jpeg": ("5.jpg", _jpeg_bytes()[:-40]),
}


@pytest.fixture(params=BAD_FILES, ids=list(BAD_FILES))
def folder_with_bad_file(request, image_tree) -> tuple[Path, Path, str]:
    root = image_tree({"c0": 5, "c1": 5, "c2": 5})
    name, data = BAD_FILES[request.param]
    bad = root / "c1" / name
    bad.write_bytes(data)
    return root, bad, request.param


def test_verify_alone_would_miss_truncation() -> None:
    truncated = BAD_FILES["truncated-jpeg"][1]
    Image.open(io.BytesIO(truncated)).verify()  # PIL's header check passes
    with pytest.raises(OSError, match="truncated"):
        Image.open(io.BytesIO(truncated)).load()


def test_a_bad_image_is_an_error_naming_the_file(folder_with_bad_file) -> None:
    root, bad, _ = folder_with_bad_file
    with pytest.raises(ValueError) as err:
        load_dataset(f"imagefolder:{root}", image_size=8)
    message = str(err.value)
    assert f"cannot read image file {str(bad)!r}" in message
    assert "--skip-bad-images" in message and "\n" not in message


def test_skip_bad_images_leaves_the_file_out_with_a_count(folder_with_bad_file) -> None:
    root, bad, _ = folder_with_bad_file
    bundle = load_dataset(f"imagefolder:{root}", image_size=8, skip_bad_images=True)
    assert bundle.skipped_files == [str(bad)]
    assert len(bundle.train) + len(bundle.val) == 15  # 16 files, one unreadable
    used = [bundle.train.dataset.samples[i][0] for i in range(len(bundle.train.dataset))]
    assert str(bad) not in used
    assert bundle.describe().endswith("; skipped 1 unreadable image file(s)")
    for i in range(len(bundle.val)):  # every image left decodes
        assert bundle.val[i][0].shape == (3, 8, 8)


def test_every_image_is_checked_not_only_the_first(image_tree) -> None:
    root = image_tree({"train/a": 3, "train/b": 3, "val/a": 2, "val/b": 2})
    (root / "val" / "b" / "1.png").write_bytes(b"")
    (root / "train" / "a" / "2.png").write_bytes(b"x" * 10)
    with pytest.raises(ValueError, match=r"\(and 1 more of the 10 files\)"):
        load_dataset(f"imagefolder:{root}", image_size=8)
    bundle = load_dataset(f"imagefolder:{root}", image_size=8, skip_bad_images=True)
    assert (len(bundle.train), len(bundle.val), len(bundle.skipped_files)) == (5, 3, 2)


def test_a_class_left_without_images_by_skipping_is_an_error(image_tree) -> None:
    root = image_tree({"train/a": 3, "train/b": 1, "val/a": 1, "val/b": 1})
    (root / "train" / "b" / "0.png").write_bytes(b"")
    with pytest.raises(ValueError, match=r"class\(es\) \['b'\] have no readable training image"):
        load_dataset(f"imagefolder:{root}", image_size=8, skip_bad_images=True)


def test_image_problem_reports_why() -> None:
    assert image_problem(__file__) == "not an image format PIL can identify"


def test_cli_bad_image_is_one_line_before_training_and_skip_trains(
    folder_with_bad_file, tmp_path: Path, capsys
) -> None:
    root, bad, kind = folder_with_bad_file
    args = ["train", "--dataset", f"imagefolder:{root}", "--image-size", "8", "--epochs", "1"]
    run = tmp_path / "run"
    assert main([*args, "--out", str(run)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(bad) in err[0]
    assert not (run / "last.pt").exists()
    if kind != "garbage":
        return  # one end-to-end training run is enough
    run2 = tmp_path / "run2"
    assert main([*args, "--skip-bad-images", "--device", "cpu", "--out", str(run2)]) == 0
    assert "skipped 1 unreadable image file(s)" in capsys.readouterr().out
    assert (run2 / "last.pt").exists()


# ---- MNIST and CIFAR-10 files ----------------------------------------------------------------


def _write_idx(path: Path, array: np.ndarray) -> None:
    # The IDX format of the MNIST files: magic (0, 0, dtype 0x08, ndim), big-endian dims, bytes.
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(
        f">{array.ndim}I", *array.shape
    )
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def _mnist(root: Path, train: int = 20, test: int = 10) -> Path:
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for prefix, n in (("train", train), ("t10k", test)):
        _write_idx(raw / f"{prefix}-images-idx3-ubyte", rng.integers(0, 256, (n, 28, 28)))
        _write_idx(raw / f"{prefix}-labels-idx1-ubyte", np.arange(n) % 10)
    return raw


def test_good_mnist_files_load(tmp_path: Path) -> None:
    _mnist(tmp_path)
    bundle = load_dataset(f"mnist:{tmp_path}")
    assert (len(bundle.train), len(bundle.val), bundle.num_classes) == (20, 10, 10)


@pytest.mark.parametrize(
    ("damage", "match"),
    [
        ("garbage", r"MNIST file '.*train-images-idx3-ubyte' is corrupt or not an IDX file"),
        ("labels-garbage", r"MNIST file '.*t10k-labels-idx1-ubyte' is corrupt"),
        ("short", r"MNIST file '.*train-images-idx3-ubyte' is corrupt"),
        ("count", "disagree: 20 images but 7 labels"),
        ("label-range", r"labels outside 0-9 \(0 to 190\)"),
        ("image-size", r"holds images of \(27, 28\), not 28x28"),
        ("missing", r"no MNIST files .* t10k-labels-idx1-ubyte .*never downloads"),
    ],
)
def test_bad_mnist_files_are_named(tmp_path: Path, damage: str, match: str) -> None:
    raw = _mnist(tmp_path)
    rng = np.random.default_rng(1)
    if damage == "garbage":  # the trial's case: random bytes in every file
        for path in raw.iterdir():
            path.write_bytes(bytes(rng.integers(0, 256, 2000, dtype=np.uint8)))
    elif damage == "labels-garbage":
        (raw / "t10k-labels-idx1-ubyte").write_bytes(b"\x00\x00\x0d\x07" + b"\x01" * 20)
    elif damage == "short":
        data = (raw / "train-images-idx3-ubyte").read_bytes()
        (raw / "train-images-idx3-ubyte").write_bytes(data[:-100])
    elif damage == "count":
        _write_idx(raw / "train-labels-idx1-ubyte", np.arange(7))
    elif damage == "label-range":
        _write_idx(raw / "train-labels-idx1-ubyte", np.arange(20) * 10)
    elif damage == "image-size":
        _write_idx(raw / "train-images-idx3-ubyte", np.zeros((20, 27, 28)))
    else:
        (raw / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(ValueError, match=match):
        load_dataset(f"mnist:{tmp_path}")


def test_garbage_mnist_through_the_cli_is_one_line(tmp_path: Path, capsys) -> None:
    raw = _mnist(tmp_path / "m")
    for path in raw.iterdir():
        path.write_bytes(bytes(np.random.default_rng(2).integers(0, 256, 500, dtype=np.uint8)))
    args = ["train", "--dataset", f"mnist:{tmp_path / 'm'}", "--out", str(tmp_path / "run")]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "train-images-idx3-ubyte" in err[0]


def test_cifar10_files_are_checked_one_by_one(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"no CIFAR10 files .*cifar-10-batches-py"):
        load_dataset(f"cifar10:{tmp_path}")
    base = tmp_path / "cifar-10-batches-py"
    base.mkdir()
    with pytest.raises(ValueError, match=r"CIFAR10 file '.*data_batch_1' is missing"):
        load_dataset(f"cifar10:{tmp_path}")
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        (base / name).write_bytes(bytes(np.random.default_rng(0).integers(0, 256, 999, np.uint8)))
    with pytest.raises(ValueError, match=r"CIFAR10 file '.*data_batch_1' is corrupt"):
        load_dataset(f"cifar10:{tmp_path}")


def test_mnist_files_take_the_presets_and_pca_lighting(tmp_path: Path) -> None:
    from cnnlab.data.transforms import AugmentConfig, PCALighting

    _mnist(tmp_path)
    augment = AugmentConfig("crop", pca_lighting=0.1)
    bundle = load_dataset(f"mnist:{tmp_path}", augment=augment)
    image, label = bundle.train[0]
    assert image.shape == (1, 28, 28) and 0 <= label < 10
    lighting = next(t for t in bundle.train.transform.transforms if isinstance(t, PCALighting))
    raw = np.random.default_rng(0).integers(0, 256, (20, 28, 28)) / 255  # the training images
    # one channel: the covariance is the pixels' (unbiased) variance, the eigenvector 1
    assert float(lighting.eigval[0]) == pytest.approx(raw.var(ddof=1), rel=1e-6)  # float32 pixels
    assert lighting.eigvec.tolist() == [[1.0]]
    assert torch.equal(bundle.val[0][0], bundle.preprocess.transform()(bundle.val.data[0][None]))
