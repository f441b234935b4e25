"""Checkpoints written atomically (:func:`cnnlab.core.files.atomic_write`)."""

from __future__ import annotations

import pickle
import zipfile
from pathlib import Path
from typing import Any

import torch

from cnnlab.core.files import atomic_write

FORMAT = "cnnlab.train/1"


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Save a training state dict to ``path`` atomically (tagged with the format version)."""
    atomic_write(path, lambda f: torch.save({"format": FORMAT, **state}, f))


def load_checkpoint(path: Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load a checkpoint written by :func:`save_checkpoint`.

    Raises:
        ValueError: missing, unreadable or not a cnnlab training checkpoint.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"checkpoint {str(path)!r} does not exist")
    try:
        state = torch.load(path, map_location=map_location, weights_only=False)
    except (
        OSError,
        RuntimeError,
        EOFError,
        pickle.UnpicklingError,
        zipfile.BadZipFile,
        ValueError,
        AttributeError,
        ImportError,
    ) as err:
        raise ValueError(f"checkpoint {str(path)!r} is corrupt or unreadable: {err}") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise ValueError(
            f"{str(path)!r} is not a cnnlab training checkpoint (expected format {FORMAT!r})"
        )
    missing = [k for k in ("model", "optimizer", "epoch", "rng") if k not in state]
    if missing:
        raise ValueError(f"checkpoint {str(path)!r} lacks {missing}")
    return state
