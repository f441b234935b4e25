"""Race the notes' twelve optimizers from the same start on a 2-D test function.

Runs the NumPy-tier optimizers (cnnlab.scratch.optim, the written-out update rules) with the
learning rate the name table gives each (cnnlab.core.optimizers), draws their trajectories on the
function's contour plot and the loss per step (cnnlab.demos.optim_race), saves the figure and
prints the final losses. ``--out`` is checked before the race runs.
"""

from __future__ import annotations

import argparse

NAME = "optim-race"
HELP = "race the twelve optimizers on rosenbrock | beale | saddle | himmelblau and plot them"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--function",
        default="rosenbrock",
        help="rosenbrock | beale | saddle | himmelblau (default rosenbrock)",
    )
    p.add_argument("--out", default="race.png", help="the PNG to write (default race.png)")
    p.add_argument("--steps", type=int, default=500, help="updates per optimizer (default 500)")
    p.add_argument(
        "--optimizers",
        default=None,
        help="comma-separated names from the notes (default: all twelve)",
    )
    p.add_argument(
        "--lr",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override one optimizer's learning rate (repeatable), e.g. --lr adam=0.1",
    )


def _parse_lrs(items: list[str]) -> dict[str, float]:
    lrs: dict[str, float] = {}
    for item in items:
        name, sep, value = item.partition("=")
        try:
            if not sep:
                raise ValueError
            lrs[name.strip()] = float(value)
        except ValueError:
            raise ValueError(f"--lr takes NAME=VALUE (e.g. adam=0.1), got {item!r}") from None
    return lrs


def run(args: argparse.Namespace) -> int:
    from cnnlab.core.files import check_output_file
    from cnnlab.core.validate import InvalidArgument
    from cnnlab.demos.optim_race import save_race_figure
    from cnnlab.scratch.optim.race import get_landscape, run_race

    out = check_output_file("out", args.out, {".png"})  # before any work
    landscape = get_landscape(args.function)
    names = None
    if args.optimizers is not None:
        names = [n.strip() for n in args.optimizers.split(",") if n.strip()]
        if not names:
            raise InvalidArgument(
                "optimizers",
                f"optimizers must name at least one optimizer (comma-separated), "
                f"got {args.optimizers!r}",
            )
    lrs = _parse_lrs(args.lr)
    unknown = sorted(set(lrs) - set(names or lrs))
    if unknown:
        raise ValueError(f"--lr given for {unknown}, which are not racing")
    results = run_race(args.function, steps=args.steps, optimizers=names, lrs=lrs)
    save_race_figure(landscape, results, out)
    print(f"{landscape.name}: f(x, y) = {landscape.formula}; start {landscape.start}")
    print(f"{'optimizer':<10} {'lr':>8} {'f(start)':>10} {'f(end)':>11} {'end point':>22}")
    for r in results.values():
        x, y = r.points[-1]
        print(
            f"{r.name:<10} {r.lr:>8g} {r.losses[0]:>10.4g} {r.losses[-1]:>11.4g} "
            f"({x:>9.4f}, {y:>9.4f})"
        )
    print(f"wrote {out}")
    return 0
