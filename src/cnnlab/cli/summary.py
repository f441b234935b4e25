"""Shapes, parameters, MACs/FLOPs, activations and receptive fields of a model, without running it.

MODEL is a registry name (see `cnnlab models`) or a Python object path `pkg.module:factory`
(e.g. `torchvision.models:resnet50`). The factory must be a torch.nn.Module subclass, an
nn.Module instance, or a function defined in a module that uses torch; classes and functions are
called without arguments. Standard-library modules and any other object are refused before
anything is called. The model is traced on the meta device: no arithmetic, so large inputs cost
no more than small ones (models whose forward needs values, such as detectors, run on the CPU
and the report says so). Give --input-size several times to see how cost grows with resolution,
--compare OTHER to put two models side by side, and --train for the cost of training: backward
MACs and the memory of one step with --optimizer at --batch-size.
"""

from __future__ import annotations

import argparse
import inspect
import json
import sys
from collections.abc import Callable
from dataclasses import asdict
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
        help="one sample's shape, C H W without the batch (repeatable); default: the registry's",
    )
    p.add_argument("--depth", type=int, default=None, help="fold layers deeper than N")
    p.add_argument("--format", choices=FORMATS, default="table", help="output format")
    p.add_argument("--compare", metavar="OTHER", default=None, help="a second model, side by side")
    p.add_argument(
        "--device",
        default=None,
        help="meta, cpu, cuda...; default: meta, or the CPU when an op needs real values",
    )
    p.add_argument("--mode", choices=("eval", "train"), default=None, help="default eval")
    p.add_argument(
        "--count-bias",
        action="store_true",
        help="count bias additions as MACs (the notes' FLOPs = H'W'n(hwc+1))",
    )
    p.add_argument(
        "--train",
        action="store_true",
        help="training cost: backward MACs and one training step's memory",
    )
    p.add_argument("--batch-size", type=int, default=1, help="samples per step for --train")
    p.add_argument("--optimizer", default="adam", help="optimizer for --train (default adam)")


# -- object paths ---------------------------------------------------------------------------
def _uses_torch(func: Any) -> bool:
    """Whether the module defining ``func`` imported torch (or a package built on it)."""
    for value in getattr(func, "__globals__", {}).values():
        name = getattr(value, "__name__", "") if inspect.ismodule(value) else ""
        name = name or getattr(value, "__module__", None) or ""
        if isinstance(name, str) and name.split(".")[0].startswith("torch"):
            return True
    return False


def _required(target: Any) -> list[str]:
    try:
        signature = inspect.signature(target)
    except (TypeError, ValueError):
        return []
    return [
        p.name
        for p in signature.parameters.values()
        if p.default is inspect.Parameter.empty
        and p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    ]


def object_factory(spec: str) -> Callable[[], Any]:
    """What ``pkg.module:attr`` names, as a zero-argument builder, checked before any call.

    Accepted: an ``nn.Module`` instance (used as is), an ``nn.Module`` subclass, or a function
    (or method) defined in a module that uses torch, either taking no required argument.
    Standard-library modules are refused before they are imported.
    """
    import importlib

    from torch import nn

    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise ValueError(f"object path must look like pkg.module:factory, got {spec!r}")
    if module_name.split(".")[0] in sys.stdlib_module_names:
        raise ValueError(
            f"MODEL {spec!r}: {module_name!r} is a standard-library module, not a model package; "
            f"give pkg.module:factory for a torch.nn.Module"
        )
    try:
        target: Any = importlib.import_module(module_name)
    except ImportError as err:
        raise ValueError(f"cannot import {module_name!r} for MODEL {spec!r}: {err}") from err
    for part in attr.split("."):
        if not hasattr(target, part):
            raise ValueError(f"{module_name!r} has no attribute {attr!r} (MODEL {spec!r})")
        target = getattr(target, part)
    if isinstance(target, nn.Module):
        return lambda: target
    is_class = isinstance(target, type) and issubclass(target, nn.Module)
    is_function = (inspect.isfunction(target) or inspect.ismethod(target)) and _uses_torch(
        getattr(target, "__func__", target)
    )
    if not (is_class or is_function):
        raise ValueError(
            f"MODEL {spec!r} (a {type(target).__name__}) is not a model factory: give a "
            f"torch.nn.Module subclass, an nn.Module instance, or a function defined in a "
            f"module that uses torch"
        )
    required = _required(target)
    if required:
        raise ValueError(
            f"MODEL {spec!r} needs arguments ({', '.join(required)}); wrap it in a function "
            f"that takes none"
        )
    return target


def load_model(spec: str, device: str | None = None) -> tuple[Any, tuple[int, ...] | None]:
    """The model named by ``spec`` and its default input size (None for object paths).

    Registry names go through :func:`cnnlab.models.create_model`; object paths through
    :func:`object_factory`. Unless ``device`` is a real device, the model is built on meta
    tensors (no memory, no initialisation cost) when its constructor allows it.
    """
    import torch
    from torch import nn

    from cnnlab.models import create_model, model_info

    if ":" in spec:
        build = object_factory(spec)
        default = None
    else:
        default = model_info(spec).default_input_size  # unknown names: ValueError

        def build() -> Any:
            return create_model(spec)

    model = None
    if device in (None, "meta"):
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


def _mode(args: argparse.Namespace) -> str:
    if args.train and args.mode == "eval":
        raise ValueError("--train traces the training graph; drop --mode eval")
    return "train" if args.train else (args.mode or "eval")


def _summaries(args: argparse.Namespace, spec: str, mode: str) -> list:
    from cnnlab.analysis import NeedsRealData, summary

    model, default = load_model(spec, args.device)
    reports = []
    for size in _sizes(args, default, spec):
        options = dict(depth=args.depth, device=args.device, mode=mode)
        try:
            report = summary(model, size, count_bias=args.count_bias, **options)
        except NeedsRealData as err:
            if args.device is not None:
                raise ValueError(f"{err.problem}; leave --device out or give --device cpu") from err
            if not all(p.is_meta for p in model.parameters()):
                raise
            model, _ = load_model(spec, "cpu")  # built on meta: build it for real, run again
            report = summary(model, size, count_bias=args.count_bias, **options)
        reports.append((spec, report))
    return reports


def run(args: argparse.Namespace) -> int:
    from cnnlab.analysis.inputs import check_device
    from cnnlab.cli import _overview

    if args.depth is not None and args.depth < 0:
        raise ValueError(f"--depth must be >= 0, got {args.depth}")
    check_device(args.device)  # before building anything
    mode = _mode(args)
    if args.train:
        from cnnlab.core.optimizers import get_optimizer_spec
        from cnnlab.core.validate import positive_int

        get_optimizer_spec(args.optimizer)
        positive_int("batch_size", args.batch_size)
    specs = [args.model] + ([args.compare] if args.compare else [])
    reports = [pair for spec in specs for pair in _summaries(args, spec, mode)]
    memories = []
    if args.train:
        memories = [r.memory(args.optimizer, args.batch_size) for _, r in reports]
    if len(reports) == 1:
        report = reports[0][1]
        if args.format == "json" and memories:
            data = {**report.to_dict(), "training_memory": asdict(memories[0])}
            print(json.dumps(data, indent=2))
            return 0
        _overview.print_report(report, args.format)
    else:
        _overview.print_overview(reports, args.format, compare=bool(args.compare))
    for (spec, report), memory in zip(reports, memories, strict=False):
        title = f"training step memory of {spec} at input {'x'.join(map(str, report.input_size))}"
        lines = [f"{title}:"] + [f"  {line}" for line in memory.lines()]
        print("\n".join(lines), file=sys.stderr if args.format in ("csv", "json") else sys.stdout)
    return 0
