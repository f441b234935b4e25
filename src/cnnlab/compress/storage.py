"""Compressed models on disk: tensors and plain data only, loaded with ``weights_only=True``.

A file holds the method, the float architecture (registry name, classes, input channels and
size), the recipe that reshapes it (kept channels, ranks) and the method's tensors (state dict,
int8 activation qparams). :func:`load_compressed` rebuilds the architecture and loads the
tensors; no code is unpickled.
"""

from __future__ import annotations

import os
import pickle
import zipfile
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from cnnlab.compress.methods import METHODS, Compressed
from cnnlab.compress.run import TrainedRun, build_model
from cnnlab.core.files import atomic_write, expand_path

FORMAT = "cnnlab.compress/1"


def artifact(run: TrainedRun, method: str, compressed: Compressed) -> dict[str, Any]:
    """The dictionary :func:`save_compressed` writes."""
    return {
        "format": FORMAT,
        "method": method,
        "model": run.config.model,
        "num_classes": run.data.num_classes,
        "in_chans": run.data.in_chans,
        "input_size": list(run.input_size),
        "recipe": compressed.recipe,
        "payload": compressed.payload,
    }


def save_compressed(
    path: str | os.PathLike[str], run: TrainedRun, method: str, compressed: Compressed
) -> int:
    """Write the compressed model to ``path`` atomically; return the file's size in bytes."""
    out = expand_path(path)
    atomic_write(out, lambda f: torch.save(artifact(run, method, compressed), f))
    return out.stat().st_size


@dataclass
class LoadedModel:
    """A model read back by :func:`load_compressed`."""

    model: nn.Module
    method: str
    architecture: str
    input_size: tuple[int, ...]


def load_compressed(path: str | os.PathLike[str]) -> LoadedModel:
    """Rebuild a model written by ``cnnlab compress`` (``weights_only=True``: no code runs).

    Raises:
        ValueError: missing, unreadable or not a cnnlab compressed model.
    """
    import torchao.quantization  # noqa: F401  (registers its int8 tensors as safe to load)

    path = expand_path(path)
    if not path.is_file():
        raise ValueError(f"compressed model {str(path)!r} does not exist")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, EOFError, pickle.UnpicklingError, zipfile.BadZipFile) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ValueError(f"{str(path)!r} is corrupt or unreadable: {first}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f"{str(path)!r} is not a cnnlab compressed model (format {FORMAT!r})")
    method = data["method"]
    if method not in METHODS:
        raise ValueError(f"{str(path)!r} was written by an unknown method {method!r}")
    size = tuple(int(v) for v in data["input_size"])
    model = build_model(data["model"], int(data["num_classes"]), int(data["in_chans"])).eval()
    example = torch.zeros(2, *size)
    try:
        rebuilt = METHODS[method].rebuild(model, data["recipe"], data["payload"], example)
    except ValueError as err:
        raise ValueError(f"{str(path)!r}: {err}") from None
    rebuilt.eval()  # (an exported graph's eval() returns None: no chaining)
    return LoadedModel(rebuilt, method, data["model"], size)
