"""Run one of the notes' claims as an experiment: a table, a figure and a verdict.

`cnnlab experiment --list` shows the experiments (name, the notes' section, the claim and the
time a full run took on 2 CPU cores). `cnnlab experiment NAME` runs one and writes
results.csv, figure.png and summary.md (the claim, the measured numbers, the reference and a
verdict) into --out, then prints the summary. --quick is the small version the tests run
(about 5 s). Exit status 0 when every check passes, 1 when the verdict is "not confirmed".
"""

from __future__ import annotations

import argparse

NAME = "experiment"
HELP = "run a claim of the notes as an experiment (table, figure, verdict); --list shows them"
COLUMNS = ("name", "notes section", "claim", "full run")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", nargs="?", default=None, metavar="NAME", help="see --list")
    p.add_argument("--list", action="store_true", help="list the experiments and exit")
    p.add_argument("--quick", action="store_true", help="the small version (about 5 s)")
    p.add_argument("--seed", type=int, default=0, help="seed of every random draw (default 0)")
    p.add_argument(
        "--out",
        metavar="DIR",
        default=None,
        help="folder for results.csv, figure.png, summary.md (default runs/experiment-NAME)",
    )


def _list() -> int:
    from rich.markup import escape

    from cnnlab.cli._overview import print_records
    from cnnlab.experiments import experiment_info, list_experiments

    records = []
    for name in list_experiments():
        info = experiment_info(name)
        records.append(
            {
                "name": name,
                "notes section": escape(info.section),
                "claim": escape(info.claim),
                "full run": f"{info.full_seconds:.0f} s",
            }
        )
    print_records("cnnlab experiments (full-run times: 2 CPU cores)", COLUMNS, records, "table")
    return 0


def run(args: argparse.Namespace) -> int:
    if args.list:
        return _list()
    if args.name is None:
        raise ValueError("give an experiment NAME, or --list to see them")
    from rich.console import Console

    from cnnlab.experiments import run as run_experiment

    result = run_experiment(
        args.name, quick=args.quick, seed=args.seed, out=args.out, console=Console(stderr=True)
    )
    print(result.summary)
    print(f"wrote {', '.join(str(p) for p in result.paths)}")
    return 0 if result.passed else 1
