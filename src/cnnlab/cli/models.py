"""List the model registry: family, task, default input size, parameters and MACs.

Parameters and MACs come from `cnnlab summary` at each model's default input size, traced on
the meta device (models are built on meta tensors: the listing stays fast however large the zoo).
PATTERN is a shell-style filter such as 'resnet*'.
"""

from __future__ import annotations

import argparse
import sys

NAME = "models"
HELP = "list registered models with their parameters and MACs at the default input size"
FORMATS = ("table", "json", "csv", "markdown")
COLUMNS = ("name", "family", "task", "input_size", "params", "macs")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("pattern", nargs="?", default=None, metavar="PATTERN", help="e.g. 'resnet*'")
    p.add_argument("--task", default=None, help="classification, segmentation or detection")
    p.add_argument("--format", choices=FORMATS, default="table", help="output format")


def run(args: argparse.Namespace) -> int:
    from cnnlab.analysis import summary
    from cnnlab.cli._overview import print_records
    from cnnlab.cli.summary import load_model
    from cnnlab.models import list_models, model_info

    names = list_models(args.pattern, task=args.task)
    if not names:
        raise ValueError(f"no registered model matches {args.pattern!r}; see `cnnlab models`")
    records = []
    for name in names:
        info = model_info(name)
        record = {
            "name": name,
            "family": info.family,
            "task": info.task,
            "input_size": list(info.default_input_size),
        }
        try:
            model, _ = load_model(name)
            report = summary(model, info.default_input_size)
            record.update(params=report.total_params, macs=report.total_macs)
        except ValueError as err:
            print(f"cnnlab models: {name}: {err}", file=sys.stderr)
            record.update(params=None, macs=None)
        records.append(record)
    print_records("cnnlab model registry", COLUMNS, records, args.format)
    return 0
