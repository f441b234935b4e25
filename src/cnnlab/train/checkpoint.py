"""Checkpoints written atomically (:func:`cnnlab.core.files.atomic_write`), loaded as data only.

A checkpoint holds tensors and plain Python values (dicts, lists, tuples, numbers, strings), so
:func:`load_checkpoint` reads it with ``torch.load(weights_only=True)``: a crafted file cannot run
code. The only other types allowed are the three NumPy pieces of an ndarray, for checkpoints of
the first format, which kept NumPy's RNG state as an array.
"""

from __future__ import annotations

import pickle
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from cnnlab.core.files import atomic_write

FORMAT = "cnnlab.train/2"
# Formats this version reads: /1 kept NumPy's RNG state as an array and stepped its schedules per
# epoch; /2 steps them per iteration and keeps the monitor, EMA and early-stopping states.
FORMATS = ("cnnlab.train/1", FORMAT)

# What unpickling NumPy's RNG key array needs: the rebuild function (found through an array's
# own __reduce__, so that no private NumPy path is spelled here), the array type, the dtype type
# and the uint32 dtype's class. None of them runs code of the file's choosing.
_NUMPY_ARRAY_GLOBALS = [
    np.empty(0).__reduce__()[0],
    np.ndarray,
    np.dtype,
    type(np.dtype(np.uint32)),
]


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Save a training state dict to ``path`` atomically (tagged with the format version)."""
    atomic_write(path, lambda f: torch.save({"format": FORMAT, **state}, f))


def _unpickler_detail(err: pickle.UnpicklingError) -> str:
    """The one informative line of torch's long weights-only error."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    for i, line in enumerate(lines):
        if "GLOBAL" in line:
            return line
        if line.endswith("WeightsUnpickler error:") and i + 1 < len(lines):
            return lines[i + 1]
    return lines[0] if lines else ""


def load_checkpoint(path: Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load a checkpoint written by :func:`save_checkpoint`, as data only (nothing is executed).

    Raises:
        ValueError: missing, unreadable, holding anything but tensors and plain values, or not
            a cnnlab training checkpoint.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"checkpoint {str(path)!r} does not exist")
    try:
        with torch.serialization.safe_globals(_NUMPY_ARRAY_GLOBALS):
            state = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        detail = _unpickler_detail(err).rstrip(".")
        if "GLOBAL" in detail:  # a class or function to call: refused, nothing was run
            raise ValueError(
                f"checkpoint {str(path)!r} was refused: it holds objects other than tensors and "
                f"plain values, and loading them could run code ({detail})"
            ) from None
        raise ValueError(f"checkpoint {str(path)!r} is corrupt or unreadable: {detail}") from None
    except (
        OSError,
        RuntimeError,
        EOFError,
        zipfile.BadZipFile,
        ValueError,
        AttributeError,
        ImportError,
    ) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ValueError(f"checkpoint {str(path)!r} is corrupt or unreadable: {first}") from None
    if not isinstance(state, dict) or state.get("format") not in FORMATS:
        raise ValueError(
            f"{str(path)!r} is not a cnnlab training checkpoint (expected format {FORMAT!r})"
        )
    missing = [k for k in ("model", "optimizer", "epoch", "rng") if k not in state]
    if missing:
        raise ValueError(f"checkpoint {str(path)!r} lacks {missing}")
    return state


def first_non_finite(tensors: Mapping[str, torch.Tensor]) -> str | None:
    """The name of the first floating-point tensor holding NaN or an infinity, or None.

    One reduction per tensor on its device and a single transfer to the host for all of them
    (the tensors share one device, as a model's do).
    """
    names = [k for k, t in tensors.items() if t.is_floating_point() or t.is_complex()]
    if not names:
        return None
    flags = torch.stack([torch.isfinite(tensors[k]).all() for k in names]).tolist()
    return next((k for k, ok in zip(names, flags, strict=True) if not ok), None)
