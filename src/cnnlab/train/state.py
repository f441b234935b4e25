"""Run state helpers: device choice, run folder name, RNG snapshots."""

from __future__ import annotations

import random
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch

from cnnlab.train.config import TrainConfig


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda was asked for, but no CUDA device is available")
    return torch.device(name)


def default_run_dir(config: TrainConfig) -> Path:
    """``runs/MODEL-KIND-TIME`` (the dataset spec's kind, ``digits`` of ``digits``)."""
    kind = re.sub(r"[^\w.-]+", "_", config.dataset.split(":", 1)[0]) or "data"
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("runs") / f"{config.model}-{kind}-{stamp}"


def rng_state() -> dict[str, Any]:
    """Every global generator's state, as tensors and plain Python values.

    Plain values load with ``torch.load(weights_only=True)``: NumPy's key array is stored as an
    int64 tensor, Python's state as its tuple of ints.
    """
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    state = {
        "torch": torch.get_rng_state(),
        "numpy": (kind, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, cached),
        "python": random.getstate(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore :func:`rng_state` (also the NumPy arrays of checkpoints of the first format)."""
    torch.set_rng_state(state["torch"])
    kind, keys, *rest = state["numpy"]
    if isinstance(keys, torch.Tensor):
        keys = keys.numpy().astype(np.uint32)
    np.random.set_state((kind, keys, *rest))
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
