"""Shapes, parameters, MACs/FLOPs, activations and receptive fields of a model, without running it.

MODEL is a registry name (see `cnnlab models`) or a Python object path `pkg.module:factory`
(e.g. `torchvision.models:resnet50`), called without arguments. The model is traced on the meta
device: no arithmetic, so large inputs cost no more than small ones. Give --input-size several
times to see how cost grows with resolution, and --compare OTHER to put two models side by side.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

NAME = "summary"
HELP = "per-layer shapes, params, MACs/FLOPs and receptive fields (meta device, no compute)"
FORMATS = ("table", "json", "csv", "markdown")
FALLBACK_SIZE = (3, 224, 224)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", metavar="MODEL", help="registry name or pkg.module:factory")
    p.add_argument(
        "--input-size",
        nargs="+",
        type=int,
        action="append",
        metavar="N",
        help="C H W without the batch (repeatable); default: the registry's input size",
    )
    p.add_argument("--depth", type=int, default=None, help="fold layers deeper than N")
    p.add_argument("--format", choices=FORMATS, default="table", help="output format")
    p.add_argument("--compare", metavar="OTHER", default=None, help="a second model, side by side")
    p.add_argument("--device", default="meta", help="meta (default) or cpu/cuda for a real pass")
    p.add_argument("--mode", choices=("eval", "train"), default="eval", help="default eval")
    p.add_argument(
        "--count-bias",
        action="store_true",
        help="count bias additions as MACs (the notes' FLOPs = H'W'n(hwc+1))",
    )


def load_model(spec: str, device: str = "meta") -> tuple[Any, tuple[int, ...] | None]:
    """The model named by ``spec`` and its default input size (None for object paths).

    Registry names go through :func:`cnnlab.models.create_model`; ``pkg.module:attr`` imports
    the module and calls ``attr`` without arguments. On the meta device the model is built on
    meta tensors (no memory, no initialisation cost) when its constructor allows it.
    """
    import importlib

    import torch
    from torch import nn

    from cnnlab.models import create_model, model_info

    if ":" in spec:
        module_name, _, attr = spec.partition(":")
        if not module_name or not attr:
            raise ValueError(f"object path must look like pkg.module:factory, got {spec!r}")
        try:
            target: Any = importlib.import_module(module_name)
        except ImportError as err:
            raise ValueError(f"cannot import {module_name!r} for MODEL {spec!r}: {err}") from err
        for part in attr.split("."):
            if not hasattr(target, part):
                raise ValueError(f"{module_name!r} has no attribute {attr!r} (MODEL {spec!r})")
            target = getattr(target, part)

        def build() -> Any:
            if isinstance(target, nn.Module) or not callable(target):
                return target
            try:
                return target()
            except TypeError as err:
                raise ValueError(f"calling {spec!r} without arguments failed: {err}") from err

        default = None
    else:
        default = model_info(spec).default_input_size  # unknown names: ValueError

        def build() -> Any:
            return create_model(spec)

    model = None
    if device == "meta":
        try:
            with torch.device("meta"):
                model = build()
        except ValueError:
            raise
        except Exception:  # constructors doing real arithmetic: build normally
            model = None
    if model is None:
        model = build()
    if not isinstance(model, nn.Module):
        raise ValueError(f"MODEL {spec!r} gave a {type(model).__name__}, not a torch.nn.Module")
    return model, default


def _sizes(args: argparse.Namespace, default: tuple[int, ...] | None, spec: str) -> list:
    if args.input_size:
        return [tuple(s) for s in args.input_size]
    if default is None:
        print(
            f"cnnlab summary: no --input-size for {spec}; assuming "
            f"{' '.join(map(str, FALLBACK_SIZE))}",
            file=sys.stderr,
        )
        return [FALLBACK_SIZE]
    return [tuple(default)]


def run(args: argparse.Namespace) -> int:
    from cnnlab.analysis import summary
    from cnnlab.cli import _overview

    if args.depth is not None and args.depth < 0:
        raise ValueError(f"--depth must be >= 0, got {args.depth}")
    specs = [args.model] + ([args.compare] if args.compare else [])
    reports = []
    for spec in specs:
        model, default = load_model(spec, args.device)
        for size in _sizes(args, default, spec):
            report = summary(
                model,
                size,
                depth=args.depth,
                device=args.device,
                mode=args.mode,
                count_bias=args.count_bias,
            )
            reports.append((spec, report))
    if len(reports) == 1:
        _overview.print_report(reports[0][1], args.format)
    else:
        _overview.print_overview(reports, args.format, compare=bool(args.compare))
    return 0
