"""Image files: read one as RGB, and find the ones that cannot be read before training starts.

A corrupt, empty or truncated file must not stop a run hours in with a PIL traceback. Each file is
decoded once when the dataset is built: PIL's ``verify()`` only parses headers and misses
truncation, so the pixels are really decoded (JPEGs at 1/8 scale through PIL's ``draft``, which
still reads every byte of the file). The files are checked by a few threads (PIL releases the GIL
while it decodes).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError


def load_rgb(path: str) -> Image.Image:
    """The image at ``path`` as RGB (greyscale, palette, alpha and 16-bit images converted)."""
    with open(path, "rb") as f:
        return Image.open(f).convert("RGB")


@dataclass(frozen=True)
class BadImage:
    """A file that cannot be decoded, and why."""

    path: str
    reason: str

    def describe(self) -> str:
        return f"{self.path!r} ({self.reason})"


def image_problem(path: str) -> str | None:
    """``None`` if the file at ``path`` decodes completely; otherwise why it does not (one line)."""
    try:
        if os.path.getsize(path) == 0:
            return "empty file"
        with open(path, "rb") as f:
            image = Image.open(f)
            image.draft("RGB", (1, 1))  # JPEG: decode at reduced scale; other formats: no-op
            image.load()
    except UnidentifiedImageError:
        return "not an image format PIL can identify"
    except Exception as err:  # PIL raises many types for broken files; any of them means bad
        text = " ".join(str(err).split())
        return f"{type(err).__name__}: {text}" if text else type(err).__name__
    return None


def find_bad_images(paths: Sequence[str], workers: int | None = None) -> list[BadImage]:
    """The files among ``paths`` that cannot be decoded, in the order given.

    Args:
        paths: image files.
        workers: threads (default: up to 8, at most the CPU count).
    """
    workers = workers or min(8, os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        problems = list(pool.map(image_problem, paths))
    return [BadImage(p, why) for p, why in zip(paths, problems, strict=True) if why is not None]
