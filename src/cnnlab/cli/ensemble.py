"""Average the class probabilities of several trained runs (the notes' model ensembles).

Each RUN_DIR is evaluated as `cnnlab eval` does (its best.pt, or --checkpoint last), on the
members' common validation set or on --dataset SPEC; the ensemble's probabilities are the mean
of the members' softmax probabilities. Prints each member's scores and the ensemble's. The
members must share their task and classes. --out DIR writes the ensemble's metrics.json,
predictions.csv and confusion_matrix.png.
"""

from __future__ import annotations

import argparse

NAME = "ensemble"
HELP = "average several runs' softmax probabilities; each member's accuracy and the ensemble's"


def add_arguments(p: argparse.ArgumentParser) -> None:
    from cnnlab.cli._runs import add_run_options

    p.add_argument("run_dirs", nargs="+", metavar="RUN_DIR", help="two or more run directories")
    add_run_options(p)
    p.add_argument(
        "--dataset", default=None, metavar="SPEC", help="evaluate on this dataset instead"
    )
    p.add_argument("--out", default=None, metavar="DIR", help="write the ensemble's report here")


def run(args: argparse.Namespace) -> int:
    from cnnlab.core.files import check_output_dir
    from cnnlab.train.ensembling import ensemble
    from cnnlab.train.evaluation import headline_scores, write_report
    from cnnlab.train.trained import checkpoint_path, load_trained, run_directory

    if len(args.run_dirs) < 2:
        raise ValueError(f"an ensemble needs at least 2 run directories, got {len(args.run_dirs)}")
    folders = [run_directory(d) for d in args.run_dirs]
    for folder in folders:
        checkpoint_path(folder, args.checkpoint)
    out = check_output_dir("out", args.out) if args.out is not None else None
    runs = [load_trained(f, args.checkpoint, device=args.device) for f in folders]
    result = ensemble(runs, args.dataset)
    rows = [(m.run.describe(), headline_scores(m.report.metrics)) for m in result.members]
    rows.append((f"ensemble of {len(runs)}", headline_scores(result.report.metrics)))
    names = list(rows[-1][1])
    width = max(len(r[0]) for r in rows)
    print(f"on {result.members[0].description}")
    print(f"{'member':<{width}}  " + "  ".join(f"{n:>8}" for n in names))
    for label, scores in rows:
        values = (scores.get(n, float("nan")) for n in names)
        print(f"{label:<{width}}  " + "  ".join(f"{v:8.4f}" for v in values))
    if out is not None:
        written = write_report(result.report, out)
        print(f"wrote {', '.join(p.name for p in written)} to {out}")
    return 0
