"""Score a trained run on its validation set, or on another dataset's validation part.

Loads RUN_DIR's best.pt (or --checkpoint last) as data only, with the weights validation used
(the moving average with --ema), and runs it over the validation images exactly as the trainer
did. Writes metrics.json (accuracy, top5 from 5 classes, per_class precision/recall/f1/support by
class name, confusion_matrix as rows = true class, and `run`: where the numbers come from),
predictions.csv (index,target,prediction,confidence) and confusion_matrix.png into --out
(default RUN_DIR/eval-best), and prints a table. --dataset SPEC evaluates on another dataset of
the same classes, resized and standardised as the run's own images.
"""

from __future__ import annotations

import argparse

NAME = "eval"
HELP = "score a trained run: metrics.json, predictions.csv, confusion matrix"


def add_arguments(p: argparse.ArgumentParser) -> None:
    from cnnlab.cli._runs import add_run_options

    p.add_argument("run_dir", metavar="RUN_DIR", help="a cnnlab train run directory")
    add_run_options(p)
    p.add_argument(
        "--dataset",
        default=None,
        metavar="SPEC",
        help="evaluate on this dataset's validation part (default: the run's own)",
    )
    p.add_argument(
        "--out", default=None, metavar="DIR", help="where to write (default RUN_DIR/eval-best)"
    )


def run(args: argparse.Namespace) -> int:
    from cnnlab.cli._runs import spec_slug
    from cnnlab.core.files import check_output_dir
    from cnnlab.train.evaluation import evaluate, write_report
    from cnnlab.train.trained import checkpoint_path, load_trained, run_directory

    run_dir = run_directory(args.run_dir)
    checkpoint_path(run_dir, args.checkpoint)  # a missing checkpoint is named before any work
    default = f"eval-{args.checkpoint}" + (f"-{spec_slug(args.dataset)}" if args.dataset else "")
    out = check_output_dir("out", args.out if args.out is not None else run_dir / default)
    trained = load_trained(run_dir, args.checkpoint, device=args.device)
    evaluation = evaluate(trained, args.dataset)
    print(f"{trained.describe()} on {evaluation.description}")
    for line in evaluation.report.table:
        print(line)
    written = write_report(evaluation.report, out, evaluation.source())
    print(f"wrote {', '.join(p.name for p in written)} to {out}")
    return 0
