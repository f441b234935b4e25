"""Options shared by the commands that use a trained run (eval, predict, ensemble)."""

from __future__ import annotations

import argparse
import re


def add_run_options(p: argparse.ArgumentParser) -> None:
    """``--checkpoint best|last`` and ``--device auto|cpu|cuda``."""
    p.add_argument(
        "--checkpoint",
        default="best",
        metavar="best|last",
        help="best.pt (the best --monitor epoch, the default) or last.pt",
    )
    p.add_argument(
        "--device",
        default="auto",
        metavar="auto|cpu|cuda",
        help="where to run (default auto: CUDA when present, as cnnlab train)",
    )


def spec_slug(spec: str) -> str:
    """A folder-name form of a dataset spec (``imagefolder:~/x/test`` -> ``imagefolder-test``)."""
    kind, _, path = spec.partition(":")
    tail = path.rstrip("/\\").replace("\\", "/").split("/")[-1] if path else ""
    text = f"{kind}-{tail}" if tail else kind
    return re.sub(r"[^\w.-]+", "_", text).strip("._") or "data"
