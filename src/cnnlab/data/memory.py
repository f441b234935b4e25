"""Will a dataset held in memory fit? Refuse a size that would exhaust the machine, with numbers.

In-memory datasets (``digits``) are resized once, eagerly, to ``image_size``; an ``image_size`` of
2000 turns 1,797 8x8 digits into 28.8 GB of float32. Better one line before any work than an
allocator traceback (or a machine swapping for minutes). NumPy-free and torch-free.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from cnnlab.core.validate import InvalidArgument

# The share of the available memory a dataset may take: the model, the batches and the rest of
# the process need the remainder.
MEMORY_SHARE = 0.8


def available_memory() -> int | None:
    """Bytes of memory a new allocation can get: Linux's ``MemAvailable``, else the physical size.

    Returns ``None`` where neither is known (the check is then skipped).
    """
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def check_resize_fits(
    dataset: str, n_images: int, channels: int, image_size: int, itemsize: int = 4
) -> None:
    """Raise unless ``n_images`` images of ``channels x image_size x image_size`` fit in memory.

    Args:
        dataset: the dataset's name (for the message).
        n_images: how many images are held (train and validation together).
        channels: channels per image.
        image_size: the requested side length.
        itemsize: bytes per value (4 for float32).

    Raises:
        InvalidArgument: (on ``image_size``) the images need more than
            :data:`MEMORY_SHARE` of the available memory; the message gives the estimate and
            the largest size that fits.
    """
    need = n_images * channels * image_size * image_size * itemsize
    available = available_memory()
    if available is None:
        return
    budget = MEMORY_SHARE * available
    if need <= budget:
        return
    largest = math.isqrt(int(budget // (n_images * channels * itemsize)))
    raise InvalidArgument(
        "image_size",
        f"image_size {image_size} needs about {need / 1e9:,.1f} GB for the {n_images:,} "
        f"{dataset} images resized in memory (float32, {channels}x{image_size}x{image_size} "
        f"each), more than {MEMORY_SHARE:.0%} of the {available / 1e9:,.1f} GB of memory "
        f"available; the largest size that fits is {largest}",
    )
