"""``mnist:PATH`` and ``cifar10:PATH``: torchvision's dataset classes on files the user has.

cnnlab never downloads. The files are read (MNIST) or checksummed (CIFAR-10) when the dataset is
built, so a missing, corrupt or foreign file is one line naming it, never torchvision's bare
``AssertionError`` or a failure in the middle of an epoch. The official test split is the
validation set.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from cnnlab.data.bundle import DatasetBundle, LoadOptions
from cnnlab.data.transforms.preprocess import Preprocess
from cnnlab.data.transforms.presets import build_transforms

MNIST_MEAN, MNIST_STD = (0.1307,), (0.3081,)
CIFAR10_MEAN, CIFAR10_STD = (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)
MNIST_FILES = {  # split -> (images, labels) under PATH/MNIST/raw
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def _read_mnist_file(path: Path, images: bool):
    """The tensor in one IDX file, or ``ValueError`` naming the file."""
    from torchvision.datasets.mnist import read_image_file, read_label_file

    try:
        return (read_image_file if images else read_label_file)(str(path))
    except Exception as err:  # torchvision's IDX reader asserts, or fails in torch on garbage
        why = " ".join(str(err).split()) or "the header does not describe the data"
        raise ValueError(
            f"MNIST file {str(path)!r} is corrupt or not an IDX file ({type(err).__name__}: {why})"
        ) from None


def _check_mnist(root: Path) -> None:
    """Every MNIST file exists, parses, and images and labels agree."""
    raw = root / "MNIST" / "raw"
    missing = [n for pair in MNIST_FILES.values() for n in pair if not (raw / n).is_file()]
    if missing:
        raise ValueError(
            f"no MNIST files under {str(root)!r}: expected {raw}/ to hold "
            f"{', '.join(missing)} (uncompressed); cnnlab never downloads"
        )
    for image_name, label_name in MNIST_FILES.values():
        images = _read_mnist_file(raw / image_name, images=True)
        labels = _read_mnist_file(raw / label_name, images=False)
        if tuple(images.shape[1:]) != (28, 28):
            raise ValueError(
                f"MNIST file {str(raw / image_name)!r} holds images of {tuple(images.shape[1:])}, "
                "not 28x28"
            )
        if len(images) != len(labels):
            raise ValueError(
                f"MNIST files {image_name} and {label_name} under {str(raw)!r} disagree: "
                f"{len(images)} images but {len(labels)} labels"
            )
        if len(labels) and not 0 <= int(labels.min()) <= int(labels.max()) <= 9:
            raise ValueError(
                f"MNIST file {str(raw / label_name)!r} holds labels outside 0-9 "
                f"({int(labels.min())} to {int(labels.max())})"
            )


def _check_cifar10(root: Path) -> None:
    """Every CIFAR-10 batch exists and has the official checksum."""
    from torchvision.datasets import CIFAR10
    from torchvision.datasets.utils import check_integrity

    base = root / CIFAR10.base_folder
    if not base.is_dir():
        raise ValueError(
            f"no CIFAR10 files under {str(root)!r}: expected the folder {base}/ "
            "(the python version of CIFAR-10, extracted); cnnlab never downloads"
        )
    for name, md5 in [*CIFAR10.train_list, *CIFAR10.test_list]:
        path = base / name
        if not path.is_file():
            raise ValueError(f"CIFAR10 file {str(path)!r} is missing")
        if not check_integrity(str(path), md5):
            raise ValueError(
                f"CIFAR10 file {str(path)!r} is corrupt: its MD5 differs from the official file's"
            )


PCA_FIT_IMAGES = 10_000  # PCA lighting is fitted on this many training images (evenly spread)


def _fit_pca(data) -> tuple:
    """PCA lighting's components from the raw training array (N, H, W) or (N, H, W, C), uint8."""
    import numpy as np
    import torch

    from cnnlab.data.transforms.lighting import fit_pca_lighting

    picked = np.unique(np.linspace(0, len(data) - 1, min(len(data), PCA_FIT_IMAGES)).astype(int))
    images = torch.as_tensor(np.asarray(data)[picked])
    images = images[:, None] if images.ndim == 3 else images.permute(0, 3, 1, 2)
    return fit_pca_lighting(images.to(torch.float32) / 255)


def _torchvision_loader(
    cls_name: str,
    check: Callable[[Path], None],
    native: int,
    chans: int,
    mean: tuple[float, ...],
    std: tuple[float, ...],
) -> Callable[[Path, LoadOptions], DatasetBundle]:
    def load(root: Path, options: LoadOptions) -> DatasetBundle:
        import torchvision.datasets as tvd

        check(root)
        size = options.image_size or native
        preprocess = Preprocess((size, size), mean, std)
        cls = getattr(tvd, cls_name)
        train = cls(str(root), train=True, download=False)
        val = cls(str(root), train=False, download=False)
        pca = _fit_pca(train.data) if options.augment.pca_lighting else None
        pair = build_transforms(options.augment, preprocess, pca=pca)
        train.transform, val.transform = pair.train, pair.val
        return DatasetBundle(
            name=f"{cls_name.lower()}:{root}",
            train=train,
            val=val,
            num_classes=len(train.classes),
            in_chans=chans,
            image_size=(size, size),
            classes=list(train.classes),
            targets_train=[int(t) for t in train.targets],
            preprocess=preprocess,
        )

    return load


load_mnist = _torchvision_loader("MNIST", _check_mnist, 28, 1, MNIST_MEAN, MNIST_STD)
load_cifar10 = _torchvision_loader("CIFAR10", _check_cifar10, 32, 3, CIFAR10_MEAN, CIFAR10_STD)
